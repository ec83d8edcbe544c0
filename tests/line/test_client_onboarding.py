"""LineClient's onboarding calls over HTTP against the LINE stand-in: bot info, webhook endpoint, stateless tokens."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from ita_bot.domain.config import LineSettings, load_config
from ita_bot.line.client import (
    BotInfo,
    LineApiError,
    LineClient,
    LineRefused,
    WebhookEndpoint,
    issue_stateless_token,
)
from ita_bot.line_standin import Channel, LineStandIn
from tests.conftest import write_config
from tests.races import at_once
from tests.webhook_receiver import WebhookReceiver

ALICE = "U" + "a1" * 16
TOKEN_PATH = "/oauth2/v3/token"


@pytest.fixture
def line() -> Iterator[LineStandIn]:
    with LineStandIn("default-secret", access_token="default-token") as standin:
        standin.add_user(ALICE, "อลิซ")
        yield standin


@pytest.fixture
def office(line: LineStandIn) -> Channel:
    return line.add_channel(name="อบต.หนองเมือง")


def client_for(line: LineStandIn, token: str | None) -> LineClient:
    assert token is not None
    return LineClient(token, line.url, line.url)


class Clock:
    """A monotonic clock the test moves by hand, so renewal is tested without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- long-lived token -------------------------------------------------------------------------------------


def test_bot_info_of_the_tokens_channel(line: LineStandIn, office: Channel) -> None:
    info = client_for(line, office.access_token).bot_info()
    assert info == BotInfo(office.bot_user_id, office.basic_id, "อบต.หนองเมือง", None, "bot", "auto")


def test_a_wrong_token_is_a_typed_refusal_naming_the_token(line: LineStandIn, office: Channel) -> None:
    wrong = "wrong-token-" + "x" * 40
    with pytest.raises(LineRefused) as error:
        client_for(line, wrong).bot_info()
    assert (error.value.status, error.value.credential) == (401, "token")
    assert isinstance(error.value, LineApiError) and not error.value.retryable
    assert wrong not in str(error.value) and wrong not in repr(error.value.args)


def test_a_revoked_token_is_refused_on_any_call(line: LineStandIn, office: Channel) -> None:
    client = client_for(line, office.access_token)
    client.push(ALICE, [{"type": "text", "text": "ก่อนเพิกถอน"}])
    line.revoke_token(office)
    with pytest.raises(LineRefused) as error:
        client.push(ALICE, [{"type": "text", "text": "หลังเพิกถอน"}])
    assert error.value.credential == "token"
    assert line.sent_texts(channel=office) == ["ก่อนเพิกถอน"]


def test_set_get_and_test_the_webhook_endpoint(line: LineStandIn, office: Channel) -> None:
    client = client_for(line, office.access_token)
    assert client.webhook_endpoint() == WebhookEndpoint("", False)
    with WebhookReceiver(office.channel_secret) as bot:
        client.set_webhook_endpoint(bot.url)
        assert client.webhook_endpoint() == WebhookEndpoint(bot.url, True)
        result = client.test_webhook_endpoint()
    assert (result.success, result.status_code, result.reason) == (True, 200, "OK")
    assert result.timestamp.tzinfo is not None
    # The tiny bot checked the signature with this office's secret and saw its bot as the destination.
    assert bot.received == [{"destination": office.bot_user_id, "events": []}]


def test_testing_another_endpoint_reports_its_failure(line: LineStandIn, office: Channel) -> None:
    client = client_for(line, office.access_token)
    with WebhookReceiver("another office's secret") as other:
        result = client.test_webhook_endpoint(other.url)
    assert (result.success, result.status_code, result.reason) == (False, 400, "ERROR_STATUS_CODE")
    assert other.refused == 1


def test_an_http_endpoint_elsewhere_is_refused_as_a_bad_request(line: LineStandIn, office: Channel) -> None:
    client = client_for(line, office.access_token)
    with pytest.raises(LineApiError) as error:
        client.set_webhook_endpoint("http://example.com/callback")
    assert error.value.status == 400 and not isinstance(error.value, LineRefused)
    assert error.value.details[0]["property"] == "endpoint"


# -- stateless tokens -------------------------------------------------------------------------------------


def test_issue_a_stateless_token(line: LineStandIn, office: Channel) -> None:
    issued = issue_stateless_token(office.channel_id, office.channel_secret, line.url)
    assert issued.expires_in == 900
    assert issued.access_token not in repr(issued)
    assert client_for(line, issued.access_token).bot_info().user_id == office.bot_user_id


def test_a_wrong_secret_is_a_typed_refusal_naming_the_secret(line: LineStandIn, office: Channel) -> None:
    wrong = "f" * 32
    with pytest.raises(LineRefused) as error:
        issue_stateless_token(office.channel_id, wrong, line.url)
    assert (error.value.status, error.value.credential) == (400, "secret")
    assert wrong not in str(error.value)

    client = LineClient.stateless(office.channel_id, wrong, line.url, line.url)
    with pytest.raises(LineRefused) as through_client:
        client.bot_info()
    assert through_client.value.credential == "secret"
    assert [c.path for c in line.calls] == [TOKEN_PATH, TOKEN_PATH]  # nothing else was tried without a token


def test_a_stateless_client_issues_a_token_and_uses_it(line: LineStandIn, office: Channel) -> None:
    client = LineClient.stateless(office.channel_id, office.channel_secret, line.url, line.url)
    assert client.bot_info().user_id == office.bot_user_id
    client.push(ALICE, [{"type": "text", "text": "แจ้งเตือน"}])
    assert client.webhook_endpoint().endpoint == ""
    assert line.sent_texts(channel=office) == ["แจ้งเตือน"]
    assert [c.path for c in line.calls_for(office)].count(TOKEN_PATH) == 1  # one token serves every call
    tokens = {c.headers["authorization"] for c in line.calls_for(office) if c.path != TOKEN_PATH}
    assert len(tokens) == 1 and office.access_token not in next(iter(tokens))


def test_a_config_with_a_channel_id_and_no_token_gives_a_stateless_client(line: LineStandIn, office: Channel,
                                                                          tmp_path: Path) -> None:
    # What every command run with --office for an office on stateless tokens builds (rich menus, jobs, the clock).
    config = load_config(write_config(tmp_path, {}), {})
    settings = LineSettings(channel_secret=office.channel_secret, channel_id=office.channel_id,
                            api_endpoint=line.url, data_api_endpoint=line.url)
    client = LineClient.from_config(dataclasses.replace(config, line=settings))
    client.push(ALICE, [{"type": "text", "text": "แจ้งเตือน"}])
    assert line.sent_texts(channel=office) == ["แจ้งเตือน"]
    assert [c.path for c in line.calls_for(office)].count(TOKEN_PATH) == 1


def test_a_stateless_client_renews_its_token_before_it_expires(line: LineStandIn, office: Channel) -> None:
    clock = Clock()
    client = LineClient.stateless(office.channel_id, office.channel_secret, line.url, line.url, clock=clock)
    client.bot_info()
    clock.now += 600  # well within 15 minutes: the same token
    client.bot_info()
    clock.now += 240  # 14 minutes in: close enough to expiry to renew
    client.bot_info()
    calls = line.calls_for(office)
    assert [c.path for c in calls].count(TOKEN_PATH) == 2
    used = [c.headers["authorization"] for c in calls if c.path == "/v2/bot/info"]
    assert used[0] == used[1] != used[2]


def test_concurrent_first_calls_share_one_token(line: LineStandIn, office: Channel) -> None:
    client = LineClient.stateless(office.channel_id, office.channel_secret, line.url, line.url)
    infos = at_once(*[client.bot_info] * 8)
    assert {info.user_id for info in infos} == {office.bot_user_id}
    assert [c.path for c in line.calls_for(office)].count(TOKEN_PATH) == 1
