"""The production web process: gunicorn with 2 workers over one folder or one PostgreSQL office, real HTTP webhooks,
a clean stop."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.config import load_config
from ita_bot.domain.thai import BANGKOK
from ita_bot.line_standin import as_redelivery
from ita_bot.store import open_office
from tests.conftest import GROUP, ROOT, STAFF_CHANG, STAFF_KLANG, STAFF_SP, STAFF_SP2, write_config
from tests.processes import wait_until_healthy

GUNICORN = Path(sys.executable).with_name("gunicorn")
START = datetime(2021, 2, 15, 10, 0, tzinfo=BANGKOK)
USER_ID = re.compile(r"U[0-9a-f]{32}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Web:
    """A running `gunicorn -c gunicorn.conf.py bot:app` and how to reach it."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path, env: dict[str, str]) -> None:
        self.proc, self.port, self.log, self.env = proc, port, log, env
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
                pytest.fail("gunicorn did not stop within 20 s of SIGTERM")
        return int(self.proc.returncode)


@pytest.fixture
def web(tmp_path: Path, standin: Any, storage_env: dict[str, str]) -> Iterator[Web]:
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in this environment")
    config_path = write_config(tmp_path, {})
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ITA_BOT_")},  # the backend is the test's choice
        "ITA_BOT_CONFIG": str(config_path),
        "ITA_BOT_DB": str(tmp_path / "db" / "ita-bot.json"),
        "LINE_API_ENDPOINT": standin.url,
        "LINE_DATA_API_ENDPOINT": standin.url,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "PYTHONUNBUFFERED": "1",
        **storage_env,  # PostgreSQL: the run's database and an office of this test's own
    }
    env.pop("LINE_CHANNEL_SECRET", None)
    env.pop("LINE_CHANNEL_ACCESS_TOKEN", None)
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py", "bot:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    server = Web(proc, port, log, env)
    try:
        wait_until_healthy(server.url + "/healthz", proc, log, timeout=20)
        yield server
    finally:
        server.stop()


def worker_pids(log: Path) -> set[str]:
    return set(re.findall(r"Booting worker with pid: (\d+)", log.read_text(errors="replace")))


def test_two_workers_process_each_event_once_and_stop_cleanly(web: Web, standin: Any, tmp_path: Path) -> None:
    callback = web.url + "/callback"
    at = iter(START + timedelta(seconds=i) for i in range(1000))
    people = {STAFF_SP: "สป.", STAFF_SP2: "สป.", STAFF_KLANG: "คลัง", STAFF_CHANG: "ช่าง"}

    # Register four people, one webhook each, concurrently (gthread workers × 2 processes).
    registrations = [standin.text_event(f"/ลงทะเบียน {d}", user_id=u, group_id=GROUP, timestamp=next(at))
                     for u, d in people.items()]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda e: standin.deliver(callback, [e], timeout=1.0), registrations)) == [200] * 4
    assert standin.wait_for(lambda s: len(s.replies()) == 4, timeout=10)

    # Then reports: each person twice on measure 4 (one chat: the group, so order matters), concurrently.
    reports = [standin.text_event(f"/รายงาน 4 กำลังทำ {10 * (i + 1)}% รอบ {i}", user_id=u, group_id=GROUP,
                                  timestamp=next(at)) for i in range(2) for u in people]
    with ThreadPoolExecutor(8) as pool:  # each answered within LINE's one-second timeout, or it fails
        statuses = list(pool.map(lambda e: standin.deliver(callback, [e], timeout=1.0), reports))
    assert statuses == [200] * len(reports)
    # LINE redelivers one of them: applied once.
    assert standin.deliver(callback, [as_redelivery(reports[0])], timeout=1.0) == 200
    assert standin.wait_for(lambda s: len(s.replies()) == 4 + len(reports), timeout=10)

    # Every reply token was answered exactly once (no event ran in both processes).
    tokens = [r["replyToken"] for r in standin.replies()]
    assert len(tokens) == len(set(tokens)) == 4 + len(reports)
    replies = [c for c in standin.calls if c.path == "/v2/bot/message/reply"]
    assert all(c.status == 200 for c in replies)

    # The webhook refuses oversized bodies over real HTTP too, from the headers alone (the body is never
    # read). Only the headers are sent: a server that answers early may close the socket while a client is
    # still writing 2 MiB, which would make the client see a broken pipe instead of the 413.
    with socket.create_connection(("127.0.0.1", web.port), timeout=5) as sock:
        sock.sendall(b"POST /callback HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Line-Signature: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 2097152\r\n\r\n")
        status_line = sock.makefile("rb").readline()
    assert status_line.split()[1] == b"413", status_line

    # The last reply reaches LINE a moment before its event is marked done: poll, with a deadline.
    deadline = time.monotonic() + 10
    while True:
        status, body = get(web.url + "/healthz")
        health = json.loads(body)
        if status != 200 or health["journal"]["pending"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status == 200 and health["journal"]["pending"] == 0

    assert web.stop() == 0
    log = web.log.read_text(errors="replace")
    assert len(worker_pids(web.log)) >= 2
    assert not USER_ID.search(log), "a LINE user ID reached the log"
    assert "รายงาน" not in log  # no message text either

    office = open_office(load_config(web.env["ITA_BOT_CONFIG"], web.env))
    stored = office.reports.all(2564)
    assert len(stored) == len(reports)
    # Within the chat, each person's second report came after the first.
    by_person: dict[str, list[int | None]] = {}
    for r in sorted(stored, key=lambda r: r.sent_at):
        by_person.setdefault(str(r.reporter_id), []).append(r.percent)
    assert all(p[0] is not None and p[1] is not None and p[0] < p[1] for p in by_person.values())


def test_missing_credentials_is_a_clear_startup_error(tmp_path: Path) -> None:
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in this environment")
    config_path = write_config(tmp_path, {"line": {"channel_secret": "CHANGE-ME", "channel_access_token": "CHANGE-ME"}})
    env = {**os.environ, "ITA_BOT_CONFIG": str(config_path), "ITA_BOT_DB": str(tmp_path / "db" / "ita-bot.json"),
           "PORT": str(free_port()), "WEB_CONCURRENCY": "1"}
    env.pop("LINE_CHANNEL_SECRET", None)
    env.pop("LINE_CHANNEL_ACCESS_TOKEN", None)
    result = subprocess.run([str(GUNICORN), "-c", "gunicorn.conf.py", "bot:app"], cwd=ROOT, env=env,
                            capture_output=True, timeout=30)
    assert result.returncode != 0
    assert b"channel_secret" in result.stdout + result.stderr


def test_gunicorn_refuses_to_start_on_the_example_placeholder_secret(tmp_path: Path) -> None:
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in this environment")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "ITA_BOT_"))}
    env |= {"ITA_BOT_CONFIG": str(ROOT / "config.example.toml"), "ITA_BOT_DB": str(tmp_path / "db.json"),
            "PORT": str(free_port())}
    result = subprocess.run([str(GUNICORN), "-c", "gunicorn.conf.py", "bot:app"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "placeholder" in result.stderr and "LINE_CHANNEL_SECRET" in result.stderr
    assert "Traceback" not in result.stderr
