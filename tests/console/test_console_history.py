"""The change history reads as Thai field changes, and "ย้อนกลับ" undoes one as a new, recorded change."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console_harness import Browser, form_fields

pytestmark = pytest.mark.backends("tinydb", "postgresql")

ORG = "/admin/plans/2564/organization"


def renamed(bot: Any) -> Browser:
    browser = Browser(bot)
    browser.sign_in()
    saved = browser.submit(ORG, {"short_name": "อบต.หนองเมืองใหม่"})
    assert saved.status_code == 303, saved.get_data(as_text=True)[-1500:]
    return browser


def test_a_change_is_shown_as_a_thai_field_with_before_and_after(bot: Any) -> None:
    browser = renamed(bot)
    html = browser.html("/admin/history")
    assert "หน่วยงานและการประชุมกำหนดมาตรการ" in html and "ชื่อย่อ" in html
    row = html.split('data-label="ช่อง">ชื่อย่อ</td>', 1)[1].split("</tr>", 1)[0]
    assert "อบต.หนองเมือง<" in row and "อบต.หนองเมืองใหม่" in row
    # No file text: no TOML table headers, no English comments, and unchanged fields are not listed.
    assert "[organization]" not in html and "# ITA plan" not in html and "short_name" not in html
    assert 'data-label="ช่อง">อำเภอ</td>' not in html


def test_undo_asks_first_then_restores_as_a_new_recorded_change(bot: Any) -> None:
    browser = renamed(bot)
    history = browser.html("/admin/history")
    action = history.split('action="/admin/history/', 1)[1].split('"', 1)[0]
    asked = browser.client.post(f"/admin/history/{action}", data=form_fields(history, f"/admin/history/{action}"),
                                base_url=browser.base, headers={"Referer": browser.base + "/admin/history"})
    assert asked.status_code == 200 and "ยืนยันย้อนกลับ" in asked.get_data(as_text=True)
    assert bot.office.plans.get(2564).organization.short_name == "อบต.หนองเมืองใหม่"  # nothing yet

    confirm = form_fields(asked.get_data(as_text=True), f"/admin/history/{action}")
    done = browser.client.post(f"/admin/history/{action}", data=confirm, base_url=browser.base,
                               headers={"Referer": browser.base + "/admin/history"})
    assert done.status_code == 303, done.get_data(as_text=True)[-1500:]
    assert bot.office.plans.get(2564).organization.short_name == "อบต.หนองเมือง"
    latest = bot.office.plans.history()[0]
    assert latest.section == "organization" and latest.note.startswith("ย้อนกลับ")
    assert latest.who == "#1 เลขาทดสอบ (เลขานุการ)"
    assert len(bot.office.plans.history()) == 2
    assert "ย้อนกลับการแก้ไขเมื่อ" in browser.html("/admin/history")


def test_undo_without_a_token_or_over_a_newer_plan_changes_nothing(bot: Any) -> None:
    browser = renamed(bot)
    history = browser.html("/admin/history")
    action = history.split('action="/admin/history/', 1)[1].split('"', 1)[0]
    fields = form_fields(history, f"/admin/history/{action}")
    fields["confirm"] = "yes"
    version = bot.office.plans.version(2564)
    no_token = fields.copy()
    no_token.poplist("csrf_token")
    refused = browser.client.post(f"/admin/history/{action}", data=no_token, base_url=browser.base,
                                  headers={"Referer": browser.base + "/admin/history"})
    assert refused.status_code == 400 and bot.office.plans.version(2564) == version

    # Someone saves another section meanwhile: the page's version is stale, so the undo is refused.
    assert browser.submit("/admin/plans/2564/memo", {"subject": "เรื่องใหม่ของบันทึก"}).status_code == 303
    version = bot.office.plans.version(2564)
    stale = browser.client.post(f"/admin/history/{action}", data=fields, base_url=browser.base,
                                headers={"Referer": browser.base + "/admin/history"})
    assert stale.status_code == 409 and "ถูกแก้ไขไปแล้ว" in stale.get_data(as_text=True)
    assert bot.office.plans.version(2564) == version


def test_an_older_change_of_a_section_edited_again_is_not_undone(bot: Any) -> None:
    browser = renamed(bot)
    assert browser.submit(ORG, {"district": "อำเภอใหม่"}).status_code == 303
    history = browser.html("/admin/history")
    assert history.count('action="/admin/history/') == 1  # only the latest change of the section
    older = bot.office.plans.history()[1]
    fields = form_fields(history, "/admin/history/" + history.split('action="/admin/history/', 1)[1].split('"')[0])
    fields["confirm"] = "yes"
    version = bot.office.plans.version(2564)
    refused = browser.client.post(f"/admin/history/{older.id}/undo", data=fields, base_url=browser.base,
                                  headers={"Referer": browser.base + "/admin/history"})
    assert refused.status_code == 400 and "ย้อนกลับรายการที่ใหม่กว่าก่อน" in refused.get_data(as_text=True)
    assert bot.office.plans.version(2564) == version
