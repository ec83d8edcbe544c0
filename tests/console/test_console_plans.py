"""The console's plan work through real forms: results → draft → saved plan, and every refusal saving nothing."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.progress import Report
from ita_bot.domain.thai import BANGKOK
from tests.conftest import CHAIR, PLAN_2564, STAFF_SP
from tests.console_harness import Browser, form_fields

pytestmark = pytest.mark.backends("tinydb", "postgresql")

OCT_2021 = datetime(2021, 10, 5, 9, 0, tzinfo=BANGKOK)  # fiscal year 2565 has begun, and has no plan yet


def result_changes(html: str, low: tuple[str, int] = ("EIT", 2)) -> dict[str, Any]:
    """Scores for every indicator on the results form: 90.00, except one at 80.00 (under the 85 target)."""
    fields = form_fields(html)
    changes: dict[str, Any] = {"ita_year": "2564", "total": "90.00"}
    i = 0
    while f"indicators-{i}-instrument" in fields:
        instrument, number = fields[f"indicators-{i}-instrument"], fields[f"indicators-{i}-number"]
        if instrument:
            is_low = (instrument, str(low[1])) == (low[0], number)
            changes[f"indicators-{i}-score"] = "80.00" if is_low else "90.00"
            if is_low:
                changes[f"indicators-{i}-notes"] = "ประชาสัมพันธ์ช่องทางร้องเรียนให้ประชาชนทราบ\nสำรวจความพึงพอใจผู้รับบริการ"
        i += 1
    return changes


def enter_2564_result(browser: Browser) -> Any:
    return browser.submit("/admin/results", result_changes(browser.html("/admin/results")))


def test_result_then_draft_with_the_suggested_measure_then_staff_report_in_the_new_year(bot: Any) -> None:
    bot.now = OCT_2021
    browser = Browser(bot)
    browser.sign_in()
    assert bot.office.plans.get(2565) is None

    entered = enter_2564_result(browser)
    assert entered.status_code == 303, entered.get_data(as_text=True)[-2000:]
    assert entered.headers["Location"].endswith("/admin/draft?fy=2565")
    plan = bot.office.plans.get(2565)
    assert plan is not None and plan.assessment is not None and plan.assessment.fiscal_year == 2564
    assert [(i.instrument, i.number) for i in plan.assessment.below_target()] == [("EIT", 2)]

    again = browser.html("/admin/results?year=2564")
    assert "มีผลของปี 2564 อยู่แล้ว" in again and 'value="80.00"' in again
    assert 'class="below"' in browser.html("/admin/plans/2565")  # the indicator under target is flagged

    draft_page = browser.html("/admin/draft?fy=2565")
    assert "ตัวชี้วัดที่ 7 ประสิทธิภาพการสื่อสาร (EIT): คะแนน 80.00" in draft_page
    # The suggestion is kept as offered, once a division is chosen for it.
    saved = browser.submit("/admin/draft?fy=2565", {"suggestions-0-divisions": ["sp"]})
    assert saved.status_code == 303, saved.get_data(as_text=True)[-2000:]
    plan = bot.office.plans.get(2565)
    assert plan is not None
    suggested = [m for m in plan.measures if m.title == "พัฒนาประสิทธิภาพการสื่อสาร"]
    assert len(suggested) == 1 and suggested[0].divisions == ("sp",)

    history = browser.html("/admin/history")
    assert "แผนปีงบประมาณ 2565" in history and "ผลการประเมิน ITA" in history and "เลขาทดสอบ" in history

    # The bot follows the saved plan at once: a staff report in fiscal year 2565 is accepted.
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    reply = bot.send(f"/รายงาน {suggested[0].number} 50% ติดป้ายช่องทางร้องเรียนแล้ว", user=STAFF_SP,
                     at=datetime(2021, 10, 6, 10, 0))
    assert any(r.measure == suggested[0].number for r in bot.reports(2565)), reply.text



def test_post_without_csrf_token_is_400_and_changes_nothing(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    before = bot.office.plans.version(2564)
    fields = form_fields(browser.html("/admin/plans/2564/organization"))
    fields["name"] = "ชื่อใหม่ที่ไม่ควรถูกบันทึก"
    fields.poplist("csrf_token")
    response = browser.client.post("/admin/plans/2564/organization", data=fields, base_url=browser.base,
                                   headers={"Referer": browser.base + "/admin/plans/2564/organization"})
    assert response.status_code == 400
    assert "ไม่ได้บันทึก" in response.get_data(as_text=True)
    wrong = browser.submit("/admin/plans/2564/organization", {"name": "ชื่อใหม่", "csrf_token": "forged"})
    assert wrong.status_code == 400
    assert bot.office.plans.version(2564) == before
    assert bot.office.plans.history() == []


def test_a_stale_version_is_refused_with_a_message(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    page = "/admin/plans/2564/organization"
    stale = form_fields(browser.html(page))
    # Someone else saves first.
    assert browser.submit(page, {"short_name": "อบต.หนองเมือง (ใหม่)"}).status_code == 303
    after_first = bot.office.plans.version(2564)
    stale["district"] = "อำเภออื่น"
    response = browser.client.post(page, data=stale, base_url=browser.base, headers={"Referer": browser.base + page})
    assert response.status_code == 409
    assert "ถูกแก้ไขไปแล้ว" in response.get_data(as_text=True)
    assert bot.office.plans.version(2564) == after_first
    plan = bot.office.plans.get(2564)
    assert plan is not None and plan.organization.district == "อำเภอบ้านหมี่"


def test_invalid_input_is_shown_at_the_field_and_nothing_is_saved(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    before = bot.office.plans.version(2564)
    response = browser.submit("/admin/plans/2564/measures", {"rows-1-title": "", "rows-0-divisions": []})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert html.count('class="error"') >= 2
    # The message sits right after the wrong input.
    title_at = html.index('name="rows-1-title"')
    assert 'class="error"' in html[title_at:title_at + 400]
    assert bot.office.plans.version(2564) == before


def test_removing_a_measure_with_reports_is_refused(bot: Any) -> None:
    bot.office.reports.add(Report(2564, 1, "sp", "doing", 50, "เริ่มแล้ว", bot.now, bot.now, reporter_id=STAFF_SP))
    browser = Browser(bot)
    browser.sign_in()
    before = bot.office.plans.version(2564)
    response = browser.submit("/admin/plans/2564/measures", {"rows-0-remove": "y"})
    assert response.status_code == 400
    assert "ลบมาตรการที่ 1 ไม่ได้" in response.get_data(as_text=True)
    assert bot.office.plans.version(2564) == before


def test_a_section_saves_and_is_audited(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    saved = browser.submit("/admin/plans/2564/divisions", {"rows-3-aliases": "กองการศึกษา, การศึกษา, กศ."})
    assert saved.status_code == 303, saved.get_data(as_text=True)[-1500:]
    plan = bot.office.plans.get(2564)
    assert plan is not None and plan.division("กศ.") is not None
    change = bot.office.plans.history()[0]
    assert change.section == "divisions" and change.who == "#1 เลขาทดสอบ (เลขานุการ)"  # names can be shared
    assert "กศ." in change.after and "กศ." not in change.before


def test_plan_toml_download_and_upload(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    download = browser.get("/admin/plans/2564.toml")
    assert download.status_code == 200
    text = download.get_data(as_text=True)
    assert "fiscal_year = 2564" in text

    before = bot.office.plans.version(2564)
    broken = text.replace('short_name = "อบต.หนองเมือง"', 'short_name = ""')
    bad = browser.post("/admin/plans/2564/file", {"toml": broken})
    assert bad.status_code == 400
    assert "organization.short_name" in bad.get_data(as_text=True)
    assert bot.office.plans.version(2564) == before
    assert browser.post("/admin/plans/2564/file", {"toml": broken}, token=None).status_code == 400

    better = text.replace('short_name = "อบต.หนองเมือง"', 'short_name = "อบต. หนองเมือง"')
    good = browser.post("/admin/plans/2564/file", {"toml": better})
    assert good.status_code == 303
    plan = bot.office.plans.get(2564)
    assert plan is not None and plan.organization.short_name == "อบต. หนองเมือง"


def test_members_roles_and_meeting_dates(bot: Any) -> None:
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    browser = Browser(bot)
    browser.sign_in()
    members = browser.html("/admin/members")
    assert "สมชาย สป" in members and "U" + "1" * 32 not in members  # names, never LINE user ids

    coded = browser.submit("/admin/members", {"role": "member"}, action="/admin/members/code")
    assert coded.status_code == 200
    code = coded.get_data(as_text=True).split('class="code">', 1)[1].split("<", 1)[0]
    assert len(code) >= 8 and code not in browser.html("/admin/members")  # shown once

    moved = browser.submit("/admin/meetings?fy=2564", {"cycle": "2021-03", "day-day": "25", "day-month": "3",
                                                       "day-year": "2564"})
    assert moved.status_code == 303
    assert bot.office.calendar().cycle("2021-03").meeting.isoformat() == "2021-03-25"
    refused = browser.submit("/admin/meetings?fy=2564", {"cycle": "2021-03", "day-day": "3", "day-month": "5",
                                                         "day-year": "2564"})
    assert refused.status_code == 400 and "ต้องอยู่ในเดือนนั้น" in refused.get_data(as_text=True)

    asked = browser.submit("/admin/members", action="/admin/members/remove")  # the first person's ลบ button
    assert asked.status_code == 200 and "ยืนยันการลบ" in asked.get_data(as_text=True)
    assert bot.office.people.get(STAFF_SP) is not None  # nothing removed before the confirmation
    done = browser.client.post("/admin/members/remove", data=form_fields(asked.get_data(as_text=True),
                               "/admin/members/remove"), base_url=browser.base,
                               headers={"Referer": browser.base + "/admin/members"})
    assert done.status_code == 303 and bot.office.people.get(STAFF_SP) is None

    log = bot.office.audit.entries()
    assert [e.section for e in log][:3] == ["สมาชิก", "วันประชุม", "รหัสบทบาท"]
    assert code not in str(log)
    history = browser.html("/admin/history")
    assert "วันประชุม" in history and "รหัสบทบาท" in history


def test_a_wrong_score_is_shown_at_its_field_and_nothing_is_saved(bot: Any) -> None:
    bot.now = OCT_2021
    browser = Browser(bot)
    browser.sign_in()
    changes = result_changes(browser.html("/admin/results"))
    changes["indicators-3-score"] = "ดีมาก"
    changes["total"] = "120"
    response = browser.submit("/admin/results", changes)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for name in ("indicators-3-score", "total"):
        at = html.index(f'name="{name}"')
        assert 'class="error"' in html[at:at + 500], name
    assert bot.office.plans.get(2565) is None


def test_results_speak_of_fields_and_number_indicators_as_the_nacc_does(bot: Any) -> None:
    bot.now = OCT_2021
    browser = Browser(bot)
    browser.sign_in()
    page = browser.html("/admin/results")
    column = re.findall(r'<td data-label="ตัวชี้วัดที่" class="num"[^>]*>([^<]*)<input', page)
    assert column == [str(n) for n in range(1, 11)] + ["ใหม่"]  # 1–10 as in the NACC's report
    changes = result_changes(page)
    changes["indicators-6-score"] = ""  # EIT 2 in the plan file: ประสิทธิภาพการสื่อสาร, the NACC's no. 7
    changes["indicators-0-score"] = "120"
    response = browser.submit("/admin/results", changes)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    at = html.index('name="indicators-6-score"')
    assert "กรุณากรอกคะแนน (เช่น 96.60)" in html[at:at + 600]
    assert "คะแนนต้องอยู่ระหว่าง 0 ถึง 100" in html[html.index('name="indicators-0-score"'):][:600]
    # The banner names the fields and links to each.
    assert '<a href="#indicators-6-score">คะแนนตัวชี้วัดที่ 7 ประสิทธิภาพการสื่อสาร (EIT)</a>' in html
    assert '<a href="#indicators-0-score">คะแนนตัวชี้วัดที่ 1 การปฏิบัติหน้าที่ (IIT)</a>' in html
    for file_words in ("เครื่องหมายคำพูด", "กรอกไว้ ''", "assessment.indicators"):
        assert file_words not in html
    assert bot.office.plans.get(2565) is None


def test_an_added_indicator_takes_the_next_number_of_its_instrument(bot: Any) -> None:
    bot.now = OCT_2021
    browser = Browser(bot)
    browser.sign_in()
    changes = result_changes(browser.html("/admin/results"))
    changes.update({"indicators-10-instrument": "OIT", "indicators-10-name": "ตัวชี้วัดใหม่",
                    "indicators-10-score": "88.00"})
    assert browser.submit("/admin/results", changes).status_code == 303
    plan = bot.office.plans.get(2565)
    assert plan is not None and plan.assessment is not None
    added = plan.assessment.indicators[-1]
    assert (added.instrument, added.number, added.name) == ("OIT", 3, "ตัวชี้วัดใหม่")
    assert plan.assessment.label(added) == "ตัวชี้วัดที่ 11 ตัวชี้วัดใหม่ (OIT)"


def test_a_year_without_a_plan_is_a_thai_404(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    for path in ("/admin/plans/2599", "/admin/plans/2599.toml", "/admin/plans/2599/measures", "/admin/plans/2599/file"):
        response = browser.get(path)
        assert response.status_code == 404 and "ไม่พบหน้า" in response.get_data(as_text=True), path


def test_a_saved_change_is_followed_at_once_by_another_worker(make_bot: Any) -> None:
    from tests.chat_harness import ChatBot

    web = make_bot()
    other = ChatBot(web.standin, web.config)  # a second gunicorn worker over the same data folder
    try:
        browser = Browser(web)
        browser.sign_in()
        saved = browser.submit("/admin/plans/2564/measures", {"rows-1-title": "เพิ่มประสิทธิภาพการสื่อสารกับประชาชน"})
        assert saved.status_code == 303
        assert "เพิ่มประสิทธิภาพการสื่อสารกับประชาชน" in other.send("/มาตรการ", user=STAFF_SP).all_text
    finally:
        other.close()


def test_a_suggested_measure_edited_or_dropped(bot: Any) -> None:
    bot.now = OCT_2021
    browser = Browser(bot)
    browser.sign_in()
    assert enter_2564_result(browser).status_code == 303
    before = len(bot.office.plans.get(2565).measures)
    # "Drop" wins over any text typed into the suggestion.
    kept = browser.submit("/admin/draft?fy=2565", {"suggestions-0-title": "ชื่อที่ไม่ได้เลือกใช้",
                                                   "suggestions-0-choice": "drop"})
    assert kept.status_code == 303
    assert len(bot.office.plans.get(2565).measures) == before  # dropped: nothing added
    edited = browser.submit("/admin/draft?fy=2565", {"suggestions-0-choice": "keep",
                                                     "suggestions-0-title": "เปิดช่องทางรับฟังความเห็นประชาชน",
                                                     "suggestions-0-divisions": ["sp", "klang"]})
    assert edited.status_code == 303
    plan = bot.office.plans.get(2565)
    added = plan.measures[-1]
    assert len(plan.measures) == before + 1
    assert added.title == "เปิดช่องทางรับฟังความเห็นประชาชน" and added.divisions == ("sp", "klang")


def test_only_the_chair_issues_chair_codes_in_the_console(bot: Any) -> None:
    # The same rule as /เชิญ in chat: a secretary cannot mint a chair or vice-chair code; the chair can.
    secretary = Browser(bot)
    secretary.sign_in()
    refused = secretary.submit("/admin/members", {"role": "chair"}, action="/admin/members/code")
    assert refused.status_code == 200 and "ออกได้เฉพาะประธาน" in refused.get_data(as_text=True)
    assert 'class="code">' not in refused.get_data(as_text=True)
    assert bot.office.people.unused_codes(bot.now) == []

    chair = Browser(bot)
    chair.sign_in(CHAIR)
    granted = chair.submit("/admin/members", {"role": "vice_chair"}, action="/admin/members/code")
    assert 'class="code">' in granted.get_data(as_text=True)
    assert [c["role"] for c in bot.office.people.unused_codes(bot.now)] == ["vice_chair"]


@pytest.mark.parametrize("year", ["2750", "2498"])
def test_an_ita_year_whose_plan_year_no_plan_may_have_is_refused_at_the_year(bot: Any, year: str) -> None:
    """The results form takes the years plans may have (their plan is the year after), as the plan check does."""
    bot.now = OCT_2021
    browser = Browser(bot)
    browser.sign_in()
    changes = result_changes(browser.html("/admin/results"))
    answer = browser.submit("/admin/results", {**changes, "ita_year": year})
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "กรุณากรอกปี พ.ศ. 4 หลัก เช่น 2564" in html
    assert bot.office.plans.get(int(year) + 1) is None and bot.office.plans.get(2565) is None


def test_the_results_form_offers_the_levels_of_the_plans_score_bands(make_bot: Any, tmp_path: Path) -> None:
    """The level list is the bands' own (best first), not a fixed AA–F: a plan naming its top band otherwise
    is offered that name, and a level no band has is refused."""
    text = PLAN_2564.read_text(encoding="utf-8")
    text = text.replace('[[score_bands]]\nlevel = "AA"', '[[score_bands]]\nlevel = "AAA"', 1)
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "2564.toml").write_text(text, encoding="utf-8")
    bot = make_bot(organization={"plan": str(tmp_path / "plans" / "2564.toml")})
    bot.now = OCT_2021
    browser = Browser(bot)
    browser.sign_in()
    html = browser.html("/admin/results")
    levels = re.findall(r'<option value="([A-Z]*)"', html[html.index('name="level"'):])
    assert levels[:3] == ["", "AAA", "A"] and "AA" not in levels
    refused = browser.submit("/admin/results", {**result_changes(html), "level": "AA"})
    assert refused.status_code == 400 and bot.office.plans.get(2565) is None
