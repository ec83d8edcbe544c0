"""Managers' commands end to end: meeting dates, export links, members, remove, invite, set group, approve, notices."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import pytest

from ita_bot.domain.thai import BANGKOK
from tests.conftest import (
    ASSISTANT,
    CHAIR,
    GROUP,
    MEMBER,
    NAMES,
    SECRETARY,
    STAFF_KLANG,
    STAFF_SP,
    STAFF_SP2,
    STRANGER,
)

pytestmark = pytest.mark.backends("tinydb", "postgresql")

OTHER_GROUP = "C" + "7" * 32
MANAGERS_ONLY = "ประธาน เลขานุการ และผู้ช่วยเลขานุการ"


@pytest.mark.parametrize(
    "command",
    ["/ประชุม 26/2/2564", "/ส่งออก", "/สมาชิก", "/ลบสมาชิก สมชาย", "/เชิญ กรรมการ", "/ตั้งกลุ่ม", "/อนุมัติ สมชาย",
     "/รายงานแทน กองคลัง 4 50%"],
)
def test_managers_commands_refuse_others(make_bot: Any, command: str) -> None:
    bot = make_bot(roles={"member": [MEMBER]})
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    for user in (STRANGER, STAFF_SP, MEMBER):
        text = bot.send(command, user=user, group=GROUP if "ตั้งกลุ่ม" in command else None).text
        assert "ขออภัย" in text and MANAGERS_ONLY in text
    assert bot.office.meeting_overrides() == {}
    assert bot.reports() == []


# --- /ประชุม --------------------------------------------------------------------------------------


def test_meeting_for_the_cycle_named_after_the_date(bot: Any) -> None:
    text = bot.send("/ประชุม 29/1/2564 ก.พ.", user=SECRETARY).text
    assert "รอบ ก.พ. 2564" in text and "29 ม.ค. 2564" in text
    assert bot.office.calendar().cycle("2021-02").meeting == date(2021, 1, 29)


def test_meeting_of_the_dates_own_month_with_thai_forms(bot: Any) -> None:
    bot.send("/meeting ๒๓ มี.ค. ๖๔", user=CHAIR)
    assert bot.office.calendar().cycle("2021-03").meeting == date(2021, 3, 23)
    # The reminder/cycle arithmetic follows at once: a report on 24 Mar now goes to April.
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    assert "รอบ เม.ย. 2564" in bot.send("/รายงาน 1 50%", user=STAFF_SP, at=datetime(2021, 3, 24, 9, 0)).text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("/ประชุม", "กรุณาระบุวันประชุม"),
        ("/ประชุม พรุ่งนี้", "อ่านวันที่"),
        ("/ประชุม 30/2/2564", "ไม่มีวันที่"),
        ("/ประชุม 26/2/2564 เดือนหน้า", "อ่านเดือน"),
        ("/ประชุม 1/5/2564 ก.พ.", "ต้องอยู่ในเดือนนั้น"),
        ("/ประชุม 30/9/2563 ต.ค.", "ปีงบประมาณ"),
    ],
)
def test_meeting_bad_input_changes_nothing(bot: Any, text: str, says: str) -> None:
    assert says in bot.send(text, user=SECRETARY).text
    assert bot.office.meeting_overrides() == {}


# --- /ส่งออก --------------------------------------------------------------------------------------


def test_export_links(bot: Any) -> None:
    text = bot.send("/ส่งออก ก.พ.", user=SECRETARY).text
    base = "https://ita.example.go.th/reports"
    for link in (f"{base}/2564/2021-02", f"{base}/2564/2021-02.docx", f"{base}/2564/2021-02.csv", f"{base}/2564"):
        assert link in text
    assert f"{base}/2564/2021-03" in bot.send("/export", user=CHAIR,
                                              at=datetime(2021, 2, 26, 9, 0, tzinfo=BANGKOK)).text
    assert "อ่านเดือน" in bot.send("/ส่งออก ๑๓", user=SECRETARY).text


# --- /สมาชิก /ลบสมาชิก /อนุมัติ ---------------------------------------------------------------------


def test_members_by_division_with_roles_and_no_user_ids(make_bot: Any) -> None:
    bot = make_bot(registration={"mode": "approve"})
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    bot.send("/approve", user=SECRETARY)
    bot.send(f"/อนุมัติ {NAMES[STAFF_SP]}", user=SECRETARY)
    bot.send("/ลงทะเบียน คลัง", user=STAFF_KLANG, group=True)
    bot.send("/ฉัน", user=CHAIR)
    replies = bot.send("/สมาชิก", user=SECRETARY)
    text = replies.text
    assert NAMES[STAFF_SP] in text.split("กองคลัง")[0]
    assert "รออนุมัติ" in text and NAMES[STAFF_KLANG] in text.split("รออนุมัติ")[1]
    # Each person with their handle ("#7"), which /อนุมัติ and /ลบสมาชิก accept in place of a name.
    assert re.search(rf"\n  ประธาน: #\d+ {NAMES[CHAIR]}", text)
    assert re.search(rf"\n  เลขานุการ: #\d+ {NAMES[SECRETARY]}", text)
    for uid in (STAFF_SP, STAFF_KLANG, CHAIR, SECRETARY):
        assert uid not in replies.all_text


def test_remove_a_person_keeps_their_reports(bot: Any) -> None:
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP2, group=True)
    bot.send("/รายงาน 1 50%", user=STAFF_SP)
    text = bot.send("/ลบสมาชิก สป", user=SECRETARY).text  # both names contain "สป"
    assert "หลายคน" in text and NAMES[STAFF_SP] in text and NAMES[STAFF_SP2] in text
    assert "ไม่พบ" in bot.send("/ลบสมาชิก ไม่มีคนนี้", user=SECRETARY).text
    assert "ลบ" in bot.send(f"/remove {NAMES[STAFF_SP]}", user=SECRETARY).text
    assert bot.office.people.get(STAFF_SP) is None and bot.office.people.get(STAFF_SP2) is not None
    assert [r.division for r in bot.reports()] == ["sp"]
    assert "ขออภัย" in bot.send("/รายงาน 1 60%", user=STAFF_SP).text


def test_approve_unknown_and_already_approved(make_bot: Any) -> None:
    bot = make_bot(registration={"mode": "approve"})
    assert "ไม่มีคำขอ" in bot.send("/อนุมัติ", user=SECRETARY).text
    assert "ไม่พบ" in bot.send("/อนุมัติ ใครก็ไม่รู้", user=SECRETARY).text


# --- /เชิญ ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "role"),
    [("ประธาน", "chair"), ("รองประธาน", "vice_chair"), ("เลขานุการ", "secretary"),
     ("ผู้ช่วยเลขานุการ", "assistant_secretary"), ("กรรมการ", "member"), ("vice_chair", "vice_chair"),
     ("Assistant_Secretary", "assistant_secretary")],
)
def test_invite_every_role_in_thai_and_english(bot: Any, word: str, role: str) -> None:
    inviter = CHAIR if role in ("chair", "vice_chair") else SECRETARY  # only the chair grants those two
    code = bot.send(f"/เชิญ {word}", user=inviter).texts[-1].split()[-1]
    assert len(code) >= 8
    bot.send(f"/รหัส {code}", user=STRANGER)
    assert role in bot.office.roles_of(STRANGER)


def test_invite_refused_in_groups_and_unknown_roles(bot: Any) -> None:
    text = bot.send("/เชิญ กรรมการ", user=SECRETARY, group=True).text
    assert "แชตส่วนตัว" in text
    assert "ไม่รู้จักบทบาท" in bot.send("/invite king", user=SECRETARY).text
    assert "กรุณาระบุบทบาท" in bot.send("/invite", user=SECRETARY).text
    with bot.office.repositories.people.read() as people:
        assert people.codes() == []


def test_claimed_manager_role_unlocks_managers_commands(bot: Any) -> None:
    code = bot.send("/เชิญ ผู้ช่วยเลขานุการ", user=CHAIR).texts[-1].split()[-1]
    bot.send(f"/รหัส {code}", user=ASSISTANT)
    assert "https://ita.example.go.th" in bot.send("/ส่งออก", user=ASSISTANT).text


# --- /ตั้งกลุ่ม -----------------------------------------------------------------------------------


def test_setgroup_when_config_has_none(standin: Any, make_config: Any) -> None:
    from tests.chat_harness import ChatBot

    bot = ChatBot(standin, make_config(line={"group_id": ""}))
    try:
        assert "ในกลุ่ม" in bot.send("/ตั้งกลุ่ม", user=SECRETARY).text  # 1:1 refused
        assert bot.office.staff_group_id() is None
        assert "ตั้งกลุ่มนี้เป็นกลุ่มพนักงาน" in bot.send("/setgroup", user=SECRETARY, group=OTHER_GROUP).text
        assert bot.office.staff_group_id() == OTHER_GROUP
        # Registration now belongs in that group only.
        assert "กลุ่มพนักงาน" in bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group="C" + "8" * 32).text
        assert "สำนักงานปลัด" in bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=OTHER_GROUP).text
    finally:
        bot.close()


def test_setgroup_config_wins(bot: Any) -> None:
    text = bot.send("/ตั้งกลุ่ม", user=SECRETARY, group=OTHER_GROUP).text
    assert "ไฟล์ตั้งค่า" in text
    assert bot.office.staff_group_id() == GROUP


# --- notices for managers -------------------------------------------------------------------------


def test_managers_get_pending_notices_once_in_their_next_reply(bot: Any) -> None:
    bot.office.notices.add("quota", "ข้ามการแจ้งเตือนเพราะโควตาข้อความไม่พอ", bot.now)
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    assert "โควตา" not in bot.send("/ฉัน", user=STAFF_SP).text  # not a manager
    first = bot.send("/ฉัน", user=SECRETARY)
    assert "โควตา" in first.texts[0] and "ประธาน" not in first.texts[0]
    assert "โควตา" not in bot.send("/ฉัน", user=SECRETARY).text  # told once
    assert "โควตา" in bot.send("/ช่วยเหลือ", user=CHAIR).texts[0]  # each manager once
