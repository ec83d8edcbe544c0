"""The one wrapper over line-bot-sdk v3's API clients: replies, pushes, profiles, quota, content, rich menus,
and what onboarding a channel needs (bot info, webhook endpoint, stateless channel access tokens)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import urllib3
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    RichMenuBulkLinkRequest,
    RichMenuBulkUnlinkRequest,
    RichMenuRequest,
    SetWebhookEndpointRequest,
    TestWebhookEndpointRequest,
)
from linebot.v3.oauth import ApiClient as OAuthApiClient
from linebot.v3.oauth import ApiException as OAuthApiException
from linebot.v3.oauth import ChannelAccessToken
from linebot.v3.oauth import Configuration as OAuthConfiguration

from ita_bot.line.kit import Message

if TYPE_CHECKING:
    from ita_bot.domain.config import Config

__all__ = [
    "Answered",
    "BotInfo",
    "ChatType",
    "Credential",
    "IssuedToken",
    "LineApiError",
    "LineClient",
    "LineRefused",
    "SentPush",
    "StatelessToken",
    "WebhookEndpoint",
    "WebhookTest",
    "credentials_accepted",
    "credentials_refused",
    "issue_stateless_token",
]

ChatType = Literal["user", "group", "room"]
"""Where a LINE event came from: a 1:1 chat, a group, or a multi-person room."""

log = logging.getLogger(__name__)

# (connect, read) seconds. LINE normally answers in well under a second; anything slower is
# treated as a failure so a stuck API never holds a worker thread for long.
DEFAULT_TIMEOUT = (3.05, 10.0)
#: Told of each answer LINE gives: (which call, HTTP status; 0 when no answer came).
Answered = Callable[[str, int], None]
# The lookups whose 403 means "this person is not a friend of the bot", not a refused channel.
_PROFILE_CALLS = frozenset({"get_profile", "get_group_member_profile", "get_room_member_profile"})
# Rich-menu calls are made by an operator's command or in the background, never on a reply's clock, so a
# 5xx or 429 is waited out a few times (LINE's Retry-After when it gives one) before it counts as failed.
RETRY_DELAYS = (0.5, 1.0, 2.0)
MAX_RETRY_AFTER = 10.0
BULK_LINK_MAX = 500  # user IDs per bulk link/unlink request
# A stateless token lives 15 minutes; a new one is fetched this long before the old one runs out, so a call
# made just before expiry (and its retries) still carries a valid token.
TOKEN_RENEW_MARGIN = 120.0

Credential = Literal["token", "secret"]
"""Which credential LINE refused: the channel access token, or the channel ID and secret pair."""


class LineApiError(Exception):
    """A failed LINE API call: HTTP status (0 for a timeout/connection error) and LINE's message."""

    def __init__(self, status: int, message: str, *, retry_after: float | None = None, details: Any = None) -> None:
        super().__init__(f"LINE API {status or 'unreachable'}: {message}")
        self.status, self.message, self.retry_after, self.details = status, message, retry_after, details

    @property
    def retryable(self) -> bool:
        """5xx, timeouts and rate limits may succeed later; a monthly-limit 429 will not."""
        if self.status == 429:
            return "monthly limit" not in self.message.lower()
        return self.status == 0 or self.status >= 500


class LineRefused(LineApiError):
    """LINE refused the channel's credentials: 401 for an access token (`credential` "token"), 400
    invalid_client for a channel ID and secret (`credential` "secret"; LINE does not say which of the two).
    The message never carries the credential itself."""

    def __init__(self, status: int, message: str, credential: Credential) -> None:
        super().__init__(status, message)
        self.credential: Credential = credential


@dataclass(frozen=True)
class BotInfo:
    """The channel's bot as GET /v2/bot/info gives it."""

    user_id: str  # the webhook's `destination`
    basic_id: str
    display_name: str
    picture_url: str | None
    chat_mode: str  # "bot" or "chat"
    mark_as_read_mode: str  # "auto" or "manual"


@dataclass(frozen=True)
class WebhookEndpoint:
    """The channel's webhook URL ("" when not set) and whether LINE uses it."""

    endpoint: str
    active: bool


@dataclass(frozen=True)
class WebhookTest:
    """LINE's webhook test: it POSTed a verify request to the endpoint and got this."""

    success: bool
    status_code: int  # the endpoint's HTTP status; 0 (or less) when no answer came
    reason: str  # "OK", "ERROR_STATUS_CODE", "COULD_NOT_CONNECT", "REQUEST_TIMEOUT"…
    detail: str
    timestamp: datetime


@dataclass(frozen=True)
class IssuedToken:
    """A stateless channel access token and its lifetime in seconds."""

    access_token: str = field(repr=False)
    expires_in: int


@dataclass(frozen=True)
class SentPush:
    """A push LINE accepted (`duplicate` when LINE answered 409: the retry key was already accepted)."""

    request_id: str | None
    duplicate: bool = False


def credentials_refused(call: str, status: int) -> bool:
    """Whether LINE refused the channel itself: a revoked or wrong token (401), an API the channel may not use (403)."""
    return status == 401 or (status == 403 and call not in _PROFILE_CALLS)


def credentials_accepted(call: str, status: int) -> bool:
    """Whether LINE took the channel's credentials: it answered, and not with a refusal (LINE checks them first)."""
    return 200 <= status < 500 and not credentials_refused(call, status)


def _error(exc: Exception) -> LineApiError:
    if isinstance(exc, ApiException | OAuthApiException):
        try:
            body = json.loads(exc.body or b"{}")
        except (ValueError, TypeError):
            body = {}
        headers = {k.lower(): v for k, v in dict(exc.headers or {}).items()}
        retry_after = None
        if "retry-after" in headers:
            try:
                retry_after = float(headers["retry-after"])
            except ValueError:
                retry_after = None
        status = int(exc.status or 0)
        if status == 401:
            return LineRefused(401, str(body.get("message") or "authentication failed"), "token")
        if body.get("error") == "invalid_client":
            return LineRefused(status, "invalid_client: the channel ID or channel secret is wrong", "secret")
        if "error" in body and "message" not in body:  # the OAuth endpoints' shape
            return LineApiError(status, str(body.get("error_description") or body["error"]))
        return LineApiError(
            status,
            str(body.get("message") or exc.reason or "error"),
            retry_after=retry_after,
            details=body.get("details") or body.get("sentMessages"),
        )
    # urllib3 timeouts and connection errors: no status.
    return LineApiError(0, type(exc).__name__)


def issue_stateless_token(
    channel_id: str,
    channel_secret: str,
    api_endpoint: str = "https://api.line.me",
    *,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
) -> IssuedToken:
    """A stateless channel access token (15 minutes) for the channel ID and secret; a wrong pair raises
    LineRefused(credential="secret")."""
    with OAuthApiClient(OAuthConfiguration(host=api_endpoint)) as api_client:
        try:
            answer = ChannelAccessToken(api_client).issue_stateless_channel_token_by_client_secret(
                channel_id, channel_secret, _request_timeout=timeout
            )
        except (OAuthApiException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _error(exc) from None
    return IssuedToken(str(answer.access_token), int(answer.expires_in))


class StatelessToken:
    """A channel's stateless access token, issued on first use and issued again before it expires.
    Thread-safe: concurrent callers share one renewal."""

    def __init__(
        self,
        channel_id: str,
        channel_secret: str,
        api_endpoint: str = "https://api.line.me",
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel_id = channel_id
        self._secret, self._api_endpoint, self._timeout, self._clock = channel_secret, api_endpoint, timeout, clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0

    def __repr__(self) -> str:
        return f"StatelessToken(channel_id={self.channel_id!r})"

    def get(self) -> str:
        """A token good for a while yet (issuing one first if needed)."""
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                issued = issue_stateless_token(self.channel_id, self._secret, self._api_endpoint, timeout=self._timeout)
                self._token = issued.access_token
                self._renew_at = self._clock() + max(issued.expires_in - TOKEN_RENEW_MARGIN, issued.expires_in / 2)
            return self._token


def _body(**fields: Any) -> dict[str, Any]:
    """A reply/push request body as `ReplyMessageRequest`/`PushMessageRequest.to_dict()` gave it."""
    return {**fields, "notificationDisabled": False}


class LineClient:
    """Thin, typed facade over MessagingApi / MessagingApiBlob with timeouts and uniform errors."""

    def __init__(
        self,
        access_token: str,
        api_endpoint: str = "https://api.line.me",
        data_api_endpoint: str = "https://api-data.line.me",
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        """A client for one channel's long-lived access token (explicit credentials; see also
        `from_config` and `stateless`)."""
        self.timeout = timeout
        self._stateless: StatelessToken | None = None
        self._token = access_token
        # Who hears of each answer (the hosted clock follows an office's refused channel with it); None: nobody.
        self.on_answer: Answered | None = None
        # The content API lives on its own host, so the blob client needs its own configuration.
        self._api = MessagingApi(ApiClient(Configuration(host=api_endpoint, access_token=access_token)))
        self._blob = MessagingApiBlob(ApiClient(Configuration(host=data_api_endpoint, access_token=access_token)))

    @classmethod
    def from_config(cls, config: Config) -> LineClient:
        """The client for a deployment's credentials and endpoints (web, clock and `job` alike): its long-lived token,
        or, for a hosted office on stateless tokens (a channel id and no token), tokens issued from id and secret."""
        line = config.line
        if not line.channel_access_token and line.channel_id:
            return cls.stateless(line.channel_id, line.channel_secret, line.api_endpoint, line.data_api_endpoint)
        return cls(line.channel_access_token, line.api_endpoint, line.data_api_endpoint)

    @classmethod
    def stateless(
        cls,
        channel_id: str,
        channel_secret: str,
        api_endpoint: str = "https://api.line.me",
        data_api_endpoint: str = "https://api-data.line.me",
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> LineClient:
        """A client that authenticates with stateless tokens issued for the channel ID and secret, issued
        on the first call and renewed before they expire. A wrong pair makes calls raise
        LineRefused(credential="secret")."""
        client = cls("", api_endpoint, data_api_endpoint, timeout=timeout)
        client._stateless = StatelessToken(channel_id, channel_secret, api_endpoint, timeout=timeout, clock=clock)
        return client

    def _fresh(self) -> None:
        """With stateless credentials, make sure both API clients carry a token that is still good."""
        if self._stateless is None:
            return
        try:
            token = self._stateless.get()
        except LineApiError as error:
            # A channel whose id and secret LINE refuses is a refused channel too (the hosted clock hears of it).
            self._answered("issue_stateless_token", error.status)
            raise
        if token != self._token:
            # Each assignment is atomic; a call racing it goes out with the old token, which is still valid.
            self._api.api_client.configuration.access_token = token
            self._blob.api_client.configuration.access_token = token
            self._token = token

    def _answered(self, call: str, status: int) -> None:
        if self.on_answer is not None:
            self.on_answer(call, status)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        call = getattr(fn, "__name__", "call")
        self._fresh()
        try:
            result = fn(*args, _request_timeout=self.timeout, **kwargs)
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
            error = _error(exc)
            self._answered(call, error.status)
            raise error from None
        self._answered(call, 200)
        return result

    def _post_messages(
        self, resource_path: str, body: dict[str, Any], retry_key: str | None = None
    ) -> urllib3.BaseHTTPResponse:
        """POST a send request's JSON body as the SDK's `*_message_with_http_info` would, minus its machinery.

        The messages are already LINE's JSON shape. Building `ReplyMessageRequest`/`PushMessageRequest` from
        them (pydantic validation of every Flex component, then `to_dict` back) cost more CPU than the rest of
        a reply, and so did the SDK's generic `call_api` (a walk over the body, header sanitizing, an
        `ApiResponse` model per answer). So the request is made here, on the SDK client's own connection pool,
        with what `call_api` sends: the same headers (Authorization with the current token, User-Agent,
        Accept, Content-Type), the body as `json.dumps` with its defaults gives it (`notificationDisabled: false`
        included, as the request models gave it), the same (connect, read) timeout, and `ApiException` for a
        non-2xx answer, as the SDK's REST client raises it.
        """
        self._fresh()
        client = self._api.api_client
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": client.user_agent,
            "Authorization": "Bearer " + client.configuration.access_token,
        }
        if retry_key:
            headers["X-Line-Retry-Key"] = retry_key
        connect, read = self.timeout
        try:
            response = client.rest_client.pool_manager.request(
                "POST",
                client.configuration.host + resource_path,
                body=json.dumps(body),
                headers=headers,
                timeout=urllib3.Timeout(connect=connect, read=read),
            )
        except (urllib3.exceptions.HTTPError, OSError):
            self._answered(resource_path, 0)
            raise
        if not 200 <= response.status <= 299:
            self._answered(resource_path, response.status)
            error = ApiException(http_resp=response)
            error.body = response.data.decode("utf-8", errors="replace") if response.data else error.body
            raise error
        self._answered(resource_path, 200)
        return response

    def reply(self, reply_token: str, messages: Sequence[Message]) -> None:
        """Answer an event (free of quota). At most 5 messages, as LINE allows."""
        try:
            self._post_messages("/v2/bot/message/reply", _body(replyToken=reply_token, messages=list(messages)))
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _error(exc) from None

    def push(self, to: str, messages: Sequence[Message], *, retry_key: str | None = None) -> SentPush:
        """Push to a user, group or room; a 409 for an already-accepted retry key counts as delivered."""
        try:
            resp = self._post_messages("/v2/bot/message/push", _body(to=to, messages=list(messages)), retry_key)
        except ApiException as exc:
            if exc.status == 409 and retry_key:
                headers = {k.lower(): v for k, v in dict(exc.headers or {}).items()}
                return SentPush(headers.get("x-line-accepted-request-id"), duplicate=True)
            raise _error(exc) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _error(exc) from None
        headers = {k.lower(): v for k, v in dict(resp.headers or {}).items()}
        return SentPush(headers.get("x-line-request-id"))

    def profile(self, user_id: str) -> str | None:
        """A friend's display name; None when LINE has no profile for us (not a friend, or blocked)."""
        try:
            return self._call(self._api.get_profile, user_id).display_name
        except LineApiError as e:
            if e.status in (400, 403, 404):
                return None
            raise

    def member_name(self, chat_type: ChatType, chat_id: str, user_id: str) -> str | None:
        """A group or room member's display name (works for people who are not friends)."""
        fn = self._api.get_group_member_profile if chat_type == "group" else self._api.get_room_member_profile
        try:
            return self._call(fn, chat_id, user_id).display_name
        except LineApiError as e:
            if e.status in (400, 403, 404):
                return None
            raise

    def member_count(self, chat_type: ChatType, chat_id: str) -> int:
        fn = self._api.get_group_member_count if chat_type == "group" else self._api.get_room_member_count
        return int(self._call(fn, chat_id).count)

    def quota(self) -> int | None:
        """The monthly push quota, or None when it is unlimited."""
        q = self._call(self._api.get_message_quota)
        return None if q.type == "none" else int(q.value or 0)

    def consumption(self) -> int:
        return int(self._call(self._api.get_message_quota_consumption).total_usage)

    def content(self, message_id: str) -> tuple[bytes, str]:
        """Download a user's image or file now (LINE deletes content after a while)."""
        self._fresh()
        try:
            resp = self._blob.get_message_content_with_http_info(message_id, _request_timeout=self.timeout)
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _error(exc) from None
        headers = {k.lower(): v for k, v in dict(resp.headers or {}).items()}
        return bytes(resp.data), headers.get("content-type", "application/octet-stream")

    # -- onboarding -------------------------------------------------------------------------------------

    def bot_info(self) -> BotInfo:
        """The channel's bot (its user ID is the webhook's `destination`); a bad token raises LineRefused."""
        info = self._call(self._api.get_bot_info)
        return BotInfo(
            user_id=str(info.user_id),
            basic_id=str(info.basic_id),
            display_name=str(info.display_name),
            picture_url=info.picture_url,
            chat_mode=str(info.chat_mode),
            mark_as_read_mode=str(info.mark_as_read_mode),
        )

    def set_webhook_endpoint(self, endpoint: str) -> None:
        """Point the channel's webhook at this https URL (LINE answers 400 for a URL it does not take)."""
        self._call(self._api.set_webhook_endpoint, SetWebhookEndpointRequest(endpoint=endpoint))

    def webhook_endpoint(self) -> WebhookEndpoint:
        answer = self._call(self._api.get_webhook_endpoint)
        return WebhookEndpoint(str(answer.endpoint or ""), bool(answer.active))

    def test_webhook_endpoint(self, endpoint: str | None = None) -> WebhookTest:
        """Have LINE POST a signed verify request (no events) to the endpoint (default: the one set)."""
        request = TestWebhookEndpointRequest(endpoint=endpoint) if endpoint else None
        answer = self._call(self._api.test_webhook_endpoint, request)
        return WebhookTest(
            success=bool(answer.success),
            status_code=int(answer.status_code),
            reason=str(answer.reason),
            detail=str(answer.detail),
            timestamp=answer.timestamp,
        )

    # -- rich menus -------------------------------------------------------------------------------------

    def _retried(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """One call, repeated after a 5xx, timeout or rate limit (not after a monthly-limit 429 or a 4xx)."""
        for delay in (*RETRY_DELAYS, None):
            try:
                return self._call(fn, *args, **kwargs)
            except LineApiError as e:
                if delay is None or not e.retryable:
                    raise
                wait = min(e.retry_after, MAX_RETRY_AFTER) if e.retry_after is not None else delay
                log.info("LINE %s on a rich-menu call; retrying in %.1f s", e.status or "timeout", wait)
                time.sleep(wait)
        raise AssertionError("unreachable")

    def rich_menus(self) -> list[dict[str, Any]]:
        """Every rich menu of the channel as LINE's JSON (richMenuId, name, size, chatBarText, areas)."""
        answer = self._retried(self._api.get_rich_menu_list)
        return [m.to_dict() for m in answer.richmenus]

    def create_rich_menu(self, menu: dict[str, Any]) -> str:
        """Validate, then create a rich menu from LINE's JSON shape; its new ID."""
        try:
            request = RichMenuRequest.from_dict(menu)
        except ValueError as e:  # the SDK's own model checks some of LINE's limits before sending
            raise LineApiError(400, f"invalid rich menu: {' '.join(str(e).split())}") from None
        self._retried(self._api.validate_rich_menu_object, request)
        return str(self._retried(self._api.create_rich_menu, request).rich_menu_id)

    def upload_rich_menu_image(self, menu_id: str, data: bytes, content_type: str = "image/png") -> None:
        """Attach the image (on the data API host); LINE takes one image per menu, ever."""
        self._retried(self._blob.set_rich_menu_image, menu_id, data, _headers={"Content-Type": content_type})

    def delete_rich_menu(self, menu_id: str) -> None:
        """Delete a rich menu; one already gone counts as deleted."""
        try:
            self._retried(self._api.delete_rich_menu, menu_id)
        except LineApiError as e:
            if e.status != 404:
                raise

    def set_default_rich_menu(self, menu_id: str) -> None:
        self._retried(self._api.set_default_rich_menu, menu_id)

    def default_rich_menu(self) -> str | None:
        try:
            return str(self._retried(self._api.get_default_rich_menu_id).rich_menu_id)
        except LineApiError as e:
            if e.status == 404:
                return None
            raise

    def link_rich_menu(self, user_ids: Sequence[str], menu_id: str) -> None:
        """Show this menu to these users instead of the default (bulk, 500 at a time)."""
        ids = list(dict.fromkeys(user_ids))
        if len(ids) == 1:
            self._retried(self._api.link_rich_menu_id_to_user, ids[0], menu_id)
            return
        for i in range(0, len(ids), BULK_LINK_MAX):
            chunk = ids[i : i + BULK_LINK_MAX]
            self._retried(
                self._api.link_rich_menu_id_to_users, RichMenuBulkLinkRequest(richMenuId=menu_id, userIds=chunk)
            )

    def unlink_rich_menu(self, user_ids: Sequence[str]) -> None:
        """Back to the default menu for these users."""
        ids = list(dict.fromkeys(user_ids))
        if len(ids) == 1:
            self._retried(self._api.unlink_rich_menu_id_from_user, ids[0])
            return
        for i in range(0, len(ids), BULK_LINK_MAX):
            chunk = ids[i : i + BULK_LINK_MAX]
            self._retried(self._api.unlink_rich_menu_id_from_users, RichMenuBulkUnlinkRequest(userIds=chunk))
