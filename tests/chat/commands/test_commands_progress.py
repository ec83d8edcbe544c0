"""Status, pending and summary end to end: Flex replies with plain altText, history, numerals, LINE's limits."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from tests.conftest import CHAIR, MEMBER, SECRETARY, STAFF_CHANG, STAFF_KLANG, STAFF_SP, STRANGER

pytestmark = pytest.mark.backends("tinydb", "postgresql")


@pytest.fixture
def staff(bot: Any) -> Any:
    for user, division in ((STAFF_SP, "สป."), (STAFF_KLANG, "คลัง"), (STAFF_CHANG, "ช่าง")):
        bot.send(f"/ลงทะเบียน {division}", user=user, group=True)
    return bot


def within_limits(replies: Any) -> None:
    assert 1 <= len(replies) <= 5
    for m in replies:
        if m["type"] == "flex":
            assert 0 < len(m["altText"]) <= 1500
            contents = m["contents"]
            bubbles = contents["contents"] if contents["type"] == "carousel" else [contents]
            assert len(bubbles) <= 12
            for b in bubbles:
                assert len(json.dumps(b, ensure_ascii=False, separators=(",", ":")).encode()) <= 30_000
        else:
            assert len(m["text"]) <= 5000


def test_status_all_measures_as_flex(staff: Any) -> None:
    staff.send("/รายงาน 2 50% อัปเดตเว็บไซต์", user=STAFF_SP)
    staff.send("/รายงาน 4 เสร็จ", user=STAFF_KLANG)
    replies = staff.send("/สถานะ", user=STAFF_SP, group=True)
    within_limits(replies)
    assert replies[0]["type"] == "flex"
    alt = replies[0]["altText"]
    assert "ม.2 สำนักงานปลัด: กำลังดำเนินการ 50% (15 ก.พ. 2564)" in alt
    assert "ม.4 กองคลัง: เสร็จสิ้น 100%" in alt
    assert "ม.4 กองช่าง: ยังไม่เคยรายงาน\n" in alt + "\n"  # said once, not again as "⏳ค้าง"
    every = replies.all_text
    assert "อัปเดตเว็บไซต์" in every and "🟡" in every and "🟢" in every


def test_status_says_not_yet_reported_once(staff: Any) -> None:
    staff.send("/รายงาน 4 20% ขั้นแรก", user=STAFF_SP, at=datetime(2021, 1, 10, 10, 0))  # the cycle before
    replies = staff.send("/สถานะ", user=STAFF_SP, at=datetime(2021, 2, 15, 10, 0))
    rows = [r for r in replies.all_text.splitlines() if "รายงาน" in r]
    # Reported last cycle, not this one: the row says so. Never reported: that alone, no second line.
    assert "⏳ ยังไม่ได้รายงานในรอบนี้" in rows
    never = rows.index("ยังไม่เคยรายงาน")
    assert rows[never + 1] != "⏳ ยังไม่ได้รายงานในรอบนี้"
    assert "ม.4 สำนักงานปลัด: กำลังดำเนินการ 20% (10 ม.ค. 2564) ⏳ค้าง" in replies[0]["altText"]


def test_status_of_one_measure_shows_its_history_oldest_first(staff: Any) -> None:
    staff.send("/รายงาน 4 20% ขั้นแรก", user=STAFF_SP, at=datetime(2021, 1, 10, 10, 0))
    staff.send("/รายงาน 4 60% ขั้นสอง", user=STAFF_SP, at=datetime(2021, 2, 10, 10, 0))
    staff.send("/รายงาน 4 ติดปัญหา ถอนทิ้ง", user=STAFF_SP, at=datetime(2021, 2, 11, 10, 0))
    staff.send("/ถอนรายงาน", user=STAFF_SP)
    staff.send("/รายงาน 2 10% อื่น", user=STAFF_SP)
    replies = staff.send("/status ๔", user=STAFF_SP)
    within_limits(replies)
    alt = replies.text
    assert alt.index("ขั้นแรก") < alt.index("ขั้นสอง")
    assert "ถอนทิ้ง" not in replies.all_text and "อื่น" not in replies.all_text
    assert "รอบ ม.ค. 2564" in replies.all_text and "รอบ ก.พ. 2564" in replies.all_text


def test_status_bad_measure(staff: Any) -> None:
    assert "ไม่มีมาตรการที่ 7" in staff.send("/สถานะ 7", user=STAFF_SP).text
    assert "ตัวเลข" in staff.send("/สถานะ สอง", user=STAFF_SP).text


def test_pending_lists_what_is_missing_this_cycle(staff: Any) -> None:
    staff.send("/รายงาน 1 50%", user=STAFF_SP)
    staff.send("/รายงาน 2 50%", user=STAFF_SP)
    staff.send("/รายงาน 3 50%", user=STAFF_SP)
    staff.send("/รายงาน 4 50%", user=STAFF_SP)
    replies = staff.send("/ค้าง", user=CHAIR)
    within_limits(replies)
    alt = replies.text
    assert "กองคลัง: มาตรการที่ 4" in alt and "กองช่าง: มาตรการที่ 4" in alt and "สำนักงานปลัด" not in alt
    staff.send("/รายงาน 4 เสร็จ", user=STAFF_KLANG)
    staff.send("/รายงาน 4 10%", user=STAFF_CHANG)
    assert "ครบแล้ว" in staff.send("/pending", user=CHAIR).text


def test_done_earlier_is_not_pending_later(staff: Any) -> None:
    staff.send("/รายงาน 4 เสร็จ", user=STAFF_KLANG, at=datetime(2021, 1, 10, 10, 0))
    staff.advance(days=40)
    assert "กองคลัง" not in staff.send("/ค้าง", user=CHAIR).text


def test_summary_of_a_month(staff: Any) -> None:
    staff.send("/รายงาน 1 50% เดือนมกรา", user=STAFF_SP, at=datetime(2021, 1, 12, 10, 0))
    staff.send("/รายงาน 1 80% เดือนกุมภา", user=STAFF_SP, at=datetime(2021, 2, 12, 10, 0))
    jan = staff.send("/สรุป ม.ค.", user=SECRETARY)
    within_limits(jan)
    assert "รอบ ม.ค. 2564" in jan.text and "29 ม.ค. 2564" in jan.text
    assert "เดือนมกรา" in jan.all_text and "เดือนกุมภา" not in jan.all_text
    # The same carousel the group and the chair are pushed: its button opens the cycle's report page.
    assert '"uri": "https://ita.example.go.th/reports/2564/2021-01"' in json.dumps(list(jan), ensure_ascii=False)
    current = staff.send("/summary", user=STAFF_SP)
    assert "รอบ ก.พ. 2564" in current.text and "เดือนกุมภา" in current.all_text
    for form in ("กุมภาพันธ์", "2", "2/2564", "ก.พ. 64", "๒"):
        assert "รอบ ก.พ. 2564" in staff.send(f"/สรุป {form}", user=STAFF_SP).text


def test_summary_bad_month(staff: Any) -> None:
    text = staff.send("/สรุป เดือนหน้า", user=STAFF_SP).text
    assert "อ่านเดือน" in text and "ก.พ." in text
    assert "ไม่มีแผน" in staff.send("/สรุป 2/2570", user=STAFF_SP).text


@pytest.mark.parametrize("command", ["/สถานะ", "/ค้าง", "/สรุป"])
def test_views_are_for_committee_and_staff(make_bot: Any, command: str) -> None:
    bot = make_bot(roles={"member": [MEMBER]})
    text = bot.send(command, user=STRANGER).text
    assert "ขออภัย" in text and "คณะกรรมการ" in text
    assert bot.send(command, user=MEMBER)[0]["type"] in ("flex", "text")
    assert "ขออภัย" not in bot.send(command, user=MEMBER).text


def test_long_details_stay_within_limits(staff: Any) -> None:
    long = "รายละเอียดยาวมาก " * 280  # ~4,800 characters each
    for n in (1, 2, 3, 4):
        for _ in range(3):
            staff.send(f"/รายงาน {n} 50% {long}", user=STAFF_SP)
    for command in ("/สถานะ", "/สถานะ 4", "/สรุป", "/ค้าง"):
        replies = staff.send(command, user=STAFF_SP)
        within_limits(replies)  # the stand-in refuses over-limit replies: none recorded would fail here
    history = staff.send("/สถานะ 1", user=STAFF_SP)
    assert history.all_text.count("รายละเอียดยาวมาก") >= 3 * 280


def test_many_reports_in_history_are_split_and_capped(staff: Any) -> None:
    detail = "ข้อความ " * 600
    for i in range(40):
        staff.send(f"/รายงาน 2 {i % 98 + 1}% {i} {detail}", user=STAFF_SP)
    replies = staff.send("/สถานะ 2", user=STAFF_SP)
    within_limits(replies)
    if len(replies) == 5 and replies[-1]["type"] == "text":
        assert "https://ita.example.go.th/reports/2564" in replies[-1]["text"]


def test_thai_numerals_in_views(make_bot: Any) -> None:
    bot = make_bot(display={"numerals": "thai"})
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    bot.send("/รายงาน 2 50% ทำ 3 เรื่อง", user=STAFF_SP)
    reply = bot.send("/สถานะ", user=STAFF_SP)
    assert "ม.๒ สำนักงานปลัด: กำลังดำเนินการ ๕๐% (๑๕ ก.พ. ๒๕๖๔)" in reply.text
    assert "ทำ 3 เรื่อง" in reply.all_text  # what people typed stays as typed
