"""Exactly-once pushes against the LINE stand-in: retry key, retries, 409, quota, uncertain sends, races."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest

from ita_bot.domain.office import Office
from ita_bot.domain.thai import BANGKOK, format_duration
from ita_bot.line.client import LineClient
from ita_bot.schedule.delivery import (
    ALREADY,
    FAILED,
    RESUME_AFTER,
    SENT,
    SKIPPED,
    UNCERTAIN,
    UNCERTAIN_AFTER,
    Delivery,
    SendKey,
)
from ita_bot.store import open_office
from ita_bot.store.pg import Database, postgresql_repositories
from tests.conftest import CHAIR, GROUP, TOKEN

pytestmark = pytest.mark.backends("tinydb", "postgresql")

PUSH = "/v2/bot/message/push"
GROUP_SIZE = 9  # everyone in the conftest world but the stranger


class Wall:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.at = datetime(2021, 2, 22, 9, 0, tzinfo=BANGKOK)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def line(standin: Any) -> LineClient:
    return LineClient(TOKEN, standin.url, standin.url)


@pytest.fixture
def delivery(office: Office, line: LineClient, wall: Wall, slept: list[float]) -> Delivery:
    return Delivery(office, line, sleep=slept.append, wall=wall)


def pushes(standin: Any) -> list[Any]:
    return [c for c in standin.calls if c.path == PUSH]


KEY = SendKey("reminder", "2021-02", 3, GROUP)
HELLO = [{"type": "text", "text": "แจ้งเตือนทดสอบ"}]


def test_a_send_is_claimed_with_a_retry_key_and_a_rerun_is_a_no_op(delivery: Delivery, standin: Any) -> None:
    first = delivery.send(KEY, HELLO, label="การแจ้งเตือนทดสอบ")
    assert first.outcome == SENT and first.attempts == 1
    entry = delivery.entry(KEY)
    assert entry is not None and entry["state"] == "done" and entry["messages"] == []
    assert pushes(standin)[0].headers["x-line-retry-key"] == entry["retry_key"]
    again = delivery.send(KEY, HELLO, label="การแจ้งเตือนทดสอบ")
    assert again.outcome == ALREADY
    assert len(standin.pushes()) == 1
    # Another recipient, or another working-days-before, is its own send.
    assert delivery.send(SendKey("reminder", "2021-02", 1, GROUP), HELLO, label="x").outcome == SENT
    assert len(standin.pushes()) == 2


@pytest.mark.parametrize(
    ("status", "headers", "waits"),
    [
        (500, None, [1.0, 2.0]),
        (503, None, [1.0, 2.0]),
        (429, {"Retry-After": "7"}, [7.0, 7.0]),  # rate limit: LINE's Retry-After is honoured
        (429, {"Retry-After": "3600"}, [60.0, 60.0]),  # ... up to a minute
    ],
)
def test_5xx_and_rate_limits_are_retried_with_the_same_key(
    delivery: Delivery, standin: Any, slept: list[float], status: int, headers: Any, waits: list[float]
) -> None:
    standin.fail(PUSH, status, times=2, headers=headers)
    result = delivery.send(KEY, HELLO, label="x")
    assert result.outcome == SENT and result.attempts == 3
    keys = {c.headers["x-line-retry-key"] for c in pushes(standin)}
    assert len(pushes(standin)) == 3 and len(keys) == 1
    assert slept == waits
    assert len(standin.deliveries) == 1


def test_a_timeout_after_line_accepted_is_retried_and_409_counts_as_delivered(
    office: Office, standin: Any, wall: Wall, slept: list[float]
) -> None:
    # LINE takes the push but answers too late: the client times out, retries with the same key,
    # and LINE's 409 "retry key already accepted" means it was delivered.
    slow = LineClient(TOKEN, standin.url, standin.url, timeout=(1.0, 0.3))
    standin.delay(1.5, PUSH, times=1)
    result = Delivery(office, slow, sleep=slept.append, wall=wall).send(KEY, HELLO, label="x")
    assert result.outcome == SENT and result.attempts == 2
    assert "409" in result.detail
    assert [c.status for c in pushes(standin)] == [200, 409]
    assert len(standin.deliveries) == 1
    entry = Delivery(office, slow, wall=wall).entry(KEY)
    assert entry is not None and entry["state"] == "done" and entry["duplicate"] is True


def test_the_monthly_limit_is_not_retried_and_the_managers_are_told(
    delivery: Delivery, standin: Any, office: Office
) -> None:
    standin.fail(PUSH, 429, body={"message": "You have reached your monthly limit."})
    result = delivery.send(KEY, HELLO, label="การแจ้งเตือนทดสอบ")
    assert result.outcome == FAILED and result.attempts == 1 and not result.will_retry
    assert len(pushes(standin)) == 1
    notices = office.notices.active()
    assert [n.kind for n in notices] == ["quota"]
    assert "การแจ้งเตือนทดสอบ" in notices[0].text and "U" not in notices[0].text.replace("LINE", "")


def test_other_4xx_are_failed_with_lines_message(delivery: Delivery, standin: Any, office: Office) -> None:
    standin.set_friend(CHAIR, False)  # LINE refuses pushes to a non-friend with 400
    key = SendKey("digest", "2021-02", 1, CHAIR)
    result = delivery.send(key, HELLO, label="สรุปถึงประธาน")
    assert result.outcome == FAILED and result.attempts == 1
    assert "Failed to send messages" in result.detail
    entry = delivery.entry(key)
    assert entry is not None and entry["state"] == "failed" and "400" in entry["error"]
    assert [n.kind for n in office.notices.active()] == ["failed_send"]
    # Nothing was delivered, so a later run may try again (with a fresh key) once the chair is a friend.
    standin.set_friend(CHAIR, True)
    assert delivery.send(key, HELLO, label="สรุปถึงประธาน").outcome == SENT
    assert delivery.entry(key)["retry_key"] != entry["retry_key"]  # type: ignore[index]


def test_quota_that_would_not_fit_skips_the_push_and_warns(delivery: Delivery, standin: Any, office: Office) -> None:
    standin.set_quota(300)
    standin.consumption = 300 - GROUP_SIZE + 1  # one message short of a group push
    result = delivery.send(KEY, HELLO, label="การแจ้งเตือนในกลุ่มพนักงาน")
    assert result.outcome == SKIPPED
    assert standin.pushes() == []
    paths = [c.path for c in standin.calls]
    assert "/v2/bot/message/quota" in paths and "/v2/bot/message/quota/consumption" in paths
    assert f"/v2/bot/group/{GROUP}/members/count" in paths
    [notice] = office.notices.active()  # what /healthz shows and managers get in their next reply
    assert notice.kind == "quota" and "โควตา" in notice.text and "9" in notice.text
    from ita_bot.web import create_app

    app = create_app(office.config, office=office, line=delivery.line, start_worker=False)
    assert app.test_client().get("/healthz").get_json()["warnings"] == {"quota": 1}
    assert delivery.entry(KEY)["state"] == "skipped"  # type: ignore[index]
    # A 1:1 push costs one message, which still fits.
    assert delivery.send(SendKey("digest", "2021-02", 1, CHAIR), HELLO, label="x").outcome == SENT
    # Exactly enough for the group: sent.
    assert [n.kind for n in office.notices.active()] == ["quota"]  # the group push still would not fit
    standin.consumption = 300 - GROUP_SIZE
    assert delivery.send(KEY, HELLO, label="x").outcome == SENT
    assert standin.consumption == 300
    # The group's pushes fit again, so its quota warning is retired from /healthz.
    assert office.notices.active() == []


def test_retries_that_run_out_leave_the_send_to_be_resumed_with_the_same_key(
    delivery: Delivery, standin: Any, wall: Wall, slept: list[float]
) -> None:
    standin.fail(PUSH, 500, times=5)
    result = delivery.send(KEY, HELLO, label="x")
    assert result.outcome == FAILED and result.will_retry and result.attempts == 5
    assert slept == [1.0, 2.0, 4.0, 8.0]
    entry = delivery.entry(KEY)
    assert entry is not None and entry["state"] == "sending" and "500" in entry["error"]
    assert delivery.resume() == []  # not before next_attempt_at
    wall.at += RESUME_AFTER
    [resumed] = delivery.resume()
    assert resumed.outcome == SENT
    assert {c.headers["x-line-retry-key"] for c in pushes(standin)} == {entry["retry_key"]}
    assert len(standin.deliveries) == 1


def test_a_send_interrupted_by_a_crash_is_finished_with_its_key(
    delivery: Delivery, standin: Any, wall: Wall, office: Office, line: LineClient
) -> None:
    # A process claimed the key and pushed, then died before recording "done".
    claim = delivery._claim(KEY, HELLO, "x", resume=False)
    line.push(GROUP, HELLO, retry_key=claim.retry_key)
    assert delivery.send(KEY, HELLO, label="x").outcome == "busy"  # its lease still holds
    wall.at += timedelta(minutes=11)
    [resumed] = delivery.resume()
    assert resumed.outcome == SENT and "409" in resumed.detail
    assert len(standin.deliveries) == 1


def test_a_send_still_sending_after_20_hours_is_uncertain_not_resent(
    delivery: Delivery, standin: Any, wall: Wall, office: Office
) -> None:
    delivery._claim(KEY, HELLO, "การแจ้งเตือนทดสอบ", resume=False)
    wall.at += timedelta(hours=20, minutes=1)
    [result] = delivery.resume()
    assert result.outcome == UNCERTAIN
    assert standin.pushes() == []
    assert delivery.entry(KEY)["state"] == "uncertain"  # type: ignore[index]
    [notice] = office.notices.active()
    assert notice.kind == "uncertain_send" and "การแจ้งเตือนทดสอบ" in notice.text
    assert f"นานเกิน {format_duration(UNCERTAIN_AFTER)}" in notice.text  # said from the constant
    # A rerun does not resend it either, and the managers are not told twice.
    assert delivery.send(KEY, HELLO, label="การแจ้งเตือนทดสอบ").outcome == UNCERTAIN
    assert standin.pushes() == [] and len(office.notices.active()) == 1


def test_a_shutdown_cuts_retry_waits_short(office: Office, line: LineClient, standin: Any, wall: Wall) -> None:
    standin.fail(PUSH, 500, times=5)
    stopping = Delivery(office, line, sleep=lambda s: False, wall=wall)
    result = stopping.send(KEY, HELLO, label="x")
    assert result.outcome == FAILED and result.will_retry and result.attempts == 1


def test_racing_senders_push_once(office: Office, line: LineClient, standin: Any, wall: Wall) -> None:
    # Eight threads, each with its own office and Store (as separate processes would have), race for one key.
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def run() -> None:
        d = Delivery(open_office(office.config), line, sleep=lambda s: None, wall=wall)
        barrier.wait()
        outcomes.append(d.send(KEY, HELLO, label="x").outcome)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(outcomes).count(SENT) == 1
    assert set(outcomes) <= {SENT, ALREADY, "busy"}
    assert len(standin.deliveries) == 1


@pytest.mark.parametrize("backend", ["tinydb", "postgresql"])
def test_racing_clocks_resume_each_interrupted_send_once_with_its_key(
    request: pytest.FixtureRequest, backend: str, office: Office, line: LineClient, standin: Any, wall: Wall,
) -> None:
    # Four clocks (each its own office view, as separate processes) resume six sends a crash left "sending";
    # LINE got three of them before the crash.
    pools: list[Database] = []

    def view() -> Office:
        if backend == "tinydb":
            return open_office(office.config)
        url, slug = request.getfixturevalue("postgres_office")
        pools.append(Database(url, max_size=2))
        return Office(office.config, postgresql_repositories(pools[-1], slug))

    try:
        views = [view() for _ in range(4)]
        first = Delivery(views[0], line, sleep=lambda s: None, wall=wall)
        keys = [SendKey("reminder", "2021-02", 3, GROUP, part) for part in range(6)]
        for key in keys:
            claim = first._claim(key, HELLO, "x", resume=False)
            if key.part % 2:
                line.push(GROUP, HELLO, retry_key=claim.retry_key)
        retry_keys = {key.id: first.entry(key)["retry_key"] for key in keys}  # type: ignore[index]
        wall.at += timedelta(minutes=11)
        results: list[Any] = []
        barrier = threading.Barrier(len(views))

        def resume(o: Office) -> None:
            d = Delivery(o, line, sleep=lambda s: None, wall=wall)
            barrier.wait()
            results.extend(d.resume())

        threads = [threading.Thread(target=resume, args=(o,)) for o in views]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(r.key.part for r in results) == list(range(6)) and {r.outcome for r in results} == {SENT}
        assert len(standin.deliveries) == 6
        # Each resumed with its own key: three first pushes, three 409s after the crash's pushes.
        assert sorted(c.headers["x-line-retry-key"] for c in pushes(standin)) == sorted(
            [*retry_keys.values(), *(retry_keys[k.id] for k in keys if k.part % 2)])
        assert {first.entry(key)["state"] for key in keys} == {"done"}  # type: ignore[index]
    finally:
        for db in pools:
            db.close()
