"""The LINE stand-in: a local Messaging API (and content API) server with a scriptable world."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ita_bot.line_standin.api import Answer, Chat, DeliveredRequest, Fault, MessagingApiRoutes, User
from ita_bot.line_standin.events import EventBuilders
from ita_bot.line_standin.richmenus import RICH_MENU_ROUTES, RichMenuRoutes, StoredRichMenu
from ita_bot.line_standin.serving import Serving

__all__ = ["Call", "DeliveredRequest", "LineStandIn"]


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


class LineStandIn(EventBuilders, RichMenuRoutes, MessagingApiRoutes):
    """A local LINE: the Messaging API endpoints the bot uses, the content API on the same
    URL, a world of users/groups/rooms, a quota, recording, fault injection and webhooks."""

    _routes: ClassVar[list[tuple[str, re.Pattern[str], str]]] = [*RICH_MENU_ROUTES, *MessagingApiRoutes._routes]

    def __init__(
        self,
        channel_secret: str = "standin-secret",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        access_token: str | None = None,
    ) -> None:
        self.channel_secret = channel_secret
        self.access_token = access_token  # None: any non-empty bearer token is accepted
        self.bot_user_id = "U" + hashlib.sha256(b"standin-bot:" + channel_secret.encode()).hexdigest()[:32]
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
        self._reply_tokens: dict[str, str | None] = {}  # token -> chat id; None once used
        self._retry_keys: dict[str, DeliveredRequest] = {}
        self._quota: int | None = None
        self._consumption = 0
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

    def set_quota(self, limit: int | None) -> None:
        with self._cond:
            self._quota = limit

    @property
    def consumption(self) -> int:
        with self._cond:
            return self._consumption

    @consumption.setter
    def consumption(self, value: int) -> None:
        """Set the month's usage so far (e.g. to start a test near the limit)."""
        with self._cond:
            self._consumption = value

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

    @property
    def deliveries(self) -> list[DeliveredRequest]:
        """Every accepted reply, push and multicast, in order."""
        with self._cond:
            return list(self._deliveries)

    def replies(self) -> list[dict[str, Any]]:
        return self._requests("reply")

    def pushes(self) -> list[dict[str, Any]]:
        return self._requests("push")

    def multicasts(self) -> list[dict[str, Any]]:
        return self._requests("multicast")

    def sent_messages(self, to: str | None = None) -> list[dict[str, Any]]:
        """Message objects delivered, in order; with `to`, only those that reached that chat
        (a reply reaches the chat its event came from; a group push reaches the group id)."""
        with self._cond:
            return [
                message
                for d in self._deliveries
                if to is None or to in d.recipients
                for message in d.request["messages"]
            ]

    def sent_texts(self, to: str | None = None) -> list[str]:
        """The readable text of delivered messages: `text` of text/textV2, `altText` of the rest."""
        return [m.get("text") or m.get("altText") or "" for m in self.sent_messages(to)]

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

    def _requests(self, kind: str) -> list[dict[str, Any]]:
        with self._cond:
            return [d.request for d in self._deliveries if d.kind == kind]

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

    def signature(self, body: bytes) -> str:
        digest = hmac.new(self.channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
        return base64.b64encode(digest).decode("ascii")

    def webhook_body(self, events: list[dict[str, Any]], *, destination: str | None = None) -> bytes:
        """The exact bytes LINE would POST for these events."""
        payload = {"destination": destination or self.bot_user_id, "events": events}
        return json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def deliver(
        self,
        webhook_url: str,
        events: list[dict[str, Any]],
        *,
        destination: str | None = None,
        timeout: float = 5.0,
    ) -> int:
        """POST the events, signed, to the bot's webhook; the HTTP status it answered.
        A bot that does not answer within `timeout` raises (TimeoutError or URLError)."""
        body = self.webhook_body(events, destination=destination)
        request = urllib.request.Request(
            webhook_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Line-Signature": self.signature(body),
                "User-Agent": "LineBotWebhook/2.0",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    # -- hooks for EventBuilders ----------------------------------------------------------------------

    def _issue_reply_token(self, chat_id: str) -> str:
        token = secrets.token_hex(16)
        with self._cond:
            self._reply_tokens[token] = chat_id
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
        with self._cond:
            answer = self._answer(handler.command, parts.path, parts.query, headers, body, parsed, request_id)
            self._calls.append(
                Call(
                    handler.command,
                    parts.path,
                    headers,
                    body,
                    parsed,
                    answer.status,
                    received,
                    parts.query,
                    answer.payload,
                )
            )
            pause = self._take_delay(parts.path)
            self._cond.notify_all()
        if pause:
            self._stopping.wait(pause)  # stop() cuts a long delay short
        self._send(handler, answer, request_id)

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
