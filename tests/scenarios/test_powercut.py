"""Power cuts: the store fsyncs at journal checkpoints, so a cut loses only what the journal replays.

A bot process (the real app under Werkzeug, its journal worker running) records, through os.fsync,
what the disk holds of each database file: a file's content counts once its data was fsynced and
then its folder. The process is SIGKILLed during a stream of report webhooks (at a random moment,
or at a chosen step: inside a checkpoint, or inside an accept's group commit), every database file
is rolled back to what the disk held, each journal log (segments, done-log) is cut at a byte between
what its last fdatasync covered and its end (a torn last line), and a new process starts over the
folder. Every report LINE got a 200 for is then stored exactly once; the ones LINE got no 200 for are
redelivered, as LINE does, and also stored once.
"""

from __future__ import annotations

import ast
import contextlib
import http.client
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.config import load_config
from ita_bot.domain.thai import BANGKOK
from ita_bot.line_standin import LineStandIn, as_redelivery
from ita_bot.store import open_office
from ita_bot.store.database import Store
from ita_bot.store.tiny.inbox import FileInbox
from tests.conftest import GROUP, ROOT, SECRET, STAFF_CHANG, STAFF_KLANG, STAFF_SP, write_config

START = datetime(2021, 2, 15, 10, 0, tzinfo=BANGKOK)
STAFF = ((STAFF_SP, "sp"), (STAFF_KLANG, "klang"), (STAFF_CHANG, "chang"))

# The bot process. argv: port, image folder, where to die ("random": when the test kills it; "sync": in the
# third checkpoint, after the store sync; "done": in the third checkpoint, its done lines written and not yet
# synced; "accept": a batch of accepted lines written and not yet synced), events per checkpoint. What the
# disk holds of the journal's logs is their size at their last fdatasync (kept in journal.sizes).
BOT = r"""
import os, signal, stat, sys, threading
from pathlib import Path
from werkzeug.serving import make_server
from ita_bot.domain.config import load_config
from ita_bot.store.database import Store
from ita_bot.web import create_app

port, image, die_at, batch = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
config = load_config()
folder = config.db_path.parent.absolute()
real_fsync, real_replace = os.fsync, os.replace
synced: dict[int, bytes] = {}  # inode -> its content when its data was fsynced
durable: dict[str, int] = {}  # database file name -> the inode its name points at on disk
lock = threading.Lock()


def database_files():
    # A year's reports are a file and its row log (appended in place): the disk holds both as last synced.
    return [*folder.glob("*.json"), *folder.glob("*.log")]


def keep(name: str, data: bytes) -> None:
    (image / ".tmp").write_bytes(data)
    real_replace(image / ".tmp", image / name)


def fsync(fd: int) -> None:
    real_fsync(fd)
    path = Path(os.readlink(f"/proc/self/fd/{fd}"))
    with lock:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            if path == folder:  # the names now on disk point at these inodes: what the disk holds
                for db in database_files():
                    with open(db, "rb") as f:
                        inode = os.fstat(f.fileno()).st_ino
                    durable[db.name] = inode
                    if inode in synced:
                        keep(db.name, synced[inode])
        elif path.parent == folder:
            with open(f"/proc/self/fd/{fd}", "rb") as f:
                synced[os.fstat(fd).st_ino] = f.read()
            if durable.get(path.name) == os.fstat(fd).st_ino:  # appended in place under a durable name
                keep(path.name, synced[os.fstat(fd).st_ino])


os.fsync = fsync


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


checkpoints = 0
real_sync = Store.sync


def sync(self: Store) -> None:
    global checkpoints
    if self.unsynced():
        checkpoints += 1
    real_sync(self)
    if die_at == "sync" and checkpoints == 3:
        die()


Store.sync = sync
journal_dir = folder / "journal"
journal_synced: dict[str, int] = {}  # journal log -> its size at its last data sync: what the disk holds
real_fdatasync = os.fdatasync
accept_syncs = 0


def fdatasync(fd: int) -> None:
    global accept_syncs
    path = Path(os.readlink(f"/proc/self/fd/{fd}"))
    if path.parent == journal_dir:
        if path.name == "done.log" and die_at == "done" and checkpoints == 3:
            die()  # the done lines are written, not synced: the cut keeps any part of them
        if path.name.startswith("seg-"):
            accept_syncs += 1
            if die_at == "accept" and accept_syncs == 40:
                die()  # a batch of accepted lines written, not synced: none of them was acknowledged
    real_fdatasync(fd)
    if path.parent == journal_dir:
        with lock:
            journal_synced[path.name] = os.fstat(fd).st_size
            (image / ".sizes").write_text(repr(journal_synced))
            real_replace(image / ".sizes", image / "journal.sizes")  # whole, even when killed meanwhile


os.fdatasync = fdatasync
app = create_app(config)
journal = app.extensions["ita_bot"].journal
# Checkpoints by count only (never by time, never because the worker is idle), so events pile up
# between them as they would under load.
journal.checkpoint_events, journal.checkpoint_seconds = batch, 3600.0
journal._checkpoint_due = lambda: 0.0 if len(journal._applied) >= batch else float("inf")
server = make_server("127.0.0.1", port, app, threaded=True)
print("ready", flush=True)
server.serve_forever()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def line() -> Iterator[LineStandIn]:
    with LineStandIn(SECRET) as s:
        for uid, _ in STAFF:
            s.add_user(uid, "เจ้าหน้าที่ทดสอบ")
        s.add_group(GROUP, "พนักงาน", [uid for uid, _ in STAFF])
        yield s


def run_until_killed(tmp_path: Path, line: LineStandIn, die_at: str) -> tuple[dict[str, Any], list[dict[str, Any]],
                                                                             set[str], Path]:
    """Start the bot process, stream report webhooks at it until it dies, roll the database files back to
    what the disk held. Returns (environment, events sent, ids acknowledged with 200, database folder)."""
    db = tmp_path / "db" / "ita-bot.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "ITA_BOT_"))}
    env.update(ITA_BOT_CONFIG=str(write_config(tmp_path, {})), ITA_BOT_DB=str(db), LINE_API_ENDPOINT=line.url,
               LINE_DATA_API_ENDPOINT=line.url, PYTHONUNBUFFERED="1")
    office = open_office(load_config(env["ITA_BOT_CONFIG"], env))
    for uid, division in STAFF:  # durable writes (fsynced) before the process starts
        office.people.register(uid, "เจ้าหน้าที่ทดสอบ", division, approved=True, now=START - timedelta(days=1))
    image = tmp_path / "disk"
    image.mkdir()
    for path in [*db.parent.glob("*.json"), *db.parent.glob("*.log")]:
        shutil.copyfile(path, image / path.name)

    port = free_port()
    batch = 25 if die_at == "random" else 4
    with open(tmp_path / "bot.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", BOT, str(port), str(image), die_at, str(batch)], cwd=ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    url = f"http://127.0.0.1:{port}/callback"
    events = [line.text_event(f"/รายงาน 4 กำลังทำ {1 + i % 98}% งานที่ {i:03d}", user_id=STAFF[i % 3][0],
                              group_id=GROUP if i % 2 else None, timestamp=START + timedelta(seconds=i))
              for i in range(150)]
    acked: set[str] = set()
    cursor = iter(events)
    guard = threading.Lock()

    def sender() -> None:
        while proc.poll() is None:
            with guard:
                event = next(cursor, None)
            if event is None:
                return
            try:
                if line.deliver(url, [event], timeout=10) == 200:
                    with guard:
                        acked.add(event["webhookEventId"])
            except (OSError, http.client.HTTPException):
                return  # the process died under us: no answer, LINE will redeliver

    senders = [threading.Thread(target=sender, daemon=True) for _ in range(4)]
    for t in senders:
        t.start()
    try:
        if die_at == "random":
            # Killed with events applied and not yet checkpointed: the reports file is ahead of the disk.
            def ahead() -> bool:
                for name in ("reports-2564.json", "reports-2564.log"):
                    live, kept = db.parent / name, image / name
                    with contextlib.suppress(FileNotFoundError):
                        if live.exists() and (not kept.exists() or live.read_bytes() != kept.read_bytes()):
                            return True
                return False

            deadline = time.monotonic() + 60
            while (len(line.replies()) < 30 or not ahead()) and proc.poll() is None:
                assert time.monotonic() < deadline, "no replies ahead of the disk within 60 s"
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL, "the bot was meant to die"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    for t in senders:
        t.join(15)

    # The power cut: every database file is what the disk held, nothing written after its last sync.
    rolled_back = []
    for path in sorted([*db.parent.glob("*.json"), *db.parent.glob("*.log")]):
        kept = image / path.name
        if not kept.exists():
            path.unlink()
            rolled_back.append(path.name)
        elif kept.read_bytes() != path.read_bytes():
            shutil.copyfile(kept, path)
            rolled_back.append(path.name)
    if die_at == "random":
        assert {"reports-2564.json", "reports-2564.log"} & set(rolled_back), \
            "the kill came when nothing was ahead of the disk"
    # The journal's logs: each is cut at any byte between what its last fdatasync covered and what was written
    # (a torn last line, or whole lines never synced, which were never acknowledged).
    sizes_file = image / "journal.sizes"
    synced: dict[str, int] = ast.literal_eval(sizes_file.read_text()) if sizes_file.exists() else {}
    rng = random.Random(die_at)
    cuts = []
    for path in sorted((db.parent / "journal").glob("*.log")):
        size = path.stat().st_size
        cut = rng.randint(min(synced.get(path.name, 0), size), size)
        with open(path, "r+b") as f:
            f.truncate(cut)
        cuts.append(cut < size)
    if die_at in ("done", "accept"):
        assert any(cuts), "the kill left nothing unsynced to cut"
    return env, events, acked, db


def restart_and_count(env: dict[str, Any], line: LineStandIn, events: list[dict[str, Any]], acked: set[str],
                      ) -> Counter[str]:
    """A new process over the folder: it applies what the journal still holds; LINE redelivers what got no 200."""
    from ita_bot.web import create_app

    config = load_config(env["ITA_BOT_CONFIG"], env)
    Store(config.db_path).check()  # every database file is whole
    app = create_app(config)
    runtime = app.extensions["ita_bot"]
    try:
        assert runtime.journal.wait_idle(60)
        client = app.test_client()
        for event in events:
            if event["webhookEventId"] not in acked:
                body = line.webhook_body([as_redelivery(event)])
                assert client.post("/callback", data=body,
                                   headers={"X-Line-Signature": line.signature(body)}).status_code == 200
        assert runtime.journal.wait_idle(60)
        reports = runtime.office.reports.all(2564, include_withdrawn=True)
    finally:
        runtime.close()
    return Counter(r.event_id for r in reports)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("die_at", ["random", "sync", "done", "accept"])
def test_after_a_power_cut_every_acknowledged_report_is_stored_exactly_once(
    tmp_path: Path, line: LineStandIn, die_at: str
) -> None:
    env, events, acked, db = run_until_killed(tmp_path, line, die_at)
    assert acked, "nothing was acknowledged before the cut"
    per_event = restart_and_count(env, line, events, acked)
    missing = [e["webhookEventId"] for e in events if e["webhookEventId"] not in per_event]
    assert not missing, (len(missing), len([m for m in missing if m in acked]), len(acked), len(events))
    assert set(per_event.values()) == {1}, "a report stored twice"
    assert FileInbox(db.parent / "journal").count_pending() == 0, "entries left pending"
