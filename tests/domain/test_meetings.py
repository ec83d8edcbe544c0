"""The meeting calendar over FY 2564: rules, the Thai holiday shift, overrides, cycles, working days."""

from __future__ import annotations

from datetime import date

import pytest

from ita_bot.domain.meetings import MeetingCalendar, MeetingRule, holiday_name

LAST_FRIDAY_2564 = {
    "2020-10": date(2020, 10, 30),
    "2020-11": date(2020, 11, 27),
    "2020-12": date(2020, 12, 25),
    "2021-01": date(2021, 1, 29),
    "2021-02": date(2021, 2, 25),  # Fri 26 Feb is Makha Bucha → Thu 25 Feb
    "2021-03": date(2021, 3, 26),
    "2021-04": date(2021, 4, 30),
    "2021-05": date(2021, 5, 28),
    "2021-06": date(2021, 6, 25),
    "2021-07": date(2021, 7, 30),
    "2021-08": date(2021, 8, 27),
    "2021-09": date(2021, 9, 23),  # Fri 24 Sep 2021 was a cabinet-declared special day off
}


def test_last_friday_over_fiscal_year_2564() -> None:
    cal = MeetingCalendar("last friday")
    assert {c.id: c.meeting for c in cal.cycles(2564)} == LAST_FRIDAY_2564
    assert holiday_name(date(2021, 2, 26)) == "วันมาฆบูชา"


def test_every_meeting_is_a_working_day_for_every_rule() -> None:
    for rule in ("last friday", "first monday", "second wednesday", "1", "15", "25", "31"):
        for cycle in MeetingCalendar(rule).cycles(2564):
            assert MeetingCalendar.is_working_day(cycle.meeting), (rule, cycle)


def test_shift_across_a_month_boundary_keeps_the_cycle_id() -> None:
    # 1 May 2021 is a Saturday and Labour Day: the meeting moves back to Fri 30 Apr,
    # but it is still May's meeting.
    cal = MeetingCalendar("1")
    cycle = cal.cycle("2021-05")
    assert cycle.meeting == date(2021, 4, 30)
    assert cycle.id == "2021-05"
    # A report on 30 Apr is for that meeting; one on 1 May waits for June's.
    assert cal.cycle_of(date(2021, 4, 30)).id == "2021-05"
    assert cal.cycle_of(date(2021, 5, 1)).id == "2021-06"


def test_first_monday_and_day_of_month_rules() -> None:
    assert MeetingCalendar("first monday").cycle("2021-02").meeting == date(2021, 2, 1)
    # 25 Dec 2020 is a Friday and a working day in Thailand.
    assert MeetingCalendar("25").cycle("2020-12").meeting == date(2020, 12, 25)
    # "31" in February means its last day (Sun 28 Feb 2021 → Fri 26 is Makha Bucha → Thu 25).
    assert MeetingCalendar("31").cycle("2021-02").meeting == date(2021, 2, 25)


@pytest.mark.parametrize("bad", ["", "last", "fifth friday", "0", "32", "every friday", "friday last"])
def test_bad_rules_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        MeetingRule.parse(bad)


def test_working_days_before_the_meeting() -> None:
    cal = MeetingCalendar("last friday")
    meeting = cal.cycle("2021-02").meeting  # Thu 25 Feb 2564
    assert cal.working_days_before(meeting, 0) == meeting
    assert cal.working_days_before(meeting, 1) == date(2021, 2, 24)
    assert cal.working_days_before(meeting, 3) == date(2021, 2, 22)
    # Skips the weekend: 3 working days before Fri 26 Mar is Tue 23 Mar; 5 is Fri 19 Mar.
    assert cal.working_days_before(date(2021, 3, 26), 5) == date(2021, 3, 19)


def test_cycle_of_a_day() -> None:
    cal = MeetingCalendar("last friday")
    assert cal.cycle_of(date(2021, 1, 30)).id == "2021-02"
    assert cal.cycle_of(date(2021, 2, 25)).id == "2021-02"  # meeting day counts for that meeting
    assert cal.cycle_of(date(2021, 2, 26)).id == "2021-03"
    assert cal.cycle_of(date(2020, 10, 1)).id == "2020-10"


def test_reports_after_the_last_meeting_stay_in_the_fiscal_year() -> None:
    cal = MeetingCalendar("last friday")
    assert cal.cycle_of(date(2021, 9, 24)).id == "2021-09"
    assert cal.cycle_of(date(2021, 9, 30)).id == "2021-09"
    assert cal.cycle_of(date(2021, 10, 1)).id == "2021-10"


def test_override_moves_the_meeting_and_its_reports() -> None:
    base = MeetingCalendar("last friday")
    moved = MeetingCalendar("last friday", {"2021-02": date(2021, 1, 29)})
    assert base.cycle_of(date(2021, 2, 10)).id == "2021-02"
    assert moved.cycle("2021-02").meeting == date(2021, 1, 29)
    assert moved.cycle("2021-02").overridden
    # With February's meeting moved to 29 Jan, a 10 Feb report waits for March.
    assert moved.cycle_of(date(2021, 2, 10)).id == "2021-03"


def test_next_meetings_cross_the_fiscal_year() -> None:
    cal = MeetingCalendar("last friday")
    ids = [c.id for c in cal.next_meetings(date(2021, 9, 1), 3)]
    assert ids == ["2021-09", "2021-10", "2021-11"]
