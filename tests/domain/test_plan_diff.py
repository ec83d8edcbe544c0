"""Plan changes as Thai field changes: rows paired by their key, new sections not read as the whole file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ita_bot.domain.plan_book import Change
from ita_bot.domain.plan_diff import FieldChange, describe, diff_data
from ita_bot.domain.plan_reader import load_plan
from ita_bot.domain.plan_writer import data_to_toml, plan_to_data
from ita_bot.domain.thai import ThaiFormat

FMT = ThaiFormat("arabic")
SHIPPED = Path(__file__).resolve().parents[2] / "storage" / "plans" / "2564.toml"


def test_a_measure_edited_added_and_removed_pairs_rows_by_number() -> None:
    before = {"measures": [{"number": 1, "title": "ก", "methods": ["ทำ ก"], "divisions": ["sp"]},
                           {"number": 2, "title": "ข", "methods": ["ทำ ข"], "divisions": ["sp"]}]}
    after = {"measures": [{"number": 1, "title": "ก", "methods": ["ทำ ก", "ทำ ก อีก"], "divisions": ["sp"]},
                          {"number": 3, "title": "ค", "methods": ["ทำ ค"], "divisions": ["klang"]}]}
    assert diff_data(before, after, FMT) == [
        FieldChange("มาตรการที่ 1", "วิธีดำเนินการ", "ทำ ก", "ทำ ก\nทำ ก อีก"),
        FieldChange("มาตรการที่ 3", "เพิ่ม", "", "ค"),
        FieldChange("มาตรการที่ 2", "ลบ", "ข", ""),
    ]


def test_dates_read_in_buddhist_era_and_nested_tables_are_named() -> None:
    member = {"number": 1, "name": "นาง ก", "position": "ปลัด"}
    before = {"committee": {"signed": date(2021, 10, 1), "members": [member]}}
    after = {"committee": {"signed": date(2021, 10, 15), "members": [{**member, "position": "รองปลัด"}]}}
    assert diff_data(before, after, FMT) == [
        FieldChange("คณะกรรมการ", "ลงวันที่", "1 ต.ค. 2564", "15 ต.ค. 2564"),
        FieldChange("คณะกรรมการ · กรรมการ นาง ก", "ตำแหน่ง", "ปลัด", "รองปลัด"),
    ]


def test_a_section_added_for_the_first_time_is_not_the_whole_file_before() -> None:
    data = plan_to_data(load_plan(SHIPPED))
    data.pop("milestones", None)
    whole = data_to_toml(data)  # what older records kept as "before" when the plan had no such section
    added = data_to_toml({"milestones": [{"date": date(2022, 3, 31), "title": "ส่งรายชื่อผู้มีส่วนได้ส่วนเสีย",
                                          "who": ["sp"]}]}).split("\n\n", 1)[-1]
    change = Change("2021-10-01T09:01:00+07:00", "เลขา", 2565, "milestones", whole, added, "a", "b")
    assert describe(change, FMT) == [FieldChange("กำหนดการ “ส่งรายชื่อผู้มีส่วนได้ส่วนเสีย”", "เพิ่ม", "",
                                                 "ส่งรายชื่อผู้มีส่วนได้ส่วนเสีย")]


def test_a_new_plan_is_one_line() -> None:
    data = plan_to_data(load_plan(SHIPPED))
    change = Change("2021-10-01T09:01:00+07:00", "เลขา", 2564, "new", "", data_to_toml(data), "", "a")
    [line] = describe(change, FMT)
    assert line.field == "สร้างแผน" and "มาตรการ" in line.after
