"""The LINE stand-in, driven over HTTP by the real line-bot-sdk client, as the bot will drive it."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    FlexBubble,
    FlexMessage,
    MentionSubstitutionObject,
    MessageAction,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
    TextMessage,
    TextMessageV2,
    UserMentionTarget,
)
from linebot.v3.webhook import SignatureValidator
from linebot.v3.webhooks import (
    FileMessageContent,
    FollowEvent,
    ImageMessageContent,
    JoinEvent,
    MemberJoinedEvent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
)

from ita_bot.line_standin import TINY_JPEG, LineStandIn, as_redelivery
from ita_bot.line_standin import api as standin_api
from ita_bot.line_standin.serving import Serving

SECRET = "standin-test-secret"
ALICE = "U" + "a1" * 16
BOB = "U" + "b2" * 16  # a member of the group who never added the bot as a friend
CAROL = "U" + "c3" * 16
GROUP = "C" + "d4" * 16
ROOM = "R" + "e5" * 16
PUSH = "/v2/bot/message/push"


@pytest.fixture
def line() -> Iterator[LineStandIn]:
    with LineStandIn(SECRET) as standin:
        standin.add_user(ALICE, "อลิซ")
        standin.add_user(BOB, "บ๊อบ", friend=False)
        standin.add_user(CAROL, "แครอล", picture_url="https://example.com/c.png")
        standin.add_group(GROUP, "พนักงาน อบต.", [ALICE, BOB, CAROL])
        standin.add_room(ROOM, [ALICE, CAROL])
        yield standin


@pytest.fixture
def client(line: LineStandIn) -> Iterator[ApiClient]:
    with ApiClient(Configuration(host=line.url, access_token="test-token")) as api_client:
        yield api_client


@pytest.fixture
def api(client: ApiClient) -> MessagingApi:
    return MessagingApi(client)


def raw_post(line: LineStandIn, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """POST a body the SDK's own models would refuse to build, as a careless client might."""
    request = urllib.request.Request(
        line.url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": "Bearer test-token", "Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def text(value: str = "hi") -> dict[str, Any]:
    return {"type": "text", "text": value}


# -- reply ------------------------------------------------------------------------------------------------


def test_reply_token_is_good_once(line: LineStandIn, api: MessagingApi) -> None:
    event = line.text_event("/help", user_id=ALICE, group_id=GROUP)
    request = ReplyMessageRequest(reply_token=event["replyToken"], messages=[TextMessage(text="สวัสดีค่ะ")])

    sent = api.reply_message(request)
    assert len(sent.sent_messages) == 1
    with pytest.raises(ApiException) as error:
        api.reply_message(request)
    assert error.value.status == 400
    assert json.loads(error.value.body) == {"message": "Invalid reply token"}

    assert line.replies() == [
        {"replyToken": event["replyToken"], "messages": [text("สวัสดีค่ะ")], "notificationDisabled": False}
    ]
    assert line.sent_messages(GROUP) == [text("สวัสดีค่ะ")]
    assert line.sent_messages(ALICE) == []  # the reply went to the group the event came from
    assert [c.status for c in line.calls] == [200, 400]
    assert line.consumption == 0  # replies are free


def test_reply_with_a_token_never_issued_is_refused(line: LineStandIn) -> None:
    status, body = raw_post(line, "/v2/bot/message/reply", {"replyToken": "f" * 32, "messages": [text()]})
    assert (status, body) == (400, {"message": "Invalid reply token"})


def test_standby_events_carry_no_reply_token(line: LineStandIn) -> None:
    assert "replyToken" not in line.text_event("hi", user_id=ALICE, mode="standby")
    assert "replyToken" not in line.unfollow_event(CAROL)


# -- push, retry keys, quota -------------------------------------------------------------------------------


def test_push_retry_key_accepted_once_then_409(line: LineStandIn, api: MessagingApi) -> None:
    key = str(uuid.uuid4())
    request = PushMessageRequest(to=ALICE, messages=[TextMessage(text="เตือนความจำ")])

    first = api.push_message_with_http_info(request, x_line_retry_key=key)
    assert first.status_code == 200
    request_id = first.headers["x-line-request-id"]
    with pytest.raises(ApiException) as error:
        api.push_message(request, x_line_retry_key=key)

    assert error.value.status == 409
    body = json.loads(error.value.body)
    assert body["message"] == "The retry key is already accepted"
    assert body["sentMessages"] == [m.to_dict() for m in first.data.sent_messages]
    assert error.value.headers["x-line-accepted-request-id"] == request_id
    assert len(line.pushes()) == 1
    assert line.consumption == 1


def test_retry_key_must_be_a_uuid(line: LineStandIn) -> None:
    status, _ = raw_post(line, PUSH, {"to": ALICE, "messages": [text()]}, {"X-Line-Retry-Key": "not-a-uuid"})
    assert status == 400
    assert line.pushes() == []


def test_push_recipients_must_exist_and_be_friends(line: LineStandIn, api: MessagingApi) -> None:
    for to, message in [(BOB, "Failed to send messages"), ("U" + "0" * 32, None), ("C" + "0" * 32, None)]:
        with pytest.raises(ApiException) as error:
            api.push_message(PushMessageRequest(to=to, messages=[TextMessage(text="x")]))
        assert error.value.status == 400
        if message:
            assert json.loads(error.value.body)["message"] == message
    assert line.pushes() == []
    assert line.consumption == 0


def test_quota_counts_recipients_and_refuses_over_the_limit(line: LineStandIn, api: MessagingApi) -> None:
    line.set_quota(10)
    assert api.get_message_quota().to_dict() == {"type": "limited", "value": 10}
    message = [TextMessage(text="x")] * 5  # five messages in one request still cost one per recipient

    api.push_message(PushMessageRequest(to=GROUP, messages=message))  # 3 members
    api.push_message(PushMessageRequest(to=ROOM, messages=message))  # 2 members
    api.push_message(PushMessageRequest(to=ALICE, messages=message))  # 1
    api.multicast(MulticastRequest(to=[ALICE, CAROL], messages=message))  # 2
    event = line.text_event("/status", user_id=ALICE)
    api.reply_message(ReplyMessageRequest(reply_token=event["replyToken"], messages=message))  # free
    assert line.consumption == 8
    assert api.get_message_quota_consumption().total_usage == 8

    with pytest.raises(ApiException) as error:
        api.push_message(PushMessageRequest(to=GROUP, messages=message))  # 8 + 3 > 10
    assert error.value.status == 429
    assert json.loads(error.value.body) == {"message": "You have reached your monthly limit."}
    assert line.consumption == 8

    api.multicast(MulticastRequest(to=[ALICE, CAROL], messages=message))  # 8 + 2 = 10 fits exactly
    assert line.consumption == 10
    line.set_quota(None)
    assert api.get_message_quota().to_dict() == {"type": "none"}


def test_multicast_skips_non_friends_and_refuses_groups(line: LineStandIn, api: MessagingApi) -> None:
    api.multicast(MulticastRequest(to=[ALICE, BOB], messages=[TextMessage(text="สรุป")]))
    assert line.sent_messages(ALICE) == [text("สรุป")]
    assert line.sent_messages(BOB) == []
    assert line.multicasts()[0]["to"] == [ALICE, BOB]

    status, body = raw_post(line, "/v2/bot/message/multicast", {"to": [ALICE, GROUP], "messages": [text()]})
    assert status == 400
    assert body["details"][0]["property"] == "to[1]"


# -- lookups ----------------------------------------------------------------------------------------------


def test_profiles_need_friendship_member_profiles_need_membership(line: LineStandIn, api: MessagingApi) -> None:
    carol = api.get_profile(CAROL)
    assert (carol.display_name, carol.picture_url) == ("แครอล", "https://example.com/c.png")
    for user_id in (BOB, "U" + "0" * 32):
        with pytest.raises(ApiException) as error:
            api.get_profile(user_id)
        assert (error.value.status, json.loads(error.value.body)) == (404, {"message": "Not found"})

    assert api.get_group_member_profile(GROUP, BOB).display_name == "บ๊อบ"  # friendship not needed here
    assert api.get_room_member_profile(ROOM, CAROL).display_name == "แครอล"
    with pytest.raises(ApiException) as error:
        api.get_room_member_profile(ROOM, BOB)
    assert error.value.status == 404

    line.unfollow_event(CAROL)
    with pytest.raises(ApiException) as error:
        api.get_profile(CAROL)
    assert error.value.status == 404
    line.follow_event(BOB)
    assert api.get_profile(BOB).display_name == "บ๊อบ"


def test_group_and_room_lookups(line: LineStandIn, api: MessagingApi) -> None:
    assert api.get_group_summary(GROUP).group_name == "พนักงาน อบต."
    assert api.get_group_member_count(GROUP).count == 3
    assert api.get_room_member_count(ROOM).count == 2
    assert api.get_group_members_ids(GROUP).member_ids == [ALICE, BOB, CAROL]
    assert api.get_bot_info().user_id == line.bot_user_id
    assert api.get_bot_info().display_name == "ITA Bot"
    with pytest.raises(ApiException) as error:
        api.get_group_summary(ROOM)  # a room is not a group
    assert error.value.status == 404

    line.member_left_event(GROUP, [BOB])
    line.member_joined_event(ROOM, [BOB])
    assert api.get_group_member_count(GROUP).count == 2
    assert api.get_room_members_ids(ROOM).member_ids == [ALICE, CAROL, BOB]

    line.leave_event(group_id=GROUP)
    with pytest.raises(ApiException) as error:
        api.push_message(PushMessageRequest(to=GROUP, messages=[TextMessage(text="x")]))
    assert error.value.status == 400
    line.join_event(group_id=GROUP)
    api.push_message(PushMessageRequest(to=GROUP, messages=[TextMessage(text="x")]))


def test_member_ids_are_paged_by_100(line: LineStandIn, api: MessagingApi) -> None:
    users = [f"U{i:032x}" for i in range(150)]
    for user_id in users:
        line.add_user(user_id, "คนที่ " + user_id[-3:])
    line.add_group("C" + "f" * 32, "ใหญ่", users)

    first = api.get_group_members_ids("C" + "f" * 32)
    second = api.get_group_members_ids("C" + "f" * 32, start=first.next)
    assert first.member_ids + second.member_ids == users
    assert second.next is None


def test_group_members_must_be_added_users(line: LineStandIn) -> None:
    with pytest.raises(ValueError):
        line.add_group("C" + "1" * 32, "x", ["U" + "7" * 32])


def test_content_download(line: LineStandIn, client: ApiClient) -> None:
    blob = MessagingApiBlob(client)
    image = line.image_event(user_id=ALICE, group_id=GROUP, image_set=("set1", 1, 2))
    pdf = line.file_event(user_id=ALICE, file_name="รายงาน.pdf", data=b"%PDF-1.4 x", content_type="application/pdf")

    got = blob.get_message_content_with_http_info(image["message"]["id"])
    assert (bytes(got.data), got.headers["Content-Type"]) == (TINY_JPEG, "image/jpeg")
    assert TINY_JPEG.startswith(b"\xff\xd8") and TINY_JPEG.endswith(b"\xff\xd9")
    got = blob.get_message_content_with_http_info(pdf["message"]["id"])
    assert (bytes(got.data), got.headers["Content-Type"]) == (b"%PDF-1.4 x", "application/pdf")
    assert pdf["message"]["fileSize"] == 10
    with pytest.raises(ApiException) as error:
        blob.get_message_content("999")
    assert error.value.status == 404


def test_loading_animation(line: LineStandIn, api: MessagingApi) -> None:
    response = api.show_loading_animation_with_http_info(ShowLoadingAnimationRequest(chat_id=ALICE, loading_seconds=5))
    assert response.status_code == 202
    status, _ = raw_post(line, "/v2/bot/chat/loading/start", {"chatId": ALICE, "loadingSeconds": 7})
    assert status == 400


def test_every_request_needs_a_bearer_token(line: LineStandIn) -> None:
    request = urllib.request.Request(line.url + "/v2/bot/info")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=5)
    assert error.value.code == 401

    strict = LineStandIn(access_token="right")
    with strict, ApiClient(Configuration(host=strict.url, access_token="wrong")) as wrong:
        with pytest.raises(ApiException) as api_error:
            MessagingApi(wrong).get_bot_info()
        assert api_error.value.status == 401


# -- validation -------------------------------------------------------------------------------------------


def flex(contents: dict[str, Any], alt_text: Any = "สรุป") -> dict[str, Any]:
    message: dict[str, Any] = {"type": "flex", "contents": contents}
    if alt_text is not None:
        message["altText"] = alt_text
    return message


def bubble(filler: int = 0) -> dict[str, Any]:
    body = [{"type": "text", "text": "ก" * 1000, "wrap": True} for _ in range(filler)]
    return {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "contents": body or [{"type": "text", "text": "x"}]},
    }


def quick(count: int, label: str = "ตกลง") -> dict[str, Any]:
    items = [{"type": "action", "action": {"type": "message", "label": label, "text": "x"}}] * count
    return {"type": "text", "text": "เลือก", "quickReply": {"items": items}}


def text_v2(mentions: int, extra: str = "") -> dict[str, Any]:
    keys = [f"m{i}" for i in range(mentions)]
    substitution = {k: {"type": "mention", "mentionee": {"type": "user", "userId": ALICE}} for k in keys}
    return {"type": "textV2", "text": "".join("{" + k + "}" for k in keys) + extra, "substitution": substitution}


REJECTED = {
    "six messages": ([text()] * 6, "messages"),
    "text over 5000": ([text("ก" * 5001)], "messages[0].text"),
    "text over 5000 in UTF-16 units": ([text("😀" * 2501)], "messages[0].text"),
    "empty text": ([text("")], "messages[0].text"),
    "unknown message type": ([{"type": "bogus"}], "messages[0].type"),
    "missing message type": ([{"text": "x"}], "messages[0].type"),
    "textV2 with 21 mentions": ([text_v2(21)], "messages[0].substitution"),
    "textV2 key without substitution": ([text_v2(1, " {who}")], "messages[0].text"),
    "flex without altText": ([flex(bubble(), None)], "messages[0].altText"),
    "flex with blank altText": ([flex(bubble(), " ")], "messages[0].altText"),
    "flex altText over 1500": ([flex(bubble(), "ก" * 1501)], "messages[0].altText"),
    "bubble over 30 KB": ([flex(bubble(10))], "messages[0].contents"),
    "carousel of 13": ([flex({"type": "carousel", "contents": [bubble()] * 13})], "messages[0].contents.contents"),
    "carousel over 50 KB": ([flex({"type": "carousel", "contents": [bubble(6)] * 3})], "messages[0].contents"),
    "bad flex enum": (
        [flex({"type": "bubble", "body": {"type": "box", "layout": "diagonal", "contents": []}})],
        "messages[0].layout",
    ),
    "14 quick replies": ([quick(14)], "messages[0].quickReply.items"),
    "quick reply label over 20": ([quick(1, "ก" * 21)], "messages[0].quickReply.items[0].action.label"),
    "later message is checked too": ([text(), text("ก" * 5001)], "messages[1].text"),
}


@pytest.mark.parametrize("messages, where", REJECTED.values(), ids=REJECTED.keys())
def test_push_rejects_what_line_rejects(line: LineStandIn, messages: list[dict[str, Any]], where: str) -> None:
    status, body = raw_post(line, PUSH, {"to": ALICE, "messages": messages})

    assert status == 400
    assert body["message"] == f"The request body has {len(body['details'])} error(s)"
    assert where in [d["property"] for d in body["details"]]
    assert line.calls[-1].status == 400
    assert line.pushes() == []
    assert line.consumption == 0


def test_reply_and_multicast_are_validated_too(line: LineStandIn) -> None:
    token = line.text_event("x", user_id=ALICE)["replyToken"]
    assert raw_post(line, "/v2/bot/message/reply", {"replyToken": token, "messages": [text("ก" * 5001)]})[0] == 400
    assert raw_post(line, "/v2/bot/message/reply", {"replyToken": token, "messages": [text()]})[0] == 200  # unspent
    too_many = {"to": [ALICE] * 501, "messages": [text()]}
    status, body = raw_post(line, "/v2/bot/message/multicast", too_many)
    assert (status, body["details"][0]["property"]) == (400, "to")
    assert raw_post(line, "/v2/bot/message/reply", "not an object")[0] == 400
    assert line.multicasts() == []


def test_boundaries_are_accepted(line: LineStandIn, api: MessagingApi) -> None:
    twenty = TextMessageV2(
        text="".join(f"{{m{i}}}" for i in range(20)) + " {{ไม่ใช่ตัวแปร}}",
        substitution={
            f"m{i}": MentionSubstitutionObject(mentionee=UserMentionTarget(user_id=ALICE)) for i in range(20)
        },
    )
    thirteen = QuickReply(items=[QuickReplyItem(action=MessageAction(label="ก" * 20, text="x"))] * 13)
    api.push_message(PushMessageRequest(to=ALICE, messages=[TextMessage(text="x")] * 5))
    api.push_message(PushMessageRequest(to=ALICE, messages=[TextMessage(text="ก" * 5000), twenty]))
    api.push_message(PushMessageRequest(to=ALICE, messages=[TextMessage(text="😀" * 2500, quick_reply=thirteen)]))
    api.push_message(
        PushMessageRequest(
            to=ALICE, messages=[FlexMessage(alt_text="ก" * 1500, contents=FlexBubble.from_dict(bubble(9)))]
        )
    )
    api.multicast(MulticastRequest(to=[ALICE] * 500, messages=[TextMessage(text="x")]))
    carousel = {"type": "carousel", "contents": [bubble()] * 12}
    assert raw_post(line, PUSH, {"to": ALICE, "messages": [flex(carousel)]})[0] == 200
    assert len(line.pushes()) == 5
    assert len(line.sent_messages(ALICE)) == 5 + 2 + 1 + 1 + 1 + 1


def lock_free(line: LineStandIn) -> bool:
    """Whether another thread could take the stand-in's world lock at this moment (it never waits for it)."""
    got: list[bool] = []

    def probe() -> None:
        got.append(line._cond.acquire(blocking=False))
        if got[0]:
            line._cond.release()

    prober = threading.Thread(target=probe)
    prober.start()
    prober.join()
    return got[0]


@pytest.fixture
def checks(line: LineStandIn, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Each send check the stand-in runs, as (kind, world lock free then). While a check runs with the lock
    free, another request (a quota read) is answered and recorded, as a busy benchmark's would be."""
    seen: list[tuple[str, bool]] = []
    real = standin_api.check_send_request

    def spy(kind: str, body: Any) -> list[Any]:
        free = lock_free(line)
        seen.append((kind, free))
        if free:  # with the lock held this request would wait for it: never while it is checked
            quota = urllib.request.Request(line.url + "/v2/bot/message/quota",
                                           headers={"Authorization": "Bearer test-token"})
            with urllib.request.urlopen(quota, timeout=5) as response:
                assert response.status == 200
        return real(kind, body)

    monkeypatch.setattr(standin_api, "check_send_request", spy)
    return seen


def test_each_send_is_checked_once_without_the_world_lock(
    line: LineStandIn, api: MessagingApi, checks: list[tuple[str, bool]]
) -> None:
    token = line.text_event("x", user_id=ALICE)["replyToken"]
    api.reply_message(ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="รับทราบค่ะ")]))
    api.push_message(PushMessageRequest(to=ALICE, messages=[TextMessage(text="a"), TextMessage(text="b")]))
    api.multicast(MulticastRequest(to=[ALICE, CAROL], messages=[TextMessage(text="c")]))

    assert checks == [("reply", True), ("push", True), ("multicast", True)]
    # Each quota read was recorded before the send it ran beside: recording went on while that send was checked.
    quota, reply, push, multicast = "/v2/bot/message/quota", "/v2/bot/message/reply", PUSH, "/v2/bot/message/multicast"
    assert [(c.path, c.status) for c in line.calls] == [
        (quota, 200), (reply, 200), (quota, 200), (push, 200), (quota, 200), (multicast, 200)
    ]
    assert len(line.deliveries) == 3


def test_a_refused_send_is_checked_once_and_answered_as_before(
    line: LineStandIn, checks: list[tuple[str, bool]]
) -> None:
    status, body = raw_post(line, PUSH, {"to": ALICE, "messages": [text(), text("ก" * 5001)]})
    assert (status, body) == (400, {
        "message": "The request body has 1 error(s)",
        "details": [{"message": "Length must be between 1 and 5000", "property": "messages[1].text"}],
    })
    line.fail(PUSH, 503)  # faults and tokens are looked at under the lock, after the check, as before
    assert raw_post(line, PUSH, {"to": ALICE, "messages": [text()]}) == (503, {"message": "Service unavailable"})
    sdk_refused = {"to": ALICE, "messages": [{"type": "text"}]}  # our limits pass; the SDK's model refuses
    status, body = raw_post(line, PUSH, sdk_refused)
    assert status == 400 and [d["property"] for d in body["details"]] == ["messages[0].text"]

    assert checks == [("push", True)] * 3
    assert line.pushes() == []


# -- faults -----------------------------------------------------------------------------------------------


def test_injected_500_is_not_processed_and_the_key_stays_free(line: LineStandIn, api: MessagingApi) -> None:
    line.fail(PUSH, 500)
    key = str(uuid.uuid4())
    request = PushMessageRequest(to=ALICE, messages=[TextMessage(text="x")])

    with pytest.raises(ApiException) as error:
        api.push_message(request, x_line_retry_key=key)
    assert error.value.status == 500
    api.push_message(request, x_line_retry_key=key)  # the retry goes through: nothing was taken before

    assert [c.status for c in line.calls] == [500, 200]
    assert len(line.pushes()) == 1
    assert line.consumption == 1


def test_injected_fault_with_body_and_headers(line: LineStandIn, api: MessagingApi) -> None:
    # A POST: urllib3 would itself retry an idempotent GET that got 429 with Retry-After.
    line.fail(PUSH, 429, times=2, body={"message": "Too many requests"}, headers={"Retry-After": "1"})
    request = PushMessageRequest(to=ALICE, messages=[TextMessage(text="x")])
    for _ in range(2):
        with pytest.raises(ApiException) as error:
            api.push_message(request)
        assert error.value.status == 429
        assert error.value.headers["Retry-After"] == "1"
        assert json.loads(error.value.body) == {"message": "Too many requests"}
    api.push_message(request)
    assert len(line.pushes()) == 1


def test_delay_delivers_then_answers_late(line: LineStandIn, api: MessagingApi) -> None:
    """A push that timed out on our side may still have reached LINE: the retry then gets 409."""
    line.delay(60, PUSH, times=1)  # held far past any timeout below (stop() cuts it short at teardown)
    key = str(uuid.uuid4())
    request = PushMessageRequest(to=ALICE, messages=[TextMessage(text="x")])

    with pytest.raises(Exception) as timed_out:  # urllib3 ReadTimeoutError
        api.push_message(request, x_line_retry_key=key, _request_timeout=0.1)
    assert "timed out" in str(timed_out.value).lower()
    assert len(line.pushes()) == 1
    # `times=1` spent the delay on the first push: the retry is answered, not held (a held one would time out).
    with pytest.raises(ApiException) as error:
        api.push_message(request, x_line_retry_key=key, _request_timeout=10)
    assert error.value.status == 409


def test_reset_forgets_traffic_and_faults_but_not_the_world(line: LineStandIn, api: MessagingApi) -> None:
    api.push_message(PushMessageRequest(to=ALICE, messages=[TextMessage(text="x")]))
    line.fail("/", 500, times=5)
    line.reset()
    assert line.calls == [] and line.pushes() == []
    assert api.get_profile(ALICE).display_name == "อลิซ"
    assert line.consumption == 1


def test_wait_for_wakes_on_traffic(line: LineStandIn, api: MessagingApi) -> None:
    assert line.wait_for(lambda s: bool(s.pushes()), timeout=0.05) is False
    sender = threading.Thread(
        target=api.push_message, args=(PushMessageRequest(to=CAROL, messages=[TextMessage(text="hi")]),)
    )
    sender.start()
    assert line.wait_for(lambda s: s.sent_messages(CAROL) == [text("hi")], timeout=5)
    sender.join(timeout=5)


# -- webhooks ---------------------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    """A tiny bot: verifies the signature with the SDK's parser and keeps the parsed events."""

    parser = WebhookParser(SECRET)
    received: ClassVar[list[Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
        try:
            self.received.extend(self.parser.parse(body, self.headers.get("X-Line-Signature", "")))
            status = 200
        except InvalidSignatureError:
            status = 400
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def bot() -> Iterator[tuple[str, list[Any]]]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    serving = Serving(server, "receiver").start()
    yield f"http://127.0.0.1:{server.server_address[1]}/callback", _Receiver.received
    serving.stop()
    server.server_close()


def test_deliver_signs_so_the_sdk_parses_every_event(line: LineStandIn, bot: tuple[str, list[Any]]) -> None:
    url, received = bot
    events = [
        line.text_event("/สถานะ", user_id=ALICE, group_id=GROUP, mention_self=True, mentionees=[{"userId": CAROL}]),
        line.image_event(user_id=ALICE, image_set=("s", 1, 3)),
        line.file_event(user_id=ALICE, file_name="a.xlsx", data=b"PK"),
        line.postback_event("measure=2", user_id=ALICE, room_id=ROOM),
        line.join_event(group_id=GROUP),
        line.follow_event(BOB, unblocked=True),
        line.unfollow_event(BOB),
        line.member_joined_event(GROUP, [BOB]),
    ]
    assert line.deliver(url, events) == 200

    text_event, image, file, postback, join, follow, unfollow, joined = received
    assert isinstance(text_event, MessageEvent) and isinstance(text_event.message, TextMessageContent)
    assert text_event.source.group_id == GROUP
    mentionees = text_event.message.mention.mentionees
    assert [(m.is_self, m.user_id) for m in mentionees] == [(True, line.bot_user_id), (None, CAROL)]
    assert text_event.message.text == "@ITA Bot /สถานะ @แครอล"
    assert isinstance(image.message, ImageMessageContent) and image.message.image_set.total == 3
    assert isinstance(file.message, FileMessageContent) and file.message.file_name == "a.xlsx"
    assert isinstance(postback, PostbackEvent) and postback.postback.data == "measure=2"
    assert isinstance(join, JoinEvent) and isinstance(follow, FollowEvent) and isinstance(unfollow, UnfollowEvent)
    assert isinstance(joined, MemberJoinedEvent) and joined.joined.members[0].user_id == BOB


def test_deliver_with_another_secret_is_refused(bot: tuple[str, list[Any]]) -> None:
    url, received = bot
    with LineStandIn("another-secret") as impostor:
        assert impostor.deliver(url, [impostor.text_event("x", user_id=ALICE)]) == 400
    assert received == []


def test_signature_matches_the_sdk_validator(line: LineStandIn) -> None:
    body = line.webhook_body([line.text_event("ทดสอบ", user_id=ALICE)])
    assert SignatureValidator(SECRET).validate(body.decode("utf-8"), line.signature(body))
    assert json.loads(body)["destination"] == line.bot_user_id
    assert not SignatureValidator("other").validate(body.decode("utf-8"), line.signature(body))


def test_event_shape_timestamps_and_redelivery(line: LineStandIn) -> None:
    from datetime import datetime

    event = line.text_event("x", user_id=ALICE, timestamp=datetime(2021, 2, 15, 10, 0))  # Bangkok
    assert event["timestamp"] == 1613358000000
    assert event["deliveryContext"] == {"isRedelivery": False}
    assert len(event["webhookEventId"]) == 26
    again = as_redelivery(event)
    assert again["webhookEventId"] == event["webhookEventId"]
    assert again["deliveryContext"] == {"isRedelivery": True}
    assert line.text_event("x", user_id=ALICE, timestamp=5)["timestamp"] == 5


# -- standalone -------------------------------------------------------------------------------------------


@pytest.mark.slow  # a real process: `python -m ita_bot.line_standin`
def test_module_runs_standalone_and_prints_its_url() -> None:
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "ita_bot.line_standin", "--port", "0", "--quota", "7"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with ApiClient(Configuration(host=url, access_token="t")) as standalone:
            assert MessagingApi(standalone).get_message_quota().value == 7
    finally:
        process.terminate()
        process.wait(timeout=5)
