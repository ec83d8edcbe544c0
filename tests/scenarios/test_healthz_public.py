"""/healthz is public: over real HTTP (gunicorn as the Procfile runs it) it shows states, kinds and counts only —
never a person's name or a server path — while managers still get the full notice in chat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.thai import BANGKOK
from tests.conftest import CHAIR, NAMES, ROOT, SECRETARY, write_config
from tests.processes import stop_process, wait_until_healthy
from tests.scenarios.test_front import GUNICORN, free_port, procfile_web


@dataclass
class Web:
    url: str
    env: dict[str, str]
    db: Path


def get(url: str) -> tuple[int, dict[str, Any], str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            raw = r.read().decode("utf-8")
            status = r.status
    except urllib.error.HTTPError as e:
        raw, status = e.read().decode("utf-8"), e.code
    return status, json.loads(raw), raw


@pytest.fixture
def web(tmp_path: Path, standin: Any) -> Iterator[Web]:
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in this environment")
    port = free_port()
    db = tmp_path / "data" / "ita-bot.json"
    env = {**os.environ, "ITA_BOT_CONFIG": str(write_config(tmp_path, {})), "ITA_BOT_DB": str(db),
           "LINE_API_ENDPOINT": standin.url, "LINE_DATA_API_ENDPOINT": standin.url, "PORT": str(port),
           "WEB_CONCURRENCY": "1", "PYTHONUNBUFFERED": "1"}
    for key in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "GUNICORN_CMD_ARGS"):
        env.pop(key, None)
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(procfile_web(), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Web(f"http://127.0.0.1:{port}", env, db)
    try:
        wait_until_healthy(server.url + "/healthz", proc, log, timeout=30)
        yield server
    finally:
        stop_process(proc)


def bot_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "bot.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_healthz_shows_kinds_and_counts_never_the_chairs_name(web: Web, standin: Any) -> None:
    callback = web.url + "/callback"
    # The chair talks to the bot once (the bot learns the display name), then blocks it.
    hello = standin.text_event("/ช่วยเหลือ", user_id=CHAIR, timestamp=datetime(2021, 2, 20, 9, tzinfo=BANGKOK))
    assert standin.deliver(callback, [hello]) == 200
    assert standin.wait_for(lambda s: len(s.replies()) == 1, timeout=10)
    standin.set_friend(CHAIR, False)
    result = bot_cli(["job", "digest", "--now", "2021-02-24T16:00"], web.env)
    assert result.returncode == 1 and "unreachable" in result.stdout, result.stdout + result.stderr

    status, body, raw = get(web.url + "/healthz")
    # Degraded (no clock process runs here), still 200: kinds and counts, never who.
    assert status == 200 and body["status"] == "degraded" and "clock_late" in body["problems"]
    assert body["warnings"] == {"unreachable_chair": 1}
    assert NAMES[CHAIR] not in raw and CHAIR not in raw

    # The managers still get the whole notice, with the name, in their next reply.
    ask = standin.text_event("/ช่วยเหลือ", user_id=SECRETARY, timestamp=datetime(2021, 2, 24, 16, 5, tzinfo=BANGKOK))
    assert standin.deliver(callback, [ask]) == 200
    assert standin.wait_for(lambda s: any(NAMES[CHAIR] in t for t in s.sent_texts(SECRETARY)), timeout=10)


def test_healthz_of_a_corrupt_store_names_no_server_path(web: Web) -> None:
    web.db.write_text("{ truncated", encoding="utf-8")
    status, body, raw = get(web.url + "/healthz")
    assert status == 503
    assert body["status"] == "error" and body["store"] == "error" and body["reason"] == "store"
    folder = str(web.db.parent)
    assert folder not in raw and folder not in raw.replace("\\/", "/")
    assert str(ROOT) not in raw
