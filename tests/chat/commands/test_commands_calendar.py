"""/ปฏิทิน through signed webhooks: the year's milestones in order, the past marked as past, the next highlighted."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.chat.test_messages import assert_line_json
from tests.conftest import SECRETARY, STAFF_SP, STRANGER
from tests.plan_files import EXAMPLE_MILESTONES, plan_text, write_plans

PAST = """
[[milestones]]
date = 2021-01-15
title = "ประชุมวิเคราะห์ผล ITA 2563"
who = "managers"
"""


def calendar_bot(make_bot: Callable[..., Any], tmp_path: Path, milestones: str, **sections: Any) -> Any:
    plan = write_plans(tmp_path / "plans", {2564: plan_text(milestones=milestones)})
    return make_bot(organization={"plan": str(plan)}, **sections)


def bubbles(replies: Any) -> list[dict[str, Any]]:
    out = []
    for m in replies:
        assert m["type"] == "flex"
        c = m["contents"]
        out += c["contents"] if c["type"] == "carousel" else [c]
    return out


def test_anyone_sees_the_calendar_in_date_order_with_the_next_highlighted(
    make_bot: Callable[..., Any], tmp_path: Path
) -> None:
    bot = calendar_bot(make_bot, tmp_path, EXAMPLE_MILESTONES + PAST)
    at = datetime(2021, 4, 1, 10, 0)
    for replies in (bot.send("/ปฏิทิน", user=STRANGER, at=at),  # not registered, 1:1
                    bot.send("/ปฏิทิน", user=STAFF_SP, group=True, at=at)):
        [message] = replies
        alt = message["altText"]
        lines = alt.splitlines()
        assert lines[0].startswith("ปฏิทินการประเมิน ITA ปีงบประมาณ 2564")
        # A past date is marked as past, not as done (✅); "managers" reads as all three managing roles, who get it.
        assert lines[1] == "⏱ 15 ม.ค. 2564 · ผ่านมาแล้ว: ประชุมวิเคราะห์ผล ITA 2563 (ประธาน เลขานุการ และผู้ช่วยเลขานุการ)"
        assert "✅" not in replies.all_text
        # Thu 8 Apr: Fri 2, Mon 5, Wed 7, Thu 8 (Tue 6 is Chakri Day).
        assert lines[2] == ("👉 8 เม.ย. 2564 · อีก 4 วันทำการ (ถัดไป): ส่งข้อมูล OIT ให้ ป.ป.ช. "
                            "(สำนักงานปลัด, กองคลัง)")
        assert lines[3].startswith("🗓 30 มิ.ย. 2564 · อีก ") and lines[3].endswith("(คณะกรรมการ)")
        rows = bubbles(replies)[0]["body"]["contents"]
        assert [bool(r.get("backgroundColor")) for r in rows] == [False, True, False]
        assert "ตรวจลิงก์ทุกข้อก่อนส่ง" in replies.all_text
        assert_line_json(list(replies))  # what line-bot-sdk's models take, within LINE's limits


def test_the_english_alias_and_thai_digits(make_bot: Callable[..., Any], tmp_path: Path) -> None:
    bot = calendar_bot(make_bot, tmp_path, EXAMPLE_MILESTONES, display={"numerals": "thai"})
    replies = bot.send("/calendar", user=STRANGER, at=datetime(2021, 4, 8, 9, 0))
    alt = replies[0]["altText"]
    assert "๘ เม.ย. ๒๕๖๔ · ครบกำหนดวันนี้" in alt and "ปีงบประมาณ ๒๕๖๔" in alt


def test_a_year_without_milestones_gets_a_polite_line(bot: Any) -> None:
    [reply] = bot.send("/ปฏิทิน", user=STRANGER)
    assert reply["type"] == "text"
    assert "ยังไม่มีกำหนดการประเมิน ITA" in reply["text"]


def test_without_milestones_the_secretary_is_pointed_to_the_console_not_the_plan_file(bot: Any) -> None:
    manager = bot.send("/ปฏิทิน", user=SECRETARY).text
    assert "หน้าจัดการ" in manager and "“ปฏิทินการประเมิน”" in manager
    staff = bot.send("/ปฏิทิน", user=STAFF_SP).text
    assert "เลขานุการเพิ่มกำหนดการ" in staff and "/จัดการ" not in staff
    for text in (manager, staff):
        assert "[[" not in text and "milestones" not in text


def test_a_long_calendar_stays_within_lines_limits(make_bot: Callable[..., Any], tmp_path: Path) -> None:
    many = "".join(
        f'\n[[milestones]]\ndate = {date(2020, 10, 1) + timedelta(days=5 * i)}\n'
        f'title = "กำหนดการที่ {i} {"ยาวมาก " * 30}"\nwho = ["sp", "klang", "chang", "suksa"]\nnotes = "{"ข" * 250}"\n'
        for i in range(70)
    )
    bot = calendar_bot(make_bot, tmp_path, many)
    replies = bot.send("/ปฏิทิน", user=STRANGER, at=datetime(2021, 4, 1, 10, 0))
    assert 1 <= len(replies) <= 5
    for m in replies:
        if m["type"] == "flex":
            assert 0 < len(m["altText"]) <= 1500
    for b in bubbles([m for m in replies if m["type"] == "flex"]):
        assert len(json.dumps(b, ensure_ascii=False, separators=(",", ":")).encode()) <= 30_000
    assert_line_json(list(replies))


def test_help_lists_the_calendar_for_everyone(bot: Any) -> None:
    text = bot.send("/ช่วยเหลือ", user=STRANGER).text
    assert "/ปฏิทิน —" in text and "/calendar" not in text
