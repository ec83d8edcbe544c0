"""The assessment calendar: loading `[[milestones]]`, reminder days over Thai holidays, where the year stands."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ita_bot.domain.meetings import MeetingCalendar
from ita_bot.domain.milestones import (
    Milestone,
    Standing,
    due_reminder,
    reminder_day,
    standings,
    title_id,
    working_days_left,
)
from ita_bot.domain.plan import PlanError
from ita_bot.domain.plan_reader import load_plan
from tests.plan_files import EXAMPLE_MILESTONES, plan_text

CAL = MeetingCalendar("last friday")


def load(tmp_path: Path, milestones: str) -> object:
    path = tmp_path / "2564.toml"
    path.write_text(plan_text(milestones=milestones), encoding="utf-8")
    return load_plan(path)


def test_a_plan_without_milestones_loads_with_none() -> None:
    assert load_plan(Path(__file__).resolve().parents[2] / "storage" / "plans" / "2564.toml").milestones == ()


def test_milestones_load_in_date_order_with_defaults(tmp_path: Path) -> None:
    plan = load(tmp_path, EXAMPLE_MILESTONES)
    oit, half = plan.milestones
    assert (oit.date, oit.title, oit.who, oit.remind_days_before) == (
        date(2021, 4, 8), "ส่งข้อมูล OIT ให้ ป.ป.ช.", ("sp", "klang"), (5, 1))
    assert oit.notes == "ตรวจลิงก์ทุกข้อก่อนส่ง" and oit.divisions == ("sp", "klang") and not oit.committee
    assert (half.who, half.remind_days_before, half.notes, half.committee) == (("committee",), (1,), "", True)
    assert "/" not in oit.key and oit.key != half.key


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ('date = 2021-04-08\ntitle = "x"\nwho = ["sp", "kong_x"]', "milestones[0].who[1]", "ไม่รู้จักกอง 'kong_x'"),
        ('date = 2021-04-08\ntitle = "x"\nwho = "everyone"', "milestones[0].who", "ไม่รู้จักกอง 'everyone'"),
        ('date = 2021-10-01\ntitle = "x"\nwho = "managers"', "milestones[0].date", "อยู่นอกปีงบประมาณ"),
        ('date = 2020-09-30\ntitle = "x"\nwho = "managers"', "milestones[0].date", "อยู่นอกปีงบประมาณ"),
        ('date = 2021-04-08\ntitle = "  "\nwho = "managers"', "milestones[0].title", "ต้องไม่เว้นว่าง"),
        ('date = 2021-04-08\nwho = "managers"', "milestones[0].title", "ยังไม่ได้กรอก"),
        ('date = 2021-04-08\ntitle = "x"', "milestones[0].who", "ยังไม่ได้กรอก"),
        ('date = 2021-04-08\ntitle = "x"\nwho = []', "milestones[0].who", "ห้ามเว้นว่าง"),
        ('date = "8/4/2564"\ntitle = "x"\nwho = "managers"', "milestones[0].date", "ต้องเป็นวันที่"),
        ('date = 2021-04-08\ntitle = "x"\nwho = "managers"\nremind_days_before = [5, -1]',
         "milestones[0].remind_days_before[1]", "ตั้งแต่ 0 ถึง 60"),
        ('date = 2021-04-08\ntitle = "x"\nwho = "managers"\nremind_days_before = [1, 1]',
         "milestones[0].remind_days_before", "ซ้ำกัน"),
        ('date = 2021-04-08\ntitle = "x"\nwho = "managers"\nwhen = 1', "milestones[0].when", "ไม่รู้จักช่องชื่อ"),
    ],
)
def test_a_bad_milestone_is_one_clear_error_naming_the_field(tmp_path: Path, body: str, field: str, words: str) -> None:
    with pytest.raises(PlanError) as caught:
        load(tmp_path, f"\n[[milestones]]\n{body}\n")
    assert caught.value.field == field
    assert words in caught.value.problem


def test_two_milestones_with_the_same_date_and_title_are_refused(tmp_path: Path) -> None:
    one = '\n[[milestones]]\ndate = 2021-04-08\ntitle = "ส่ง OIT"\nwho = "managers"\n'
    with pytest.raises(PlanError) as caught:
        load(tmp_path, one + one)
    assert caught.value.field == "milestones[1].title"


def test_a_milestone_keeps_its_id_across_a_title_change_and_new_ones_get_a_free_one(tmp_path: Path) -> None:
    """A milestone is known by the id the plan keeps, not by its title: correcting the title keeps its key."""
    legacy = load(tmp_path, EXAMPLE_MILESTONES).milestones[0]  # a plan written before ids: the title's hash
    assert legacy.id == title_id("ส่งข้อมูล OIT ให้ ป.ป.ช.") and legacy.key == f"2021-04-08~{legacy.id}"
    kept = f'\n[[milestones]]\nid = "{legacy.id}"\ndate = 2021-04-08\ntitle = "ส่ง OIT (แก้ชื่อ)"\nwho = "managers"\n'
    corrected = load(tmp_path, kept).milestones[0]
    assert corrected.key == legacy.key
    # The old title typed again as a new row that day is another milestone, with another key.
    again = '\n[[milestones]]\ndate = 2021-04-08\ntitle = "ส่งข้อมูล OIT ให้ ป.ป.ช."\nwho = "managers"\n'
    keys = {m.key for m in load(tmp_path, kept + again).milestones}
    assert len(keys) == 2 and legacy.key in keys
    # Two rows given the same id on one day (a row copied in the file) are refused, naming the field.
    with pytest.raises(PlanError) as caught:
        load(tmp_path, kept + kept.replace("(แก้ชื่อ)", "อีกเรื่อง"))
    assert caught.value.field == "milestones[1].id"
    with pytest.raises(PlanError) as caught:
        load(tmp_path, kept.replace(legacy.id, "a/b"))
    assert caught.value.field == "milestones[0].id"


def test_reminders_count_back_over_weekends_and_thai_holidays() -> None:
    # Thu 8 Apr 2564: Tue 6 Apr is Chakri Day, so 2 working days before is Mon 5, 5 is Wed 31 Mar.
    thu = date(2021, 4, 8)
    assert [reminder_day(CAL, thu, n) for n in (0, 1, 2, 5)] == [
        thu, date(2021, 4, 7), date(2021, 4, 5), date(2021, 3, 31)]


def test_a_milestone_on_a_weekend_is_reminded_on_working_days() -> None:
    # Sat 27 Feb 2564, and Fri 26 is Makha Bucha: "on the day" and "1 before" both fall on Thu 25.
    sat = date(2021, 2, 27)
    assert reminder_day(CAL, sat, 0) == date(2021, 2, 25)
    assert reminder_day(CAL, sat, 1) == date(2021, 2, 25)
    assert working_days_left(CAL, date(2021, 2, 22), sat) == 3  # Tue 23, Wed 24, Thu 25


def test_the_reminder_owed_is_the_latest_come_and_never_after_the_date() -> None:
    m = Milestone(date(2021, 4, 8), "ส่ง OIT", ("managers",))
    assert due_reminder(CAL, m, date(2021, 3, 30)) is None  # before the first reminder day
    assert due_reminder(CAL, m, date(2021, 3, 31)) == 5
    assert due_reminder(CAL, m, date(2021, 4, 2)) == 5  # a missed day is made up later, once (same key)
    assert due_reminder(CAL, m, date(2021, 4, 7)) == 1
    assert due_reminder(CAL, m, date(2021, 4, 8)) == 1  # on the day: the last one still stands
    assert due_reminder(CAL, m, date(2021, 4, 9)) is None  # passed: never reminded late
    assert due_reminder(CAL, Milestone(date(2021, 4, 8), "x", ("sp",), ()), date(2021, 4, 7)) is None


def test_standings_mark_past_highlight_the_next_and_count_working_days() -> None:
    ms = [
        Milestone(date(2021, 6, 30), "c", ("committee",)),
        Milestone(date(2021, 1, 15), "a", ("sp",)),
        Milestone(date(2021, 4, 8), "b", ("managers",)),
    ]
    states = standings(CAL, ms, date(2021, 4, 1))
    assert [(s.milestone.title, s.standing) for s in states] == [
        ("a", Standing.PAST), ("b", Standing.NEXT), ("c", Standing.LATER)]
    assert states[1].days_left == 4  # Fri 2, Mon 5, Wed 7, Thu 8 (Tue 6 is Chakri Day)
    assert states[1].highlighted and not states[2].highlighted
    today = standings(CAL, ms, date(2021, 4, 8))
    assert [s.standing for s in today] == [Standing.PAST, Standing.TODAY, Standing.LATER]  # today's is the next
    assert standings(CAL, ms, date(2021, 7, 1))[-1].standing is Standing.PAST
