"""Event dispatch: trigger rules per chat type, greetings, membership, display names and evidence."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta
from typing import Any

import pytest

from ita_bot.chat.dispatch import EventHandler, event_now, strip_self_mention
from ita_bot.domain.progress import Report
from ita_bot.domain.thai import BANGKOK
from ita_bot.line.client import LineClient
from tests.conftest import GROUP, MEMBER, SECRETARY, STAFF_KLANG, STAFF_SP, STAFF_SP2, TOKEN
from tests.tiny import tiny_store

ROOM = "R" + "7" * 32


def report_now(bot: Any, *, user: str = STAFF_SP, chat: str = STAFF_SP, measure: int = 1, division: str = "sp",
               reported_at: datetime | None = None, recorded_by: str | None = None) -> Report:
    """A report as /รายงาน would store it, sent at the bot's current moment."""
    sent = bot.now
    report = Report(
        fiscal_year=2564, measure=measure, division=division, status="doing", percent=50, details="ทดสอบ",
        reported_at=reported_at or sent, sent_at=sent, chat_id=chat, reporter_id=user, recorded_by=recorded_by,
    )
    bot.office.reports.add(report)
    bot.advance(seconds=5)
    return report


def stored(bot: Any, report: Report) -> Report:
    return bot.office.reports.get(2564, report.id)


# -- pure helpers ------------------------------------------------------------------------------------------


def test_mention_is_cut_by_utf16_offsets() -> None:
    # The emoji is two UTF-16 units: a naive str slice would cut in the wrong place.
    text = "😀 @ITA Bot /สถานะ 2"
    message = {"text": text, "mention": {"mentionees": [{"index": 3, "length": 8, "isSelf": True}]}}
    assert strip_self_mention(message) == ("😀  /สถานะ 2".strip(), True)
    other = {"text": "@สมชาย สวัสดี", "mention": {"mentionees": [{"index": 0, "length": 6, "isSelf": False}]}}
    assert strip_self_mention(other) == ("@สมชาย สวัสดี", False)
    assert strip_self_mention({"text": "สวัสดี"}) == ("สวัสดี", False)


def test_event_now_is_the_timestamp_in_bangkok() -> None:
    now = event_now({"timestamp": 1613358000000})
    assert now == datetime(2021, 2, 15, 10, 0, tzinfo=BANGKOK)
    assert now.utcoffset() == timedelta(hours=7)


# -- trigger rules -----------------------------------------------------------------------------------------


def test_every_text_in_a_private_chat_is_a_command(bot: Any) -> None:
    assert "/มาตรการ" in bot.send("/ช่วยเหลือ", user=STAFF_SP).all_text
    assert "/มาตรการ" in bot.send("ช่วยเหลือ", user=STAFF_SP).all_text  # "/" optional 1:1
    assert bot.send("สวัสดีครับ", user=STAFF_SP)  # unknown: still answered, politely


@pytest.mark.parametrize("where", ["group", "room"])
def test_group_and_room_chatter_gets_no_reply_but_commands_and_mentions_do(bot: Any, where: str) -> None:
    if where == "room":
        bot.standin.add_room(ROOM, [STAFF_SP, STAFF_KLANG])
    chat = {"group": True} if where == "group" else {"room": ROOM}
    assert bot.send("ประชุมพรุ่งนี้กี่โมงครับ", user=STAFF_SP, **chat) == []
    assert bot.send("ช่วยเหลือ", user=STAFF_SP, **chat) == []  # no slash, no mention: conversation
    assert "/มาตรการ" in bot.send("/ช่วยเหลือ", user=STAFF_SP, **chat).all_text
    assert "/มาตรการ" in bot.send("ช่วยเหลือ", user=STAFF_SP, mention=True, **chat).all_text
    assert "/มาตรการ" in bot.send("/ช่วยเหลือ", user=STAFF_SP, mention=True, **chat).all_text
    assert bot.send("@ITA Bot", user=STAFF_SP, mention=True, **chat)  # a bare mention points to help


def test_mentioning_someone_else_is_not_a_command(bot: Any) -> None:
    event = bot.standin.text_event(
        "@มานี คลัง ช่วยเหลือหน่อย", user_id=STAFF_SP, group_id=GROUP, timestamp=bot.now,
        mentionees=[{"userId": STAFF_KLANG}],
    )
    assert bot.deliver(event) == []


def test_open_guided_report_takes_the_next_plain_group_text_of_that_person_only(bot: Any) -> None:
    from ita_bot.chat.conversation import Conversations

    bot.office.people.register(STAFF_SP, "สมชาย สป", "sp", approved=True, now=bot.now)
    drafts = Conversations(bot.office.repositories.conversations)
    draft = drafts.start(GROUP, STAFF_SP, bot.now, measure=1)
    draft.step, draft.status, draft.percent = "details", "doing", 50
    drafts.save(draft, bot.now)
    assert bot.send("เรื่องอื่นครับ", user=STAFF_KLANG, group=True) == []  # someone else chatting
    assert bot.send("จัดอบรมเจ้าหน้าที่แล้ว", user=STAFF_SP, group=True)  # the details: answered
    [report] = bot.reports()
    assert (report.measure, report.details, report.chat_id) == (1, "จัดอบรมเจ้าหน้าที่แล้ว", GROUP)
    assert bot.send("ขอบคุณครับ", user=STAFF_SP, group=True) == []  # the draft is closed: chatter again


def test_postback_goes_to_the_commands(bot: Any) -> None:
    # An unknown postback (an old button) is handled without error; whatever it answers goes back.
    bot.postback("action=unknown&x=1", user=STAFF_SP, group=True)
    assert bot.journal.pending() == 0


# -- join, follow, membership --------------------------------------------------------------------------------


def test_join_greets_and_points_to_help_and_setgroup(bot: Any) -> None:
    replies = bot.join(group=True)
    assert len(replies) == 1
    assert "/ช่วยเหลือ" in replies.text and "/ตั้งกลุ่ม" in replies.text


def test_follow_welcomes_with_help(bot: Any) -> None:
    replies = bot.follow(STAFF_SP)
    assert len(replies) == 1 and "/ช่วยเหลือ" in replies.text


def test_unfollow_and_leave_are_handled_quietly(bot: Any) -> None:
    assert bot.deliver(bot.standin.unfollow_event(STAFF_SP, timestamp=bot.now)) == []
    assert bot.deliver(bot.standin.leave_event(group_id=GROUP, timestamp=bot.now)) == []
    assert bot.journal.pending() == 0


def test_members_leaving_and_joining_the_staff_group_update_reminder_mentions(bot: Any) -> None:
    bot.office.people.register(STAFF_SP, "สมชาย สป", "sp", approved=True, now=bot.now)
    bot.office.people.register(STAFF_SP2, "สมศรี สป", "sp", approved=True, now=bot.now)
    assert bot.member_left(STAFF_SP) == []
    assert bot.office.people.get(STAFF_SP).in_group is False
    assert bot.office.people.get(STAFF_SP2).in_group is True
    bot.member_joined(STAFF_SP)
    assert bot.office.people.get(STAFF_SP).in_group is True
    # Another group is not the staff group: nothing changes.
    other = "C" + "8" * 32
    bot.standin.add_group(other, "กลุ่มอื่น", [STAFF_SP2])
    bot.member_left(STAFF_SP2, group=other)
    assert bot.office.people.get(STAFF_SP2).in_group is True


def test_display_names_are_looked_up_once_and_kept_in_people(bot: Any, standin: Any) -> None:
    handler: EventHandler = bot.runtime.handler
    resolve = handler.names.resolver(STAFF_KLANG, "group", GROUP)
    assert resolve() == "มานี คลัง"
    assert resolve() == "มานี คลัง"
    assert handler.names.resolver(STAFF_KLANG, "user", STAFF_KLANG)() == "มานี คลัง"
    lookups = [c for c in standin.calls if STAFF_KLANG in c.path]
    assert len(lookups) == 1  # cached for the day
    assert bot.office.people.get(STAFF_KLANG).name == "มานี คลัง"


def test_more_than_five_messages_are_cut_to_five(bot: Any, standin: Any) -> None:
    event = bot.text_event("/ช่วยเหลือ", user=STAFF_SP)  # only for its reply token
    bot.runtime.handler.reply(event, [{"type": "text", "text": f"ข้อความ {i}"} for i in range(7)])
    assert [m["text"] for m in bot.replies_to(event)] == [f"ข้อความ {i}" for i in range(5)]


# -- evidence ------------------------------------------------------------------------------------------------


def test_image_attaches_to_the_latest_report_and_is_on_disk(bot: Any) -> None:
    older = report_now(bot, measure=1)
    latest = report_now(bot, measure=4)
    replies = bot.send_image(user=STAFF_SP)
    assert len(replies) == 1 and "มาตรการที่ 4" in replies.text
    assert stored(bot, older).evidence == []
    [evidence] = stored(bot, latest).evidence
    assert evidence["kind"] == "image" and evidence["content_type"] == "image/jpeg"
    kept = bot.office.repositories.evidence.open(evidence["file"])
    assert evidence["file"].startswith(f"2564/{latest.id}/") and evidence["file"].endswith(".jpg")
    assert kept.data[:2] == b"\xff\xd8" and evidence["size"] == len(kept.data)
    assert evidence["message_id"] and evidence["received_at"].startswith("2021-02-15T10:00")


def test_pdf_file_attaches_with_its_name(bot: Any) -> None:
    report = report_now(bot, chat=GROUP)
    replies = bot.send_file("ผลการดำเนินงาน.pdf", user=STAFF_SP, group=True)
    assert len(replies) == 1 and "ผลการดำเนินงาน.pdf" in replies.text
    [evidence] = stored(bot, report).evidence
    assert evidence["kind"] == "file" and evidence["name"] == "ผลการดำเนินงาน.pdf"
    assert evidence["content_type"] == "application/pdf"
    assert bot.office.repositories.evidence.open(evidence["file"]).data.startswith(b"%PDF")


def office_bytes(ext: str) -> bytes:
    """The smallest file of that Office format the evidence check recognises (its type is read from the bytes)."""
    if ext in ("doc", "xls"):
        return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # a compound file header
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml" if ext == "docx" else "xl/workbook.xml", "<x/>")
    return out.getvalue()


@pytest.mark.parametrize("name", ["แผน.docx", "งบ.XLSX", "สรุป.doc", "ตาราง.xls"])
def test_word_and_excel_files_attach(bot: Any, name: str) -> None:
    report = report_now(bot)
    data = office_bytes(name.rsplit(".", 1)[1].lower())
    bot.send_file(name, data, content_type="application/octet-stream", user=STAFF_SP)
    [evidence] = stored(bot, report).evidence
    assert evidence["name"] == name and evidence["content_type"] != "application/octet-stream"


def test_image_set_attaches_every_image_and_answers_once(bot: Any) -> None:
    report = report_now(bot, chat=GROUP)
    replies = bot.send_images(3, user=STAFF_SP, group=True)
    assert len(replies) == 1 and "3 รูป" in replies.text
    evidence = stored(bot, report).evidence
    assert len(evidence) == 3
    files = [bot.office.repositories.evidence.open(e["file"]) for e in evidence]
    assert len({f.data for f in files}) == 3  # three different images, all kept


def test_evidence_window_is_thirty_minutes_from_sending(bot: Any) -> None:
    report = report_now(bot)
    bot.advance(minutes=29)
    bot.send_image(user=STAFF_SP)
    bot.advance(minutes=2)
    hint = bot.send_image(user=STAFF_SP)
    assert len(stored(bot, report).evidence) == 1
    assert "/รายงาน" in hint.text  # 1:1: the hint how to attach


def test_evidence_without_a_report_gets_a_hint_in_private_and_silence_in_groups(bot: Any) -> None:
    assert "30 นาที" in bot.send_image(user=STAFF_SP).text
    assert bot.send_image(user=STAFF_SP, group=True) == []
    assert bot.send_file(user=STAFF_SP, group=True) == []
    # A report in another chat is not a target here.
    report_now(bot, chat=GROUP)
    assert "30 นาที" in bot.send_image(user=STAFF_SP).text
    assert not list(tiny_store(bot.office).evidence_dir.glob("**/*.jpg"))


def test_other_file_types_are_not_evidence(bot: Any) -> None:
    report = report_now(bot)
    assert "PDF" in bot.send_file("เพลง.mp3", b"ID3", content_type="audio/mpeg", user=STAFF_SP).text
    assert bot.send_file("โปรแกรม.exe", b"MZ", user=STAFF_SP, group=True) == []
    assert stored(bot, report).evidence == []


def test_only_the_reporters_own_files_attach(bot: Any) -> None:
    report = report_now(bot, chat=GROUP)
    assert bot.send_image(user=STAFF_KLANG, group=True) == []
    assert stored(bot, report).evidence == []


def test_backdated_manager_report_takes_evidence_from_when_it_was_sent(bot: Any) -> None:
    report = report_now(bot, user=SECRETARY, chat=SECRETARY, recorded_by=SECRETARY,
                        reported_at=datetime(2021, 1, 20, 9, 0, tzinfo=BANGKOK))
    assert "มาตรการที่ 1" in bot.send_file(user=SECRETARY).text
    assert len(stored(bot, report).evidence) == 1


def test_evidence_is_attached_once_when_redelivered(bot: Any) -> None:
    from ita_bot.line_standin import as_redelivery

    report = report_now(bot)
    event = bot.standin.image_event(user_id=STAFF_SP, timestamp=bot.now)
    bot.deliver(event)
    bot.deliver(as_redelivery(event))
    assert len(stored(bot, report).evidence) == 1


def test_content_download_failure_is_retried(bot: Any, standin: Any) -> None:
    report = report_now(bot)
    standin.fail("/v2/bot/message/", 500, times=1)  # the content API is on the same stand-in URL
    bot.journal.poll_seconds = 0.05
    replies = bot.send_image(user=STAFF_SP)
    assert len(stored(bot, report).evidence) == 1
    assert len(replies) == 1


def test_image_in_a_report_flow_reaches_the_right_report_in_order(make_bot: Any) -> None:
    # The report event and the photo after it come in one webhook, photo first: timestamp order wins.
    bot = make_bot()
    bot.office.people.register(STAFF_SP, "สมชาย สป", "sp", approved=True, now=bot.now)
    report_text = bot.text_event("/รายงาน 1 กำลังทำ 50% จัดอบรมแล้ว", user=STAFF_SP, group=True)
    photo = bot.standin.image_event(user_id=STAFF_SP, group_id=GROUP, timestamp=bot.now + timedelta(seconds=5))
    bot.deliver(photo, report_text)
    reports = bot.reports()
    if not reports:
        pytest.skip("/รายงาน is not available yet")
    assert len(reports[-1].evidence) == 1


def test_member_is_the_committee_not_staff(bot: Any) -> None:
    # Evidence needs a report: a committee member without one gets the hint 1:1.
    assert "30 นาที" in bot.send_image(user=MEMBER).text


def test_handler_uses_the_line_client_it_was_given(bot: Any, standin: Any) -> None:
    handler = EventHandler(bot.office, LineClient(TOKEN, standin.url, standin.url))
    assert handler.names.lookup(STAFF_SP2, "user", STAFF_SP2) == "สมศรี สป"
