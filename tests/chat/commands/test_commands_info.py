"""Commands anyone may use, end to end through the signed webhook: help, me, claim, register, scores, samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.people import UNKNOWN_NAME
from tests.conftest import (
    CHAIR,
    GROUP,
    MEMBER,
    NAMES,
    PLAN_2564,
    SECRETARY,
    STAFF_KLANG,
    STAFF_SP,
    STAFF_SUKSA,
    STRANGER,
)

pytestmark = pytest.mark.backends("tinydb", "postgresql")

OTHER_GROUP = "C" + "7" * 32


def register(bot: Any, user: str, division: str) -> Any:
    return bot.send(f"/ลงทะเบียน {division}", user=user, group=True)


# --- /ช่วยเหลือ: generated from the registry, only what the asker may use -------------------------


def test_help_for_a_stranger_shows_how_to_register_and_public_commands(bot: Any) -> None:
    text = bot.send("/ช่วยเหลือ", user=STRANGER).text
    assert "/ลงทะเบียน" in text and "ยังไม่ได้ลงทะเบียน" in text
    for public in ("/ฉัน", "/รหัส", "/มาตรการ", "/คะแนน", "/กลุ่มตัวอย่าง"):
        assert public in text
    for hidden in ("/รายงาน ", "/สถานะ", "/ค้าง", "/สรุป", "/ประชุม", "/เชิญ", "/สมาชิก", "/รายงานแทน"):
        assert hidden not in text


def test_help_for_staff_adds_reporting_and_views_but_not_managers_commands(bot: Any) -> None:
    register(bot, STAFF_SP, "สป.")
    text = bot.send("/help", user=STAFF_SP).text
    for shown in ("/รายงาน ", "/แก้ไข", "/ถอนรายงาน", "/ยกเลิก", "/สถานะ", "/ค้าง", "/สรุป", "เช่น /รายงาน 2"):
        assert shown in text
    for hidden in ("/ประชุม", "/เชิญ", "/สมาชิก", "/รายงานแทน", "/อนุมัติ"):
        assert hidden not in text


def test_help_for_a_committee_member_shows_views_not_reporting(make_bot: Any) -> None:
    bot = make_bot(roles={"member": [MEMBER]})
    text = bot.send("ช่วยเหลือ", user=MEMBER).text
    assert "/สถานะ" in text and "/สรุป" in text
    assert "/รายงาน " not in text and "/ประชุม" not in text


def test_help_for_a_manager_lists_every_managers_command(bot: Any) -> None:
    text = bot.send("/ช่วยเหลือ", user=SECRETARY).text
    for shown in ("/ประชุม", "/รายงานแทน", "/ส่งออก", "/สมาชิก", "/ลบสมาชิก", "/เชิญ", "/ตั้งกลุ่ม", "/อนุมัติ",
                  "/สถานะ"):
        assert shown in text
    # The English aliases still work but are not listed: the readers read Thai.
    assert "/report-for" not in text and "/meeting" not in text and "(/help)" not in text
    assert "ภาษาอังกฤษ" not in text
    assert "/ประชุม" in bot.send("/help", user=SECRETARY).text


def test_help_lines_come_from_the_registry() -> None:
    from ita_bot.chat.commands import COMMANDS

    words = [w for c in COMMANDS for w in c.words]
    assert len(words) == len(set(words))
    names = {c.name for c in COMMANDS}
    # Every row of the command table in docs/product.md, exactly as named.
    assert names >= {
        "ช่วยเหลือ", "ฉัน", "รหัส", "ลงทะเบียน", "มาตรการ", "คะแนน", "กลุ่มตัวอย่าง", "รายงาน", "แก้ไข",
        "ถอนรายงาน", "ยกเลิก", "สถานะ", "ค้าง", "สรุป", "ประชุม", "รายงานแทน", "ส่งออก", "สมาชิก", "ลบสมาชิก",
        "เชิญ", "ตั้งกลุ่ม", "อนุมัติ",
    }
    aliases = {c.alias for c in COMMANDS}
    assert aliases >= {
        "help", "me", "claim", "register", "measures", "scores", "sample", "report", "edit", "withdraw", "cancel",
        "status", "pending", "summary", "meeting", "report-for", "export", "members", "remove", "invite",
        "setgroup", "approve",
    }


def test_group_chatter_gets_no_reply_and_unknown_commands_a_polite_one(bot: Any) -> None:
    assert bot.send("สวัสดีครับทุกคน", user=STAFF_SP, group=True) == []
    text = bot.send("/ไม่มีคำสั่งนี้", user=STAFF_SP, group=True).text
    assert "ไม่รู้จักคำสั่ง" in text and "/ช่วยเหลือ" in text
    # In 1:1 every text is a command.
    assert "ไม่รู้จักคำสั่ง" in bot.send("สวัสดี", user=STAFF_SP).text


def test_matching_ignores_case_spaces_and_digits(bot: Any) -> None:
    assert "IIT" in bot.send("   /SAMPLE   ๒๕๐  ", user=STRANGER).text
    assert "/ช่วยเหลือ" in bot.send("/HeLp", user=STRANGER).text
    assert "ตัวอย่าง" in bot.send("กลุ่มตัวอย่าง 250", user=STRANGER).text  # 1:1: "/" optional
    assert "คะแนนรวม" in bot.send("คะแนน", mention=True, user=STAFF_SP, group=True).text  # mention = command


# --- /ฉัน -----------------------------------------------------------------------------------------


def test_me_for_stranger_staff_and_role_holder(bot: Any) -> None:
    text = bot.send("/ฉัน", user=STRANGER).text
    assert "ยังไม่ได้ลงทะเบียน" in text and "/ลงทะเบียน" in text and NAMES[STRANGER] in text
    register(bot, STAFF_KLANG, "คลัง")
    text = bot.send("/me", user=STAFF_KLANG).text
    assert "กองคลัง" in text and NAMES[STAFF_KLANG] in text and "4" in text
    text = bot.send("/ฉัน", user=CHAIR).text
    assert "ประธาน" in text
    assert CHAIR not in text



def test_me_for_someone_line_gives_no_name_says_so_as_the_console_does(bot: Any) -> None:
    """LINE answers no profile (not a friend yet): the reply names them as every other place does."""
    nameless = "U" + "d" * 32
    text = bot.send("/ฉัน", user=nameless).text
    assert text.startswith(f"คุณ {UNKNOWN_NAME}") and nameless not in text

# --- /รหัส ----------------------------------------------------------------------------------------


def test_claim_a_code_made_by_a_manager(bot: Any) -> None:
    replies = bot.send("/เชิญ กรรมการ", user=SECRETARY)
    code = replies.texts[-1].split()[-1]
    assert replies.texts[-1] == f"/รหัส {code}"
    assert "72 ชั่วโมง" in replies.text
    assert "กรรมการ" in bot.send(f"/claim {code.lower()}", user=MEMBER).text
    assert "member" in bot.office.roles_of(MEMBER)
    assert "/สถานะ" in bot.send("/ช่วยเหลือ", user=MEMBER).text
    # Single use.
    assert "ถูกใช้ไปแล้ว" in bot.send(f"/รหัส {code}", user=STRANGER).text
    assert not bot.office.roles_of(STRANGER)


def test_claim_bad_or_missing_code(bot: Any) -> None:
    assert "รหัสไม่ถูกต้อง" in bot.send("/รหัส ZZZZZZZZZZ", user=STRANGER).text
    assert "กรุณาพิมพ์รหัส" in bot.send("/รหัส", user=STRANGER).text
    assert not bot.office.roles_of(STRANGER)


# --- /ลงทะเบียน -----------------------------------------------------------------------------------


def test_register_in_the_staff_group_with_alias_forms(bot: Any) -> None:
    assert "สำนักงานปลัด" in register(bot, STAFF_SP, "สำนักปลัด").text
    assert bot.office.people.get(STAFF_SP).division == "sp"
    register(bot, STAFF_SUKSA, "กองการศึกษาฯ และวัฒนธรรม")
    assert bot.office.people.get(STAFF_SUKSA).division == "suksa"


def test_re_registering_moves_the_person(bot: Any) -> None:
    register(bot, STAFF_SP, "สป.")
    text = register(bot, STAFF_SP, "ช่าง").text
    assert "ย้าย" in text and "กองช่าง" in text
    assert bot.office.people.get(STAFF_SP).division == "chang"


def test_register_refused_in_1to1_and_other_groups_and_unknown_division(bot: Any) -> None:
    text = bot.send("/ลงทะเบียน สป.", user=STAFF_SP).text
    assert "กลุ่ม" in text and "ขออภัย" in text
    assert "กลุ่มพนักงาน" in bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=OTHER_GROUP).text
    text = bot.send("/ลงทะเบียน กองดนตรี", user=STAFF_SP, group=True).text
    assert "ไม่รู้จักกอง" in text and "กองคลัง" in text and "กองช่าง" in text
    assert "กรุณาระบุกอง" in bot.send("/register", user=STAFF_SP, group=True).text
    assert bot.office.people.get(STAFF_SP) is None or bot.office.people.get(STAFF_SP).division is None


def no_group_bot(standin: Any, make_config: Any) -> Any:
    # make_bot's own `line=` argument (a LINE client) shadows the [line] TOML section, so build it here.
    from tests.chat_harness import ChatBot

    return ChatBot(standin, make_config(line={"group_id": ""}))


def test_register_is_refused_until_a_staff_group_is_set(standin: Any, make_config: Any) -> None:
    # An outsider who adds the bot to their own group must not become staff before the office names its group.
    bot = no_group_bot(standin, make_config)
    try:
        for user in (STAFF_SP, SECRETARY):
            text = bot.send("/register สป", user=user, group=OTHER_GROUP).text
            assert "ยังไม่ได้ตั้งกลุ่มพนักงาน" in text and "/ตั้งกลุ่ม" in text, text
            person = bot.office.people.get(user)
            assert person is None or person.division is None
        assert "/ตั้งกลุ่ม" in bot.send("/register สป", user=STAFF_SP).text  # 1:1 too
        assert bot.send("/รายงาน 1 50% ทดสอบ", user=STAFF_SP, group=OTHER_GROUP).text.startswith("ขออภัย")
        assert bot.reports() == []
        bot.send("/ตั้งกลุ่ม", user=SECRETARY, group=OTHER_GROUP)
        assert "สำนักงานปลัด" in bot.send("/register สป", user=STAFF_SP, group=OTHER_GROUP).text
        assert bot.office.people.get(STAFF_SP).is_staff
    finally:
        bot.close()


def test_register_in_approve_mode_waits_for_a_manager(make_bot: Any) -> None:
    bot = make_bot(registration={"mode": "approve"})
    text = register(bot, STAFF_SP, "สป.").text
    assert "รอ" in text and "อนุมัติ" in text
    assert not bot.office.people.get(STAFF_SP).is_staff
    assert "อนุมัติ" in bot.send("/รายงาน 1 50%", user=STAFF_SP).text
    assert bot.reports() == []
    assert NAMES[STAFF_SP] in bot.send("/อนุมัติ", user=SECRETARY).text
    assert "อนุมัติ" in bot.send(f"/approve {NAMES[STAFF_SP]}", user=SECRETARY).text
    assert bot.office.people.get(STAFF_SP).is_staff
    assert "บันทึก" in bot.send("/รายงาน 1 50%", user=STAFF_SP).text


# --- /มาตรการ /คะแนน /กลุ่มตัวอย่าง ----------------------------------------------------------------


def test_measures_lists_the_plan(bot: Any) -> None:
    text = bot.send("/มาตรการ", user=STRANGER).text
    assert "ปีงบประมาณ 2564" in text
    for title in ("ให้พัฒนาคุณภาพการดำเนินงาน", "เพิ่มประสิทธิภาพการสื่อสาร", "การปรับปรุงระบบการทำงาน"):
        assert title in text
    assert "สำนักงานปลัด, กองคลัง, กองช่าง" in text
    assert "อย่างน้อย ๓ คน" in text  # plan text as written


def test_scores_two_decimals_and_flags_under_85(bot: Any) -> None:
    text = bot.send("/scores", user=STRANGER).text
    assert "92.65" in text and "ระดับ A" in text and "100.00" in text
    flagged = [line for line in text.splitlines() if "⚠️" in line]
    assert len(flagged) == 2
    assert any("81.80" in line for line in flagged) and any("81.70" in line for line in flagged)
    # Numbered 1–10 across the instruments, as the NACC's report and ITAS number them.
    numbered = [line.strip().split(".", 1)[0] for line in text.splitlines() if line.startswith("  ")]
    assert numbered == [str(n) for n in range(1, 11)]
    assert "  7. ประสิทธิภาพการสื่อสาร 81.80" in text
    assert "ตัวชี้วัดที่ 7 ประสิทธิภาพการสื่อสาร (EIT), ตัวชี้วัดที่ 8 การปรับปรุงการทำงาน (EIT)" in text


@pytest.mark.parametrize(
    ("n", "iit", "eit"),
    [("250", "อย่างน้อย 30", "อย่างน้อย 30"), ("800", "อย่างน้อย 80", "อย่างน้อย 80"),
     ("20", "ทุกคน (20 คน)", "อย่างน้อย 30"), ("5000", "อย่างน้อย 100", "อย่างน้อย 100"),
     ("๒๕๐", "อย่างน้อย 30", "อย่างน้อย 30"), ("1,001", "อย่างน้อย 100", "อย่างน้อย 100")],
)
def test_sample_sizes(bot: Any, n: str, iit: str, eit: str) -> None:
    lines = bot.send(f"/กลุ่มตัวอย่าง {n}", user=STRANGER).text.splitlines()
    assert iit in next(line for line in lines if line.startswith("• IIT"))
    assert eit in next(line for line in lines if line.startswith("• EIT"))
    if n == "20":
        assert any("หมายเหตุ" in line for line in lines)



def test_the_sample_rule_line_is_the_plans_own(bot: Any, make_bot: Any, tmp_path: Path) -> None:
    """The rule under the sizes is said from the plan's figures: a plan with another rule is not misquoted."""
    assert bot.send("/กลุ่มตัวอย่าง 250", user=STRANGER).text.splitlines()[-1] == (
        "(ร้อยละ 10 ปัดขึ้น ขั้นต่ำ 30 ตัวอย่าง; มากกว่า 1,000 คน ใช้ขั้นต่ำ 100 ตัวอย่าง)")
    text = PLAN_2564.read_text(encoding="utf-8")
    eit = text.index("[sample_rules.EIT]")
    text = text[:eit] + text[eit:].replace("minimum = 30", "minimum = 40", 1)
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "2564.toml").write_text(text, encoding="utf-8")
    other = make_bot(organization={"plan": str(plans / "2564.toml")})
    lines = other.send("/กลุ่มตัวอย่าง 250", user=STRANGER).text.splitlines()
    assert "อย่างน้อย 40" in next(line for line in lines if line.startswith("• EIT"))
    assert lines[-2:] == ["(IIT: ร้อยละ 10 ปัดขึ้น ขั้นต่ำ 30 ตัวอย่าง; มากกว่า 1,000 คน ใช้ขั้นต่ำ 100 ตัวอย่าง)",
                          "(EIT: ร้อยละ 10 ปัดขึ้น ขั้นต่ำ 40 ตัวอย่าง; มากกว่า 1,000 คน ใช้ขั้นต่ำ 100 ตัวอย่าง)"]

@pytest.mark.parametrize("bad", ["", "abc", "0", "-5", "2.5", "9" * 20])
def test_sample_bad_input(bot: Any, bad: str) -> None:
    text = bot.send(f"/กลุ่มตัวอย่าง {bad}", user=STRANGER).text
    assert "กรุณา" in text and "/กลุ่มตัวอย่าง" in text


def test_thai_numerals_in_what_the_bot_writes(make_bot: Any) -> None:
    bot = make_bot(display={"numerals": "thai"})
    text = bot.send("/กลุ่มตัวอย่าง 250", user=STRANGER).text
    assert "๒๕๐ คน" in text and "๓๐ ตัวอย่าง" in text
    assert "๙๒.๖๕" in bot.send("/คะแนน", user=STRANGER).text


def test_no_user_id_in_any_reply(bot: Any) -> None:
    register(bot, STAFF_SP, "สป.")
    for text, user in (("/ฉัน", STAFF_SP), ("/สมาชิก", SECRETARY), ("/ช่วยเหลือ", CHAIR)):
        all_text = bot.send(text, user=user).all_text
        for uid in (STAFF_SP, SECRETARY, CHAIR, GROUP):
            assert uid not in all_text


def test_a_role_code_typed_with_thai_digits_is_the_same_code(office: Any) -> None:
    from datetime import datetime

    from ita_bot.domain.thai import BANGKOK, to_thai_digits

    now = datetime(2021, 2, 15, 10, 0, tzinfo=BANGKOK)
    code = office.people.issue_code("member", None, now)[0]
    assert office.people.claim_code(to_thai_digits(code.lower()), MEMBER, now) == "member"
