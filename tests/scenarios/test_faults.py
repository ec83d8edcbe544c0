"""Faults: SIGKILLed web workers and clock, a full disk, and secrets or LINE user IDs where they must not be.

- 20 gunicorn workers killed during a burst of 200 report webhooks, LINE redelivering what got no 200:
  every acknowledged report is stored exactly once and every store file still loads (TinyDB and PostgreSQL).
- The clock killed while LINE holds its push: after a restart the push went out once (the resend with
  the same X-Line-Retry-Key gets 409) and the sent-log says done (TinyDB and PostgreSQL).
- No space left on the device (a real tiny tmpfs when the machine allows mounting one, else ENOSPC
  injected at the write calls): 5xx only for events not stored, a plain log line, recovery once there is
  space again, no file corrupted.
- The channel secret and access token never reach logs, error pages or /healthz; no LINE user ID in
  logs or any public output.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import io
import json
import logging
import os
import random
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.config import load_config
from ita_bot.domain.office import Office
from ita_bot.domain.thai import BANGKOK
from ita_bot.line_standin import LineStandIn, as_redelivery
from ita_bot.store import open_office
from ita_bot.store.database import Store
from ita_bot.store.tiny.inbox import FileInbox
from tests.conftest import GROUP, ROOT, write_config
from tests.processes import stop_process, wait_until
from tests.tiny import tiny_store

GUNICORN = Path(sys.executable).with_name("gunicorn")
START = datetime(2021, 2, 15, 10, 0, tzinfo=BANGKOK)
USER_ID = re.compile(r"U[0-9a-f]{32}")
# Distinctive credentials, so that finding them anywhere is unambiguous.
SECRET = "fault-secret-9f4c2e7a1b"
TOKEN = "fault-token-3d8b6a0c5e71"
# Ten staff (never real people), spread over the three divisions that share measure 4.
STAFF = [("U" + hashlib.sha256(f"fault-staff-{i}".encode()).hexdigest()[:32], f"เจ้าหน้าที่ทดสอบ {i}",
          ("สป.", "คลัง", "ช่าง")[i % 3]) for i in range(10)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.fixture
def line() -> Iterator[LineStandIn]:
    """A stand-in that knows the distinctive secret and only accepts the distinctive token."""
    with LineStandIn(SECRET, access_token=TOKEN) as s:
        for uid, name, _ in STAFF:
            s.add_user(uid, name)
        s.add_group(GROUP, "พนักงาน อบต.หนองเมือง", [uid for uid, _, _ in STAFF])
        yield s


def fault_env(tmp_path: Path, standin: LineStandIn, **extra: str) -> dict[str, str]:
    """The environment of a bot process over a temp config and database, pointed at the stand-in."""
    config = write_config(tmp_path, {"line": {"channel_secret": SECRET, "channel_access_token": TOKEN}})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "ITA_BOT_"))}
    env.update(
        ITA_BOT_CONFIG=str(config),
        ITA_BOT_DB=str(tmp_path / "db" / "ita-bot.json"),
        LINE_API_ENDPOINT=standin.url,
        LINE_DATA_API_ENDPOINT=standin.url,
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def office_of(env: dict[str, str]) -> Office:
    return open_office(load_config(env["ITA_BOT_CONFIG"], env))


def pending(office: Office) -> int:
    """Events accepted and not yet processed, by any process (the journal's own count, on either backend)."""
    from ita_bot.chat.journal import Journal

    return Journal(office.repositories.inbox, lambda event: None).pending()


def assert_storage_reads_back(office: Office) -> None:
    """Everything stored reads back afresh: on TinyDB every database file and journal entry parses; on PostgreSQL
    the backend's own health check reads every part (the database keeps its own files consistent)."""
    from ita_bot.store.tiny.reports import TinyReports

    if isinstance(office.repositories.reports, TinyReports):
        store = tiny_store(office)
        Store(store.db_path).check()  # every database file parses afresh
        for entry in store.journal_dir.rglob("*.json"):  # pending and processed entries alike
            json.loads(entry.read_bytes())
    office.repositories.health.check()


JOURNAL_FAILURE = re.compile(r"event \S+ \(\w+\) (failed|given up)|done-marker .* not written")


def children(pid: int) -> list[int]:
    """Live child processes of `pid`, oldest first (gunicorn's workers, for its master)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, …, starttime is 20th
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append((int(fields[19]), int(entry)))
    return [p for _, p in sorted(found)]


# --- SIGKILLed gunicorn workers during a burst ---------------------------------------------------------------


@pytest.mark.timeout(120)
def test_killing_gunicorn_workers_during_a_burst_stores_each_acknowledged_report_once(
    tmp_path: Path, line: LineStandIn, storage_env: dict[str, str]
) -> None:
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in this environment")
    if not Path("/proc/self/stat").exists():
        pytest.skip("finding gunicorn's workers needs /proc")
    port = free_port()
    env = fault_env(tmp_path, line, PORT=str(port), WEB_CONCURRENCY="2", **storage_env)
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "bot:app"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    started = time.monotonic()
    stats: dict[str, Any] = {"kills": 0, "refused": Counter(), "sent": 0}
    try:
        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"gunicorn exited: {log_path.read_text(errors='replace')[-2000:]}")
            with contextlib.suppress(OSError):
                return http_get(url + "/healthz", timeout=1)[0] == 200
            return False

        wait_until(ready, 30, "gunicorn to serve /healthz", poll=0.1)
        office = office_of(env)

        # Ten staff register in the group first.
        at = iter(START + timedelta(seconds=i) for i in range(10_000))
        for uid, _, division in STAFF:
            event = line.text_event(f"/ลงทะเบียน {division}", user_id=uid, group_id=GROUP, timestamp=next(at))
            assert line.deliver(url + "/callback", [event], timeout=5) == 200
        wait_until(lambda: all((p := office.people.get(uid)) is not None and p.division for uid, _, _ in STAFF),
                   20, "the ten registrations")

        # 200 distinct reports: half in the group, half 1:1, each its own webhookEventId and text.
        events = []
        for i in range(200):
            uid = STAFF[i % 10][0]
            events.append(line.text_event(f"/รายงาน 4 กำลังทำ {1 + i % 98}% รายการที่ {i:03d}", user_id=uid,
                                          group_id=GROUP if i % 2 else None, timestamp=next(at)))
        acked: dict[str, int] = {}  # webhookEventId -> attempts until 200
        cond = threading.Condition()
        next_index = 0
        rng = random.Random(7)
        killed: list[int] = []

        def may_send() -> bool:
            # Ten events per kill: every kill lands inside the burst, none after it.
            return next_index >= len(events) or next_index < 10 * (stats["kills"] + 1)

        def send_all() -> None:
            nonlocal next_index
            while True:
                with cond:
                    cond.wait_for(may_send, 60)
                    if next_index >= len(events):
                        return
                    event, next_index = events[next_index], next_index + 1
                    stats["sent"] += 1
                    cond.notify_all()
                for attempt in range(1, 61):
                    try:
                        status = line.deliver(url + "/callback", [event if attempt == 1 else as_redelivery(event)],
                                              timeout=5)
                    except (OSError, http.client.HTTPException) as e:  # the worker died under us: no answer
                        status = type(e).__name__
                    if status == 200:
                        with cond:
                            acked[event["webhookEventId"]] = attempt
                            cond.notify_all()
                        break
                    with cond:
                        stats["refused"][str(status)] += 1
                    time.sleep(min(0.5, 0.05 * attempt))  # LINE's redelivery also backs off
                else:
                    pytest.fail("an event got no 200 in 60 attempts")

        def kill_workers() -> None:
            for k in range(20):
                with cond:
                    cond.wait_for(lambda k=k: stats["sent"] >= 10 * k + 5, 60)  # mid-batch: requests in flight
                # A worker killed a moment ago is still listed until gunicorn reaps it: never pick it again.
                def alive() -> list[int]:
                    return [w for w in children(proc.pid) if w not in killed]

                wait_until(lambda: len(alive()) >= 2, 30, "gunicorn to replace the worker", poll=0.02)
                workers = alive()
                # Mostly the oldest worker (booted, serving); now and then one still booting.
                victim = workers[0] if rng.random() < 0.8 else workers[-1]
                with contextlib.suppress(ProcessLookupError):
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)
                with cond:
                    stats["kills"] = k + 1
                    cond.notify_all()

        failures: list[BaseException] = []

        def guarded(target: Callable[[], None]) -> Callable[[], None]:
            def run() -> None:
                try:
                    target()
                except BaseException as e:  # pytest.fail in a thread: reported by the test itself
                    failures.append(e)
                    with cond:
                        stats["kills"] = 10**6  # release the senders
                        cond.notify_all()
            return run

        # Daemons: should the test fail early, they must not keep pytest alive.
        threads = [threading.Thread(target=guarded(send_all), name=f"sender-{i}", daemon=True) for i in range(4)]
        threads.append(threading.Thread(target=guarded(kill_workers), name="killer", daemon=True))
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        assert not failures, failures
        assert not any(t.is_alive() for t in threads), "the burst did not finish in 90 s"
        assert len(killed) == 20 and len(set(killed)) == 20
        assert len(acked) == 200

        # Processing finishes by itself (the workers' journals, taking over killed workers' chats).
        wanted = {e["webhookEventId"] for e in events}

        def processed() -> bool:
            mine = [r for r in office.reports.all(2564) if r.event_id in wanted]
            return pending(office) == 0 and len(mine) >= 200

        wait_until(processed, 40, "the journal to process the 200 reports", poll=0.1)
        reports = [r for r in office.reports.all(2564, include_withdrawn=True) if r.event_id in wanted]
        per_event = Counter(r.event_id for r in reports)
        assert set(per_event) == wanted and set(per_event.values()) == {1}, "a report stored twice or lost"
        assert len(reports) == 200
        assert sorted(r.details for r in reports) == [f"รายการที่ {i:03d}" for i in range(200)]
        assert all(r.measure == 4 and r.status == "doing" for r in reports)
        assert_storage_reads_back(office)
        # (A killed writer's temp file may linger until the next process sweeps it: harmless, not checked.)
    finally:
        stop_process(proc)
    log = log_path.read_text(errors="replace")
    boots = len(re.findall(r"Booting worker with pid", log))
    print(f"\nburst with 20 kills: {time.monotonic() - started:.1f} s, {boots} worker boots, "
          f"non-200 answers re-sent: {dict(stats['refused'])}, "
          f"events needing a resend: {sum(1 for n in acked.values() if n > 1)}")
    assert boots >= 22  # two at start, one replacement per kill
    assert not JOURNAL_FAILURE.search(log), "an event was given up rather than re-run after a kill"
    assert SECRET not in log and TOKEN not in log
    assert not USER_ID.search(log), "a LINE user ID reached gunicorn's log"
    assert "รายการที่" not in log  # nor message text


# --- SIGKILLed clock mid-push -------------------------------------------------------------------------------


def start_clock(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "bot.py", "clock"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)




@pytest.mark.timeout(90)
def test_a_clock_killed_mid_push_and_restarted_pushes_once(
    tmp_path: Path, line: LineStandIn, storage_env: dict[str, str]
) -> None:
    push = "/v2/bot/message/push"
    office = office_of(fault_env(tmp_path, line, **storage_env))
    for uid, name, division in STAFF[:3]:
        office.people.register(uid, name, {"สป.": "sp", "คลัง": "klang", "ช่าง": "chang"}[division],
                               approved=True, now=START)
    # LINE takes the first push at once but holds its answer: the clock is mid-send when it dies.
    line.delay(5.0, push, times=1)
    # Five seconds after Monday's reminder slot (3 working days before the meeting of Thu 25 Feb 2564).
    first = start_clock(fault_env(tmp_path, line, ITA_BOT_CLOCK_START="2021-02-22T09:00:05",
                                  ITA_BOT_CLOCK_TICK="0.3", **storage_env), tmp_path / "clock1.log")
    second: subprocess.Popen[bytes] | None = None
    try:
        assert line.wait_for(lambda s: any(c.path == push for c in s.calls), timeout=30), \
            (tmp_path / "clock1.log").read_text()
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
        [taken] = [c for c in line.calls if c.path == push]
        key = taken.headers["x-line-retry-key"]
        [entry] = [e for e in office_sent_log(office) if e["job"] == "reminder"]
        assert entry["state"] == "sending" and entry["retry_key"] == key  # claimed before sending, not done

        # Restarted after the claim's 10-minute lease ran out (a restart within it leaves the send to its
        # owner's lease: the entry is never sent by two processes at once).
        second = start_clock(fault_env(tmp_path, line, ITA_BOT_CLOCK_START="2021-02-22T09:11:00",
                                       ITA_BOT_CLOCK_TICK="0.3", **storage_env), tmp_path / "clock2.log")

        def settled() -> bool:
            sends = office_sent_log(office)
            slot = next((s for s in office.repositories.slots.all() if s["slot"] == "reminder/2021-02/3"), None)
            return bool(sends) and sends[0]["state"] == "done" and slot is not None and slot["state"] == "done"

        wait_until(settled, 30, "the restarted clock to finish the send")
        assert stop_process(second) == 0
    finally:
        stop_process(first)
        if second is not None:
            stop_process(second)
    calls = [c for c in line.calls if c.path == push]
    assert [c.status for c in calls] == [200, 409], "resent with the same key, and LINE dropped the duplicate"
    assert {c.headers["x-line-retry-key"] for c in calls} == {key}
    assert len(line.pushes()) == 1 and line.pushes()[0]["to"] == GROUP  # delivered exactly once
    [entry] = office_sent_log(office)
    assert entry["state"] == "done" and entry["retry_key"] == key and entry["duplicate"] is True
    logs = (tmp_path / "clock1.log").read_text() + (tmp_path / "clock2.log").read_text()
    assert "resuming send" in logs
    assert SECRET not in logs and TOKEN not in logs
    assert not USER_ID.search(logs) and GROUP not in logs


def office_sent_log(office: Office) -> list[dict[str, Any]]:
    return office.repositories.sent_log.entries()


# --- no space left on the device -----------------------------------------------------------------------------


class Disk:
    """The filesystem under the bot's store: really full (a tiny tmpfs) or, where mounting is not allowed,
    made to fail every data write with ENOSPC where a file starts to count: at its fsync or fdatasync (journal
    lines, durable store writes, checkpoints) or at the rename that puts a store file in place (the journal
    worker's writes are fsynced later, at a checkpoint)."""

    def __init__(self, folder: Path, mounted: bool, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder, self.mounted, self.monkeypatch = folder, mounted, monkeypatch
        self.ballast = folder / "ballast"
        self._room: int | None = None  # injected mode: files bigger than this fail; None: no fault

    def fill(self, leave: int = 0) -> None:
        """Leave about `leave` bytes free (0: full)."""
        if self.mounted:
            fd = os.open(self.ballast, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                for chunk in (1 << 16, 4096, 512, 1):  # down to the last byte
                    with contextlib.suppress(OSError):
                        while True:
                            os.write(fd, b"\0" * chunk)
            finally:
                os.close(fd)
            size = self.ballast.stat().st_size
            os.truncate(self.ballast, max(0, size - leave))
        else:
            self._room = leave
            real_fsync, real_fdatasync, real_replace = os.fsync, os.fdatasync, os.replace

            def too_big(st: os.stat_result) -> bool:
                return self._room is not None and not stat.S_ISDIR(st.st_mode) and st.st_size > self._room

            def fsync(fd: int) -> None:
                if too_big(os.fstat(fd)):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                real_fsync(fd)

            def fdatasync(fd: int) -> None:
                if too_big(os.fstat(fd)):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                real_fdatasync(fd)

            def replace(src: Any, dst: Any, **kw: Any) -> None:
                if too_big(os.stat(src)):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                real_replace(src, dst, **kw)

            self.monkeypatch.setattr(os, "fsync", fsync)
            self.monkeypatch.setattr(os, "fdatasync", fdatasync)
            self.monkeypatch.setattr(os, "replace", replace)

    def free(self) -> None:
        if self.mounted:
            self.ballast.unlink(missing_ok=True)
        else:
            self._room = None
            self.monkeypatch.undo()


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Disk]:
    """A 4 MiB tmpfs at tmp_path/disk when this machine lets the test mount one, else injected faults."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = False
    if sys.platform == "linux" and os.geteuid() == 0:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(folder)],
                                capture_output=True, timeout=10)
        mounted = result.returncode == 0
    try:
        yield Disk(folder, mounted, monkeypatch)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=10)


@pytest.fixture
def disk_bot(disk: Disk, line: LineStandIn, tmp_path: Path) -> Iterator[Any]:
    """The real app in-process over a store on `disk`, the distinctive-secret stand-in as LINE."""
    from ita_bot.web import create_app

    config = load_config(write_config(tmp_path, {"line": {"channel_secret": SECRET, "channel_access_token": TOKEN}}),
                         {"ITA_BOT_DB": str(disk.folder / "db" / "ita-bot.json"), "LINE_API_ENDPOINT": line.url,
                          "LINE_DATA_API_ENDPOINT": line.url})
    app = create_app(config, start_worker=False)
    runtime = app.extensions["ita_bot"]
    try:
        yield app
    finally:
        runtime.close()


def post(app: Any, line: LineStandIn, events: list[dict[str, Any]]) -> Any:
    body = line.webhook_body(events)
    return app.test_client().post("/callback", data=body, headers={"X-Line-Signature": line.signature(body)})


def db_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.json"))}


def assert_nothing_corrupt(store: Store) -> None:
    Store(store.db_path).check()  # every database file parses afresh
    for entry in store.journal_dir.rglob("*.json"):
        json.loads(entry.read_bytes())
    leftovers = [p.name for p in (*store.folder.glob(".*.tmp"), *store.journal_dir.rglob(".*.tmp"))]
    assert leftovers == [], f"temp files left behind: {leftovers}"


@pytest.mark.timeout(60)
def test_a_full_disk_is_5xx_only_for_events_not_stored_and_recovers(
    disk: Disk, disk_bot: Any, line: LineStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    app, runtime = disk_bot, disk_bot.extensions["ita_bot"]
    office, store = runtime.office, tiny_store(runtime.office)
    runtime.ensure_worker()
    at = iter(START + timedelta(minutes=i) for i in range(1000))
    uid, _, _ = STAFF[0]
    # Data from before the disk filled up (two chats: the registration must be in before the report).
    for event in (line.text_event("/ลงทะเบียน สป.", user_id=uid, group_id=GROUP, timestamp=next(at)),
                  line.text_event("/รายงาน 1 กำลังทำ 40% ก่อนดิสก์เต็ม", user_id=uid, timestamp=next(at))):
        assert post(app, line, [event]).status_code == 200
        assert runtime.journal.wait_idle(10)
    stored_before = db_files(store.folder)
    assert [r.details for r in office.reports.all(2564)] == ["ก่อนดิสก์เต็ม"]

    disk.fill()
    report = line.text_event("/รายงาน 1 กำลังทำ 60% ระหว่างดิสก์เต็ม", user_id=uid, timestamp=next(at))
    with caplog.at_level(logging.DEBUG):
        refused = post(app, line, [report])
        verify = app.test_client().post("/callback", data=b'{"events": []}',
                                        headers={"X-Line-Signature": line.signature(b'{"events": []}')})
        forged = app.test_client().post("/callback", data=line.webhook_body([report]),
                                        headers={"X-Line-Signature": "bm90IGl0"})
        health = app.test_client().get("/healthz")
    # The journal appends to its segment: a line that fits in the room its last block still has is on disk
    # (a 200 is then right, and the event waits for the store); one that needs a new block is refused.
    # Stored: still pending, or already applied, since a report is one appended row that may fit as well.
    inbox = FileInbox(store.journal_dir)
    stored = report["webhookEventId"] in inbox.pending() or inbox.is_applied(report["webhookEventId"])
    assert verify.status_code == 200  # LINE's verify request stores nothing, so it still succeeds
    assert forged.status_code == 400
    assert health.status_code in (200, 503)  # an answer, not a crash
    logged = "\n".join(r.getMessage() for r in caplog.records)
    if refused.status_code == 200:
        assert stored
    else:
        assert refused.status_code in (500, 503), "LINE must redeliver what was not stored"
        assert not stored  # not half-accepted either
        assert "could not store 1 webhook event" in logged and "28" in logged  # errno 28: ENOSPC
    assert uid not in logged and "ระหว่างดิสก์เต็ม" not in logged and SECRET not in logged
    assert SECRET not in refused.get_data(as_text=True) + health.get_data(as_text=True)
    assert db_files(store.folder) == stored_before  # nothing half-written

    disk.free()
    assert post(app, line, [as_redelivery(report)]).status_code == 200
    assert runtime.journal.wait_idle(10)
    assert sorted(r.details for r in office.reports.all(2564)) == ["ก่อนดิสก์เต็ม", "ระหว่างดิสก์เต็ม"]
    assert office.people.get(uid).division == "sp"
    assert not JOURNAL_FAILURE.search("\n".join(r.getMessage() for r in caplog.records))
    assert_nothing_corrupt(store)
    print(f"\ndisk: {'a real 4 MiB tmpfs, filled' if disk.mounted else 'ENOSPC injected at fsync and rename'}")


def accepted_then_disk_full(disk: Disk, app: Any, line: LineStandIn, leave: int) -> tuple[Any, dict[str, Any]]:
    """A staff member with a year of reports (a reports file of ~30 KB); one more report is accepted (200)
    while there is space, then the disk fills up before the journal gets to it."""
    from ita_bot.domain.progress import Report

    runtime = app.extensions["ita_bot"]
    office = runtime.office
    uid = STAFF[0][0]
    office.people.register(uid, STAFF[0][1], "sp", approved=True, now=START)
    for i in range(40):
        moment = START - timedelta(days=100 - i)
        office.reports.add(Report(2564, 1, "sp", "doing", i + 1, f"งานเดือนก่อน {i} " + "ก" * 300, moment, moment))
    year = tiny_store(office).path_of("reports-2564")
    assert sum(p.stat().st_size for p in (year, year.with_suffix(".log")) if p.exists()) > 4 * max(leave, 4096)
    event = line.text_event("/รายงาน 1 กำลังทำ 77% รับแล้วก่อนดิสก์เต็ม", user_id=uid, timestamp=START)
    assert post(app, line, [event]).status_code == 200  # acknowledged: LINE will not send it again
    disk.fill(leave)
    return runtime, event


def quiet(runtime: Any) -> None:
    """Stop the journal worker before asserting. A worker formatting tracebacks while pytest formats a
    failure can crash the whole session: CPython 3.11 keeps the AST builder's recursion counter in shared
    state, and both parse source (traceback carets, pytest's failure display) -> "SystemError: AST
    constructor recursion depth mismatch", an INTERNALERROR."""
    runtime.close(timeout=10)


def ours(office: Office) -> list[str]:
    return [r.details for r in office.reports.all(2564) if r.details.startswith("รับแล้ว")]


@pytest.mark.timeout(60)
def test_a_report_acknowledged_before_the_disk_filled_is_stored_once_there_is_space(
    disk: Disk, disk_bot: Any, line: LineStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    # Small files fit, the year's whole file would not. A report is one row appended to the year's log, which may
    # fit then (it is stored at once) or not (it waits for the disk): stored exactly once either way.
    runtime, _ = accepted_then_disk_full(disk, disk_bot, line, leave=8192)
    with caplog.at_level(logging.INFO):
        runtime.ensure_worker()
        wait_until(lambda: any("waits for storage" in r.getMessage() for r in caplog.records)
                   or runtime.journal.pending() == 0, 5, "a processing attempt")
    assert ours(runtime.office) in ([], ["รับแล้วก่อนดิสก์เต็ม"])  # never twice
    disk.free()
    idle = runtime.journal.wait_idle(40)
    quiet(runtime)
    assert idle
    assert ours(runtime.office) == ["รับแล้วก่อนดิสก์เต็ม"]  # nothing acknowledged is lost
    assert_nothing_corrupt(tiny_store(runtime.office))


@pytest.mark.timeout(60)
def test_a_completely_full_disk_neither_spins_nor_loses_an_acknowledged_report(
    disk: Disk, disk_bot: Any, line: LineStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    runtime, _ = accepted_then_disk_full(disk, disk_bot, line, leave=0)
    with caplog.at_level(logging.INFO):
        runtime.ensure_worker()
        time.sleep(1.0)  # the window being measured: what the journal does during a second of full disk
        attempts = sum(1 for r in caplog.records if r.levelno >= logging.WARNING and r.name == "ita_bot.chat.journal")
        disk.free()
        idle = runtime.journal.wait_idle(40)
    quiet(runtime)
    assert attempts <= 10, f"{attempts} journal warnings/errors in one second of full disk"
    assert idle
    assert ours(runtime.office) == ["รับแล้วก่อนดิสก์เต็ม"]
    assert_nothing_corrupt(tiny_store(runtime.office))


# --- secrets and LINE user IDs --------------------------------------------------------------------------------


def docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))


@pytest.mark.timeout(60)
def test_secrets_and_user_ids_stay_out_of_logs_error_pages_and_public_outputs(
    tmp_path: Path, line: LineStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    from ita_bot.schedule.delivery import Delivery, RetryPolicy
    from ita_bot.schedule.jobs import run_job
    from tests.chat_harness import ChatBot
    from tests.conftest import SECRETARY

    config = load_config(write_config(tmp_path, {"line": {"channel_secret": SECRET, "channel_access_token": TOKEN}}),
                         {"ITA_BOT_DB": str(tmp_path / "db" / "ita-bot.json"), "LINE_API_ENDPOINT": line.url,
                          "LINE_DATA_API_ENDPOINT": line.url})
    line.add_user(SECRETARY, "เลขาทดสอบ")
    reply, content, push = "/v2/bot/message/reply", "/v2/bot/message/", "/v2/bot/message/push"
    bodies: dict[str, str] = {}  # every HTTP answer the bot gave, by what was asked
    with caplog.at_level(logging.DEBUG):
        bot = ChatBot(line, config)
        try:
            (a, _, _), (b, _, _), (c, _, _) = STAFF[:3]
            bot.join()
            for uid, division in ((a, "สป."), (b, "คลัง"), (c, "ช่าง")):
                bot.send(f"/ลงทะเบียน {division}", user=uid, group=True)
            bot.send(f"/รายงาน 1 กำลังทำ 50% ประสานงานกับ {b} แล้ว", user=a, group=True)  # an ID pasted in details
            line.fail(content, 500, times=1)  # LINE's content API hiccups once: the download is retried
            bot.send_image(user=a, group=True)
            line.fail(reply, 500, times=1)  # LINE refuses a reply
            bot.send("/รายงาน 4 เสร็จแล้ว ซ่อมถนนหมู่ 3", user=c)
            bot.send("/รายงาน 4 ติดปัญหา 20% รองบประมาณ", user=b, group=True)
            reports = bot.reports()
            assert len(reports) == 3 and len(reports[0].evidence) == 1  # the photo made it, after the retry
            for text in ("/สถานะ", "/สรุป", "/ค้าง", "/ส่งออก", "/สมาชิก", "/ฉัน", "/ไม่มีคำสั่งนี้"):
                assert bot.send(text, user=SECRETARY), text
            # A push that LINE fails twice before taking it (the reminder, as the clock would send it).
            line.fail(push, 500, times=2)
            result = run_job(bot.office, bot.runtime.line, "reminder", datetime(2021, 2, 22, 9, 0, tzinfo=BANGKOK),
                             delivery=Delivery(bot.office, bot.runtime.line, sleep=lambda s: None,
                                               policy=RetryPolicy(backoff=(0.0,))))
            assert result.ok and len(line.pushes()) == 1

            # Everything a stranger can throw at the webhook and the pages.
            event = bot.text_event("/ฉัน", user=a)
            signed = line.webhook_body([event])
            for name, body, signature in (
                ("bad signature", signed, "bm90IHRoZSBzaWduYXR1cmU="),
                ("no signature", signed, None),
                ("malformed", b"{not json", "sign"),
                ("not LINE's shape", b'{"events": "all"}', "sign"),
                ("too big", b'{"events": [], "x": "' + b"x" * (1 << 21) + b'"}', "sign"),
                ("nested", b"[" * 50_000 + b"]" * 50_000, "sign"),  # a 500 today: see test_fuzz
            ):
                bodies[name] = bot.post(body, signature=signature).get_data(as_text=True)
            client = bot.client
            for path in ("/callback", "/nowhere", "/reports/2599", "/reports/2564/13-2021", "/reports/2564/x.docx",
                         "/reports/2564/evidence/abc/1", "/healthz"):
                bodies[path] = client.get(path).get_data(as_text=True)
            public = {p: client.get(p) for p in ("/reports/2564", "/reports/2564.json", "/reports/2564/2021-02",
                                                 "/reports/2564/2021-02.json", "/reports/2564/2021-02.csv",
                                                 "/reports/2564/2021-02.docx")}
            outputs = {p: docx_text(r.data) if p.endswith(".docx") else r.data.decode("utf-8-sig")
                       for p, r in public.items()}
            assert all(r.status_code == 200 for r in public.values())
            assert "ประสานงานกับ" in outputs["/reports/2564.json"]  # the report is public, the ID in it is not
            bot.wait_idle()

            # The store breaks: /healthz says so, naming neither the secret nor the server's paths.
            tiny_store(bot.office).db_path.write_text("{ truncated")
            bodies["healthz, store broken"] = client.get("/healthz").get_data(as_text=True)
            assert '"reason":"store"' in bodies["healthz, store broken"].replace(" ", "")
            assert str(tiny_store(bot.office).folder) not in bodies["healthz, store broken"]
        finally:
            bot.close()
    logged = "\n".join(
        r.getMessage() + ("\n" + r.exc_text if r.exc_text else "") for r in caplog.records
    )
    assert "LINE 500" in logged  # the failures above were really logged
    for where, text in {"logs": logged, **bodies, **outputs}.items():
        assert SECRET not in text and TOKEN not in text, f"a credential in {where}"
    for where, text in {"logs": logged, "/healthz": bodies["/healthz"], **outputs}.items():
        assert not USER_ID.search(text), f"a LINE user ID in {where}: {USER_ID.search(text)}"
    assert GROUP not in logged
