"""The LINE stand-in hosting several channels (one per office), and the endpoints an onboarding wizard calls."""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    PushMessageRequest,
    ReplyMessageRequest,
    TextMessage,
)

from ita_bot.line_standin import Channel, LineStandIn
from tests.webhook_receiver import WebhookReceiver

SECRET = "standin-test-secret"
DEFAULT_TOKEN = "default-channel-token"
ALICE = "U" + "a1" * 16
CAROL = "U" + "c3" * 16
GROUP = "C" + "d4" * 16
BOT_USER_ID = re.compile(r"U[0-9a-f]{32}")


@pytest.fixture
def line() -> Iterator[LineStandIn]:
    """A stand-in whose default channel has a token of its own, so an unknown token is refused."""
    with LineStandIn(SECRET, access_token=DEFAULT_TOKEN) as standin:
        standin.add_user(ALICE, "อลิซ")
        standin.add_user(CAROL, "แครอล")
        standin.add_group(GROUP, "พนักงาน อบต.", [ALICE, CAROL])
        yield standin


def api_for(line: LineStandIn, token: str | None) -> MessagingApi:
    return MessagingApi(ApiClient(Configuration(host=line.url, access_token=token)))


def call(
    line: LineStandIn,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None,
    form: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """One raw request, as a client that does not use the SDK would make it."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(line.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def push(line: LineStandIn, token: str | None, to: str, text: str) -> None:
    api_for(line, token).push_message(PushMessageRequest(to=to, messages=[TextMessage(text=text)]))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- channels ---------------------------------------------------------------------------------------------


def test_added_channels_have_credentials_of_their_own(line: LineStandIn) -> None:
    a = line.add_channel(name="อบต.หนองเมือง")
    b = line.add_channel("2000000042", name="เทศบาลตำบลบ้านนา")
    assert b.channel_id == "2000000042" and a.channel_id.isdecimal() and len(a.channel_id) == 10
    for channel in (a, b):
        assert BOT_USER_ID.fullmatch(channel.bot_user_id) and re.fullmatch(r"[0-9a-f]{32}", channel.channel_secret)
    assert BOT_USER_ID.fullmatch(line.default_channel.bot_user_id)
    assert line.default_channel.channel_secret == SECRET and line.default_channel.access_token == DEFAULT_TOKEN
    assert len({c.channel_secret for c in (a, b)}) == 2 and a.access_token != b.access_token
    assert [c.channel_id for c in line.channels] == [line.default_channel.channel_id, a.channel_id, b.channel_id]
    assert line.channel(b.channel_id) == b
    with pytest.raises(ValueError):
        line.add_channel("2000000042")
    with pytest.raises(ValueError):
        line.add_channel("not-a-number")


def test_two_channels_keep_their_pushes_apart(line: LineStandIn) -> None:
    a, b = line.add_channel(name="อบต.ก"), line.add_channel(name="อบต.ข")
    push(line, a.access_token, ALICE, "จาก ก")
    push(line, b.access_token, GROUP, "จาก ข")
    push(line, DEFAULT_TOKEN, CAROL, "จากค่าเริ่มต้น")

    assert [p["messages"][0]["text"] for p in line.pushes(channel=a)] == ["จาก ก"]
    assert [p["messages"][0]["text"] for p in line.pushes(channel=b.channel_id)] == ["จาก ข"]
    assert line.sent_texts(channel=line.default_channel) == ["จากค่าเริ่มต้น"]
    assert len(line.pushes()) == 3  # no channel: every channel's
    assert line.sent_texts(ALICE, channel=b) == []
    assert {c.path for c in line.calls_for(a)} == {"/v2/bot/message/push"} and len(line.calls_for(a)) == 1


def test_events_go_to_each_channels_bot_signed_with_its_secret_and_replies_stay_apart(line: LineStandIn) -> None:
    a, b = line.add_channel(name="อบต.ก"), line.add_channel(name="อบต.ข")
    with WebhookReceiver(a.channel_secret) as bot_a, WebhookReceiver(b.channel_secret) as bot_b:
        line.set_webhook_endpoint(bot_a.url, channel=a)
        line.set_webhook_endpoint(bot_b.url, channel=b)
        to_a = line.text_event("สวัสดี ก", user_id=ALICE, mention_self=True)
        to_b = line.text_event("สวัสดี ข", user_id=CAROL)
        assert line.deliver(None, [to_a], channel=a) == 200
        assert line.deliver(None, [to_b], channel=b) == 200
        # Each bot checks the signature with its own secret: the other channel's events are refused.
        assert line.deliver(bot_a.url, [line.text_event("ผิดช่อง", user_id=ALICE)], channel=b) == 400

    assert [body["destination"] for body in bot_a.received] == [a.bot_user_id]
    assert [body["destination"] for body in bot_b.received] == [b.bot_user_id]
    assert bot_a.refused == 1 and bot_b.refused == 0
    mentionee = bot_a.received[0]["events"][0]["message"]["mention"]["mentionees"][0]
    assert mentionee["isSelf"] and mentionee["userId"] == a.bot_user_id

    # A reply token is good for the channel whose bot got the event, and only once.
    with pytest.raises(ApiException) as wrong_channel:
        api_for(line, b.access_token).reply_message(
            ReplyMessageRequest(replyToken=to_a["replyToken"], messages=[TextMessage(text="x")])
        )
    assert wrong_channel.value.status == 400
    api_for(line, a.access_token).reply_message(
        ReplyMessageRequest(replyToken=to_a["replyToken"], messages=[TextMessage(text="ตอบ ก")])
    )
    api_for(line, b.access_token).reply_message(
        ReplyMessageRequest(replyToken=to_b["replyToken"], messages=[TextMessage(text="ตอบ ข")])
    )
    assert [r["messages"][0]["text"] for r in line.replies(channel=a)] == ["ตอบ ก"]
    assert [r["messages"][0]["text"] for r in line.replies(channel=b)] == ["ตอบ ข"]
    assert line.sent_texts(ALICE) == ["ตอบ ก"] and line.sent_texts(CAROL) == ["ตอบ ข"]


def test_deliver_without_a_url_needs_the_channels_endpoint(line: LineStandIn) -> None:
    a = line.add_channel()
    with pytest.raises(ValueError):
        line.deliver(None, [line.text_event("x", user_id=ALICE)], channel=a)
    with pytest.raises(ValueError):
        line.set_webhook_endpoint("http://example.com/callback", channel=a)  # LINE takes https only


def test_signature_and_body_use_the_channels_secret_and_bot(line: LineStandIn) -> None:
    a = line.add_channel()
    body = line.webhook_body([], channel=a)
    assert json.loads(body)["destination"] == a.bot_user_id
    assert line.signature(body, channel=a) != line.signature(body)
    assert json.loads(line.webhook_body([]))["destination"] == line.bot_user_id  # the default channel's, as before


def test_a_wrong_token_is_refused_with_lines_error_shape(line: LineStandIn) -> None:
    line.add_channel()
    status, body = call(line, "GET", "/v2/bot/info", token="no-such-token")
    assert status == 401
    assert body == {
        "message": "Authentication failed. Confirm that the access token in the authorization header is valid."
    }
    assert call(line, "GET", "/v2/bot/info", token=None)[0] == 401
    refused = line.calls[-1]
    assert refused.status == 401 and refused.channel_id is None


def test_a_revoked_token_is_refused_and_a_reissued_one_works(line: LineStandIn) -> None:
    a, b = line.add_channel(), line.add_channel()
    line.revoke_token(a)
    assert call(line, "GET", "/v2/bot/info", token=a.access_token)[0] == 401
    assert call(line, "GET", "/v2/bot/info", token=b.access_token)[0] == 200  # the other office is unaffected
    with pytest.raises(ApiException) as error:
        push(line, a.access_token, ALICE, "x")
    assert error.value.status == 401
    assert line.pushes() == []

    renewed = line.reissue_token(a)
    assert renewed.access_token != a.access_token and renewed.channel_secret == a.channel_secret
    assert call(line, "GET", "/v2/bot/info", token=renewed.access_token)[1]["userId"] == a.bot_user_id
    assert call(line, "GET", "/v2/bot/info", token=a.access_token)[0] == 401  # the old one stays dead


def test_a_default_channel_without_a_token_still_takes_any_token_but_not_another_channels_revoked_one() -> None:
    with LineStandIn(SECRET) as lenient:
        a = lenient.add_channel()
        assert call(lenient, "GET", "/v2/bot/info", token="anything")[1]["userId"] == lenient.bot_user_id
        assert call(lenient, "GET", "/v2/bot/info", token=a.access_token)[1]["userId"] == a.bot_user_id
        lenient.revoke_token(a)
        assert call(lenient, "GET", "/v2/bot/info", token=a.access_token)[0] == 401


def test_quota_and_consumption_are_per_channel(line: LineStandIn) -> None:
    a = line.add_channel()
    line.set_quota(1, channel=a)
    push(line, a.access_token, ALICE, "หนึ่ง")
    with pytest.raises(ApiException) as error:
        push(line, a.access_token, ALICE, "สอง")
    assert error.value.status == 429
    push(line, DEFAULT_TOKEN, ALICE, "ไม่จำกัด")
    assert line.consumption_of(a) == 1 and line.consumption == 1
    assert api_for(line, a.access_token).get_message_quota().value == 1
    assert api_for(line, DEFAULT_TOKEN).get_message_quota().type == "none"


# -- bot info ---------------------------------------------------------------------------------------------


def test_bot_info_is_the_tokens_channel(line: LineStandIn) -> None:
    a = line.add_channel(name="อบต.หนองเมือง", picture_url="https://example.com/p.png")
    info = api_for(line, a.access_token).get_bot_info()
    assert (info.user_id, info.display_name, info.basic_id) == (a.bot_user_id, "อบต.หนองเมือง", a.basic_id)
    assert info.picture_url == "https://example.com/p.png"
    assert (info.chat_mode, info.mark_as_read_mode) == ("bot", "auto")
    status, body = call(line, "GET", "/v2/bot/info", token=DEFAULT_TOKEN)
    assert status == 200 and body["userId"] == line.bot_user_id and "pictureUrl" not in body


# -- webhook endpoint -------------------------------------------------------------------------------------


def test_webhook_endpoint_is_set_and_read_per_channel(line: LineStandIn) -> None:
    a = line.add_channel()
    assert call(line, "GET", "/v2/bot/channel/webhook/endpoint", token=a.access_token) == (
        200,
        {"endpoint": "", "active": False},
    )
    url = "https://ita.example.go.th/o/nongmuang/callback"
    assert call(line, "PUT", "/v2/bot/channel/webhook/endpoint", {"endpoint": url}, token=a.access_token) == (200, {})
    assert call(line, "GET", "/v2/bot/channel/webhook/endpoint", token=a.access_token) == (
        200,
        {"endpoint": url, "active": True},
    )
    assert line.webhook_endpoint(a) == url and line.webhook_endpoint() == ""


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://example.com/callback",
        "ftp://example.com/x",
        "https://",
        "callback",
        "",
        None,
        7,
        "https://x/" + "a" * 500,
    ],
)
def test_webhook_endpoint_must_be_https(line: LineStandIn, endpoint: Any) -> None:
    status, body = call(line, "PUT", "/v2/bot/channel/webhook/endpoint", {"endpoint": endpoint}, token=DEFAULT_TOKEN)
    assert status == 400
    assert body["message"] == "The request body has 1 error(s)" and body["details"][0]["property"] == "endpoint"
    assert line.webhook_endpoint() == ""


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8000/callback", "http://localhost/callback"])
def test_plain_http_is_allowed_to_this_machine_only(line: LineStandIn, endpoint: str) -> None:
    assert call(line, "PUT", "/v2/bot/channel/webhook/endpoint", {"endpoint": endpoint}, token=DEFAULT_TOKEN)[0] == 200


def test_webhook_test_posts_a_signed_verify_request(line: LineStandIn) -> None:
    a = line.add_channel()
    with WebhookReceiver(a.channel_secret) as bot:
        line.set_webhook_endpoint(bot.url, channel=a)
        status, result = call(line, "POST", "/v2/bot/channel/webhook/test", {}, token=a.access_token)
    assert status == 200
    assert result["success"] is True and result["statusCode"] == 200 and result["reason"] == "OK"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", result["timestamp"])
    assert set(result) == {"success", "timestamp", "statusCode", "reason", "detail"}
    assert bot.received == [{"destination": a.bot_user_id, "events": []}]


def test_webhook_test_reports_a_bot_that_refuses_or_is_not_there(line: LineStandIn) -> None:
    a = line.add_channel()
    with WebhookReceiver("another office's secret") as wrong_bot:
        status, result = call(
            line, "POST", "/v2/bot/channel/webhook/test", {"endpoint": wrong_bot.url}, token=a.access_token
        )
    assert status == 200
    assert (result["success"], result["statusCode"], result["reason"]) == (False, 400, "ERROR_STATUS_CODE")
    assert wrong_bot.refused == 1
    assert line.webhook_endpoint(a) == ""  # testing a URL does not set it

    nobody = f"http://127.0.0.1:{free_port()}/callback"
    status, result = call(line, "POST", "/v2/bot/channel/webhook/test", {"endpoint": nobody}, token=a.access_token)
    assert (result["success"], result["statusCode"], result["reason"]) == (False, 0, "COULD_NOT_CONNECT")


def test_webhook_test_needs_an_endpoint_and_a_valid_one(line: LineStandIn) -> None:
    a = line.add_channel()
    assert call(line, "POST", "/v2/bot/channel/webhook/test", {}, token=a.access_token)[0] == 400
    bad = {"endpoint": "http://example.com/callback"}
    assert call(line, "POST", "/v2/bot/channel/webhook/test", bad, token=a.access_token)[0] == 400


def test_the_webhook_test_is_recorded_as_the_channels_call(line: LineStandIn) -> None:
    a = line.add_channel()
    with WebhookReceiver(a.channel_secret) as bot:
        call(line, "POST", "/v2/bot/channel/webhook/test", {"endpoint": bot.url}, token=a.access_token)
    (recorded,) = line.calls_for(a)
    assert recorded.path == "/v2/bot/channel/webhook/test" and recorded.response["success"] is True


# -- stateless channel access tokens ----------------------------------------------------------------------


def token_form(channel: Channel, **overrides: str) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": channel.channel_id}
    return {**form, "client_secret": channel.channel_secret, **overrides}


def test_a_stateless_token_authenticates_as_its_channel(line: LineStandIn) -> None:
    a = line.add_channel()
    status, issued = call(line, "POST", "/oauth2/v3/token", token=None, form=token_form(a))
    assert status == 200
    assert issued["token_type"] == "Bearer" and issued["expires_in"] == 900
    assert set(issued) == {"token_type", "access_token", "expires_in"}
    assert call(line, "GET", "/v2/bot/info", token=issued["access_token"])[1]["userId"] == a.bot_user_id
    push(line, issued["access_token"], ALICE, "ด้วยโทเคนชั่วคราว")
    assert line.sent_texts(channel=a) == ["ด้วยโทเคนชั่วคราว"]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"client_secret": "0" * 32}, "invalid_client"),
        ({"client_id": "1999999999"}, "invalid_client"),
        ({"client_secret": ""}, "invalid_client"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
    ],
)
def test_a_stateless_token_needs_the_right_id_and_secret(
    line: LineStandIn, overrides: dict[str, str], error: str
) -> None:
    a = line.add_channel()
    status, body = call(line, "POST", "/oauth2/v3/token", token=None, form=token_form(a, **overrides))
    assert status == 400
    assert body["error"] == error and "error_description" in body
    assert a.channel_secret not in json.dumps(body)


def test_an_expired_stateless_token_is_refused(line: LineStandIn) -> None:
    a = line.add_channel()
    line.stateless_token_lifetime = 0  # issued already expired: no waiting in a test
    issued = call(line, "POST", "/oauth2/v3/token", token=None, form=token_form(a))[1]
    assert call(line, "GET", "/v2/bot/info", token=issued["access_token"])[0] == 401


def test_a_revoked_long_lived_token_leaves_stateless_tokens_working(line: LineStandIn) -> None:
    a = line.add_channel()
    issued = call(line, "POST", "/oauth2/v3/token", token=None, form=token_form(a))[1]
    line.revoke_token(a)
    assert call(line, "GET", "/v2/bot/info", token=issued["access_token"])[0] == 200
