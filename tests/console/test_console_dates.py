"""Dates in the console are typed and shown in พ.ศ.; a new year's draft leaves its unknowns marked, not guessed."""

from __future__ import annotations

import io
import re
import tomllib
from datetime import date, datetime
from typing import Any

import docx
import pytest

from ita_bot.console.thai_date import date_parts
from ita_bot.domain.draft import draft_plan, save_draft
from ita_bot.domain.thai import BANGKOK, DateParseError, parse_be_date
from tests.console_harness import Browser, form_fields

pytestmark = pytest.mark.backends("tinydb", "postgresql")

OCT_2021 = datetime(2021, 10, 5, 9, 0, tzinfo=BANGKOK)  # fiscal year 2565 has begun


def typed(name: str, day: str, month: str, year: str) -> dict[str, str]:
    """What the three boxes of a date field post."""
    return {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year}


def new_year(bot: Any) -> Browser:
    """FY 2565 drafted from 2564 (nothing suggested) and a signed-in secretary."""
    bot.now = OCT_2021
    book = bot.office.plans
    save_draft(book, draft_plan(book, bot.office.reports, 2565), [], who="ทดสอบ", now=bot.now)
    browser = Browser(bot)
    browser.sign_in()
    return browser


# --- the domain's parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(("parts", "expected"), [
    (("25", "2", "2564"), date(2021, 2, 25)),
    (("๒๕", "ก.พ.", "๒๕๖๔"), date(2021, 2, 25)),  # Thai digits and a month name
    (("1", "10", "64"), date(2021, 10, 1)),  # two digits: 2564
    (("29", "2", "2563"), date(2020, 2, 29)),
    (("", "", ""), None),
])
def test_a_be_date_is_read_as_its_ce_date(parts: tuple[str, str, str], expected: date | None) -> None:
    assert parse_be_date(*parts) == expected


@pytest.mark.parametrize(("parts", "message"), [
    (("1", "10", "2021"), "ปี 2021 เป็นปี ค.ศ. กรุณากรอกปี พ.ศ. เช่น 2564"),
    (("1", "1", "3112"), "กรุณากรอกปี พ.ศ. เช่น 2564"),
    (("31", "2", "2564"), "ไม่มีวันที่ 31 กุมภาพันธ์ 2564 ในปฏิทิน"),
    (("29", "2", "2564"), "ไม่มีวันที่ 29 กุมภาพันธ์ 2564 ในปฏิทิน"),
    (("5", "", "2564"), "วันที่ยังไม่ครบ กรุณาระบุเดือน"),
    (("ห้า", "1", "2564"), "วันที่ต้องเป็นตัวเลข"),
])
def test_a_wrong_be_date_is_refused_in_thai(parts: tuple[str, str, str], message: str) -> None:
    with pytest.raises(DateParseError, match=message):
        parse_be_date(*parts)


# --- the field on real forms ----------------------------------------------------------------------------


def test_a_be_year_is_saved_as_its_ce_date_and_shown_back_in_be(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    page = "/admin/plans/2564/memo"
    html = browser.html(page)
    assert 'type="date"' not in html  # no browser picker counting in ค.ศ.
    assert 'name="date-year" id="date-year" value="2564"' in html  # 5 ม.ค. 2564 shown in พ.ศ.
    saved = browser.submit(page, typed("date", "20", "12", "2564"))
    assert saved.status_code == 303, saved.get_data(as_text=True)[-1500:]
    plan = bot.office.plans.get(2564)
    assert plan is not None and plan.memo.date == date(2021, 12, 20)
    assert 'name="date-year" id="date-year" value="2564"' in browser.html(page)


@pytest.mark.parametrize(("parts", "message"), [
    (("20", "12", "2021"), "ปี 2021 เป็นปี ค.ศ. กรุณากรอกปี พ.ศ. เช่น 2564"),
    (("31", "2", "2564"), "ไม่มีวันที่ 31 กุมภาพันธ์ 2564 ในปฏิทิน"),
    (("20", "12", "3107"), "กรุณากรอกปี พ.ศ."),
])
def test_a_wrong_date_is_refused_at_its_field_and_nothing_is_saved(bot: Any, parts: tuple[str, str, str],
                                                                    message: str) -> None:
    browser = Browser(bot)
    browser.sign_in()
    before = bot.office.plans.version(2564)
    response = browser.submit("/admin/plans/2564/memo", typed("date", *parts))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    # The message sits right after the date's own boxes, in Thai, and what was typed is kept.
    at = html.index('name="date-year"')
    assert message in html[at:at + 600]
    assert f'name="date-year" id="date-year" value="{parts[2]}" placeholder="ปี พ.ศ." aria-label="ปี พ.ศ." ' \
           f'class="invalid"' in html
    assert bot.office.plans.version(2564) == before
    assert bot.office.plans.history() == []


def test_the_committee_refuses_a_term_ending_before_signing_on_the_term_field_in_thai(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    before = bot.office.plans.version(2564)
    response = browser.submit("/admin/plans/2564/committee",
                              {**typed("signed", "15", "10", "2564"), **typed("term_end", "30", "9", "2564")})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    message = "วันสิ้นสุดวาระ (30 ก.ย. 2564) อยู่ก่อนวันลงนามคำสั่ง (15 ต.ค. 2564)"
    at = html.index('name="term_end-year"')
    assert message in html[at:at + 600]
    assert message not in html[html.index('name="signed-year"'):at]
    assert bot.office.plans.version(2564) == before


def test_meeting_dates_are_typed_in_be_and_a_ce_year_is_refused(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    page = "/admin/meetings?fy=2564"
    refused = browser.submit(page, {"cycle": "2021-03", **typed("day", "25", "3", "2021")})
    assert refused.status_code == 400
    assert "ปี 2021 เป็นปี ค.ศ. กรุณากรอกปี พ.ศ. เช่น 2564" in refused.get_data(as_text=True)
    assert "2021-03" not in bot.office.meeting_overrides()
    moved = browser.submit(page, {"cycle": "2021-03", **typed("day", "25", "3", "2564")})
    assert moved.status_code == 303
    assert bot.office.calendar().cycle("2021-03").meeting == date(2021, 3, 25)


# --- a new year's plan: every section, the calendar by Thai name, the fields still to fill ---------------


def test_a_new_years_plan_lists_its_empty_calendar(bot: Any) -> None:
    browser = new_year(bot)
    html = browser.html("/admin/plans/2565")
    assert 'href="/admin/plans/2565/milestones">ปฏิทินการประเมิน</a>' in html
    assert "เพิ่มกำหนดการ" in html
    assert "ตรวจและแทนที่แผน" not in html and "TOML" not in html  # the file tools are on the IT officer's page
    assert 'href="/admin/plans/2565/file"' in html
    assert "ตรวจและแทนที่แผน" in browser.html("/admin/plans/2565/file")


def test_milestone_recipients_are_ticked_by_thai_name_and_saved_as_codes(bot: Any) -> None:
    browser = new_year(bot)
    page = "/admin/plans/2565/milestones"
    html = browser.html(page)
    for name in ("คณะกรรมการ", "ประธาน เลขานุการ และผู้ช่วยเลขานุการ", "สำนักงานปลัด", "กองคลัง"):
        assert f">{name}</label>" in html
    assert "committee, managers" not in html
    saved = browser.submit(page, {**typed("rows-0-date", "31", "3", "2565"), "rows-0-title": "ส่งแบบ OIT",
                                  "rows-0-who": ["managers", "klang"],
                                  **typed("rows-1-date", "15", "1", "2565"), "rows-1-title": "ประชุมกรรมการ",
                                  "rows-1-who": ["committee"]})
    assert saved.status_code == 303, saved.get_data(as_text=True)[-1500:]
    plan = bot.office.plans.get(2565)
    assert plan is not None
    assert sorted((m.date, m.title, m.who) for m in plan.milestones) == [
        (date(2022, 1, 15), "ประชุมกรรมการ", ("committee",)),
        (date(2022, 3, 31), "ส่งแบบ OIT", ("managers", "klang")),
    ]
    # The file keeps CE dates and the codes.
    saved_file = tomllib.loads(bot.office.plans.text(2565))["milestones"]
    assert {(m["date"], tuple(m["who"])) for m in saved_file} == {(date(2022, 3, 31), ("managers", "klang")),
                                                                  (date(2022, 1, 15), ("committee",))}


def test_three_members_are_added_in_one_save(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    page = "/admin/plans/2564/committee"
    fields = form_fields(browser.html(page))
    first_blank = next(i for i in range(40) if fields.get(f"members-{i}-name") == "")
    assert f"members-{first_blank + 2}-name" in fields  # three blank rows
    changes = {f"members-{first_blank + k}-{key}": value for k in range(3)
               for key, value in (("name", f"นายทดสอบ {k + 1}"), ("position", "นักวิชาการ"),
                                  ("role_text", "คณะกรรมการ"))}
    saved = browser.submit(page, changes)
    assert saved.status_code == 303, saved.get_data(as_text=True)[-1500:]
    plan = bot.office.plans.get(2564)
    assert plan is not None
    assert [m.name for m in plan.committee.members][-3:] == ["นายทดสอบ 1", "นายทดสอบ 2", "นายทดสอบ 3"]


def test_fields_to_fill_are_marked_empty_and_saving_leads_to_the_next(bot: Any) -> None:
    browser = new_year(bot)
    plan_page = browser.html("/admin/plans/2565")
    assert 'href="/admin/plans/2565/committee#fill-signed"' in plan_page
    html = browser.html("/admin/plans/2565/committee")
    # Marked and focused, empty rather than pre-filled with the draft's 1 ต.ค. guess, the guess as a note.
    assert 'id="fill-order"' in html and 'id="fill-signed"' in html
    assert 'name="signed-day" id="signed-day" value=""' in html and "(ร่างแผนใช้ 1 ต.ค. 2564 ไว้ชั่วคราว)" in html
    assert "(โปรดกรอก)" not in html and 'placeholder="…/๒๕๖๕"' in html
    focused = re.findall(r"<(?:input|select|textarea)[^>]*\sautofocus[\s>][^>]*", html)
    assert len(focused) == 1 and 'id="order"' in focused[0]  # the first one to fill

    # Saving other changes with the unknowns left empty keeps them listed (and the plan valid).
    kept = browser.submit("/admin/plans/2565/committee", {"title": "แต่งตั้งคณะกรรมการ ITA 2565"})
    assert kept.status_code == 303
    assert kept.headers["Location"].endswith("/admin/plans/2565/committee#fill-order")
    plan = bot.office.plans.get(2565)
    assert plan is not None and {"committee.order", "committee.signed"} <= set(plan.to_fill)
    assert plan.committee.signed == date(2021, 10, 1)

    done = browser.submit("/admin/plans/2565/committee", {"order": "๑๒๓/๒๕๖๕", **typed("signed", "15", "10", "2564")})
    assert done.status_code == 303
    assert done.headers["Location"].endswith("/admin/plans/2565/memo#fill-reference")
    plan = bot.office.plans.get(2565)
    assert plan is not None and plan.committee.signed == date(2021, 10, 15) and plan.committee.order == "๑๒๓/๒๕๖๕"
    assert not {"committee.order", "committee.signed"} & set(plan.to_fill)
    assert "ต่อไปกรุณากรอก: เลขที่หนังสือของบันทึกข้อความ" in browser.html("/admin/plans/2565/memo")


def test_date_parts_post_what_the_field_shows() -> None:
    assert date_parts(date(2021, 10, 15)) == {"day": "15", "month": "10", "year": "2564"}


# --- meeting dates: why a date moved, and back to the usual date ----------------------------------------


def test_a_moved_meeting_says_why_and_a_manual_change_can_be_undone(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    page = "/admin/meetings?fy=2564"
    html = browser.html(page)
    assert "เลื่อนจาก 26 ก.พ. 2564 เพราะตรงกับวันมาฆบูชา" in html
    assert "กลับเป็นวันปกติ" not in html  # nothing was set by hand yet

    assert browser.submit(page, {"cycle": "2021-03", **typed("day", "25", "3", "2564")}).status_code == 303
    html = browser.html(page)
    assert "ตั้งเอง (วันปกติคือ 26 มี.ค. 2564)" in html and "กลับเป็นวันปกติ" in html

    restored = browser.submit(page, {"cycle": "2021-03"}, action="/admin/meetings/restore")
    assert restored.status_code == 303
    assert bot.office.calendar().cycle("2021-03").meeting == date(2021, 3, 26)
    assert "2021-03" not in bot.office.meeting_overrides()
    log = bot.office.audit.entries()
    assert log[0].section == "วันประชุม" and "กลับเป็นวันปกติ" in log[0].summary
    assert (log[0].before, log[0].after) == ("25 มี.ค. 2564", "26 มี.ค. 2564")
    again = browser.post("/admin/meetings/restore", {"cycle": "2021-03"}, page=page)  # a second click: nothing to do
    assert again.status_code == 303 and len(bot.office.audit.entries()) == len(log)


def test_the_monthly_memo_signer_and_addressee_are_set_in_the_console(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    fallback = bot.office.documents()
    assert fallback == bot.config.documents  # nothing set yet: the configuration's header
    saved = browser.submit("/admin/meetings?fy=2564", {"signer_name": "นางสาวใหม่ เลขานุการ",
                                                       "addressee": "ปลัดองค์การบริหารส่วนตำบลหนองเมือง"},
                           action="/admin/meetings/memo?fy=2564")
    assert saved.status_code == 303
    header = bot.office.documents()
    assert header.signer_name == "นางสาวใหม่ เลขานุการ"
    assert header.addressee == "ปลัดองค์การบริหารส่วนตำบลหนองเมือง"
    assert header.signer_position == fallback.signer_position
    memo = docx.Document(io.BytesIO(browser.get("/reports/2564/2021-02.docx").get_data()))
    text = "\n".join(p.text for p in memo.paragraphs)
    assert "(นางสาวใหม่ เลขานุการ)" in text and "เรียน  ปลัดองค์การบริหารส่วนตำบลหนองเมือง" in text
    entry = bot.office.audit.entries()[0]
    assert entry.section == "หัวบันทึกรายงานประจำเดือน" and "นางสาวใหม่ เลขานุการ" in entry.after
