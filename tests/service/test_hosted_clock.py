"""The hosted clock over several offices: each on its own schedule and channel, a refused channel recorded and
reported until LINE takes it again, and a stalled office holding no other (both backends)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.sealing import ServiceKey
from ita_bot.domain.thai import BANGKOK
from ita_bot.line_standin import LineStandIn
from ita_bot.service import Service
from ita_bot.service.clock import HostedClock
from ita_bot.web import create_app
from tests.conftest import SECRET, SECRETARY
from tests.hosted_offices import (
    SERVICE_KEY,
    HostedOffice,
    add_office,
    authorised_as,
    hosted_config,
    hosted_env,
    pushes_of,
)
from tests.processes import FakeTime

JOINED = datetime(2021, 1, 10, 10, 0, tzinfo=BANGKOK)


@dataclass
class World:
    service: Service
    standin: LineStandIn
    time: FakeTime
    hosted: HostedClock


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=("tinydb", "postgresql"))
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    storage: dict[str, str] = {}
    if request.param == "postgresql":  # a database of its own: the registry lists every hosted office in it
        storage = {"ITA_BOT_DATABASE_URL": request.getfixturevalue("fresh_postgres_database")}
    with LineStandIn(SECRET, port=free_port()) as standin:
        env = hosted_env(tmp_path, standin, storage)
        config = hosted_config(tmp_path, env)
        time = FakeTime("2021-02-01T08:00")
        service = Service(config, env, now=time)
        hosted = HostedClock(service, now=time, wall=time, sleep=lambda s: None, tick_seconds=60)
        try:
            yield World(service, standin, time, hosted)
        finally:
            hosted.close()
            if config.database_url:
                from ita_bot.store.pg import Database

                Database.shared(config.database_url).close()


def run(hosted: HostedClock) -> None:
    for future in hosted.tick().values():
        future.result(timeout=60)


def healthz(world: World, slug: str) -> dict[str, Any]:
    office = world.service.office(slug)
    app = create_app(office.config, office=office, start_worker=False)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def test_each_office_on_its_own_schedule_and_channel_and_a_refused_channel_is_told(world: World) -> None:
    service, standin, time = world.service, world.standin, world.time
    a = add_office(service, standin, "office-a", joined_at=JOINED)  # meets on the rule's day: Thu 25 Feb
    b = add_office(service, standin, "office-b", joined_at=JOINED, meeting=("2021-02", "2021-02-26"))
    c = add_office(service, standin, "office-c", joined_at=JOINED)
    standin.revoke_token(c.channel_id)
    for office in (a, b, c):
        standin.set_quota(10_000, channel=office.channel_id)

    time.set("2021-02-22T09:00:30")  # 3 working days before 25 Feb: offices a and c; b meets on the 26th
    run(world.hosted)
    assert [(to, "25 ก.พ. 2564" in text) for to, text in pushes_of(standin, a)] == [(a.group, True)]
    assert pushes_of(standin, b) == [] and pushes_of(standin, c) == []
    refused = [call for call in standin.calls if authorised_as(call) == c.token]
    assert refused and all(call.status == 401 for call in refused)
    record = service.registry.get("office-c")
    assert record is not None and record.line_problem.startswith("LINE 401") and record.line_problem_at == time()
    assert all(not service.registry.get(o.slug).line_problem for o in (a, b))  # type: ignore[union-attr]
    assert "line" in healthz(world, "office-c")["problems"]
    assert "line" not in healthz(world, "office-a")["problems"]
    # The managers' next reply carries the notices they have not seen: the refused channel among them.
    told = service.office("office-c").notices.take_for(SECRETARY)
    assert [n.kind for n in told].count("line") == 1 and "401" in next(n.text for n in told if n.kind == "line")
    assert not [n for n in service.office("office-a").notices.active() if n.kind == "line"]

    time.set("2021-02-23T09:00:30")  # office b's first reminder, 3 working days before its 26 Feb
    run(world.hosted)
    assert [(to, "26 ก.พ. 2564" in text) for to, text in pushes_of(standin, b)] == [(b.group, True)]
    assert len(pushes_of(standin, a)) == 1 and pushes_of(standin, c) == []

    # The operator gives office c a new token: its clock is built again, and the first call LINE takes clears it.
    reissued = standin.reissue_token(c.channel_id)
    assert reissued.access_token is not None
    fixed = HostedOffice(c.slug, reissued.access_token, c.group, c.channel_id)
    service.registry.update(c.slug, sealed_token=ServiceKey(SERVICE_KEY).seal(fixed.token))
    time.set("2021-02-24T09:00:30")  # 1 working day before 25 Feb: a and c; b's next one is on the 25th
    run(world.hosted)
    assert len(pushes_of(standin, a)) == 2 and len(pushes_of(standin, b)) == 1
    assert [(to, "25 ก.พ. 2564" in text) for to, text in pushes_of(standin, fixed)] == [(c.group, True)]
    record = service.registry.get("office-c")
    assert record is not None and record.line_problem == "" and record.line_problem_at is None
    assert "line" not in healthz(world, "office-c")["problems"]
    assert not [n for n in service.office("office-c").notices.active() if n.kind == "line"]
    # Each office's own heartbeat, and the service's.
    for slug in ("office-a", "office-b", "office-c"):
        beat = service.office(slug).repositories.heartbeats.last("clock")
        assert beat is not None and beat.as_of == time()
    service_beat = world.hosted.heartbeats.last("clock")
    assert service_beat is not None and service_beat.as_of == time()


def test_a_stalled_office_holds_no_other_and_is_never_ticked_twice_at_once(world: World) -> None:
    service, standin, time = world.service, world.standin, world.time
    a = add_office(service, standin, "office-a", joined_at=JOINED)  # its reminder: 22 Feb
    b = add_office(service, standin, "office-b", joined_at=JOINED, meeting=("2021-02", "2021-02-26"))  # 23 Feb
    for office in (a, b):  # with a quota, each push first asks the size of its group: office a's answer stalls
        standin.set_quota(10_000, channel=office.channel_id)
    stalled = f"/v2/bot/group/{a.group}/members/count"
    standin.delay(600, stalled)
    time.set("2021-02-22T09:00:30")
    first = world.hosted.tick()
    assert standin.wait_for(lambda s: any(call.path == stalled for call in s.calls), timeout=30)
    first["office-b"].result(timeout=30)  # nothing due for b yet
    time.set("2021-02-23T09:00:30")  # b's reminder is due while a is still inside its stalled call
    second = world.hosted.tick()
    assert "office-a" not in second and "office-b" in second  # a's tick still runs: this tick passes it by
    second["office-b"].result(timeout=30)
    assert [to for to, _ in pushes_of(standin, b)] == [b.group]  # b did not wait for a
    assert world.hosted.running("office-a") and pushes_of(standin, a) == []
    standin.stop()  # ends the stalled answer (a keeps its connection) ...
    standin.start()  # ... and LINE is back on the same address
    first["office-a"].result(timeout=60)
    assert [to for to, _ in pushes_of(standin, a)] == [a.group] and len(pushes_of(standin, b)) == 1


def test_an_office_that_joins_is_ticked_without_a_restart_and_a_disabled_one_no_longer(world: World) -> None:
    service, standin, time = world.service, world.standin, world.time
    a = add_office(service, standin, "office-a", joined_at=JOINED)
    time.set("2021-02-22T09:00:30")
    first = world.hosted.tick()
    assert set(first) == {"office-a"}
    first["office-a"].result(timeout=60)
    b = add_office(service, standin, "office-b", joined_at=JOINED)  # joins while the clock runs
    service.registry.update(a.slug, disabled=True)
    time.set("2021-02-24T09:00:30")  # both offices' reminder 1 working day before 25 Feb
    started = world.hosted.tick()
    assert set(started) == {"office-b"}
    for future in started.values():
        future.result(timeout=60)
    assert len(pushes_of(standin, a)) == 1  # its 22 Feb reminder, not the 24 Feb one
    assert [to for to, _ in pushes_of(standin, b)] == [b.group]
