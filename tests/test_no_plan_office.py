"""A new office with no plan at all (hosted mode before its first plan): every chat command, page, /healthz and job
answers politely, and the console makes the first plan from the last ITA result and the starter measures."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from ita_bot.chat.commands.registry import COMMANDS
from ita_bot.domain.draft import FILL_IN, starter_measures
from ita_bot.domain.thai import BANGKOK
from ita_bot.line.client import LineClient
from ita_bot.schedule.jobs import JOBS, NOTHING, run_job
from tests.chat_harness import ChatBot
from tests.conftest import CHAIR, SECRETARY, STAFF_SP, STRANGER, TOKEN
from tests.console_harness import Browser, form_fields

pytestmark = pytest.mark.backends("tinydb", "postgresql")

NAME = "องค์การบริหารส่วนตำบลทดลอง"
OCT_2021 = datetime(2021, 10, 5, 9, 0, tzinfo=BANGKOK)  # fiscal year 2565; the last ITA result is 2564's
STAFF_TOLD = "เมื่อคณะกรรมการกำหนดแผนแล้ว จะรายงานผลได้ทันที"
MANAGER_TOLD = "ยังไม่มีแผนของ" + NAME


@pytest.fixture
def new_office(standin: Any, make_config: Callable[..., Any]) -> Iterator[ChatBot]:
    """A bot over a fresh store whose config names no plan (as a hosted office's), the clock in October 2564."""
    config = dataclasses.replace(make_config(), plan_path=None, organization_name=NAME)
    bot = ChatBot(standin, config)
    bot.now = OCT_2021
    yield bot
    bot.close()


def test_the_office_starts_with_no_plan_and_says_its_configured_name(new_office: ChatBot) -> None:
    office = new_office.office
    assert not office.has_plan and office.plans.years() == [] and office.organization_name == NAME
    assert office.config.plans_dir is None


def test_every_chat_command_answers_politely(new_office: ChatBot) -> None:
    new_office.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    for command in COMMANDS:
        for user, group in ((STAFF_SP, True), (SECRETARY, None), (STRANGER, None)):
            replies = new_office.send(f"/{command.name}", user=user, group=group)
            text = replies.text
            assert text, (command.name, user)
            assert "ขออภัย ระบบขัดข้อง" not in text and "Traceback" not in text, (command.name, text)
    # What needs a plan says why and what happens next, in words for each.
    assert STAFF_TOLD in new_office.send("/มาตรการ", user=STAFF_SP, group=True).text
    assert STAFF_TOLD in new_office.send("/รายงาน 1 กำลังทำ 50% เริ่มแล้ว", user=STAFF_SP, group=True).text
    secretary = new_office.send("/สถานะ", user=SECRETARY).text
    assert MANAGER_TOLD in secretary and "“ผลประเมิน ITA”" in secretary and "/จัดการ" in secretary
    # What needs no plan works: help, and the console link the secretary needs to make one.
    assert "/ช่วยเหลือ" in new_office.send("/ช่วยเหลือ", user=STAFF_SP).text
    assert "/admin/login/" in new_office.send("/จัดการ", user=SECRETARY).text
    assert new_office.reports(2565) == []


def test_report_pages_and_healthz_answer(new_office: ChatBot) -> None:
    for path in ("/reports", "/reports/2565", "/reports/2565/2021-10", "/reports/2565/2021-10.json"):
        response = new_office.client.get(path)
        assert response.status_code == 404, path
        assert STAFF_TOLD in response.get_data(as_text=True), path
    status, body = new_office.healthz()
    assert status == 200, body
    assert body["status"] == "degraded" and "no_plan" in body["problems"] and body["plans"] == []


def test_jobs_skip_the_office_and_plan_job_tells_how_to_make_the_first_plan(new_office: ChatBot) -> None:
    line = LineClient(TOKEN, new_office.standin.url, new_office.standin.url)
    for name in JOBS:
        if name == "plan":
            continue
        result = run_job(new_office.office, line, name, datetime(2021, 10, 27, 9, 0, tzinfo=BANGKOK))
        assert result.ok and all(r.outcome == NOTHING for r in result.lines), (name, result.lines)
    assert new_office.office.notices.active() == []  # nothing piles up each cycle
    sent = run_job(new_office.office, line, "plan", datetime(2021, 10, 1, 9, 0, tzinfo=BANGKOK))
    assert sent.ok, sent.lines
    pushed = "\n".join(m["text"] for p in new_office.standin.pushes() for m in p["messages"] if "text" in m)
    assert "วิธีจัดทำแผนฉบับแรก" in pushed and "“ผลประเมิน ITA”" in pushed and "ร่างแผนปีถัดไป" not in pushed


def test_console_pages_answer_without_a_plan(new_office: ChatBot) -> None:
    browser = Browser(new_office)
    browser.sign_in()
    for path in ("/admin", "/admin/year/2565", "/admin/plans", "/admin/members", "/admin/meetings",
                 "/admin/history", "/admin/results", "/admin/draft"):
        response = browser.get(path)
        assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[-1500:])
        assert NAME in response.get_data(as_text=True), path
    overview = browser.html("/admin")
    assert "ยังไม่มีแผนของหน่วยงาน" in overview and 'href="/admin/results"' in overview
    results = browser.html("/admin/results")
    assert "แผนฉบับแรกของหน่วยงาน" in results and "ประสิทธิภาพการสื่อสาร" in results  # the NACC's indicators


def _scores(html: str) -> dict[str, Any]:
    """The last ITA result (2564): 90.00 everywhere except OIT 1 at 70.00 (under the 85 target)."""
    fields = form_fields(html)
    changes: dict[str, Any] = {"ita_year": "2564", "total": "88.00"}
    i = 0
    while f"indicators-{i}-instrument" in fields:
        instrument, number = fields[f"indicators-{i}-instrument"], fields[f"indicators-{i}-number"]
        if instrument:
            changes[f"indicators-{i}-score"] = "70.00" if (instrument, number) == ("OIT", "1") else "90.00"
        i += 1
    return changes


def _date(name: str, day: str) -> dict[str, str]:
    """A day of October 2564 as the three boxes of a console date field post it."""
    return {f"{name}-day": day, f"{name}-month": "10", f"{name}-year": "2564"}


def test_first_plan_from_the_result_and_starter_measures_then_staff_report(new_office: ChatBot) -> None:
    bot = new_office
    browser = Browser(bot)
    browser.sign_in()
    entered = browser.submit("/admin/results", _scores(browser.html("/admin/results")))
    assert entered.status_code == 303, entered.get_data(as_text=True)[-2000:]
    assert entered.headers["Location"].endswith("/admin/draft?fy=2565")
    plan = bot.office.plans.get(2565)
    assert plan is not None and plan.assessment is not None and plan.assessment.fiscal_year == 2564
    assert plan.organization.name == NAME and plan.measures == ()
    assert {"divisions", "committee.order", "committee.members", "set_on"} <= set(plan.to_fill)
    # The OIT items start from the latest list known (2569's), the report item on the year before, to check.
    assert [(o.code, o.covers, o.fiscal_year) for o in plan.oit] == [("O25", "measures", 2565), ("O26", "report", 2564)]
    assert {"oit[0].code", "oit[1].code"} <= set(plan.to_fill)

    # The draft offers the below-target suggestion and every starter measure, no division ticked.
    page = browser.html("/admin/draft?fy=2565")
    starters = starter_measures(2565)
    assert 5 <= len(starters) <= 7 and all(not s.divisions for s in starters)
    for s in starters:
        assert s.title in page and s.period == "ปีงบประมาณ ๒๕๖๕"
    assert "มาตรการตั้งต้น:" in page and "แผนฉบับแรก" in page
    fields = form_fields(page)
    rows = [k.split("-")[1] for k in fields if k.endswith("-title") and k.startswith("suggestions-")]
    assert len(rows) == len(starters) + 1
    assert not any(k.endswith("-divisions") for k in fields)  # none ticked for her
    # Keep the first two starter measures (rows after the OIT 1 suggestion), drop the rest.
    kept = {rows[1]: ["sp"], rows[2]: ["sp", "klang"]}
    changes: dict[str, Any] = {f"suggestions-{r}-choice": "drop" for r in rows if r not in kept}
    changes.update({f"suggestions-{r}-divisions": divs for r, divs in kept.items()})
    saved = browser.submit("/admin/draft?fy=2565", changes)
    assert saved.status_code == 303, saved.get_data(as_text=True)[-3000:]
    plan = bot.office.plans.get(2565)
    assert plan is not None
    assert [m.title for m in plan.measures] == [starters[0].title, starters[1].title]
    assert plan.measures[1].divisions == ("sp", "klang")

    # Fill what only the office knows, section by section, following the plan page's list.
    fills: dict[str, dict[str, Any]] = {
        "organization": {"short_name": "อบต.ทดลอง", "district": "อำเภอเมือง", "province": "จังหวัดลพบุรี",
                         **_date("set_on", "20")},
        "divisions": {},  # the stand-in list is right for this office: saving it confirms it
        "committee": {"order": "๕/๒๕๖๕", **_date("signed", "15"), "signer": "นายทดลอง ใจดี",
                      "members-0-name": "นายทดลอง ใจดี", "members-0-position": "นายก อบต.ทดลอง",
                      "members-1-name": "นางสาวเลขา ตั้งใจ", "members-1-position": "นักวิเคราะห์นโยบายและแผน"},
        "memo": {"reference": "ลบ ๗๗๗๐๑/ว.๑", **_date("date", "20"), "office": f"{NAME} สำนักงานปลัด",
                 "addressees": "หัวหน้าสำนักปลัด/ผู้อำนวยการกองคลัง/ผู้อำนวยการกองช่าง",
                 "intro": "ตามที่ได้วิเคราะห์ผลการประเมิน ITA พ.ศ. ๒๕๖๔ เมื่อวันที่ ๒๐ ตุลาคม ๒๕๖๔ นั้น"},
        "oit": {},  # the starter's items (the latest list known) are this year's: saving them checks them
    }
    assert "รายชื่อกองของหน่วยงาน" in browser.html("/admin/plans/2565")
    for section, values in fills.items():
        response = browser.submit(f"/admin/plans/2565/{section}", values)
        assert response.status_code == 303, (section, response.get_data(as_text=True)[-3000:])
    plan = bot.office.plans.get(2565)
    assert plan is not None and plan.to_fill == (), plan.to_fill
    assert FILL_IN not in bot.office.plans.text(2565)
    assert plan.committee.order == "๕/๒๕๖๕" and [m.name for m in plan.committee.members][:2] == [
        "นายทดลอง ใจดี", "นางสาวเลขา ตั้งใจ"]

    # Staff report on the new plan in chat, and the pages show it.
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    reply = bot.send("/รายงาน 2 กำลังทำ 50% ติดป้ายช่องทางร้องเรียนแล้ว", user=STAFF_SP,
                     at=datetime(2021, 10, 6, 10, 0, tzinfo=BANGKOK))
    assert [r.measure for r in bot.reports(2565)] == [2], reply.text
    assert bot.client.get("/reports/2565").status_code == 200
    status, body = bot.healthz()
    assert status == 200 and "no_plan" not in body.get("problems", []), body


def test_a_chair_is_told_too(new_office: ChatBot) -> None:
    text = new_office.send("/ค้าง", user=CHAIR).text
    assert MANAGER_TOLD in text and "แจ้งเลขานุการ" not in text
