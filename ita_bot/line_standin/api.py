"""The Messaging API endpoints of the LINE stand-in: routing, sending rules and read-only lookups."""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qs

from ita_bot.line_standin.validation import Problem, check_loading_request, check_send_request, error_body

__all__ = [
    "BODY_CHECKS",
    "Answer",
    "Channel",
    "ChannelState",
    "Chat",
    "DeliveredRequest",
    "Fault",
    "MessagingApiRoutes",
    "Routed",
    "User",
]

_MEMBER_IDS_PAGE = 100
_MSG_UNAUTHORISED = "Authentication failed. Confirm that the access token in the authorization header is valid."
_MSG_RETRY_ACCEPTED = "The retry key is already accepted"
_MSG_QUOTA = "You have reached your monthly limit."
_MSG_INVALID_TO = "The property, 'to', in the request body is invalid (line: -, column: -)"
# LINE's answer when the user exists but has not added the bot as a friend (or blocked it).
_MSG_NOT_FRIEND = "Failed to send messages"
_DEFAULT_FAULT_MESSAGES = {
    429: "Too Many Requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


@dataclass(frozen=True)
class DeliveredRequest:
    """One accepted reply, push or multicast and the chats that received it."""

    kind: str  # "reply" | "push" | "multicast"
    recipients: tuple[str, ...]  # user, group or room ids that received the messages
    request: dict[str, Any]
    sent_messages: tuple[dict[str, str], ...]
    request_id: str
    retry_key: str | None
    at: float
    channel_id: str | None = None  # the channel whose token sent it


@dataclass(frozen=True)
class Channel:
    """One Messaging API channel's credentials and bot profile, as the LINE Developers console shows them."""

    channel_id: str  # numeric string, e.g. "2001234567"
    channel_secret: str
    access_token: str | None  # long-lived; None only for a default channel built without one (any token goes)
    bot_user_id: str  # "U" + 32 hex digits: the webhook's `destination`
    name: str  # the bot's display name
    basic_id: str  # "@123abcde"
    picture_url: str | None = None


@dataclass
class ChannelState:
    """What the stand-in keeps per channel besides its credentials."""

    channel: Channel
    token_revoked: bool = False
    webhook_endpoint: str = ""
    quota: int | None = None
    consumption: int = 0
    old_tokens: set[str] = field(default_factory=set)  # reissued or revoked long-lived tokens


@dataclass
class User:
    """A LINE user the stand-in knows; only friends can be pushed to or looked up."""

    display_name: str
    friend: bool
    picture_url: str | None


@dataclass
class Chat:
    """A group or a room; the bot is in it unless a leave event said otherwise."""

    name: str | None
    member_ids: list[str]
    joined: bool = True


@dataclass
class Fault:
    """An injected failure for the next `remaining` requests under `prefix`."""

    prefix: str
    status: int
    remaining: int
    body: dict[str, Any] | None
    headers: dict[str, str] | None


@dataclass
class Answer:
    """What to send back: a status with a JSON payload or raw bytes."""

    status: int
    payload: Any = None  # JSON-serialisable, or None when `data` is set
    data: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    # Work to do once the state lock is released (a webhook test POSTs to the bot); its Answer is sent instead.
    later: Callable[[], Answer] | None = None


@dataclass(frozen=True)
class Routed:
    """A request matched to its route, its body checked: the work that needs no world state, done
    before the state lock is taken so that the SDK's models never hold up other requests."""

    name: str | None  # the route's method name; None: no route takes this method and path
    params: dict[str, str] = field(default_factory=dict)  # the path's named parts
    problems: list[Problem] | None = None  # the body's problems; None when the route has no body check


class MessagingApiRoutes:
    """Mixin for LineStandIn: answers one request against the world state. `_answer` is called with
    the state lock held, on a request `_route` matched and checked before; the host class owns the
    attributes annotated here."""

    _current: ChannelState | None  # the channel the request being answered authenticated as
    _users: dict[str, User]
    _chats: dict[str, Chat]
    _rooms: set[str]
    _content: dict[str, tuple[bytes, str]]
    _reply_tokens: dict[str, tuple[str, str | None] | None]  # token -> (chat id, channel id once delivered)
    _retry_keys: dict[str, DeliveredRequest]
    _deliveries: list[DeliveredRequest]
    _faults: list[Fault]
    _routes: ClassVar[list[tuple[str, re.Pattern[str], str]]]  # set below; a host class may add its own in front
    _open_paths: ClassVar[frozenset[str]] = frozenset()  # paths answered without a bearer token
    # Body checks by route: a pure function of the body, run once per request by `_route`, outside the
    # lock; the route gets the result as `problems`.
    _body_checks: ClassVar[dict[str, Callable[[Any], list[Problem]]]]  # set below

    def _next_message_id(self) -> str:
        raise NotImplementedError

    def _channel_of_token(self, authorization: str) -> ChannelState | None:
        raise NotImplementedError

    @classmethod
    def _route(cls, method: str, path: str, body: Any) -> Routed:
        """The route of a request and its body's problems; reads no world state, so no lock is needed."""
        for route_method, pattern, name in cls._routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                check = cls._body_checks.get(name)
                return Routed(name, match.groupdict(), None if check is None else check(body))
        return Routed(None)

    def _answer(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        raw: bytes,
        body: Any,
        request_id: str,
        routed: Routed,
    ) -> Answer:
        self._current = None
        if path not in self._open_paths:
            self._current = self._channel_of_token(headers.get("authorization", ""))
            if self._current is None:
                return Answer(401, {"message": _MSG_UNAUTHORISED})
        for fault in self._faults:
            if fault.remaining > 0 and path.startswith(fault.prefix):
                fault.remaining -= 1
                message = _DEFAULT_FAULT_MESSAGES.get(fault.status, "Injected fault")
                return Answer(fault.status, fault.body or {"message": message}, headers=dict(fault.headers or {}))
        if routed.name is None:
            return _not_found()
        content_type = headers.get("content-type", "")
        if method in ("POST", "PUT") and raw and body is None and "image/" not in content_type \
                and "x-www-form-urlencoded" not in content_type:
            return Answer(400, error_body([Problem("", "The request body is not valid JSON")]))
        route = getattr(self, routed.name)
        return route(
            body=body, headers=headers, raw=raw, query=parse_qs(query), request_id=request_id,
            problems=routed.problems, **routed.params,
        )

    # -- sending --------------------------------------------------------------------------------------

    def _route_reply(self, *, body: Any, problems: list[Problem], request_id: str, **_: Any) -> Answer:
        if problems:
            return Answer(400, error_body(problems))
        token = body["replyToken"]
        issued = self._reply_tokens.get(token)
        # Never issued, used already (a reply token is good once), or delivered to another channel's bot.
        if issued is None or issued[1] not in (None, self._state().channel.channel_id):
            return Answer(400, {"message": "Invalid reply token"})
        chat_id = issued[0]
        self._reply_tokens[token] = None
        return self._accept("reply", body, (chat_id,), 0, request_id, None)

    def _checked_send(self, problems: list[Problem], headers: dict[str, str]) -> tuple[str | None, Answer | None]:
        """A push or multicast's body problems, then its retry key (LINE checks the body first)."""
        if problems:
            return None, Answer(400, error_body(problems))
        return self._check_retry_key(headers)

    def _route_push(
        self, *, body: Any, problems: list[Problem], headers: dict[str, str], request_id: str, **_: Any
    ) -> Answer:
        key, answer = self._checked_send(problems, headers)
        if answer:
            return answer
        to = body["to"]
        if to in self._users:
            if not self._users[to].friend:
                return Answer(400, {"message": _MSG_NOT_FRIEND})
            recipients, cost = (to,), 1
        elif to in self._chats and self._chats[to].joined:
            recipients, cost = (to,), len(self._chats[to].member_ids)
        else:
            return Answer(400, {"message": _MSG_INVALID_TO})
        return self._accept("push", body, recipients, cost, request_id, key)

    def _route_multicast(
        self, *, body: Any, problems: list[Problem], headers: dict[str, str], request_id: str, **_: Any
    ) -> Answer:
        key, answer = self._checked_send(problems, headers)
        if answer:
            return answer
        to = body["to"]
        bad = [Problem(f"to[{i}]", "Must be a user ID") for i, t in enumerate(to) if t in self._chats]
        if bad:
            return Answer(400, error_body(bad))
        # Like LINE, unknown users and non-friends are skipped silently (but still counted).
        recipients = tuple(t for t in to if t in self._users and self._users[t].friend)
        return self._accept("multicast", body, recipients, len(to), request_id, key)

    def _check_retry_key(self, headers: dict[str, str]) -> tuple[str | None, Answer | None]:
        key = headers.get("x-line-retry-key")
        if key is None:
            return None, None
        try:
            key = str(uuid.UUID(key))
        except ValueError:
            return None, Answer(400, {"message": "The value of the X-Line-Retry-Key header is invalid"})
        earlier = self._retry_keys.get(key)
        if earlier is not None:
            return key, Answer(
                409,
                {"message": _MSG_RETRY_ACCEPTED, "sentMessages": list(earlier.sent_messages)},
                headers={"x-line-accepted-request-id": earlier.request_id},
            )
        return key, None

    def _accept(
        self,
        kind: str,
        body: dict[str, Any],
        recipients: tuple[str, ...],
        cost: int,
        request_id: str,
        retry_key: str | None,
    ) -> Answer:
        state = self._state()
        if cost and state.quota is not None and state.consumption + cost > state.quota:
            return Answer(429, {"message": _MSG_QUOTA})
        state.consumption += cost
        sent = tuple({"id": self._next_message_id(), "quoteToken": secrets.token_urlsafe(24)} for _ in body["messages"])
        delivery = DeliveredRequest(
            kind, recipients, body, sent, request_id, retry_key, time.time(), state.channel.channel_id
        )
        self._deliveries.append(delivery)
        if retry_key is not None:
            self._retry_keys[retry_key] = delivery
        return Answer(200, {"sentMessages": list(sent)})

    # -- reading --------------------------------------------------------------------------------------

    def _route_quota(self, **_: Any) -> Answer:
        quota = self._state().quota
        if quota is None:
            return Answer(200, {"type": "none"})
        return Answer(200, {"type": "limited", "value": quota})

    def _route_consumption(self, **_: Any) -> Answer:
        return Answer(200, {"totalUsage": self._state().consumption})

    def _route_content(self, *, message_id: str, **_: Any) -> Answer:
        if message_id not in self._content:
            return _not_found()
        data, content_type = self._content[message_id]
        return Answer(200, data=data, content_type=content_type)

    def _route_transcoding(self, *, message_id: str, **_: Any) -> Answer:
        if message_id not in self._content:
            return _not_found()
        return Answer(200, {"status": "succeeded"})

    def _route_profile(self, *, user_id: str, **_: Any) -> Answer:
        user = self._users.get(user_id)
        if user is None or not user.friend:
            return _not_found()
        return Answer(200, {**self._profile(user_id, user), "language": "th"})

    def _route_member_profile(self, *, kind: str, chat_id: str, user_id: str, **_: Any) -> Answer:
        chat = self._joined(kind, chat_id)
        if chat is None or user_id not in chat.member_ids:
            return _not_found()
        return Answer(200, self._profile(user_id, self._users[user_id]))

    def _route_summary(self, *, kind: str, chat_id: str, **_: Any) -> Answer:
        chat = self._joined(kind, chat_id)
        if chat is None:
            return _not_found()
        return Answer(200, {"groupId": chat_id, "groupName": chat.name})

    def _route_count(self, *, kind: str, chat_id: str, **_: Any) -> Answer:
        chat = self._joined(kind, chat_id)
        if chat is None:
            return _not_found()
        return Answer(200, {"count": len(chat.member_ids)})

    def _route_member_ids(self, *, kind: str, chat_id: str, query: dict[str, list[str]], **_: Any) -> Answer:
        chat = self._joined(kind, chat_id)
        if chat is None:
            return _not_found()
        start = query.get("start", ["0"])[0]
        if not start.isdecimal():
            return Answer(400, {"message": "Invalid start"})
        begin = int(start)
        page: dict[str, Any] = {"memberIds": chat.member_ids[begin : begin + _MEMBER_IDS_PAGE]}
        if begin + _MEMBER_IDS_PAGE < len(chat.member_ids):
            page["next"] = str(begin + _MEMBER_IDS_PAGE)
        return Answer(200, page)

    def _route_leave(self, *, kind: str, chat_id: str, **_: Any) -> Answer:
        chat = self._joined(kind, chat_id)
        if chat is None:
            return _not_found()
        chat.joined = False
        return Answer(200, {})

    def _route_loading(self, *, body: Any, problems: list[Problem], **_: Any) -> Answer:
        if problems:
            return Answer(400, error_body(problems))
        user = self._users.get(body["chatId"])
        if user is None or not user.friend:  # only 1:1 chats with a friend show the indicator
            return Answer(400, {"message": "Invalid chatId"})
        return Answer(202, {})

    def _joined(self, kind: str, chat_id: str) -> Chat | None:
        """The group or room the path names, if it is of that kind and the bot is in it."""
        chat = self._chats.get(chat_id)
        if chat is None or not chat.joined or (chat_id in self._rooms) != (kind == "room"):
            return None
        return chat

    def _state(self) -> ChannelState:
        if self._current is None:
            raise RuntimeError("a Messaging API route ran without an authenticated channel")
        return self._current

    @staticmethod
    def _profile(user_id: str, user: User) -> dict[str, Any]:
        profile = {"userId": user_id, "displayName": user.display_name}
        if user.picture_url:
            profile["pictureUrl"] = user.picture_url
        return profile


def _not_found() -> Answer:
    return Answer(404, {"message": "Not found"})


_ID = r"[^/]+"
_CHAT = rf"(?P<kind>group|room)/(?P<chat_id>{_ID})"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(pattern), name)
    for method, pattern, name in [
        ("POST", r"/v2/bot/message/reply", "_route_reply"),
        ("POST", r"/v2/bot/message/push", "_route_push"),
        ("POST", r"/v2/bot/message/multicast", "_route_multicast"),
        ("GET", r"/v2/bot/message/quota", "_route_quota"),
        ("GET", r"/v2/bot/message/quota/consumption", "_route_consumption"),
        ("GET", rf"/v2/bot/message/(?P<message_id>{_ID})/content", "_route_content"),
        ("GET", rf"/v2/bot/message/(?P<message_id>{_ID})/content/transcoding", "_route_transcoding"),
        ("GET", rf"/v2/bot/profile/(?P<user_id>{_ID})", "_route_profile"),
        ("GET", rf"/v2/bot/{_CHAT}/member/(?P<user_id>{_ID})", "_route_member_profile"),
        ("GET", rf"/v2/bot/(?P<kind>group)/(?P<chat_id>{_ID})/summary", "_route_summary"),
        ("GET", rf"/v2/bot/{_CHAT}/members/count", "_route_count"),
        ("GET", rf"/v2/bot/{_CHAT}/members/ids", "_route_member_ids"),
        ("POST", rf"/v2/bot/{_CHAT}/leave", "_route_leave"),
        ("POST", r"/v2/bot/chat/loading/start", "_route_loading"),
    ]
]
MessagingApiRoutes._routes = _ROUTES
# Looked up by name when called, so each check is this module's current function (a test may wrap one).
BODY_CHECKS: dict[str, Callable[[Any], list[Problem]]] = {
    "_route_reply": lambda body: check_send_request("reply", body),
    "_route_push": lambda body: check_send_request("push", body),
    "_route_multicast": lambda body: check_send_request("multicast", body),
    "_route_loading": lambda body: check_loading_request(body),
}
MessagingApiRoutes._body_checks = BODY_CHECKS
