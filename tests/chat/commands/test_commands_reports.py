"""Reporting end to end: typed and guided /รายงาน, bad input storing nothing, /แก้ไข, /ถอนรายงาน, /รายงานแทน."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest

from ita_bot.domain.thai import BANGKOK
from tests.conftest import CHAIR, MEMBER, SECRETARY, STAFF_CHANG, STAFF_KLANG, STAFF_SP, STAFF_SP2, STRANGER

pytestmark = pytest.mark.backends("tinydb", "postgresql")


@pytest.fixture
def staff(bot: Any) -> Any:
    for user, division in ((STAFF_SP, "สป."), (STAFF_SP2, "สป"), (STAFF_KLANG, "คลัง"), (STAFF_CHANG, "ช่าง")):
        bot.send(f"/ลงทะเบียน {division}", user=user, group=True)
    return bot


def button(replies: Any, label_part: str) -> str:
    """The postback data of the quick-reply button whose label contains the text."""
    for action in replies.quick_replies():
        if label_part in action["label"]:
            return action["data"]
    raise AssertionError(f"no button {label_part!r} in {[a['label'] for a in replies.quick_replies()]}")


# --- typed reports ------------------------------------------------------------------------------


def test_report_thai_digits_equal_arabic_and_english_alias(staff: Any) -> None:
    thai = staff.send("/รายงาน ๒ ๕๐% อัปเดตเว็บไซต์", user=STAFF_SP, group=True)
    english = staff.send("/report 2 50% อัปเดตเว็บไซต์", user=STAFF_SP2, group=True)
    assert "บันทึกรายงานแล้ว" in thai.text and "บันทึกรายงานแล้ว" in english.text
    a, b = staff.reports()
    assert (a.measure, a.status, a.percent, a.division) == (b.measure, b.status, b.percent, b.division) == (
        2, "doing", 50, "sp")



def test_a_measure_named_in_words_is_read_by_report_status_and_the_guided_report_alike(staff: Any) -> None:
    assert "บันทึกรายงานแล้ว" in staff.send("/รายงาน มาตรการที่ 2 50%", user=STAFF_SP, group=True).text
    [report] = staff.reports()
    assert (report.measure, report.percent) == (2, 50)
    assert "มาตรการที่ 2" in staff.send("/สถานะ มาตรการที่ 2", user=STAFF_SP, group=True).text

def test_report_records_who_when_where_and_answers_with_the_cycle(staff: Any) -> None:
    at = datetime(2021, 2, 15, 9, 30, tzinfo=BANGKOK)
    replies = staff.send("/รายงาน 4 เสร็จแล้ว ตั้งผู้ดูแลเว็บไซต์ 3 คน", user=STAFF_KLANG, group=True, at=at)
    [r] = staff.reports()
    assert (r.measure, r.division, r.status, r.percent, r.details) == (4, "klang", "done", 100, "ตั้งผู้ดูแลเว็บไซต์ 3 คน")
    assert r.reported_at == at and r.sent_at == at
    assert r.reporter_id == STAFF_KLANG and r.reporter_name == "มานี คลัง" and r.chat_id == staff.config.line.group_id
    assert r.fiscal_year == 2564 and r.event_id
    text = replies.text
    assert "25 ก.พ. 2564" in text  # the February 2564 meeting (last Friday 26 Feb is a holiday → Thu 25)
    assert "30 นาที" in text and "หลักฐาน" in text
    assert "🟢" in text and "เสร็จสิ้น" in text


def test_report_without_status_or_percent_is_doing(staff: Any) -> None:
    staff.send("/รายงาน 1 จัดอบรมแล้ว", user=STAFF_SP)
    [r] = staff.reports()
    assert (r.status, r.percent, r.details) == ("doing", None, "จัดอบรมแล้ว")


def test_report_with_no_space_after_the_command(staff: Any) -> None:
    staff.send("/รายงาน๓ กำลังทำ 40%", user=STAFF_SP)
    assert [(r.measure, r.percent) for r in staff.reports()] == [(3, 40)]


def test_evidence_attaches_to_the_report_just_made(staff: Any) -> None:
    staff.send("/รายงาน 2 50%", user=STAFF_SP, group=True)
    reply = staff.send_image(user=STAFF_SP, group=True).text
    assert len(staff.reports()[0].evidence) == 1
    # The same neutral register as every other reply: no particle, a space before "แล้ว".
    assert "✅ แนบรูปภาพ กับรายงานมาตรการที่ 2 (สำนักงานปลัด) แล้ว (หลักฐานทั้งหมด 1 รายการ)" in reply
    assert "ค่ะ" not in reply


def test_evidence_just_after_the_fiscal_year_turns_finds_last_years_report(staff: Any) -> None:
    # A report at 23:50 on 30 Sep sits in fiscal year 2564's book; a photo ten minutes later, already in
    # 2565, still belongs to it, and one after the evidence window does not.
    staff.send("/รายงาน 2 90% ปิดงานปลายปี", user=STAFF_SP, at=datetime(2021, 9, 30, 23, 50))
    staff.send_image(user=STAFF_SP, at=datetime(2021, 10, 1, 0, 10))
    assert len(staff.reports()[0].evidence) == 1
    staff.send_image(user=STAFF_SP, at=datetime(2021, 10, 1, 0, 21))
    assert len(staff.reports()[0].evidence) == 1


def test_no_reply_carries_a_polite_particle(staff: Any) -> None:
    replies = [staff.send_image(user=STAFF_KLANG), staff.send_file("x.exe", b"MZ", content_type="", user=STAFF_SP),
               staff.follow(STAFF_SP), staff.join()]
    for reply in replies:
        assert reply.text and "ค่ะ" not in reply.text and "คะ" not in reply.text and "ครับ" not in reply.text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("/รายงาน 9 50%", "ไม่มีมาตรการที่ 9"),
        ("/รายงาน 2 150%", "0 ถึง 100"),
        ("/รายงาน 2 -5%", "0 ถึง 100"),
        ("/รายงาน 2 เสร็จ 50%", "100%"),
        ("/รายงาน 2 กำลังทำ 100%", "1–99"),
        ("/รายงาน 2 ยังไม่เริ่ม 10%", "0%"),
        ("/รายงาน 2 12.5%", "จำนวนเต็ม"),
        ("/รายงาน สอง", "เลขมาตรการ"),
    ],
)
def test_bad_report_input_stores_nothing(staff: Any, text: str, says: str) -> None:
    reply = staff.send(text, user=STAFF_SP, group=True).text
    assert says in reply and reply.startswith(("ขออภัย", "กรุณา"))
    assert staff.reports() == []


def test_division_not_responsible_names_the_responsible_one(staff: Any) -> None:
    text = staff.send("/รายงาน 1 50%", user=STAFF_KLANG, group=True).text
    assert "สำนักงานปลัด" in text and "ไม่ใช่" in text and "4" in text
    assert staff.reports() == []


def test_report_is_for_staff_only(staff: Any, make_bot: Any) -> None:
    for user in (STRANGER, CHAIR):
        text = staff.send("/รายงาน 1 50%", user=user).text
        assert "ขออภัย" in text and "เจ้าหน้าที่" in text
    assert "/รายงานแทน" in staff.send("/รายงาน 1 50%", user=CHAIR).text
    assert staff.reports() == []


def test_education_division_owns_no_measure(staff: Any) -> None:
    from tests.conftest import STAFF_SUKSA

    staff.send("/ลงทะเบียน การศึกษา", user=STAFF_SUKSA, group=True)
    assert "ไม่มีมาตรการ" in staff.send("/รายงาน", user=STAFF_SUKSA).text
    assert "ไม่ใช่" in staff.send("/รายงาน 1 50%", user=STAFF_SUKSA).text
    assert staff.reports() == []


# --- the guided report --------------------------------------------------------------------------


def test_guided_report_measure_status_details(staff: Any) -> None:
    first = staff.send("/รายงาน", user=STAFF_SP, group=True)
    labels = [a["label"] for a in first.quick_replies()]
    assert len(labels) == 5 and all(len(label) <= 20 for label in labels)  # 4 measures + cancel
    second = staff.postback(button(first, "มาตรการที่ 3"), user=STAFF_SP, group=True)
    assert "มาตรการที่ 3" in second.text
    third = staff.postback(button(second, "50%"), user=STAFF_SP, group=True)
    assert "รายละเอียด" in third.text and staff.reports() == []
    assert "ไม่มีรายละเอียด" in [a["label"] for a in third.quick_replies()]
    # The next plain group message is the details, even without "/".
    done = staff.send("ติดตั้งกล่องรับความคิดเห็นหน้า อบต. แล้ว", user=STAFF_SP, group=True)
    assert "บันทึกรายงานแล้ว" in done.text
    [r] = staff.reports()
    assert (r.measure, r.status, r.percent, r.details) == (3, "doing", 50, "ติดตั้งกล่องรับความคิดเห็นหน้า อบต. แล้ว")
    # The flow is closed: the next chatter is ordinary conversation again.
    assert staff.send("ขอบคุณครับ", user=STAFF_SP, group=True) == []


def test_guided_report_with_the_number_typed_skips_the_measure_step(staff: Any) -> None:
    first = staff.send("/report ๔", user=STAFF_CHANG)
    labels = [a["label"] for a in first.quick_replies()]
    assert any("เสร็จ" in label for label in labels) and not any("มาตรการ" in label for label in labels)
    second = staff.postback(button(first, "เสร็จ"), user=STAFF_CHANG)
    staff.postback(button(second, "ไม่มีรายละเอียด"), user=STAFF_CHANG)
    [r] = staff.reports()
    assert (r.measure, r.division, r.status, r.percent, r.details) == (4, "chang", "done", 100, "")


def test_guided_report_typed_answers_and_status_with_details_in_one_message(staff: Any) -> None:
    staff.send("/รายงาน", user=STAFF_SP)
    assert "มาตรการที่ 2" in staff.send("2", user=STAFF_SP).text
    assert "บันทึก" in staff.send("กำลังทำ ๖๐% ปรับหน้าเว็บ", user=STAFF_SP).text
    [r] = staff.reports()
    assert (r.measure, r.percent, r.details) == (2, 60, "ปรับหน้าเว็บ")


def test_guided_report_cancel_and_other_peoples_taps(staff: Any) -> None:
    first = staff.send("/รายงาน", user=STAFF_SP, group=True)
    # Someone else tapping the buttons does not move this person's report.
    other = staff.postback(button(first, "มาตรการที่ 1"), user=STAFF_SP2, group=True)
    assert "หมดเวลา" in other.text or "ปิด" in other.text
    assert "ยกเลิก" in staff.send("/ยกเลิก", user=STAFF_SP, group=True).text
    assert staff.send("ข้อความธรรมดา", user=STAFF_SP, group=True) == []
    # A button from the cancelled flow does nothing.
    assert staff.postback(button(first, "มาตรการที่ 1"), user=STAFF_SP, group=True).text
    assert staff.reports() == []
    assert "ไม่มี" in staff.send("/cancel", user=STAFF_SP).text


def test_guided_report_survives_a_restart_and_expires_after_30_minutes(staff: Any) -> None:
    first = staff.send("/รายงาน 1", user=STAFF_SP, group=True)
    staff.postback(button(first, "ติดปัญหา"), user=STAFF_SP, group=True)
    bot = staff.restart()
    assert "บันทึก" in bot.send("รอผู้รับจ้าง", user=STAFF_SP, group=True).text
    assert [(r.status, r.details) for r in bot.reports()] == [("blocked", "รอผู้รับจ้าง")]

    again = bot.send("/รายงาน 2", user=STAFF_SP, group=True)
    bot.advance(minutes=31)
    assert bot.send("ข้อความหลังหมดเวลา", user=STAFF_SP, group=True) == []
    late = bot.postback(button(again, "เสร็จ"), user=STAFF_SP, group=True)
    assert "หมดเวลา" in late.text
    assert len(bot.reports()) == 1


def test_guided_report_other_commands_still_work_while_open(staff: Any) -> None:
    staff.send("/รายงาน", user=STAFF_SP, group=True)
    assert "ขนาดกลุ่มตัวอย่าง" in staff.send("/กลุ่มตัวอย่าง 250", user=STAFF_SP, group=True).text
    staff.send("/รายงาน 1 20% ทำแบบพิมพ์", user=STAFF_SP, group=True)  # a typed report closes the guided one
    assert staff.send("คุยต่อ", user=STAFF_SP, group=True) == []
    assert len(staff.reports()) == 1


def test_postback_data_is_small_and_labels_fit(staff: Any) -> None:
    first = staff.send("/รายงาน 4", user=STAFF_SP)
    for action in first.quick_replies():
        assert len(action["data"]) <= 300 and len(action["label"]) <= 20
        assert parse_qs(action["data"])["r"]


# --- /แก้ไข and /ถอนรายงาน ------------------------------------------------------------------------


def test_edit_replaces_details_of_the_latest_report_in_this_cycle(staff: Any) -> None:
    staff.send("/รายงาน 1 30% ร่าง", user=STAFF_SP)
    staff.send("/รายงาน 2 40% ร่าง", user=STAFF_SP)
    assert "แก้รายละเอียด" in staff.send("/แก้ไข ฉบับจริง", user=STAFF_SP).text
    first, second = staff.reports()
    assert (first.details, second.details) == ("ร่าง", "ฉบับจริง")
    assert second.edits[0]["details"] == "ร่าง"
    assert "กรุณาพิมพ์รายละเอียด" in staff.send("/edit", user=STAFF_SP).text


def test_edit_and_withdraw_need_a_report_in_this_cycle(staff: Any) -> None:
    staff.send("/รายงาน 1 30%", user=STAFF_SP, at=datetime(2021, 1, 20, 10, 0))
    staff.advance(days=10)  # 30 Jan: the January meeting (29 Jan) has passed
    assert "ไม่พบรายงาน" in staff.send("/แก้ไข ใหม่", user=STAFF_SP).text
    assert "ไม่พบรายงาน" in staff.send("/ถอนรายงาน", user=STAFF_SP).text
    assert staff.reports()[0].details == ""


def test_withdraw_hides_the_report_but_keeps_it(staff: Any) -> None:
    staff.send("/รายงาน 2 50% เดิม", user=STAFF_SP)
    staff.send("/รายงาน 2 60% พิมพ์ผิด", user=STAFF_SP)
    assert "ถอนรายงาน" in staff.send("/withdraw", user=STAFF_SP).text
    assert [r.percent for r in staff.reports()] == [50]
    assert len(staff.office.reports.all(2564, include_withdrawn=True)) == 2
    assert "60%" not in staff.send("/สถานะ 2", user=STAFF_SP).all_text


def test_someone_elses_report_cannot_be_edited(staff: Any) -> None:
    staff.send("/รายงาน 2 50% ของสมชาย", user=STAFF_SP)
    assert "ไม่พบรายงาน" in staff.send("/แก้ไข แก้ของคนอื่น", user=STAFF_SP2).text
    assert staff.reports()[0].details == "ของสมชาย"


# --- /รายงานแทน -----------------------------------------------------------------------------------


def test_report_for_a_division_backdated(staff: Any) -> None:
    replies = staff.send("/รายงานแทน กองคลัง 4 เสร็จ ตั้งผู้ดูแลเว็บไซต์แล้ว @25/1/2564", user=SECRETARY)
    assert "บันทึกรายงานแทน กองคลัง" in replies.text and "29 ม.ค. 2564" in replies.text
    [r] = staff.reports()
    assert (r.division, r.measure, r.status, r.details) == ("klang", 4, "done", "ตั้งผู้ดูแลเว็บไซต์แล้ว")
    assert r.reported_at == datetime(2021, 1, 25, 12, 0, tzinfo=BANGKOK)
    assert r.sent_at.date() == datetime(2021, 2, 15).date()
    assert r.recorded_by == SECRETARY and r.reporter_id is None
    # The recorder's photo within 30 minutes attaches to it.
    staff.send_image(user=SECRETARY)
    assert len(staff.reports()[0].evidence) == 1


def test_report_for_with_aliases_english_and_thai_digits(staff: Any) -> None:
    staff.send("/report-for สป. ๑ ๒๕% ประชุมชี้แจง", user=CHAIR)
    staff.send("/รายงานแทน กองการศึกษา ศาสนาและวัฒนธรรม 1 50%", user=CHAIR)  # not responsible
    staff.send("/รายงานแทน ช่าง4 ติดปัญหา รองบประมาณ อีเมล a@b.com", user=CHAIR)
    got = [(r.division, r.measure, r.percent, r.details) for r in staff.reports()]
    assert got == [("sp", 1, 25, "ประชุมชี้แจง"), ("chang", 4, None, "รองบประมาณ อีเมล a@b.com")]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("/รายงานแทน กองดนตรี 1 50%", "กอง"),
        ("/รายงานแทน กองคลัง 1 50%", "ไม่ใช่"),
        ("/รายงานแทน กองคลัง 4 50% @31/2/2564", "ไม่มีวันที่"),
        ("/รายงานแทน กองคลัง 4 50% @เมื่อวาน", "อ่านวันที่"),
        ("/รายงานแทน กองคลัง 4 50% @1/3/2564", "ยังมาไม่ถึง"),
        ("/รายงานแทน กองคลัง 4 120%", "0 ถึง 100"),
        ("/รายงานแทน", "กรุณาระบุกอง"),
        ("/รายงานแทน กองคลัง 4 50% @1/1/2560", "ไม่มีแผน"),
    ],
)
def test_report_for_bad_input_stores_nothing(staff: Any, text: str, says: str) -> None:
    assert says in staff.send(text, user=SECRETARY).text
    assert staff.reports() == []


def test_report_for_is_for_managers(staff: Any, make_bot: Any) -> None:
    for user in (STAFF_SP, STRANGER):
        text = staff.send("/รายงานแทน กองคลัง 4 50%", user=user).text
        assert "ประธาน เลขานุการ และผู้ช่วยเลขานุการ" in text
    assert staff.reports() == []


def test_member_cannot_report_for(make_bot: Any) -> None:
    bot = make_bot(roles={"member": [MEMBER]})
    assert "ขออภัย" in bot.send("/รายงานแทน กองคลัง 4 50%", user=MEMBER).text
    assert bot.reports() == []


def test_report_dated_by_event_timestamp_not_processing_time(staff: Any) -> None:
    at = datetime(2021, 2, 25, 23, 59, tzinfo=BANGKOK)  # meeting day, late evening
    staff.send("/รายงาน 2 70%", user=STAFF_SP, at=at)
    [r] = staff.reports()
    assert r.reported_at == at
    assert staff.office.calendar().cycle_of(r.day).id == "2021-02"
    assert at - timedelta(seconds=1) < r.sent_at <= at


def test_details_keep_the_digits_as_typed(staff: Any) -> None:
    staff.send("/รายงาน ๒ ๕๐% ปรับปรุงเว็บไซต์ ๓ หน้า", user=STAFF_SP)
    staff.send("/รายงานแทน กองคลัง ๔ เสร็จ ตั้งผู้ดูแล ๓ คน", user=SECRETARY)
    assert [r.details for r in staff.reports()] == ["ปรับปรุงเว็บไซต์ ๓ หน้า", "ตั้งผู้ดูแล ๓ คน"]


# --- a fiscal year without a plan file ----------------------------------------------------------


def test_no_plan_for_this_fiscal_year_refuses_reports_and_follow_up_and_stores_nothing(staff: Any) -> None:
    october = datetime(2021, 10, 5, 10, 0, tzinfo=BANGKOK)  # fiscal year 2565: only 2564 has a plan here
    for text in ("/รายงาน 1 70% อบรมแล้ว", "/รายงาน", "/ค้าง", "/สถานะ", "/สถานะ 1"):
        answer = staff.send(text, user=STAFF_SP, group=True, at=october)
        assert "ยังไม่มีแผนมาตรการของปีงบประมาณ 2565" in answer.text, (text, answer.text)
    assert staff.reports() == []
    # Information still answers from the latest plan.
    assert "มาตรการ" in staff.send("/มาตรการ", user=STAFF_SP, group=True, at=october).all_text


def test_report_refusals_follow_thai_numerals(make_bot: Any) -> None:
    bot = make_bot(display={"numerals": "thai"})
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    answer = bot.send("/รายงาน 9 50%", user=STAFF_SP, group=True)
    assert "ไม่มีมาตรการที่ ๙" in answer.text and "๑, ๒, ๓, ๔" in answer.text
    assert "ร้อยละต้องอยู่ระหว่าง ๐ ถึง ๑๐๐" in bot.send("/รายงาน 1 120%", user=STAFF_SP, group=True).text
    assert bot.reports() == []
