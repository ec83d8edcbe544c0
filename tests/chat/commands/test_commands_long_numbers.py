"""Numbers typed or tapped out of all proportion: every command answers in Thai and stores nothing.

A number of 4,400 digits is more than Python's int() reads, 400 nines before "%" are infinity as a float,
and a year such as 9999 breaks date arithmetic: each used to end in a traceback and no reply at all.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest

from ita_bot.chat.conversation import Conversations
from tests.conftest import SECRETARY, STAFF_SP

HUGE = "9" * 4400  # over int()'s 4,300-digit limit
THAI = re.compile(r"[\u0e01-\u0e5b]")


@pytest.fixture
def staff(bot: Any) -> Any:
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    return bot


def _stored(bot: Any) -> tuple[Any, ...]:
    """What these commands could store: reports, meeting dates and open guided reports."""
    drafts = Conversations(bot.office.repositories.conversations)
    return (bot.reports(), bot.office.meeting_overrides(), drafts.get(bot.config.line.group_id, STAFF_SP, bot.now),
            drafts.get(STAFF_SP, STAFF_SP, bot.now))


def _assert_thai_refusal(replies: Any) -> None:
    assert replies, "no reply at all"
    assert replies.text.startswith("ขออภัย"), replies.text[:200]
    assert THAI.search(replies.text) and len(replies.text) < 600, replies.text[:200]
    assert HUGE[:100] not in replies.text  # a pasted page of digits is not quoted back


@pytest.mark.parametrize(("text", "user"), [
    (f"/รายงาน {HUGE}", STAFF_SP),
    (f"/รายงาน {HUGE} เสร็จ ส่งแล้ว", STAFF_SP),
    (f"/รายงาน 2 {'9' * 400}%", STAFF_SP),
    (f"/รายงาน 2 กำลังทำ 5.{'9' * 400}%", STAFF_SP),  # float() rounds it to 6: not a whole number
    (f"/สรุป {HUGE}", STAFF_SP),
    (f"/สรุป 2/{HUGE}", STAFF_SP),
    (f"/กลุ่มตัวอย่าง {HUGE}", SECRETARY),
    (f"/รายงานแทน สป. {HUGE}", SECRETARY),
    (f"/รายงานแทน สป. 2 {'9' * 400}%", SECRETARY),
    (f"/รายงานแทน สป. 2 เสร็จ @1/1/{HUGE}", SECRETARY),
    ("/ประชุม 9999-12-31", SECRETARY),
    ("/ประชุม 0001-01-01", SECRETARY),
    ("/ประชุม 1/1/9999", SECRETARY),
], ids=lambda v: v[:30] if isinstance(v, str) else None)
def test_a_huge_number_in_a_command_gets_a_thai_answer_and_stores_nothing(staff: Any, text: str, user: str) -> None:
    """A number far too long for a command (a measure, percent, count, month or date) is answered, not a crash."""
    before = _stored(staff)
    _assert_thai_refusal(staff.send(text, user=user))
    assert _stored(staff) == before


def test_a_meeting_far_from_this_fiscal_year_is_refused(staff: Any) -> None:
    """A meeting date in a year the calendar can hold but no office plans for (a slip of the keyboard) is refused."""
    before = _stored(staff)
    replies = staff.send("/ประชุม 2/1/2600", user=SECRETARY)
    _assert_thai_refusal(replies)
    assert "ปีงบประมาณ 2563–2565" in replies.text
    assert _stored(staff) == before
    # Next year's and this year's meetings can still be set.
    assert "แล้ว ✅" in staff.send("/ประชุม 28/10/2564", user=SECRETARY).text
    assert staff.office.meeting_overrides()["2021-10"].isoformat() == "2021-10-28"


def _button(replies: Any, label_part: str) -> dict[str, str]:
    for action in replies.quick_replies():
        if label_part in action["label"]:
            return {k: v[0] for k, v in parse_qs(action["data"]).items()}
    raise AssertionError(f"no button {label_part!r}")


def test_a_tapped_button_with_a_huge_measure_or_percent_is_answered_and_stores_nothing(staff: Any) -> None:
    """Button data comes back from the phone: a forged huge measure or percent re-asks instead of crashing."""
    measure = _button(staff.send("/รายงาน", user=STAFF_SP), "มาตรการที่ 2")
    before = _stored(staff)
    replies = staff.postback(urlencode({**measure, "n": HUGE}), user=STAFF_SP)
    assert "เลือกมาตรการ" in replies.text  # the measure step again
    assert _stored(staff) == before

    status = _button(staff.postback(urlencode(measure), user=STAFF_SP), "กำลังทำ 50")
    before = _stored(staff)
    for p in (HUGE, "9" * 400):
        _assert_thai_refusal(staff.postback(urlencode({**status, "p": p}), user=STAFF_SP))
        assert _stored(staff) == before
    # The guided report still finishes with a real button.
    staff.postback(urlencode(status), user=STAFF_SP)
    assert "บันทึกรายงานแล้ว" in staff.send("ติดตั้งป้ายแล้ว", user=STAFF_SP).text


def test_a_huge_percent_typed_in_a_guided_report_is_refused_not_kept_as_details(staff: Any) -> None:
    """At the status step, "กำลังทำ 5000%" is a percent out of range, not a report whose details read 5000%."""
    staff.send("/รายงาน 2", user=STAFF_SP)
    before = _stored(staff)
    for typed in ("กำลังทำ 5000%", f"กำลังทำ {HUGE}%"):
        _assert_thai_refusal(staff.send(typed, user=STAFF_SP))
        assert _stored(staff) == before
