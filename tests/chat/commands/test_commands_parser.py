"""The command layer called directly (a real Office over a temp store): matching, the registry, drafts, robustness."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ita_bot.chat.commands import COMMANDS, ChatContext, Command, Who, handle_postback, handle_text, wants_followup
from ita_bot.chat.commands.registry import find
from ita_bot.chat.conversation import Conversations
from ita_bot.domain.thai import BANGKOK
from ita_bot.line.kit import MAX_LABEL, Message, fit_reply, text_messages
from tests.conftest import CHAIR, GROUP, SECRETARY, STAFF_SP, STRANGER

NOW = datetime(2021, 2, 15, 10, 0, tzinfo=BANGKOK)


def ctx(office: Any, user: str, *, group: str | None = None, at: datetime = NOW, mentioned: bool = False,
        event: str | None = None) -> ChatContext:
    return ChatContext(office, user, "group" if group else "user", group or user, at, lambda: f"คน {user[-4:]}",
                       event_id=event, mentioned=mentioned)


def texts(messages: list[Message]) -> str:
    return "\n".join(m["text"] if m["type"] == "text" else m["altText"] for m in messages)


# --- matching -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "name", "rest"),
    [
        ("/รายงาน ๒ ๕๐%", "รายงาน", "๒ ๕๐%"),
        ("/report 2 50%", "รายงาน", "2 50%"),
        ("  /REPORT   2  ", "รายงาน", "2"),
        ("/รายงาน๒ ๕๐%", "รายงาน", "๒ ๕๐%"),
        ("/รายงานแทน กองคลัง 4", "รายงานแทน", "กองคลัง 4"),
        ("/report-for สป. 1", "รายงานแทน", "สป. 1"),
        ("/Status 2", "สถานะ", "2"),
        ("สถานะ", "สถานะ", ""),
        ("／help", "ช่วยเหลือ", ""),
        ("/ช่วยเหลือ\u200b", "ช่วยเหลือ", ""),
        ("/แก้ไข บรรทัดหนึ่ง\nบรรทัดสอง", "แก้ไข", "บรรทัดหนึ่ง\nบรรทัดสอง"),
    ],
)
def test_find(typed: str, name: str, rest: str) -> None:
    from ita_bot.chat.commands.registry import clean

    found = find(clean(typed))
    assert found is not None
    assert (found[0].name, found[1]) == (name, rest)


@pytest.mark.parametrize("typed", ["/", "", "/รายงานข่าว", "/ฉันเอง", "hello", "/helpme"])
def test_find_nothing(typed: str) -> None:
    assert find(typed) is None


def test_commands_are_validated_when_declared() -> None:
    with pytest.raises(ValueError):
        Command(name="/ผิด", alias="x", who=Who.ANYONE, handler=lambda c, a: [], usage="/ผิด", help="h", example="/ผิด")
    with pytest.raises(ValueError):
        Command(name="ถูก", alias="Upper", who=Who.ANYONE, handler=lambda c, a: [], usage="/ถูก", help="h",
                example="/ถูก")
    for cmd in COMMANDS:
        assert cmd.help and cmd.example.startswith("/") and cmd.usage.startswith("/")


# --- direct calls -------------------------------------------------------------------------------


def test_group_chatter_without_draft_returns_nothing(office: Any) -> None:
    assert handle_text(ctx(office, STAFF_SP, group=GROUP), "สวัสดีครับ") == []
    assert "ไม่รู้จักคำสั่ง" in texts(handle_text(ctx(office, STAFF_SP, group=GROUP), "/อะไรนะ"))
    assert "/ช่วยเหลือ" in texts(handle_text(ctx(office, STAFF_SP, group=GROUP, mentioned=True), ""))


def test_followup_and_draft_lifecycle(office: Any) -> None:
    handle_text(ctx(office, STAFF_SP, group=GROUP), "/ลงทะเบียน สป.")
    c = ctx(office, STAFF_SP, group=GROUP)
    assert not wants_followup(c)
    handle_text(c, "/รายงาน 2")
    assert wants_followup(c)
    # Other chats and people are not affected.
    assert not wants_followup(ctx(office, STAFF_SP))
    assert not wants_followup(ctx(office, CHAIR, group=GROUP))
    assert wants_followup(ctx(office, STAFF_SP, group=GROUP, at=NOW + timedelta(minutes=29)))
    assert not wants_followup(ctx(office, STAFF_SP, group=GROUP, at=NOW + timedelta(minutes=31)))


def test_plain_cancel_word_leaves_the_draft(office: Any) -> None:
    handle_text(ctx(office, STAFF_SP, group=GROUP), "/ลงทะเบียน สป.")
    handle_text(ctx(office, STAFF_SP), "/รายงาน")
    assert "ยกเลิก" in texts(handle_text(ctx(office, STAFF_SP), "ยกเลิก"))
    assert Conversations(office.repositories.conversations).get(STAFF_SP, STAFF_SP, NOW) is None


def test_a_mention_while_a_draft_is_open_is_a_command(office: Any) -> None:
    handle_text(ctx(office, STAFF_SP, group=GROUP), "/ลงทะเบียน สป.")
    handle_text(ctx(office, STAFF_SP, group=GROUP), "/รายงาน 1")
    reply = handle_text(ctx(office, STAFF_SP, group=GROUP, mentioned=True), "คะแนน")
    assert "คะแนนรวม" in texts(reply)
    assert wants_followup(ctx(office, STAFF_SP, group=GROUP))


def test_the_same_event_twice_records_once(office: Any) -> None:
    handle_text(ctx(office, STAFF_SP, group=GROUP), "/ลงทะเบียน สป.")
    for _ in range(2):
        handle_text(ctx(office, STAFF_SP, event="evt-1"), "/รายงาน 1 50%")
    assert len(office.reports.all(2564)) == 1


def test_unknown_postbacks_are_ignored(office: Any) -> None:
    assert handle_postback(ctx(office, STAFF_SP), "something=else") == []
    assert handle_postback(ctx(office, STAFF_SP), "") == []
    assert "คะแนนรวม" in texts(handle_postback(ctx(office, STRANGER), "cmd=/คะแนน"))


def test_fit_reply_caps_at_five_messages() -> None:
    many = text_messages("ก" * 26_000)
    assert len(many) == 6
    fitted = fit_reply(many, "ดูต่อที่ลิงก์")
    assert len(fitted) == 5 and fitted[-1] == {"type": "text", "text": "ดูต่อที่ลิงก์"}


def test_quick_reply_labels_are_cut_to_20() -> None:
    from ita_bot.line.kit import Button, quick_reply

    qr = quick_reply([Button("ป้ายยาวมากเกินยี่สิบตัวอักษรแน่นอน", "r=x")] * 20)
    assert qr is not None and len(qr["items"]) == 13
    assert all(i["action"]["type"] == "postback" and len(i["action"]["label"]) <= MAX_LABEL for i in qr["items"])


# --- robustness: no text makes the command layer raise ---------------------------------------------

_words = st.sampled_from(
    [w for c in COMMANDS for w in c.words]
    + ["/", "//", "@", "%", "๕๐%", "-1%", "101%", "เสร็จ", "กำลังทำ", "ติดปัญหา", "ก.พ.", "29/2/2564", "สป.",
       "กองคลัง", "@25/2/2564", "@", "\n", "\u200b", "ฯ", "9" * 30, "๙๙๙๙", "2/2564", "99%", "0%", "100%"]
)
_texts = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(_words, st.text(max_size=8)), max_size=8).map(" ".join),
    st.lists(st.one_of(_words, st.text(max_size=8)), min_size=1, max_size=6).map(lambda ws: "/" + " ".join(ws)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_texts, who=st.sampled_from([STRANGER, STAFF_SP, SECRETARY]), in_group=st.booleans())
def test_no_text_makes_the_command_layer_raise(office: Any, text: str, who: str, in_group: bool) -> None:
    if office.people.get(STAFF_SP) is None:
        handle_text(ctx(office, STAFF_SP, group=GROUP), "/ลงทะเบียน สป.")
    reply = handle_text(ctx(office, who, group=GROUP if in_group else None), text)
    assert isinstance(reply, list) and len(reply) <= 5
    assert all(m["type"] in ("text", "flex") for m in reply)
    for m in reply:
        if m["type"] == "text":
            assert 1 <= len(m["text"]) <= 5000


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.text(max_size=60), st.sampled_from(["r=measure&n=99&d=x", "r=status&s=done", "r=done",
                                                             "r=cancel", "r=status&s=doing&p=abc", "cmd=/สถานะ"])))
def test_no_postback_makes_the_command_layer_raise(office: Any, data: str) -> None:
    reply = handle_postback(ctx(office, STAFF_SP), data)
    assert isinstance(reply, list) and len(reply) <= 5


