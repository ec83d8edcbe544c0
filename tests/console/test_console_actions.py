"""Managers' actions are recorded wherever they are taken (chat, console, command line), naming who by handle and role;
the members page lists and revokes open role codes."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest

from ita_bot.cli import cmd_invite
from tests.conftest import CHAIR, MEMBER, NAMES, SECRETARY, STAFF_SP
from tests.console_harness import Browser

pytestmark = pytest.mark.backends("tinydb", "postgresql")

HISTORY = "/admin/history"


def history_text(browser: Browser) -> str:
    html = browser.html(HISTORY)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_every_chat_command_and_the_cli_invite_leave_a_history_row(make_bot: Any) -> None:
    """Changes made in LINE chat and with `bot.py invite` show in the console's history, as console changes do."""
    bot = make_bot(registration={"mode": "approve"})
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    handle = bot.office.people.get(STAFF_SP).tag

    assert "ตั้งวันประชุม" in bot.send("/ประชุม 25/3/2564", user=SECRETARY).text
    assert "อนุมัติ" in bot.send(f"/อนุมัติ {handle}", user=SECRETARY).text
    invited = bot.send("/เชิญ กรรมการ", user=SECRETARY).text
    code = invited.split("/รหัส ")[1].split()[0]
    assert "ยกเลิกรหัสเชิญ" in bot.send("/รหัสเชิญ ยกเลิก #1", user=SECRETARY).text
    assert "ลบ" in bot.send(f"/ลบสมาชิก {handle}", user=SECRETARY).text
    assert cmd_invite(bot.config, "member") == 0

    log = bot.office.audit.entries()
    summaries = [e.summary for e in log]
    assert len(log) == 6, summaries
    assert [e.section for e in log] == ["รหัสบทบาท", "สมาชิก", "รหัสบทบาท", "รหัสบทบาท", "สมาชิก", "วันประชุม"]
    assert [e.via for e in log] == ["คำสั่งของผู้ดูแลระบบ"] + ["แชต LINE"] * 5
    assert code not in str(log)  # the code itself is never recorded

    browser = Browser(bot)
    browser.sign_in()
    text = history_text(browser)
    assert "ตั้งวันประชุมรอบ มี.ค. 2564" in text and "25 มี.ค. 2564" in text
    assert f"อนุมัติ {handle} {NAMES[STAFF_SP]}" in text
    assert f"ลบ {handle} {NAMES[STAFF_SP]}" in text
    assert "ยกเลิกรหัสเชิญ #1 บทบาท กรรมการ" in text
    assert "โดย ผู้ดูแลระบบ ทางคำสั่งของผู้ดูแลระบบ" in text
    # The five above and the sign-in link that opened this page (`/จัดการ` in chat).
    assert "ขอลิงก์เข้าระบบจัดการ" in text and text.count("ทางแชต LINE") == 6


def test_history_names_a_manager_by_handle_and_role_not_a_borrowed_name(bot: Any) -> None:
    """A new manager who takes the chair's display name is not shown as the chair in the history."""
    bot.send("/ฉัน", user=CHAIR)
    code = bot.send("/เชิญ เลขานุการ", user=SECRETARY).text.split("/รหัส ")[1].split()[0]
    bot.standin.add_user(MEMBER, NAMES[CHAIR])  # the new manager's LINE name is the chair's
    bot.send(f"/รหัส {code}", user=MEMBER)
    chair, member = bot.office.people.get(CHAIR), bot.office.people.get(MEMBER)
    assert chair.name == member.name == NAMES[CHAIR] and member.tag != chair.tag

    bot.send("/ประชุม 25/3/2564", user=MEMBER)
    bot.send("/ประชุม 26/3/2564", user=CHAIR)
    entries = bot.office.audit.entries()
    assert [e.who for e in entries[:2]] == [f"{chair.tag} {NAMES[CHAIR]} (ประธาน)",
                                           f"{member.tag} {NAMES[CHAIR]} (เลขานุการ)"]
    browser = Browser(bot)
    browser.sign_in()
    text = history_text(browser)
    assert f"โดย {member.tag} {NAMES[CHAIR]} (เลขานุการ)" in text
    assert f"โดย {chair.tag} {NAMES[CHAIR]} (ประธาน)" in text


def test_members_page_lists_open_codes_and_revokes_one(bot: Any) -> None:
    """The members page lists open role codes (never the code itself) and a manager revokes one there."""
    first = bot.send("/เชิญ กรรมการ", user=SECRETARY).text.split("/รหัส ")[1].split()[0]
    browser = Browser(bot)
    browser.sign_in()
    issued = browser.submit("/admin/members", {"role": "secretary"}, action="/admin/members/code")
    second = issued.get_data(as_text=True).split('class="code">', 1)[1].split("<", 1)[0]

    page = browser.html("/admin/members")
    listed = unescape(re.sub(r"<[^>]+>", " ", page.split('id="codes"', 1)[1].split("</table>", 1)[0]))
    assert "#1" in listed and "#2" in listed and "กรรมการ" in listed and "เลขานุการ" in listed
    assert first not in page and second not in page
    assert "ออกโดย" in page and NAMES[SECRETARY] in listed

    refused = browser.post("/admin/members/code/revoke", {"number": "1"}, token=None, page="/admin/members")
    assert refused.status_code == 400 and len(bot.office.people.unused_codes(bot.now)) == 2  # no token, no change
    done = browser.submit("/admin/members", action="/admin/members/code/revoke")  # the first code's button
    assert done.status_code == 303
    assert [c["number"] for c in bot.office.people.unused_codes(bot.now)] == [2]
    assert "ไม่ถูกต้อง" in bot.send(f"/รหัส {first}", user=MEMBER).text
    assert bot.office.audit.entries()[0].summary == "ยกเลิกรหัสเชิญ #1 บทบาท กรรมการ"
    again = browser.post("/admin/members/code/revoke", {"number": "1"}, page="/admin/members")
    # Recorded: the chat invitation, the sign-in link, the console code and its revocation; nothing more.
    assert again.status_code == 303 and len(bot.office.audit.entries()) == 4


def test_only_the_chair_revokes_a_chair_code(bot: Any) -> None:
    """A secretary cannot cancel the chair's invitation of a vice chair."""
    bot.send("/เชิญ รองประธาน", user=CHAIR)
    assert "ไม่พบรหัสเชิญ" in bot.send("/รหัสเชิญ ยกเลิก 1", user=SECRETARY).text
    assert len(bot.office.people.unused_codes(bot.now)) == 1
    assert "ยกเลิกรหัสเชิญ" in bot.send("/รหัสเชิญ ยกเลิก 1", user=CHAIR).text
