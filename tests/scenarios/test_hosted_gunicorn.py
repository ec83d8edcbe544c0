"""The hosted service under the production web process (`gunicorn -c gunicorn.conf.py bot:app`, ITA_BOT_HOSTED=1):
it starts without a channel or plan of its own, answers each office's webhook with that office's bot, stops cleanly,
and refuses to start without its service key."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.config import load_config
from ita_bot.domain.offices import OfficeRecord
from ita_bot.domain.thai import BANGKOK
from ita_bot.line_standin import Channel
from ita_bot.service import Service
from tests.conftest import GROUP, NAMES, ROOT, STAFF_KLANG, write_config
from tests.processes import stop_process, wait_until_healthy
from tests.scenarios.test_gunicorn import GUNICORN, free_port

pytestmark = [pytest.mark.slow, pytest.mark.backends("tinydb", "postgresql")]

SERVICE_KEY = "a-service-key-for-tests-only-" + "h" * 20
PLAN_2564 = ROOT / "storage" / "plans" / "2564.toml"
JOINED = datetime(2021, 1, 6, 9, 0, tzinfo=BANGKOK)


@pytest.fixture
def hosted_env(tmp_path: Path, standin: Any, request: pytest.FixtureRequest,
               storage_backend: dict[str, str]) -> Iterator[dict[str, str]]:
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in this environment")
    storage: dict[str, str] = {}
    if storage_backend:  # the registry is the whole database's: a database of this test's own
        storage = {"ITA_BOT_DATABASE_URL": request.getfixturevalue("fresh_postgres_database")}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ITA_BOT_", "LINE_"))},
        "ITA_BOT_CONFIG": str(write_config(tmp_path, {"service": {"hosted": True}})),
        "ITA_BOT_DB": str(tmp_path / "db" / "ita-bot.json"),
        "ITA_BOT_HOSTED": "1", "ITA_BOT_SECRET_KEY": SERVICE_KEY,
        "LINE_API_ENDPOINT": standin.url, "LINE_DATA_API_ENDPOINT": standin.url,
        "PORT": str(free_port()), "WEB_CONCURRENCY": "2", "PYTHONUNBUFFERED": "1", **storage,
    }
    yield env
    if storage:
        from ita_bot.store.pg.database import Database

        Database.shared(storage["ITA_BOT_DATABASE_URL"]).close()


def add_office(service: Service, slug: str, channel: Channel) -> None:
    service.registry.add(OfficeRecord(
        slug=slug, name=f"สำนักงาน {slug}", created_at=JOINED, channel_id=channel.channel_id,
        sealed_secret=service.key.seal(channel.channel_secret),
        sealed_token=service.key.seal(channel.access_token or ""),
        bot_user_id=channel.bot_user_id, joined_at=JOINED))
    office = service.office(slug)
    office.plans.save_text(2564, PLAN_2564.read_text(encoding="utf-8"), expected_version="", who="test", now=JOINED)
    office.set_setting("group_id", GROUP)
    office.people.register(STAFF_KLANG, NAMES[STAFF_KLANG], "klang", approved=True, now=JOINED)


def gunicorn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "bot:app"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def test_each_office_is_answered_by_its_own_bot_and_the_service_stops_cleanly(
        hosted_env: dict[str, str], standin: Any, tmp_path: Path) -> None:
    service = Service(load_config(None, hosted_env), hosted_env)
    channels = {slug: standin.add_channel(name=f"บอท {slug}") for slug in ("north", "south")}
    for slug, channel in channels.items():
        add_office(service, slug, channel)
    log = tmp_path / "gunicorn.log"
    proc = gunicorn(hosted_env, log)
    url = f"http://127.0.0.1:{hosted_env['PORT']}"
    try:
        wait_until_healthy(url + "/healthz", proc, log, timeout=30)
        at = datetime.now(BANGKOK) - timedelta(minutes=1)
        for i, (slug, channel) in enumerate(channels.items()):
            event = standin.text_event("/สถานะ", user_id=STAFF_KLANG, timestamp=at + timedelta(seconds=i))
            assert standin.deliver(f"{url}/o/{slug}/callback", [event], channel=channel, timeout=5) == 200
            assert standin.wait_for(lambda s, c=channel: len(s.replies(channel=c)) == 1, timeout=20)
        # An office's webhook signed with another office's secret is refused.
        event = standin.text_event("/สถานะ", user_id=STAFF_KLANG, timestamp=at + timedelta(seconds=5))
        assert standin.deliver(f"{url}/o/north/callback", [event], channel=channels["south"], timeout=5) == 400
    finally:
        code = stop_process(proc)
    text = log.read_text(errors="replace")
    assert code == 0 and "Traceback" not in text, text[-3000:]
    assert '"POST /o/north/callback ' in text  # the access log names the office


def test_without_the_service_key_it_refuses_to_start_in_one_line(hosted_env: dict[str, str], tmp_path: Path) -> None:
    env = {k: v for k, v in hosted_env.items() if k != "ITA_BOT_SECRET_KEY"}
    log = tmp_path / "gunicorn.log"
    proc = gunicorn(env, log)
    assert proc.wait(timeout=30) != 0
    text = log.read_text(errors="replace")
    assert "error: ITA_BOT_SECRET_KEY is not set" in text and "Traceback" not in text, text[-3000:]
