"""Signing out, unknown console addresses, an expired session on submit, and what every page links to."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ita_bot.publish.chart import STATUS_COLORS
from tests.console.test_console_plans import OCT_2021, result_changes
from tests.console_harness import Browser, form_fields

pytestmark = pytest.mark.backends("tinydb", "postgresql")


def test_logout_leads_to_a_signed_out_page_without_name_or_menu(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    out = browser.post("/admin/logout", page="/admin")
    assert out.status_code == 303 and out.headers["Location"].endswith("/admin/signed-out")
    page = browser.html("/admin/signed-out")
    assert "ออกจากระบบแล้ว" in page and "/จัดการ" in page
    assert "เลขาทดสอบ" not in page and 'nav class="menu"' not in page and "/admin/logout" not in page
    assert browser.get("/admin").status_code == 303


def test_an_unknown_console_address_is_a_thai_page_with_a_viewport(bot: Any) -> None:
    anonymous = Browser(bot)
    for path in ("/admin/no-such-page", "/admin/plans/2564/x/y"):
        response = anonymous.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 404 and "ไม่พบหน้าที่ต้องการ" in html and 'name="viewport"' in html, path
        assert "Not Found" not in html and 'nav class="menu"' not in html  # no data without a session
    browser = Browser(bot)
    browser.sign_in()
    signed = browser.get("/admin/no-such-page").get_data(as_text=True)
    assert "ไม่พบหน้าที่ต้องการ" in signed and 'nav class="menu"' in signed  # the way back is the menu
    wrong_method = browser.get("/admin/logout")
    assert wrong_method.status_code == 405 and "ไม่ได้ทำอะไร" in wrong_method.get_data(as_text=True)
    # Public addresses keep their own answers.
    assert browser.get("/no-such-page").status_code == 404
    assert "ไม่พบหน้าที่ต้องการ" not in browser.get("/no-such-page").get_data(as_text=True)


def test_a_refused_token_reshows_the_form_with_what_was_typed_and_saves_nothing(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    before = bot.office.plans.version(2564)
    refused = browser.submit("/admin/plans/2564/organization", {"district": "อำเภอที่พิมพ์ไว้", "csrf_token": "stale"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'value="อำเภอที่พิมพ์ไว้"' in html and "ข้อมูลที่กรอกยังอยู่ครบ" in html and "รหัสป้องกัน" not in html
    assert bot.office.plans.version(2564) == before
    # The re-shown form carries a valid token: pressing save again saves what was typed.
    again = browser.client.post("/admin/plans/2564/organization", data=form_fields(html), base_url=browser.base,
                                headers={"Referer": browser.base + "/admin/plans/2564/organization"})
    assert again.status_code == 303
    assert bot.office.plans.get(2564).organization.district == "อำเภอที่พิมพ์ไว้"


def test_an_expired_session_keeps_what_was_typed_until_the_next_sign_in(bot: Any) -> None:
    bot.now = OCT_2021
    browser = Browser(bot)
    browser.sign_in()
    changes = result_changes(browser.html("/admin/results"))
    changes["indicators-0-notes"] = "ข้อสังเกตที่พิมพ์ไว้นาน"
    fields = form_fields(browser.html("/admin/results"))
    for name, value in changes.items():
        fields.setlist(name, [value])
    bot.advance(hours=8, minutes=5)  # lunch, a meeting, the end of the day: the session is over
    expired = browser.client.post("/admin/results", data=fields, base_url=browser.base,
                                  headers={"Referer": browser.base + "/admin/results"})
    assert expired.status_code == 400
    kept = expired.get_data(as_text=True)
    assert "หมดเวลาเข้าสู่ระบบ ข้อมูลที่กรอกยังอยู่" in kept and "ข้อสังเกตที่พิมพ์ไว้นาน" in kept
    assert "รหัสป้องกัน" not in kept and "เลขาทดสอบ" not in kept and 'nav class="menu"' not in kept
    assert bot.office.plans.get(2565) is None

    # A new link (in another tab), then "บันทึกอีกครั้ง" on the kept page: the real form, filled in.
    browser.sign_in()
    reshown = browser.client.post("/admin/results", data=form_fields(kept), base_url=browser.base,
                                  headers={"Referer": browser.base + "/admin/results"})
    assert reshown.status_code == 400 and bot.office.plans.get(2565) is None
    html = reshown.get_data(as_text=True)
    assert "ข้อสังเกตที่พิมพ์ไว้นาน" in html and 'value="80.00"' in html and "ยังบันทึกไม่ได้ กรุณาแก้ช่อง" not in html
    saved = browser.client.post("/admin/results", data=form_fields(html), base_url=browser.base,
                                headers={"Referer": browser.base + "/admin/results"})
    assert saved.status_code == 303 and bot.office.plans.get(2565) is not None


def test_months_before_the_plan_was_set_are_not_overdue(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    html = browser.html("/admin/year/2564")  # plan 2564 was set on 5 Jan 2021: Oct–Dec 2020 owed nothing
    row = html.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    cells = row.split('class="cell')[1:]
    assert len(cells) == 12
    assert all("s-before" in c and "ก่อนมีแผน" in c for c in cells[:3])
    assert not any("s-pending" in c for c in cells[:3])



def test_each_status_has_one_colour_in_the_chart_the_legend_and_the_public_page(bot: Any) -> None:
    """The chart's "never reported" bar was #d9d9d9 beside a #f7f7f7 legend swatch and a #cfcfcf public badge."""
    browser = Browser(bot)
    browser.sign_in()
    console = browser.html("/admin/year/2564")
    public = bot.client.get("/reports/2564").get_data(as_text=True)
    for status, colour in STATUS_COLORS.items():
        assert f"--{status}: {colour};" in console and f"--{status}: {colour};" in public
    bars = set(re.findall(r'<rect [^>]*fill="(#[0-9a-f]{6})"', console))
    assert bars and bars <= set(STATUS_COLORS.values())
    assert ".s-none { background: var(--none);" in console

def test_the_current_month_and_its_documents_are_at_hand(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    html = browser.html("/admin")
    cycle = bot.office.calendar().cycle_of(bot.now.date())
    for link in (f"/reports/2564/{cycle.id}.docx", f"/reports/2564/{cycle.id}.csv", "/reports/2564\""):
        assert link in html, link
    assert 'class="num current"' in html and 'class="phone-only now-cards"' in html  # the month's own cards
    assert "data-print" in html and "/admin/static/console.js" in html  # the print button (script from the site)
    assert "window.print()" in browser.get("/admin/static/console.js").get_data(as_text=True)
    assert browser.get(f"/reports/2564/{cycle.id}.docx").status_code == 200
