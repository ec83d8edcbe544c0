"""Replaying an event (what the journal does after a crash or power cut) changes nothing a second time.

The journal applies events to the store without an fsync each and replays those a checkpoint did not
cover, so every event kind must be applied once per event id: reports, edits, withdrawals, evidence,
registrations, role claims (and failed ones), guided steps.
"""

from __future__ import annotations

from typing import Any

import pytest
from tinydb import Query

from tests.conftest import MEMBER, SECRETARY, STAFF_SP, STRANGER
from tests.tiny import tiny_store


@pytest.fixture
def staff(bot: Any) -> Any:
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    return bot


def replay(bot: Any, event: dict[str, Any]) -> None:
    """Apply an already applied event again, as the journal's recovery would (the reply token is spent)."""
    bot.runtime.handler(event)


def send(bot: Any, text: str, **kw: Any) -> dict[str, Any]:
    event = bot.text_event(text, **kw)
    bot.deliver(event)
    return event


def button(replies: Any, label_part: str) -> str:
    return next(a["data"] for a in replies.quick_replies() if label_part in a["label"])


def test_a_report_and_its_edit_replayed_are_stored_once(staff: Any) -> None:
    report = send(staff, "/รายงาน 1 กำลังทำ 40% จัดประชุม", user=STAFF_SP)
    edit = send(staff, "/แก้ไข จัดประชุมครบทุกหมู่บ้าน", user=STAFF_SP)
    replay(staff, report)
    replay(staff, edit)
    [r] = staff.reports()
    assert r.details == "จัดประชุมครบทุกหมู่บ้าน"
    assert [e["details"] for e in r.edits] == ["จัดประชุม"]


def test_a_replayed_withdrawal_does_not_withdraw_the_report_before_it(staff: Any) -> None:
    send(staff, "/รายงาน 1 กำลังทำ 40% ครั้งแรก", user=STAFF_SP)
    staff.advance(minutes=5)
    send(staff, "/รายงาน 1 กำลังทำ 60% ครั้งที่สอง", user=STAFF_SP)
    staff.advance(minutes=5)
    withdrawal = send(staff, "/ถอนรายงาน", user=STAFF_SP)
    replay(staff, withdrawal)
    assert [r.details for r in staff.reports()] == ["ครั้งแรก"]


def test_evidence_replayed_is_attached_once(staff: Any) -> None:
    send(staff, "/รายงาน 1 กำลังทำ 40% ติดประกาศ", user=STAFF_SP)
    image = staff.standin.image_event(user_id=STAFF_SP, timestamp=staff.now)
    staff.deliver(image)
    replay(staff, image)
    [r] = staff.reports()
    assert len(r.evidence) == 1


def test_a_registration_replayed_is_the_same_registration(staff: Any) -> None:
    event = send(staff, "/ลงทะเบียน คลัง", user=STRANGER, group=True)
    before = staff.office.people.get(STRANGER)
    replay(staff, event)
    assert staff.office.people.get(STRANGER) == before and before.division == "klang"


def test_a_role_claim_replayed_is_not_a_failed_claim(bot: Any) -> None:
    code = bot.send("/เชิญ กรรมการ", user=SECRETARY).texts[-1].split()[-1]
    claim = send(bot, f"/รหัส {code}", user=MEMBER)
    wrong = send(bot, "/รหัส ZZZZZZZZZZ", user=STRANGER)
    replay(bot, claim)
    replay(bot, wrong)
    assert bot.office.people.get(MEMBER).roles == ["member"]
    with tiny_store(bot.office).read() as db:
        attempts = db.table("claim_attempts").search(Query().user_id.one_of([MEMBER, STRANGER]))
    assert [a["user_id"] for a in attempts] == [STRANGER]  # the replayed failure counts once


def test_guided_steps_replayed_keep_their_buttons_working(staff: Any) -> None:
    start = staff.text_event("/รายงาน", user=STAFF_SP, group=True)
    first = staff.deliver(start)
    replay(staff, start)  # the same draft again: the buttons already sent still point at it
    second = staff.postback(button(first, "มาตรการที่ 3"), user=STAFF_SP, group=True)
    assert "มาตรการที่ 3" in second.text
    step = staff.standin.postback_event(button(second, "50%"), user_id=STAFF_SP, group_id=staff.config.line.group_id,
                                        timestamp=staff.now)
    third = staff.deliver(step)
    replay(staff, step)
    done = staff.postback(button(third, "ไม่มีรายละเอียด"), user=STAFF_SP, group=True)
    assert "บันทึกรายงานแล้ว" in done.text
    [r] = staff.reports()
    assert (r.measure, r.status, r.percent) == (3, "doing", 50)
