"""One slot plan: the clock, the demo's simulated time and `python bot.py check` list the same job slots."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from ita_bot.cli import cmd_check
from ita_bot.demo.timeline import due_slots
from ita_bot.domain.office import Office
from ita_bot.domain.thai import BANGKOK
from ita_bot.line.client import LineClient
from ita_bot.schedule.clock import Clock
from ita_bot.schedule.slots import MEETING_JOBS, job_slots
from tests.conftest import TOKEN

# From mid-August 2021 to the end of October: three meetings and both of job plan's days (1 Sep, 1 Oct).
AFTER = datetime(2021, 8, 15, 10, 0, tzinfo=BANGKOK)
UPTO = datetime(2021, 10, 31, 23, 0, tzinfo=BANGKOK)


@pytest.fixture
def line(standin: Any) -> LineClient:
    return LineClient(TOKEN, standin.url, standin.url)


def test_the_demo_runs_what_the_clock_finds_due(office: Office, line: LineClient) -> None:
    demo = due_slots(office, AFTER, UPTO)
    assert {s.job for s in demo} == {"reminder", "digest", "summary", "plan"}
    assert [s.at.date() for s in demo if s.job == "plan"] == [date(2021, 9, 1), date(2021, 10, 1)]
    assert sum(1 for s in demo if s.job == "summary") == 3
    clock = Clock(office, line)
    for slot in demo:
        # Due at its moment (nothing is handled yet), not a minute before.
        assert slot.id in {s.id for s in clock.due(slot.at)}, slot.describe()
        assert slot.id not in {s.id for s in clock.due(slot.at - timedelta(minutes=1))}, slot.describe()


def test_check_prints_the_clocks_slots(office: Office, line: LineClient, capsys: pytest.CaptureFixture[str]) -> None:
    cmd_check(office.config, AFTER)
    out = capsys.readouterr().out
    printed = re.findall(r"^    (reminder|digest|summary) +(\d{4}-\d{2}-\d{2} \d{2}:\d{2})  \(", out, re.MULTILINE)
    meetings = {c.id for c in office.calendar().next_meetings(AFTER.date(), 3)}
    planned = [s for s in due_slots(office, AFTER, UPTO) if s.job in MEETING_JOBS and s.cycle.id in meetings]
    assert printed == [(s.job, f"{s.at:%Y-%m-%d %H:%M}") for s in planned]
    plan_days = ", ".join(f"{s.at:%Y-%m-%d %H:%M}" for s in due_slots(office, AFTER, UPTO) if s.job == "plan")
    assert f"managers are told only when a year has no plan): {plan_days}\n" in out
    # The clock's next runs are the first of these.
    nxt = Clock(office, line).next_runs(AFTER)
    assert (nxt["reminder"], nxt["digest"], nxt["summary"]) == tuple(
        next(s for s in planned if s.job == job) for job in ("reminder", "digest", "summary"))


def test_a_passed_meeting_has_no_slots_left(office: Office) -> None:
    # 25 Feb 2564 is the February meeting: from the day after, its slots are gone, March's are listed.
    cal = office.calendar()
    after_feb = job_slots(office, cal, date(2021, 2, 26), date(2021, 3, 31))
    assert {s.cycle.id for s in after_feb if s.job in MEETING_JOBS} == {"2021-03"}
    on_feb = job_slots(office, cal, date(2021, 2, 25), date(2021, 2, 25))
    assert [s.job for s in on_feb if s.cycle.id == "2021-02"] == ["reminder", "reminder", "digest", "summary"]
