"""Job `plan` run by the clock: first working days of September (coming year) and October (current year),
each manager 1:1, once per slot, caught up within its month, nothing when the year has a plan."""

from __future__ import annotations

from typing import Any

import pytest

from ita_bot.domain.draft import draft_plan, save_draft
from ita_bot.domain.office import Office
from ita_bot.line.client import LineClient
from ita_bot.schedule.clock import Clock
from ita_bot.schedule.delivery import Delivery
from ita_bot.schedule.plan_job import plan_job_year
from tests.conftest import CHAIR, SECRETARY, TOKEN
from tests.processes import FakeTime, at


@pytest.fixture
def line(standin: Any) -> LineClient:
    return LineClient(TOKEN, standin.url, standin.url)


def plan_pushes(standin: Any) -> list[str]:
    return [p["to"] for p in standin.pushes() if "แผนมาตรการ" in str(p["messages"])]


def test_which_year_the_job_looks_at() -> None:
    assert plan_job_year(at("2026-09-01T09:00").date()) == (2570, True)
    assert plan_job_year(at("2026-10-01T09:00").date()) == (2570, False)
    assert plan_job_year(at("2026-12-01T09:00").date()) == (2570, False)


def test_the_clock_runs_job_plan_once_per_slot_and_catches_up_within_the_month(
    office: Office, line: LineClient, standin: Any
) -> None:
    time = FakeTime("2026-08-31T09:00")
    clock = Clock(office, line, now=time, delivery=Delivery(office, line, sleep=lambda s: None, wall=time))
    assert clock.next_runs(time())["plan"].at == at("2026-09-01T09:00")  # Tue 1 Sep 2026
    assert [r.job for r in clock.tick()] == []
    time.set("2026-09-01T09:00")
    [result] = [r for r in clock.tick() if r.job == "plan"]
    assert [line.outcome for line in result.lines] == ["sent", "sent"]
    assert sorted(plan_pushes(standin)) == sorted([CHAIR, SECRETARY])
    assert "ปีงบประมาณ 2570 จะเริ่มในวันที่" in str(standin.pushes()[0]["messages"])
    time.set("2026-09-03T10:00")
    assert [r for r in clock.tick() if r.job == "plan"] == []  # handled: never twice
    # The clock was down on Thu 1 Oct: caught up on Mon 5 Oct, once, about the current year.
    time.set("2026-10-05T09:30")
    [result] = [r for r in clock.tick() if r.job == "plan"]
    assert [line.outcome for line in result.lines] == ["sent", "sent"]
    assert "ขณะนี้เป็นปีงบประมาณ 2570 แล้ว" in str(standin.pushes()[-1]["messages"])
    assert [r for r in clock.tick() if r.job == "plan"] == [] and len(plan_pushes(standin)) == 4


def test_nothing_is_sent_when_the_year_has_a_plan(office: Office, line: LineClient, standin: Any) -> None:
    draft = draft_plan(office.plans, office.reports, 2570)
    save_draft(office.plans, draft, [], who="test", now=at("2026-08-20T10:00"))
    time = FakeTime("2026-10-01T09:00")
    clock = Clock(office, line, now=time, delivery=Delivery(office, line, sleep=lambda s: None, wall=time))
    [result] = [r for r in clock.tick() if r.job == "plan"]
    assert [line.outcome for line in result.lines] == ["nothing"] and plan_pushes(standin) == []


def test_the_message_says_what_to_do_in_the_console_not_on_the_server(office: Office) -> None:
    from ita_bot.schedule.plan_job import plan_message

    text = plan_message(office, 2570, coming=False)
    assert "“ร่างแผนปีถัดไป”" in text and "/จัดการ" in text
    assert "python" not in text and "bot.py" not in text
    assert "ปีนั้น" not in text and "ปีนี้" not in text  # one way of naming the year: its number
