"""After a restart, a hosted office's acknowledged events are applied without waiting for its next request."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from werkzeug.test import Client

from ita_bot.domain.thai import BANGKOK
from ita_bot.line_standin import LineStandIn
from ita_bot.service import Service
from ita_bot.service.web import create_hosted_app
from ita_bot.store import offices_with_pending_events
from tests.conftest import SECRET, STAFF_SP
from tests.hosted_offices import add_office, hosted_config, hosted_env
from tests.processes import wait_until

JOINED = datetime(2021, 2, 1, 8, 0, tzinfo=BANGKOK)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=("tinydb", "postgresql"))
def storage(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if request.param == "tinydb":
        yield {}
        return
    url = request.getfixturevalue("fresh_postgres_database")  # its own: the registry lists every office in it
    yield {"ITA_BOT_DATABASE_URL": url}
    from ita_bot.store.pg import Database

    Database.shared(url).close()


def test_a_restart_applies_waiting_events_of_an_idle_office_and_opens_no_other(
        tmp_path: Path, storage: dict[str, str]) -> None:
    with LineStandIn(SECRET, port=free_port()) as standin:
        env = hosted_env(tmp_path, standin, storage)
        service = Service(hosted_config(tmp_path, env), env)
        a = add_office(service, standin, "office-a", joined_at=JOINED)
        add_office(service, standin, "office-b", joined_at=JOINED)

        # A worker acknowledges office a's event and dies before applying it (no journal worker runs here).
        before = create_hosted_app(service.config, service=service, start_workers=False)
        event = standin.text_event("/ช่วยเหลือ", user_id=STAFF_SP)
        body = standin.webhook_body([event], channel=a.channel_id)
        answer = Client(before).post("/o/office-a/callback", data=body,
                                     headers={"X-Line-Signature": standin.signature(body, channel=a.channel_id),
                                              "Content-Type": "application/json"})
        assert answer.status_code == 200
        assert standin.replies(a.channel_id) == []
        assert offices_with_pending_events(service.config, ["office-a", "office-b"]) == ["office-a"]

        # The next worker's sweep opens office a alone, and its worker answers the waiting event.
        after = create_hosted_app(service.config, service=Service(service.config, env), start_workers=True)
        try:
            assert after.sweep_pending() == ["office-a"]
            assert standin.wait_for(lambda s: bool(s.replies(a.channel_id)), timeout=30)
            # Marked applied by the worker's checkpoint, which may come just after the reply went out.
            wait_until(lambda: offices_with_pending_events(service.config, ["office-a", "office-b"]) == [], 30,
                       "office a's event marked applied")
            assert [app.extensions["ita_bot"].office.config.office for app in after.apps()] == ["office-a"]
        finally:
            after.close()
            before.close()
