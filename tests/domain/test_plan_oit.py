"""A plan's `[[oit]]` list: the NACC's item codes and titles it answers, read and checked field by field, written
back unchanged, shipped for 2564, and carried into a drafted year (moved and marked to check)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.draft import draft_plan, save_draft
from ita_bot.domain.oit import COVERS_THAI, OitItem, normalize_code
from ita_bot.domain.plan import PlanProblems
from ita_bot.domain.plan_book import PlanBook
from ita_bot.domain.plan_reader import load_plan, parse_plan_data, parse_plan_text
from ita_bot.domain.plan_writer import plan_to_data, plan_to_toml
from ita_bot.domain.reports import ReportBook
from ita_bot.domain.thai import BANGKOK
from ita_bot.store.tiny import tinydb_repositories

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "storage" / "plans"
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=BANGKOK)
O42 = "มาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน"
O43 = "การดำเนินการตามมาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน"
O25 = "การนำผลการประเมิน ITA ไปสู่การพัฒนาองค์กร"
O26 = "รายงานผลการดำเนินการเพื่อส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน"


def data_2564(**changes: Any) -> dict[str, Any]:
    """The shipped 2564 plan as data, its `oit` list replaced when given."""
    data = plan_to_data(load_plan(SHIPPED / "2564.toml"))
    data.update(changes)
    return data


def problems_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(PlanProblems) as err:
        parse_plan_data(data, "x.toml")
    return {p.field: p.message for p in err.value.problems}


def book_over(folder: Path, shipped: Path | None = SHIPPED) -> PlanBook:
    repositories = tinydb_repositories(folder)
    return PlanBook(shipped, repositories.plans, reports=ReportBook(repositories.reports))


# --- the shipped plan and reading ----------------------------------------------------------------------------


def test_the_2564_plan_answers_o42_and_o43_of_its_year() -> None:
    assert load_plan(SHIPPED / "2564.toml").oit == (
        OitItem("O42", O42, "measures", 2564),
        OitItem("O43", O43, "report", 2564),
    )


def test_a_plan_without_the_list_has_no_items_and_an_empty_list_is_none() -> None:
    data = data_2564()
    del data["oit"]
    assert parse_plan_data(data, "x.toml").oit == ()
    assert parse_plan_data(data_2564(oit=[]), "x.toml").oit == ()


@pytest.mark.parametrize(("typed", "code"), [
    ("O42", "O42"), ("o42", "O42"), (" O ๔๒ ", "O42"), ("O042", "O42"), ("O7", "O7"), ("O100", "O100"),
    ("042", None), ("42", None), ("O", None), ("O0", None), ("O1000", None), ("Q42", None), ("O4a", None),
])
def test_a_code_is_read_kindly_as_the_nacc_writes_it(typed: str, code: str | None) -> None:
    assert normalize_code(typed) == code


def test_a_report_may_cover_the_year_before_and_codes_are_normalized() -> None:
    plan = parse_plan_data(data_2564(oit=[
        {"code": "o ๒๕", "title": O25, "covers": "measures", "fiscal_year": 2564},
        {"code": "O26", "title": O26, "covers": "report", "fiscal_year": 2563},
    ]), "x.toml")
    assert plan.oit == (OitItem("O25", O25, "measures", 2564), OitItem("O26", O26, "report", 2563))


def test_a_title_is_kept_as_written_in_its_canonical_form() -> None:
    typed = "การดําเนินการตามมาตรการ  (ฉบับ ๒)"  # SARA AM typed as two characters, two spaces kept
    plan = parse_plan_data(data_2564(oit=[{"code": "O43", "title": typed, "covers": "report",
                                           "fiscal_year": 2564}]), "x.toml")
    assert plan.oit[0].title == "การดำเนินการตามมาตรการ  (ฉบับ ๒)"


def test_every_wrong_item_field_is_named_in_thai() -> None:
    problems = problems_of(data_2564(oit=[
        {"code": "042", "title": O42, "covers": "measures", "fiscal_year": 2564},
        {"code": "O43", "title": "  ", "covers": "reports", "fiscal_year": 2562},
        {"code": "O44", "covers": "report", "fiscal_year": 2021, "url": "https://example.org"},
        {"code": "O45", "title": O43, "fiscal_year": "2564"},
        {"code": "o43", "title": O43, "covers": "report", "fiscal_year": 2564},
        "O46",
    ]))
    assert set(problems) == {
        "oit[0].code", "oit[1].title", "oit[1].covers", "oit[1].fiscal_year", "oit[2].title", "oit[2].fiscal_year",
        "oit[2].url", "oit[3].covers", "oit[3].fiscal_year", "oit[4].code", "oit[5]",
    }
    assert "ตัวอักษร O (โอ) ไม่ใช่เลขศูนย์" in problems["oit[0].code"] and "O42" in problems["oit[0].code"]
    assert problems["oit[1].title"] == "ต้องไม่เว้นว่าง"
    covers = problems["oit[1].covers"]
    assert all(f'"{c}" ({thai})' in covers for c, thai in COVERS_THAI.items()) and "'reports'" in covers
    assert problems["oit[1].fiscal_year"] == "ต้องเป็นปีงบประมาณของแผนนี้หรือปีก่อนหน้า (2564 หรือ 2563) กรอกไว้ 2562"
    assert problems["oit[2].title"] == "ยังไม่ได้กรอก (ต้องมี)"
    assert problems["oit[2].fiscal_year"] == "ปี 2021 เป็นปี ค.ศ. กรุณากรอกปีงบประมาณ พ.ศ. (2564 หรือ 2563)"
    assert "ไม่รู้จักช่องชื่อ 'url'" in problems["oit[2].url"]
    assert problems["oit[3].covers"] == "ยังไม่ได้กรอก (ต้องมี)"
    assert problems["oit[3].fiscal_year"] == "กรุณากรอกเป็นตัวเลขจำนวนเต็ม"
    assert problems["oit[4].code"] == "รหัสรายการ O43 ซ้ำกับรายการที่ 2"
    assert "ต้องเป็นตาราง" in problems["oit[5]"]


def test_the_list_must_be_a_list_of_tables() -> None:
    problems = problems_of(data_2564(oit={"code": "O42"}))
    assert set(problems) == {"oit"} and "[[oit]]" in problems["oit"]


# --- writing ----------------------------------------------------------------------------------------------------


def test_round_trip_keeps_the_items_in_file_order(tmp_path: Path) -> None:
    items = [
        {"code": "O26", "title": O26, "covers": "report", "fiscal_year": 2563},
        {"code": "O25", "title": O25, "covers": "measures", "fiscal_year": 2564},
    ]
    plan = parse_plan_data(data_2564(oit=items), "x.toml")
    text = plan_to_toml(plan)
    assert "[[oit]]" in text
    again = parse_plan_text(text, "x.toml")
    assert again.oit == plan.oit and again == plan
    assert plan_to_data(again)["oit"] == items
    shipped = load_plan(SHIPPED / "2564.toml")
    assert parse_plan_text(plan_to_toml(shipped), shipped.source).oit == shipped.oit


def test_a_plan_without_items_is_written_without_the_list() -> None:
    data = data_2564()
    del data["oit"]
    plan = parse_plan_data(data, "x.toml")
    assert "oit" not in plan_to_data(plan) and "[[oit]]" not in plan_to_toml(plan)


# --- drafting -----------------------------------------------------------------------------------------------


def test_a_drafted_year_copies_the_items_moved_to_it_and_marked_to_check(tmp_path: Path) -> None:
    book = book_over(tmp_path / "data")
    draft = draft_plan(book, book.report_book(), 2565)
    assert draft.data["oit"] == [
        {"code": "O42", "title": O42, "covers": "measures", "fiscal_year": 2565},
        {"code": "O43", "title": O43, "covers": "report", "fiscal_year": 2565},
    ]
    assert draft.data["to_fill"][-2:] == ["oit[0].code", "oit[1].code"]
    plan = save_draft(book, draft, [], who="เลขาทดสอบ", now=NOW)
    assert [(o.code, o.fiscal_year) for o in plan.oit] == [("O42", 2565), ("O43", 2565)]
    assert {"oit[0].code", "oit[1].code"} <= set(plan.to_fill)


def test_a_report_on_the_year_before_still_reports_on_the_year_before(tmp_path: Path) -> None:
    data = data_2564(oit=[
        {"code": "O25", "title": O25, "covers": "measures", "fiscal_year": 2564},
        {"code": "O26", "title": O26, "covers": "report", "fiscal_year": 2563},
    ])
    book = book_over(tmp_path / "data", shipped=None)
    book.save_data(2564, data, expected_version="", who="เลขาทดสอบ", section="all", now=NOW)
    # Drafted over a gap (from 2564 to 2570): each item keeps its place relative to the plan's year.
    draft = draft_plan(book, book.report_book(), 2570)
    assert [(o["code"], o["title"], o["covers"], o["fiscal_year"]) for o in draft.data["oit"]] == [
        ("O25", O25, "measures", 2570), ("O26", O26, "report", 2569)]
    assert parse_plan_data(draft.data, "2570.toml").oit[1].fiscal_year == 2569


def test_a_draft_from_a_plan_without_items_has_none_to_check(tmp_path: Path) -> None:
    data = data_2564()
    del data["oit"]
    book = book_over(tmp_path / "data", shipped=None)
    book.save_data(2564, data, expected_version="", who="เลขาทดสอบ", section="all", now=NOW)
    draft = draft_plan(book, book.report_book(), 2565)
    assert "oit" not in draft.data and not any(p.startswith("oit") for p in draft.data["to_fill"])


def test_a_first_plan_starts_from_the_2569_list_marked_to_check(tmp_path: Path) -> None:
    book = book_over(tmp_path / "data", shipped=None)
    draft = draft_plan(book, book.report_book(), 2570, organization="องค์การบริหารส่วนตำบลทดลอง")
    assert draft.first
    assert draft.data["oit"] == [
        {"code": "O25", "title": O25, "covers": "measures", "fiscal_year": 2570},
        {"code": "O26", "title": O26, "covers": "report", "fiscal_year": 2569},  # the year before, as in 2569
    ]
    assert {"oit[0].code", "oit[1].code"} <= set(draft.data["to_fill"])
    plan = save_draft(book, draft, [], who="เลขาทดสอบ", now=NOW)
    assert plan.oit == (OitItem("O25", O25, "measures", 2570), OitItem("O26", O26, "report", 2569))
