"""The hosted service's clock as a real process: `python bot.py clock` on a hosted config with two offices, each
with its own channel and meeting, sends each office's reminder to its own group with its own token, once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ita_bot.domain.thai import BANGKOK
from ita_bot.line_standin import LineStandIn
from ita_bot.service import Service
from ita_bot.store import service_heartbeats
from tests.conftest import SECRET
from tests.hosted_offices import (
    add_office,
    hosted_config,
    hosted_env,
    pushes_of,
)
from tests.processes import stop_process, wait_until
from tests.scenarios.backends import BACKENDS
from tests.schedule.test_clock import start_clock

JOINED = datetime(2021, 1, 10, 10, 0, tzinfo=BANGKOK)
START = datetime(2021, 2, 22, 9, 0, tzinfo=BANGKOK)


@pytest.fixture(params=BACKENDS)
def hosted_storage(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The service's backend: TinyDB files, or a PostgreSQL database of its own (the registry lists every hosted
    office of a database, and the clock would tick other tests' offices in the shared one)."""
    if request.param == "tinydb":
        yield {}
        return
    from ita_bot.store.pg import Database

    url: str = request.getfixturevalue("fresh_postgres_database")
    try:
        yield {"ITA_BOT_DATABASE_URL": url}
    finally:
        Database.shared(url).close()


def test_the_hosted_clock_sends_each_office_its_reminder_on_its_own_channel_once(
    hosted_storage: dict[str, str], tmp_path: Path
) -> None:
    with LineStandIn(SECRET) as standin:
        env = hosted_env(tmp_path, standin, hosted_storage)
        service = Service(hosted_config(tmp_path, env), env)
        # Office a meets on the rule's day (Thu 25 Feb: its reminder 3 working days before is due at 09:00),
        # office b on Tue 23 Feb (its reminder 1 working day before is due at 09:00 too).
        a = add_office(service, standin, "office-a", joined_at=JOINED)
        b = add_office(service, standin, "office-b", joined_at=JOINED, meeting=("2021-02", "2021-02-23"))
        process_env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "ITA_BOT_"))}
        process_env.update(env, ITA_BOT_CONFIG=str(tmp_path / "config.toml"), ITA_BOT_CLOCK_TICK="1",
                           ITA_BOT_CLOCK_START=START.isoformat(), PYTHONUNBUFFERED="1")
        log = tmp_path / "clock.log"
        proc = start_clock(process_env, log)
        try:
            assert standin.wait_for(lambda s: pushes_of(s, a) and pushes_of(s, b), timeout=60), log.read_text()
            # Three more ticks of each office: nothing is sent again.
            def ticked_on() -> bool:
                beats = [service.office(o.slug).repositories.heartbeats.last("clock") for o in (a, b)]
                return all(beat is not None and beat.as_of is not None and beat.as_of > START + timedelta(seconds=5)
                           for beat in beats)

            wait_until(ticked_on, 60, "three more ticks of each office")
        finally:
            code = stop_process(proc)
        text = log.read_text()
        assert code == 0, text
        assert [(to, "25 ก.พ. 2564" in msg) for to, msg in pushes_of(standin, a)] == [(a.group, True)], text
        assert [(to, "23 ก.พ. 2564" in msg) for to, msg in pushes_of(standin, b)] == [(b.group, True)], text
        assert len([c for c in standin.calls if c.path == "/v2/bot/message/push"]) == 2
        beat = service_heartbeats(service.config).last("clock")
        assert beat is not None and beat.pid == proc.pid and beat.as_of is not None and beat.as_of >= START
        assert "clock stopped" in text and a.token not in text and b.token not in text
