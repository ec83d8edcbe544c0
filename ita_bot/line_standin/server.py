"""The LINE stand-in: a local Messaging API (and content API) server with a scriptable world."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ita_bot.line_standin.api import BODY_CHECKS, Answer, Chat, DeliveredRequest, Fault, MessagingApiRoutes, User
from ita_bot.line_standin.channels import (
    CHANNEL_ROUTES,
    OPEN_PATHS,
    STATELESS_TOKEN_LIFETIME,
    Channel,
    ChannelRoutes,
    ChannelState,
    check_webhook_endpoint,
    post_webhook,
    sign,
)
from ita_bot.line_standin.events import BOT_DISPLAY_NAME, EventBuilders
from ita_bot.line_standin.richmenus import RICH_MENU_CHECKS, RICH_MENU_ROUTES, RichMenuRoutes, StoredRichMenu
from ita_bot.line_standin.serving import Serving
from ita_bot.line_standin.validation import Problem

__all__ = ["Call", "Channel", "DeliveredRequest", "LineStandIn"]

_BASIC_ID_LETTERS = "abcdefghjkmnpqrstuvwxyz"

def _basic_id() -> str:
    """An ID like LINE gives an account: "@", three digits, five letters."""
    return f"@{secrets.randbelow(1000):03d}" + "".join(secrets.choice(_BASIC_ID_LETTERS) for _ in range(5))


ChannelRef = Channel | str | None
"""A channel, its id, or None for the default channel."""


@dataclass(frozen=True)
class Call:
    """One request the stand-in answered, with the status it got."""

    method: str
    path: str  # without the query string
    headers: dict[str, str]  # lower-case keys
    body: bytes
    json: Any | None  # the body parsed as JSON, or None
    status: int
    at: float  # time.time() when received
    query: str = ""
    response: Any | None = None  # the JSON answer (None for binary content)
    channel_id: str | None = None  # the channel its token (or, for a token request, its client id) named


@dataclass
class _Delay:
    """Answers under `prefix` wait `seconds`, for `remaining` requests (None: always)."""

    prefix: str
    seconds: float
    remaining: int | None


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a delayed handler must never keep the test process alive
    standin: LineStandIn


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive, as the SDK's urllib3 pool expects of LINE.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, each answer would wait ~40 ms for an ACK.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self.server.standin._serve(self)

    do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines carry LINE user ids, which must not reach logs (PDPA)."""


class LineStandIn(EventBuilders, RichMenuRoutes, ChannelRoutes, MessagingApiRoutes):
    """A local LINE: the Messaging API endpoints the bot uses, the content API on the same
    URL, a world of users/groups/rooms, a quota, recording, fault injection and webhooks.

    It hosts one or more channels. The default one is built from the constructor's secret and token
    (with no token it accepts any bearer token no other channel owns); `add_channel` adds more, each with
    its own credentials, bot user id, webhook endpoint and quota. Every call is answered as the channel
    its token belongs to and recorded under it. The world (users, groups, rooms, content, rich menus) is
    shared by all channels."""

    _routes: ClassVar[list[tuple[str, re.Pattern[str], str]]] = [
        *RICH_MENU_ROUTES,
        *CHANNEL_ROUTES,
        *MessagingApiRoutes._routes,
    ]
    _open_paths: ClassVar[frozenset[str]] = OPEN_PATHS
    _body_checks: ClassVar[dict[str, Callable[[Any], list[Problem]]]] = {**RICH_MENU_CHECKS, **BODY_CHECKS}

    def __init__(
        self,
        channel_secret: str = "standin-secret",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        access_token: str | None = None,
    ) -> None:
        seed = hashlib.sha256(b"standin-bot:" + channel_secret.encode()).hexdigest()
        default = Channel(
            channel_id=str(1_000_000_000 + int(seed[32:40], 16) % 1_000_000_000),
            channel_secret=channel_secret,
            access_token=access_token,  # None: any non-empty bearer token no other channel owns is accepted
            bot_user_id="U" + seed[:32],
            name=BOT_DISPLAY_NAME,
            basic_id="@000standin",
        )
        self._default_id = default.channel_id
        self._channels: dict[str, ChannelState] = {default.channel_id: ChannelState(default)}
        self._token_owners: dict[str, str] = {access_token: default.channel_id} if access_token else {}
        self._stateless: dict[str, tuple[str, float]] = {}
        self._current: ChannelState | None = None
        self.stateless_token_lifetime = STATELESS_TOKEN_LIFETIME
        self.webhook_test_timeout = 5.0
        self._host, self._port = host, port
        self._server: _Server | None = None
        self._serving: Serving | None = None
        # One re-entrant lock guards all state; wait_for's predicate may call our accessors.
        self._cond = threading.Condition(threading.RLock())
        self._stopping = threading.Event()
        self._ids = itertools.count(int(time.time() * 1000) * 1000)
        self._users: dict[str, User] = {}
        self._chats: dict[str, Chat] = {}  # groups and rooms by id
        self._rooms: set[str] = set()
        self._content: dict[str, tuple[bytes, str]] = {}
        self._reply_tokens: dict[str, tuple[str, str | None] | None] = {}  # (chat, channel once delivered); None: used
        self._retry_keys: dict[str, DeliveredRequest] = {}
        self._calls: list[Call] = []
        self._deliveries: list[DeliveredRequest] = []
        self._faults: list[Fault] = []
        self._delays: list[_Delay] = []
        self._rich_menus: dict[str, StoredRichMenu] = {}
        self._default_rich_menu: str | None = None
        self._rich_menu_links: dict[str, str] = {}

    # -- lifecycle ------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the stand-in is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def start(self) -> LineStandIn:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self._host, self._port), _Handler)
        self._server.standin = self
        self._serving = Serving(self._server, "line-standin").start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers held by delay()
        if self._serving is not None:
            self._serving.stop()
        self._server.server_close()
        self._server, self._serving = None, None

    def __enter__(self) -> LineStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- channels -------------------------------------------------------------------------------------

    @property
    def channel_secret(self) -> str:
        """The default channel's secret."""
        return self.default_channel.channel_secret

    @property
    def access_token(self) -> str | None:
        """The default channel's long-lived token (None: it accepts any token no other channel owns)."""
        return self.default_channel.access_token

    @property
    def bot_user_id(self) -> str:
        """The default channel's bot user id."""
        return self.default_channel.bot_user_id

    @property
    def default_channel(self) -> Channel:
        with self._cond:
            return self._channels[self._default_id].channel

    @property
    def channels(self) -> list[Channel]:
        """Every channel, the default one first."""
        with self._cond:
            return [state.channel for state in self._channels.values()]

    def channel(self, channel: ChannelRef = None) -> Channel:
        """A channel by id (or the current credentials of a Channel given); None: the default channel."""
        with self._cond:
            return self._state_of(channel).channel

    def add_channel(
        self,
        channel_id: str | None = None,
        *,
        name: str = BOT_DISPLAY_NAME,
        channel_secret: str | None = None,
        access_token: str | None = None,
        picture_url: str | None = None,
    ) -> Channel:
        """A new channel with its own credentials (generated unless given) and bot user id."""
        with self._cond:
            if channel_id is None:
                channel_id = str(2_000_000_000 + secrets.randbelow(100_000_000))
                while channel_id in self._channels:
                    channel_id = str(2_000_000_000 + secrets.randbelow(100_000_000))
            if not channel_id.isdecimal():
                raise ValueError("a channel id is a numeric string")
            if channel_id in self._channels:
                raise ValueError("that channel id is taken")
            token = access_token or secrets.token_urlsafe(129)  # about LINE's 172 characters
            if token in self._token_owners or token == self.access_token:
                raise ValueError("that access token belongs to another channel")
            channel = Channel(
                channel_id=channel_id,
                channel_secret=channel_secret or secrets.token_hex(16),
                access_token=token,
                bot_user_id="U" + secrets.token_hex(16),
                name=name,
                basic_id=_basic_id(),
                picture_url=picture_url,
            )
            self._channels[channel_id] = ChannelState(channel)
            self._token_owners[token] = channel_id
            return channel

    def revoke_token(self, channel: ChannelRef = None) -> None:
        """Revoke the channel's long-lived token: every call with it gets 401 (as after a reissue
        in the LINE Developers console). Stateless tokens already issued run until they expire."""
        with self._cond:
            self._state_of(channel).token_revoked = True

    def reissue_token(self, channel: ChannelRef = None) -> Channel:
        """A new long-lived token for the channel; the old one is refused from now on."""
        with self._cond:
            state = self._state_of(channel)
            if state.channel.access_token is not None:
                state.old_tokens.add(state.channel.access_token)
            token = secrets.token_urlsafe(129)
            state.channel = replace(state.channel, access_token=token)
            state.token_revoked = False
            self._token_owners[token] = state.channel.channel_id
            return state.channel

    def webhook_endpoint(self, channel: ChannelRef = None) -> str:
        """The channel's webhook URL ("" until set, by the API or `set_webhook_endpoint`)."""
        with self._cond:
            return self._state_of(channel).webhook_endpoint

    def set_webhook_endpoint(self, endpoint: str, *, channel: ChannelRef = None) -> None:
        """Set the channel's webhook URL as the LINE Developers console would (same rules as the API)."""
        problems = check_webhook_endpoint(endpoint)
        if problems:
            raise ValueError(problems[0].message)
        with self._cond:
            self._state_of(channel).webhook_endpoint = endpoint

    def _state_of(self, channel: ChannelRef) -> ChannelState:
        key = self._default_id if channel is None else channel.channel_id if isinstance(channel, Channel) else channel
        if key not in self._channels:
            raise ValueError("unknown channel; add_channel it first")
        return self._channels[key]

    def _channel_of_token(self, authorization: str) -> ChannelState | None:
        """The channel a bearer token authenticates as; None for an unknown, revoked or expired token."""
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        owner = self._token_owners.get(token)
        if owner is not None:
            state = self._channels[owner]
            current = state.channel.access_token or ""
            if hmac.compare_digest(token, current) and not state.token_revoked:
                return state
            return None
        stateless = self._stateless.get(token)
        if stateless is not None:
            channel_id, expires = stateless
            return self._channels[channel_id] if time.time() < expires else None
        default = self._channels[self._default_id]
        if default.channel.access_token is None and not default.token_revoked:
            return default
        return None

    # -- world ----------------------------------------------------------------------------------------

    def add_user(self, user_id: str, display_name: str, *, friend: bool = True, picture_url: str | None = None) -> None:
        with self._cond:
            self._users[user_id] = User(display_name, friend, picture_url)

    def add_group(self, group_id: str, name: str, member_ids: list[str]) -> None:
        self._add_chat(group_id, name, member_ids)

    def add_room(self, room_id: str, member_ids: list[str]) -> None:
        self._add_chat(room_id, None, member_ids)
        with self._cond:
            self._rooms.add(room_id)

    def add_content(self, message_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        with self._cond:
            self._content[message_id] = (bytes(data), content_type)

    def set_friend(self, user_id: str, friend: bool) -> None:
        """Make a known user a friend or not (as a follow/unfollow would, without an event)."""
        with self._cond:
            self._user(user_id).friend = friend

    def members(self, chat_id: str) -> list[str]:
        """Current member ids of a group or room."""
        with self._cond:
            return list(self._chat_of(chat_id).member_ids)

    def set_quota(self, limit: int | None, *, channel: ChannelRef = None) -> None:
        """The channel's monthly message limit (None: unlimited)."""
        with self._cond:
            self._state_of(channel).quota = limit

    @property
    def consumption(self) -> int:
        """The default channel's usage this month."""
        return self.consumption_of(None)

    @consumption.setter
    def consumption(self, value: int) -> None:
        """Set the month's usage so far (e.g. to start a test near the limit)."""
        with self._cond:
            self._state_of(None).consumption = value

    def consumption_of(self, channel: ChannelRef) -> int:
        """A channel's usage this month."""
        with self._cond:
            return self._state_of(channel).consumption

    def _add_chat(self, chat_id: str, name: str | None, member_ids: list[str]) -> None:
        with self._cond:
            unknown = [m for m in member_ids if m not in self._users]
            if unknown:
                raise ValueError(f"{len(unknown)} member(s) are not added users; add_user them first")
            self._chats[chat_id] = Chat(name, list(member_ids))

    def _user(self, user_id: str) -> User:
        if user_id not in self._users:
            raise ValueError("unknown user; add_user it first")
        return self._users[user_id]

    def _chat_of(self, chat_id: str) -> Chat:
        if chat_id not in self._chats:
            raise ValueError("unknown group or room; add_group/add_room it first")
        return self._chats[chat_id]

    # -- recording ------------------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every request answered so far (a snapshot), rejections included."""
        with self._cond:
            return list(self._calls)

    def calls_for(self, channel: ChannelRef) -> list[Call]:
        """The requests answered as this channel (refused ones, with no channel, are not among them)."""
        with self._cond:
            channel_id = self._state_of(channel).channel.channel_id
            return [c for c in self._calls if c.channel_id == channel_id]

    @property
    def deliveries(self) -> list[DeliveredRequest]:
        """Every accepted reply, push and multicast, in order."""
        with self._cond:
            return list(self._deliveries)

    def replies(self, channel: ChannelRef = None) -> list[dict[str, Any]]:
        """Accepted reply bodies; with `channel`, only that channel's (None: every channel's)."""
        return self._requests("reply", channel)

    def pushes(self, channel: ChannelRef = None) -> list[dict[str, Any]]:
        """Accepted push bodies; with `channel`, only that channel's."""
        return self._requests("push", channel)

    def multicasts(self, channel: ChannelRef = None) -> list[dict[str, Any]]:
        """Accepted multicast bodies; with `channel`, only that channel's."""
        return self._requests("multicast", channel)

    def sent_messages(self, to: str | None = None, *, channel: ChannelRef = None) -> list[dict[str, Any]]:
        """Message objects delivered, in order; with `to`, only those that reached that chat
        (a reply reaches the chat its event came from; a group push reaches the group id);
        with `channel`, only those that channel sent."""
        with self._cond:
            return [
                message
                for d in self._of_channel(channel)
                if to is None or to in d.recipients
                for message in d.request["messages"]
            ]

    def sent_texts(self, to: str | None = None, *, channel: ChannelRef = None) -> list[str]:
        """The readable text of delivered messages: `text` of text/textV2, `altText` of the rest."""
        return [m.get("text") or m.get("altText") or "" for m in self.sent_messages(to, channel=channel)]

    def wait_for(self, predicate: Callable[[LineStandIn], bool], timeout: float = 5.0) -> bool:
        """Block until `predicate(self)` holds (re-checked whenever a request is answered)."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout)

    def reset(self) -> None:
        """Forget calls, deliveries, faults and delays; the world, quota and used keys stay."""
        with self._cond:
            self._calls.clear()
            self._deliveries.clear()
            self._faults.clear()
            self._delays.clear()
            self._cond.notify_all()

    def _requests(self, kind: str, channel: ChannelRef) -> list[dict[str, Any]]:
        with self._cond:
            return [d.request for d in self._of_channel(channel) if d.kind == kind]

    def _of_channel(self, channel: ChannelRef) -> list[DeliveredRequest]:
        if channel is None:  # recording filters: None is every channel, not the default one
            return list(self._deliveries)
        channel_id = self._state_of(channel).channel.channel_id
        return [d for d in self._deliveries if d.channel_id == channel_id]

    # -- faults ---------------------------------------------------------------------------------------

    def fail(
        self,
        path_prefix: str,
        status: int,
        *,
        times: int = 1,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next `times` requests whose path starts with `path_prefix` get `status` without
        being processed (nothing delivered, no retry key taken, no quota used)."""
        with self._cond:
            self._faults.append(Fault(path_prefix, status, times, body, headers))

    def delay(self, seconds: float, path_prefix: str = "", *, times: int | None = None) -> None:
        """Matching requests are processed at once but answered `seconds` later: a client that
        times out has still had its push delivered, as with a slow LINE. `times=None`: all of them."""
        with self._cond:
            self._delays.append(_Delay(path_prefix, seconds, times))

    # -- webhooks -------------------------------------------------------------------------------------

    def signature(self, body: bytes, *, channel: ChannelRef = None) -> str:
        """The X-Line-Signature of a body, with the channel's secret (default channel: None)."""
        return sign(self.channel(channel).channel_secret, body)

    def webhook_body(
        self, events: list[dict[str, Any]], *, destination: str | None = None, channel: ChannelRef = None
    ) -> bytes:
        """The exact bytes LINE would POST for these events (`destination`: the channel's bot user id)."""
        payload = {"destination": destination or self.channel(channel).bot_user_id, "events": events}
        return json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def deliver(
        self,
        webhook_url: str | None,
        events: list[dict[str, Any]],
        *,
        destination: str | None = None,
        channel: ChannelRef = None,
        timeout: float = 5.0,
    ) -> int:
        """POST the events as the channel's webhook (signed with its secret, its bot user id as
        `destination`) to `webhook_url`, or with None to the channel's webhook endpoint; the HTTP status
        the bot answered. The events' reply tokens become good for that channel only, and a mention of
        the bot (`isSelf`) names that channel's bot. A bot that does not answer within `timeout` raises
        (TimeoutError or URLError)."""
        with self._cond:
            state = self._state_of(channel)
            url = webhook_url or state.webhook_endpoint
            if not url:
                raise ValueError("no webhook URL given and none set for the channel")
            events = self._as_channel(events, state.channel)
        body = self.webhook_body(events, destination=destination, channel=state.channel)
        return post_webhook(url, body, state.channel.channel_secret, timeout)

    def _as_channel(self, events: list[dict[str, Any]], channel: Channel) -> list[dict[str, Any]]:
        """Bind the events' unbound reply tokens to the channel; point self-mentions at its bot."""
        default_bot = self._channels[self._default_id].channel.bot_user_id
        for event in events:
            issued = self._reply_tokens.get(event.get("replyToken", ""))
            if issued is not None and issued[1] is None:
                self._reply_tokens[event["replyToken"]] = (issued[0], channel.channel_id)
            mention = (event.get("message") or {}).get("mention") or {}
            for mentionee in mention.get("mentionees") or []:
                if mentionee.get("isSelf") and mentionee.get("userId") == default_bot:
                    mentionee["userId"] = channel.bot_user_id
        return events

    # -- hooks for EventBuilders ----------------------------------------------------------------------

    def _issue_reply_token(self, chat_id: str) -> str:
        token = secrets.token_hex(16)
        with self._cond:
            self._reply_tokens[token] = (chat_id, None)  # good for any channel until delivered as one
        return token

    def _next_message_id(self) -> str:
        return str(next(self._ids))

    def _display_name(self, user_id: str) -> str:
        with self._cond:
            return self._user(user_id).display_name

    def _group_or_room(self, chat_id: str) -> tuple[str | None, str | None]:
        with self._cond:
            self._chat_of(chat_id)
            return (None, chat_id) if chat_id in self._rooms else (chat_id, None)

    def _world_update(self, change: str, chat_or_user: str, user_ids: list[str] | None = None) -> None:
        with self._cond:
            if change in ("follow", "unfollow"):
                self._user(chat_or_user).friend = change == "follow"
            elif change in ("join", "leave"):
                self._chat_of(chat_or_user).joined = change == "join"
            elif change == "members_joined":
                chat = self._chat_of(chat_or_user)
                for user_id in user_ids or []:
                    self._user(user_id)
                    if user_id not in chat.member_ids:
                        chat.member_ids.append(user_id)
            elif change == "members_left":
                chat = self._chat_of(chat_or_user)
                chat.member_ids[:] = [m for m in chat.member_ids if m not in set(user_ids or [])]

    # -- HTTP -----------------------------------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        received = time.time()
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        request_id = str(uuid.uuid4())
        # Routing and the body's checks read no world state: done here, once, so that the lock below is
        # held only to look up and record (the checks parse the body with the SDK's models).
        routed = self._route(handler.command, parts.path, parsed)
        with self._cond:
            answer = self._answer(
                handler.command, parts.path, parts.query, headers, body, parsed, request_id, routed
            )
            channel_id = self._current.channel.channel_id if self._current is not None else None
            self._current = None

            def record(answer: Answer) -> float:
                call = Call(
                    handler.command, parts.path, headers, body, parsed, answer.status, received, parts.query,
                    answer.payload, channel_id,
                )
                return self._record(call)

            if answer.later is None:
                pause = record(answer)
        if answer.later is not None:
            answer = answer.later()
            with self._cond:
                pause = record(answer)
        if pause:
            self._stopping.wait(pause)  # stop() cuts a long delay short
        self._send(handler, answer, request_id)

    def _record(self, call: Call) -> float:
        """Keep the call, wake waiters; the delay to answer after (called with the lock held)."""
        self._calls.append(call)
        pause = self._take_delay(call.path)
        self._cond.notify_all()
        return pause

    @staticmethod
    def _send(handler: _Handler, answer: Answer, request_id: str) -> None:
        data = answer.data if answer.data is not None else json.dumps(answer.payload).encode("utf-8")
        try:
            handler.send_response(answer.status)
            handler.send_header("Content-Type", answer.content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.send_header("x-line-request-id", request_id)
            for name, value in answer.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); LINE would not care either

    def _take_delay(self, path: str) -> float:
        for delay in self._delays:
            if path.startswith(delay.prefix) and delay.remaining != 0:
                if delay.remaining is not None:
                    delay.remaining -= 1
                return delay.seconds
        return 0.0
