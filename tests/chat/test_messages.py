"""Messages are LINE JSON data: every builder's output is what line-bot-sdk's own models take, unchanged,
and LineClient posts it as given (headers, retry key, 409 and errors as with the SDK's request models)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from linebot.v3.messaging.models import Message as SdkMessage

from ita_bot.chat.commands import ChatContext, handle_text
from ita_bot.chat.progress_replies import history_messages, pending_messages, status_messages, summary_messages
from ita_bot.domain.office import Office
from ita_bot.domain.progress import Report
from ita_bot.domain.summary import CycleSummary, cycle_summary
from ita_bot.domain.thai import BANGKOK, THAI
from ita_bot.domain.wording import NEVER_REPORTED, status_words
from ita_bot.line.client import LineApiError, LineClient
from ita_bot.line.kit import MAX_LABEL, MAX_QUICK_REPLY_ITEMS, Button, Message, fit_reply, text_messages
from ita_bot.line_standin.validation import check_send_request
from ita_bot.schedule import messages as job_messages
from tests.conftest import GROUP, STAFF_SP, TOKEN

NOW = datetime(2021, 2, 22, 10, 0, tzinfo=BANGKOK)
LINK = "https://ita.example.go.th/reports/2564/2021-02"
LONG_LABEL = "ป้ายยาวมากเกินยี่สิบตัวอักษรแน่นอน"


def add_report(office: Office, measure: int, division: str, day: int, status: str, percent: int | None,
               details: str, evidence: int = 0) -> None:
    moment = datetime(2021, 2, day, 10, 0, tzinfo=BANGKOK)
    files = [{"name": f"หลักฐาน{i}.pdf", "path": f"x/{i}.pdf"} for i in range(evidence)]
    office.reports.add(Report(2564, measure, division, status, percent, details, moment, moment,
                              reporter_name="ผู้รายงาน", evidence=files))


@pytest.fixture
def busy(office: Office) -> Office:
    """Reports on some pairs (long details with braces, evidence), others still pending."""
    pairs = list(office.plan.pairs())
    for i, (measure, division) in enumerate(pairs[: len(pairs) - 2]):
        status = ("doing", "done", "blocked", "todo")[i % 4]
        add_report(office, measure, division, 1 + i % 20, status, 40 if status == "doing" else None,
                   f"ดำเนินการ {{ตามแผน}} ขั้นที่ {i} " * 20, evidence=i % 3)
    return office


def feb(office: Office) -> CycleSummary:
    """The February 2564 cycle's summary."""
    return cycle_summary(office.plan, office.view(office.calendar().cycle("2021-02")))


BUILDERS: dict[str, Callable[[Office], list[Message]]] = {
    "text with quick replies": lambda o: text_messages(
        "ข้อความ {ปีกกา} 😀\n" + "ก" * 6_000, [Button(LONG_LABEL, "r=x", "เลือกแล้ว")] * 15),
    "fit_reply": lambda o: fit_reply(text_messages("ข" * 26_000), "ดูต่อที่ลิงก์"),
    "status": lambda o: status_messages(feb(o), NOW.date()),
    "status, Thai digits": lambda o: status_messages(feb(o), NOW.date(), THAI),
    "history": lambda o: history_messages(
        o.plan, o.plan.measures[0], feb(o),
        [r for r in o.reports.all(2564) if r.measure == o.plan.measures[0].number], o.calendar().cycle_of),
    "pending": lambda o: pending_messages(feb(o)),
    "summary": lambda o: summary_messages(feb(o), LINK),
    "reminder with mentions": lambda o: job_messages.reminder_messages(
        o.calendar().cycle("2021-02"), 1,
        [job_messages.DivisionToRemind("กองคลัง {x}", (1, 2), tuple(f"U{i:032x}" for i in range(30))),
         job_messages.DivisionToRemind("กองช่าง", (3,), ())]),
    "reminder without mentions": lambda o: job_messages.reminder_messages(
        o.calendar().cycle("2021-02"), 0, [job_messages.DivisionToRemind("กองช่าง", (3,), ())]),
    "direct reminder": lambda o: [job_messages.direct_reminder_message(
        "สมชาย", o.calendar().cycle("2021-02"), 1, "กองคลัง", (1, 2))],
    "digest": lambda o: [job_messages.digest_message(feb(o), LINK)],
    "job summary": lambda o: [job_messages.summary_message(feb(o), LINK)],
}


def assert_line_json(messages: list[Message]) -> None:
    """Plain JSON data that the SDK's models validate and give back unchanged, and that LINE's limits allow."""
    assert messages
    for m in messages:
        assert json.loads(json.dumps(m)) == m  # nothing but JSON types
        model = SdkMessage.from_dict(m)  # raises on a wrong structure
        assert model is not None and model.to_dict() == m  # no key the SDK does not know, none it would add
    for i in range(0, len(messages), 5):
        assert check_send_request("push", {"to": GROUP, "messages": messages[i : i + 5]}) == []


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_builder_gives_what_the_sdk_models_take(busy: Office, name: str) -> None:
    assert_line_json(BUILDERS[name](busy))


def test_summary_command_shows_what_the_group_is_pushed(busy: Office) -> None:
    # /สรุป and the meeting-day summary are one builder: the same counts, pending list, measures and link; only
    # the heading differs (an on-demand view, not a circulation to staff).
    [asked] = summary_messages(feb(busy), LINK)
    pushed = job_messages.summary_message(feb(busy), LINK)
    assert asked["contents"]["contents"][1:] == pushed["contents"]["contents"][1:]
    ask_overview, push_overview = asked["contents"]["contents"][0], pushed["contents"]["contents"][0]
    assert ask_overview["footer"] == push_overview["footer"]  # the button to LINK
    assert ask_overview["body"]["contents"][-4:] == push_overview["body"]["contents"][-4:]
    assert asked["altText"].splitlines()[1:] == pushed["altText"].splitlines()[1:]
    assert "ผู้รายงาน" not in json.dumps(asked, ensure_ascii=False)  # no reporter names, as in the group


def test_chat_and_the_pushed_digest_word_a_status_alike(busy: Office) -> None:
    # /สถานะ (chat) and the chair's digest (schedule) say the same pair's state in the same words.
    summary = feb(busy)
    chat = json.dumps(status_messages(summary, NOW.date()), ensure_ascii=False)
    pushed = json.dumps(job_messages.digest_message(summary, LINK), ensure_ascii=False)
    never = [p for p in summary.pairs if p.latest is None]
    doing = next(p for p in summary.pairs if p.status == "doing")
    assert never and f"{never[0].division}: {NEVER_REPORTED}" in chat and f"⏳ {NEVER_REPORTED}" in pushed
    assert status_words("doing", doing.percent) == "กำลังดำเนินการ 40%"
    assert "กำลังดำเนินการ 40%" in chat and "🟡 กำลังดำเนินการ 40%" in pushed
    assert "ยังไม่ได้รายงาน " not in chat + pushed  # the never-reported pair is never called "not reported"


@pytest.mark.parametrize("text", ["/ช่วยเหลือ", "/สถานะ", "/สถานะ 1", "/ค้าง", "/สรุป", "/รายงาน", "/ฉัน", "/คะแนน"])
def test_command_replies_are_what_the_sdk_models_take(busy: Office, text: str) -> None:
    busy.people.register(STAFF_SP, "สมชาย สป", "sp", approved=True, now=NOW)
    ctx = ChatContext(busy, STAFF_SP, "user", STAFF_SP, NOW, lambda: "สมชาย สป")
    reply = handle_text(ctx, text)
    assert 1 <= len(reply) <= 5
    assert_line_json(reply)


def test_quick_replies_are_postback_buttons_within_limits() -> None:
    [message] = text_messages("เลือก", [Button(LONG_LABEL, "r=x", "เลือกแล้ว")] * 15)
    items = message["quickReply"]["items"]
    assert len(items) == MAX_QUICK_REPLY_ITEMS
    assert items[0] == {"type": "action", "action": {"type": "postback", "label": LONG_LABEL[:MAX_LABEL],
                                                     "data": "r=x", "displayText": "เลือกแล้ว"}}
    assert "quickReply" not in text_messages("ไม่มีปุ่ม")[0]


# --- LineClient posts the data as given ------------------------------------------------------------


@pytest.fixture
def line(standin: Any) -> LineClient:
    return LineClient(TOKEN, standin.url, standin.url)


def test_reply_posts_the_messages_as_given(line: LineClient, standin: Any, busy: Office) -> None:
    messages = [*BUILDERS["status"](busy)[:3], *text_messages("ตอบ", [Button("ตกลง", "r=ok")])]
    token = standin.text_event("/สถานะ", user_id=STAFF_SP)["replyToken"]
    line.reply(token, messages)
    assert standin.replies()[-1] == {"replyToken": token, "messages": messages, "notificationDisabled": False}
    call = standin.calls[-1]
    assert call.path == "/v2/bot/message/reply" and call.status == 200
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.headers["content-type"] == "application/json"
    assert call.headers["user-agent"].startswith("line-bot-sdk-python/")
    assert "x-line-retry-key" not in call.headers
    with pytest.raises(LineApiError) as used:  # a reply token is good once
        line.reply(token, messages)
    assert used.value.status == 400 and not used.value.retryable


def test_reply_errors_are_line_api_errors(line: LineClient, standin: Any) -> None:
    token = standin.text_event("/สถานะ", user_id=STAFF_SP)["replyToken"]
    standin.fail("/v2/bot/message/reply", 500)
    with pytest.raises(LineApiError) as failed:
        line.reply(token, text_messages("ตอบ"))
    assert failed.value.status == 500 and failed.value.retryable
    # A malformed message is refused as LINE would: 400 with the details.
    with pytest.raises(LineApiError) as refused:
        line.reply(token, [{"type": "text", "text": ""}])
    assert refused.value.status == 400 and refused.value.details


def test_push_with_a_retry_key_is_delivered_once(line: LineClient, standin: Any) -> None:
    key = str(uuid.uuid4())
    messages = text_messages("แจ้งเตือน")
    standin.fail("/v2/bot/message/push", 500)
    with pytest.raises(LineApiError) as failed:
        line.push(GROUP, messages, retry_key=key)
    assert failed.value.status == 500 and failed.value.retryable
    first = line.push(GROUP, messages, retry_key=key)
    assert first.request_id and not first.duplicate
    assert standin.calls[-1].headers["x-line-retry-key"] == key
    again = line.push(GROUP, messages, retry_key=key)  # LINE answers 409: already accepted
    assert again.duplicate and again.request_id == first.request_id
    assert standin.pushes() == [{"to": GROUP, "messages": messages, "notificationDisabled": False}]
    plain = line.push(STAFF_SP, messages)
    assert not plain.duplicate and "x-line-retry-key" not in standin.calls[-1].headers
