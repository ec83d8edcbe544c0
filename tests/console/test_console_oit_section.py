"""The plan's OIT items in the console: listed on the plan page, edited row by row, refused at the field with
nothing saved, recorded in the history, and a drafted year's copied items marked to check."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from ita_bot.domain.draft import draft_plan, save_draft
from ita_bot.domain.oit import OitItem
from ita_bot.domain.thai import BANGKOK
from tests.console_harness import Browser, form_fields

pytestmark = pytest.mark.backends("tinydb", "postgresql")

PAGE = "/admin/plans/2564/oit"
O42 = "มาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน"
O43 = "การดำเนินการตามมาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน"
O26 = "รายงานผลการดำเนินการเพื่อส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน"
OCT_2021 = datetime(2021, 10, 5, 9, 0, tzinfo=BANGKOK)


def signed_in(bot: Any) -> Browser:
    browser = Browser(bot)
    browser.sign_in()
    return browser


def test_the_plan_page_lists_the_items_and_the_editor_shows_them(bot: Any) -> None:
    browser = signed_in(bot)
    plan_page = browser.html("/admin/plans/2564")
    assert f'href="{PAGE}">รายการ OIT ที่หน้ารายงานประจำปีตอบ</a>' in plan_page
    assert "O42 มาตรการ ปี 2564, O43 รายงานผลการดำเนินการ ปี 2564" in plan_page
    html = browser.html(PAGE)
    fields = form_fields(html)
    assert (fields["rows-0-code"], fields["rows-0-title"], fields["rows-0-covers"], fields["rows-0-fiscal_year"]) == (
        "O42", O42, "measures", "2564")
    assert (fields["rows-1-code"], fields["rows-1-covers"]) == ("O43", "report")
    assert fields["rows-2-code"] == "" and "rows-4-code" in fields and "rows-5-code" not in fields  # 3 blank rows
    assert '<option selected value="report">รายงานผลการดำเนินการ</option>' in html
    assert "ของปีงบประมาณ (พ.ศ.)" in html and "ค.ศ." not in html.split("<main", 1)[1]


def test_rows_are_edited_added_and_removed_by_clearing_and_the_change_is_recorded(bot: Any) -> None:
    browser = signed_in(bot)
    saved = browser.submit(PAGE, {
        "rows-0-code": "", "rows-0-title": "", "rows-0-fiscal_year": "",  # cleared: removed
        "rows-1-title": f"  {O43}  ",
        # Typed kindly: a lower-case o and Thai digits.
        "rows-2-code": "o๒๖", "rows-2-title": O26, "rows-2-covers": "report", "rows-2-fiscal_year": "๒๕๖๓",
    })
    assert saved.status_code == 303, saved.get_data(as_text=True)[-2000:]
    assert saved.headers["Location"].endswith(PAGE)
    plan = bot.office.plans.get(2564)
    assert plan is not None and plan.oit == (OitItem("O43", O43, "report", 2564), OitItem("O26", O26, "report", 2563))
    change = bot.office.plans.history()[0]
    assert change.section == "oit" and "O26" in change.after and "O42" in change.before and "O42" not in change.after
    history = browser.html("/admin/history")
    assert "รายการ OIT ที่หน้ารายงานประจำปีตอบ" in history
    assert "รายการ OIT O26" in history and "รายการ OIT O42" in history

    # Ticking "remove" removes a row too.
    removed = browser.submit(PAGE, {"rows-1-remove": "y"})
    assert removed.status_code == 303
    plan = bot.office.plans.get(2564)
    assert plan is not None and [o.code for o in plan.oit] == ["O43"]


def test_wrong_items_are_named_at_their_fields_and_nothing_is_saved(bot: Any) -> None:
    browser = signed_in(bot)
    before = bot.office.plans.version(2564)
    response = browser.submit(PAGE, {
        "rows-0-code": "042",  # a zero, not the letter O
        "rows-1-fiscal_year": "2021",  # a CE year
        "rows-2-code": "O42", "rows-2-title": O42, "rows-2-fiscal_year": "2564",  # O42 once the first is fixed
        "rows-3-code": "O99", "rows-3-fiscal_year": "ปีนี้",  # no title, no year
    })
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "ยังบันทึกไม่ได้ กรุณาแก้ช่องที่มีเครื่องหมาย ⚠" in html

    def error_after(name: str) -> str:
        at = html.index(f'name="{name}"')
        start = html.index('class="error"', at)
        assert start - at < 600, name  # right under its input
        return html[start:html.index("</span>", start)]

    assert "ตัวอักษร O (โอ) ไม่ใช่เลขศูนย์" in error_after("rows-0-code")
    assert "ปี 2021 เป็นปี ค.ศ. กรุณากรอกปีงบประมาณ พ.ศ. (2564 หรือ 2563)" in error_after("rows-1-fiscal_year")
    assert "ต้องไม่เว้นว่าง" in error_after("rows-3-title")
    assert "กรุณากรอกเป็นตัวเลขจำนวนเต็ม" in error_after("rows-3-fiscal_year")
    assert bot.office.plans.version(2564) == before
    plan = bot.office.plans.get(2564)
    assert plan is not None and [o.code for o in plan.oit] == ["O42", "O43"]

    duplicate = browser.submit(PAGE, {"rows-2-code": "o42", "rows-2-title": O42, "rows-2-fiscal_year": "2564"})
    assert duplicate.status_code == 400
    assert "รหัสรายการ O42 ซ้ำกับรายการที่ 1" in duplicate.get_data(as_text=True)
    assert bot.office.plans.version(2564) == before


def test_a_drafted_years_items_are_marked_to_check_and_saving_the_section_checks_them(bot: Any) -> None:
    bot.now = OCT_2021
    book = bot.office.plans
    save_draft(book, draft_plan(book, bot.office.reports, 2565), [], who="ทดสอบ", now=bot.now)
    plan = book.get(2565)
    assert plan is not None and [(o.code, o.fiscal_year) for o in plan.oit] == [("O42", 2565), ("O43", 2565)]
    browser = signed_in(bot)
    plan_page = browser.html("/admin/plans/2565")
    assert "รายการ OIT แถวที่ 1 (ตรวจรหัส ชื่อรายการ และปีงบประมาณให้ตรงกับรายการ OIT ของปีที่ประเมิน)" in plan_page
    assert 'href="/admin/plans/2565/oit#fill-rows-0-code"' in plan_page
    assert 'href="/admin/plans/2565/oit#fill-rows-1-code"' in plan_page
    html = browser.html("/admin/plans/2565/oit")
    assert 'id="fill-rows-0-code"' in html and 'id="fill-rows-1-code"' in html and "กรุณาตรวจ" in html
    assert 'id="fill-rows-2-code"' not in html  # a blank row is not the draft's

    # The manager corrects the codes to the year's list and saves: both items are checked.
    saved = browser.submit("/admin/plans/2565/oit", {"rows-0-code": "O40", "rows-1-code": "O41"})
    assert saved.status_code == 303, saved.get_data(as_text=True)[-2000:]
    plan = book.get(2565)
    assert plan is not None and [o.code for o in plan.oit] == ["O40", "O41"]
    assert not any(p.startswith("oit") for p in plan.to_fill) and "committee.order" in plan.to_fill
