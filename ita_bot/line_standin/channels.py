"""LINE stand-in routes a channel is onboarded with (bot info, webhook endpoint, stateless tokens); signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ita_bot.line_standin.api import Answer, Channel, ChannelState
from ita_bot.line_standin.validation import Problem, error_body

__all__ = [
    "CHANNEL_ROUTES",
    "OPEN_PATHS",
    "STATELESS_TOKEN_LIFETIME",
    "Channel",
    "ChannelRoutes",
    "ChannelState",
    "check_webhook_endpoint",
    "post_webhook",
    "sign",
]

STATELESS_TOKEN_LIFETIME = 900  # seconds: LINE's stateless channel access tokens last 15 minutes
MAX_ENDPOINT_LENGTH = 500
# LINE only calls https webhooks; plain http is let through for a bot on this machine, as tests run one.
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_MSG_NO_ENDPOINT = "The webhook endpoint URL is not set"
_MSG_INVALID_CLIENT = "invalid client_id or client_secret"


def sign(secret: str, body: bytes) -> str:
    """LINE's X-Line-Signature: base64 of HMAC-SHA256 over the body with the channel secret."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def post_webhook(url: str, body: bytes, secret: str, timeout: float) -> int:
    """POST a webhook body signed with `secret`; the status the bot answered (an HTTP error is a status too)."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Line-Signature": sign(secret, body),
            "User-Agent": "LineBotWebhook/2.0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def check_webhook_endpoint(endpoint: Any) -> list[Problem]:
    """Problems with a webhook URL: LINE takes https only (and http to this machine here, for tests)."""
    if not isinstance(endpoint, str) or not endpoint:
        return [Problem("endpoint", "must be specified")]
    if len(endpoint) > MAX_ENDPOINT_LENGTH:
        return [Problem("endpoint", f"Length must be at most {MAX_ENDPOINT_LENGTH}")]
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        return [Problem("endpoint", "must be a valid URL")]
    if not host or (parts.scheme != "https" and not (parts.scheme == "http" and host in _LOCAL_HOSTS)):
        return [Problem("endpoint", "must be a valid HTTPS URL")]
    return []


def _iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ChannelRoutes:
    """Mixin for LineStandIn: bot info, the webhook endpoint settings and test, and stateless tokens.
    Called with the state lock held, `_current` being the channel the request's token belongs to."""

    _current: ChannelState | None
    _channels: dict[str, ChannelState]
    _stateless: dict[str, tuple[str, float]]  # token -> (channel id, expiry as time.time())
    stateless_token_lifetime: int
    webhook_test_timeout: float

    # -- bot info -------------------------------------------------------------------------------------

    def _route_bot_info(self, **_: Any) -> Answer:
        channel = self._channel_now().channel
        info: dict[str, Any] = {
            "userId": channel.bot_user_id,
            "basicId": channel.basic_id,
            "displayName": channel.name,
            "chatMode": "bot",
            "markAsReadMode": "auto",
        }
        if channel.picture_url:
            info["pictureUrl"] = channel.picture_url
        return Answer(200, info)

    # -- webhook endpoint -----------------------------------------------------------------------------

    def _route_set_webhook(self, *, body: Any, **_: Any) -> Answer:
        endpoint = body.get("endpoint") if isinstance(body, dict) else None
        problems = check_webhook_endpoint(endpoint)
        if problems:
            return Answer(400, error_body(problems))
        self._channel_now().webhook_endpoint = str(endpoint)
        return Answer(200, {})

    def _route_get_webhook(self, **_: Any) -> Answer:
        endpoint = self._channel_now().webhook_endpoint
        return Answer(200, {"endpoint": endpoint, "active": bool(endpoint)})

    def _route_test_webhook(self, *, body: Any, **_: Any) -> Answer:
        state = self._channel_now()
        given = body.get("endpoint") if isinstance(body, dict) else None
        if given is not None:
            problems = check_webhook_endpoint(given)
            if problems:
                return Answer(400, error_body(problems))
        endpoint = given or state.webhook_endpoint
        if not endpoint:
            return Answer(400, {"message": _MSG_NO_ENDPOINT})
        channel, timeout = state.channel, self.webhook_test_timeout
        # The bot's answer may take a while, and a bot may call the stand-in back while answering:
        # the POST is made after the state lock is released.
        return Answer(200, later=lambda: _verify(endpoint, channel, timeout))

    # -- channel access tokens ------------------------------------------------------------------------

    def _route_stateless_token(self, *, raw: bytes, **_: Any) -> Answer:
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            return Answer(400, {"error": "unsupported_grant_type", "error_description": "unsupported grant_type"})
        state = self._channels.get(form.get("client_id", ""))
        secret = form.get("client_secret", "")
        if state is None or not hmac.compare_digest(secret.encode(), state.channel.channel_secret.encode()):
            return Answer(400, {"error": "invalid_client", "error_description": _MSG_INVALID_CLIENT})
        token = secrets.token_urlsafe(96)
        self._stateless[token] = (state.channel.channel_id, time.time() + self.stateless_token_lifetime)
        self._current = state  # recorded as this channel's call
        return Answer(
            200, {"token_type": "Bearer", "access_token": token, "expires_in": self.stateless_token_lifetime}
        )

    def _channel_now(self) -> ChannelState:
        if self._current is None:
            raise RuntimeError("a channel route ran without an authenticated channel")
        return self._current


def _verify(endpoint: str, channel: Channel, timeout: float) -> Answer:
    """POST LINE's verify request (no events) to the endpoint and report as LINE's webhook test does."""
    body = json.dumps({"destination": channel.bot_user_id, "events": []}).encode("utf-8")
    try:
        status = post_webhook(endpoint, body, channel.channel_secret, timeout)
    except TimeoutError:
        return Answer(200, _test_result(False, 0, "REQUEST_TIMEOUT", "Request timeout"))
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            return Answer(200, _test_result(False, 0, "REQUEST_TIMEOUT", "Request timeout"))
        return Answer(200, _test_result(False, 0, "COULD_NOT_CONNECT", "Connection failed"))
    except OSError:
        return Answer(200, _test_result(False, 0, "COULD_NOT_CONNECT", "Connection failed"))
    if status == 200:
        return Answer(200, _test_result(True, status, "OK", "200"))
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return Answer(200, _test_result(False, status, "ERROR_STATUS_CODE", f"{status} {phrase}".strip()))


def _test_result(success: bool, status: int, reason: str, detail: str) -> dict[str, Any]:
    return {"success": success, "timestamp": _iso_now(), "statusCode": status, "reason": reason, "detail": detail}


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(pattern), name)
    for method, pattern, name in [
        ("GET", r"/v2/bot/info", "_route_bot_info"),
        ("PUT", r"/v2/bot/channel/webhook/endpoint", "_route_set_webhook"),
        ("GET", r"/v2/bot/channel/webhook/endpoint", "_route_get_webhook"),
        ("POST", r"/v2/bot/channel/webhook/test", "_route_test_webhook"),
        ("POST", r"/oauth2/v3/token", "_route_stateless_token"),
    ]
]
CHANNEL_ROUTES = _ROUTES
OPEN_PATHS = frozenset({"/oauth2/v3/token"})  # answered without a bearer token
