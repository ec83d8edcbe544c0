"""Event dispatch: one LINE webhook event (from the journal) to the commands, evidence and membership."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ita_bot.chat.evidence import EvidenceDesk
from ita_bot.chat.journal import after_applied
from ita_bot.domain.office import Office
from ita_bot.domain.roles import managers_thai
from ita_bot.domain.text import clean_text
from ita_bot.domain.thai import BANGKOK
from ita_bot.line.client import ChatType, LineApiError, LineClient
from ita_bot.line.kit import MAX_MESSAGES, Message, text_message

if TYPE_CHECKING:
    from ita_bot.chat.commands import ChatContext

__all__ = ["KNOWN_TYPES", "EventHandler", "event_kind", "event_now", "malformed", "strip_self_mention"]

log = logging.getLogger(__name__)

NAME_TTL = 24 * 3600.0  # display names are refreshed from LINE at most once a day

JOIN_TEXT = (
    "สวัสดี ขอบคุณที่เชิญบอทติดตามมาตรการ ITA เข้ากลุ่ม\n"
    "พิมพ์ /ช่วยเหลือ เพื่อดูคำสั่งทั้งหมด\n"
    f"{managers_thai('หรือ')}พิมพ์ /ตั้งกลุ่ม เพื่อให้กลุ่มนี้เป็นกลุ่มเจ้าหน้าที่ที่รับการแจ้งเตือน"
)
FOLLOW_TEXT = (
    "สวัสดี ยินดีต้อนรับสู่บอทติดตามมาตรการ ITA\n"
    "พิมพ์ /ช่วยเหลือ เพื่อดูคำสั่งที่ใช้ได้ เช่น การรายงานความก้าวหน้า และการดูสถานะมาตรการ"
)


def event_now(event: dict[str, Any]) -> datetime:
    """The event's moment: LINE's `timestamp` (ms) in Asia/Bangkok."""
    ts = event.get("timestamp")
    if not isinstance(ts, (int, float)) or isinstance(ts, bool):
        raise ValueError("event has no timestamp")
    return datetime.fromtimestamp(ts / 1000, BANGKOK)


def strip_self_mention(message: dict[str, Any]) -> tuple[str, bool]:
    """The text without the bot's own mention(s), and whether the bot was mentioned.

    LINE gives mention offsets in UTF-16 code units, so the cut is made on the UTF-16 form.
    """
    text = str(message.get("text") or "")
    mention = message.get("mention")
    if not isinstance(mention, dict):
        mention = {}
    spans = []
    for m in mention.get("mentionees") or []:
        if isinstance(m, dict) and m.get("isSelf") is True:
            index, length = m.get("index"), m.get("length")
            if isinstance(index, int) and isinstance(length, int) and index >= 0 and length > 0:
                spans.append((index, length))
    if not spans:
        return text, False
    units = text.encode("utf-16-le", errors="surrogatepass")
    for index, length in sorted(spans, reverse=True):  # from the end, so earlier offsets stay valid
        units = units[: index * 2] + units[(index + length) * 2 :]
    return units.decode("utf-16-le", errors="ignore").strip(), True


# LINE's webhook event types (those the bot handles and those it ignores on purpose).
KNOWN_TYPES = frozenset({
    "message", "postback", "join", "leave", "follow", "unfollow", "memberJoined", "memberLeft",
    "unsend", "videoPlayComplete", "beacon", "accountLink", "things", "module", "activated",
    "deactivated", "botSuspended", "botResumed", "membership",
})
MESSAGE_TYPES = frozenset({"text", "image", "video", "audio", "file", "location", "sticker"})
_MESSAGE_ID = re.compile(r"[0-9]{1,32}")
_TS_MIN, _TS_MAX = 946_684_800_000, 4_102_444_800_000  # 2000-01-01 .. 2100-01-01 in ms


def event_kind(event: dict[str, Any]) -> str:
    """The event's type if it is one of LINE's, else "other": only known names may reach the log, since a
    signed but forged type could carry a user ID, a fake log line or kilobytes of text."""
    raw = event.get("type")
    return raw if isinstance(raw, str) and raw in KNOWN_TYPES else "other"


def malformed(event: dict[str, Any]) -> str | None:
    """Why an event is not in LINE's shape (None when it is): such events are ignored, never crash a handler.

    Only someone holding the channel secret can send these, but a bug must not turn into a traceback loop.
    """
    ts = event.get("timestamp")
    if not isinstance(ts, int) or isinstance(ts, bool) or not _TS_MIN <= ts <= _TS_MAX:
        return "timestamp"
    source = event.get("source")
    if not isinstance(source, dict) or source.get("type") not in ("user", "group", "room"):
        return "source"
    id_key = {"user": "userId", "group": "groupId", "room": "roomId"}[source["type"]]
    if not isinstance(source.get(id_key), str) or not isinstance(source.get("userId", ""), str):
        return "source ids"
    if not isinstance(event.get("replyToken", ""), str):
        return "replyToken"
    kind = event.get("type")
    if kind == "message":
        message = event.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return "message"
        if not isinstance(message.get("id"), str) or not _MESSAGE_ID.fullmatch(message["id"]):
            return "message id"  # LINE's are digits; the id names the evidence file, so nothing else may pass
        if message["type"] == "text" and not isinstance(message.get("text"), str):
            return "message text"
    elif kind == "postback":
        if not isinstance(event.get("postback"), dict):
            return "postback"
    elif kind in ("memberJoined", "memberLeft"):
        members = event.get("joined" if kind == "memberJoined" else "left")
        if not isinstance(members, dict) or not isinstance(members.get("members"), list):
            return "members"
    return None


def _is_command_text(text: str) -> bool:
    return text.lstrip().startswith(("/", "／"))


class _Names:
    """Display names per user: looked up from LINE when first needed, kept in People, refreshed daily."""

    def __init__(self, office: Office, line: LineClient) -> None:
        self.office, self.line = office, line
        self._seen: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def resolver(self, user_id: str, chat_type: ChatType, chat_id: str) -> Callable[[], str]:
        cached: list[str] = []

        def resolve() -> str:
            if not cached:
                cached.append(self.lookup(user_id, chat_type, chat_id))
            return cached[0]

        return resolve

    def lookup(self, user_id: str, chat_type: ChatType, chat_id: str) -> str:
        with self._lock:
            seen = self._seen.get(user_id)
        if seen and time.monotonic() - seen[1] < NAME_TTL:
            return seen[0]
        name: str | None = None
        try:
            if chat_type in ("group", "room"):
                name = self.line.member_name(chat_type, chat_id, user_id)
            if not name:
                name = self.line.profile(user_id)
        except LineApiError as e:
            log.warning("display name lookup failed: LINE %s", e.status)
        name = clean_text(name or "")  # display names reach the memo and pages like report text
        person = self.office.people.get(user_id)
        if name:
            if not person or person.name != name:
                self.office.people.touch(user_id, name)
            with self._lock:
                self._seen[user_id] = (name, time.monotonic())
            return name
        return person.name if person else ""


class EventHandler:
    """Turns one webhook event into domain calls and at most one reply; the journal calls it per event."""

    def __init__(self, office: Office, line: LineClient) -> None:
        self.office = office
        self.line = line
        self.names = _Names(office, line)
        self.evidence = EvidenceDesk(office, line)

    # -- entry ----------------------------------------------------------------------------------------

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event_kind(event)
        if event.get("mode") == "standby":
            # Another channel is answering this chat: recorded in the journal, nothing else.
            log.info("standby %s event ignored", kind)
            return
        handler = self._handlers().get(kind)
        if handler is None:
            log.info("%s event ignored", kind)
            return
        problem = malformed(event)
        if problem:
            log.info("malformed %s event ignored: %s", kind, problem)
            return
        # One reading of the plans per event: parsing, permission checks, the handler and its reply all ask.
        with self.office.plans.pinned():
            handler(event)

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], None]]:
        """A fixed table, so no event type can reach a helper that is not a handler."""
        return {
            "message": self.on_message, "postback": self.on_postback, "join": self.on_join,
            "leave": self.on_leave, "follow": self.on_follow, "unfollow": self.on_unfollow,
            "memberJoined": self.on_memberJoined, "memberLeft": self.on_memberLeft,
        }

    # -- helpers --------------------------------------------------------------------------------------

    @staticmethod
    def _chat(event: dict[str, Any]) -> tuple[ChatType, str, str]:
        """(chat type, chat id, user id) of the event's source; user id may be "" (e.g. join)."""
        source = event.get("source") or {}
        chat_type = str(source.get("type") or "user")
        user_id = str(source.get("userId") or "")
        if chat_type == "group":
            return "group", str(source.get("groupId") or ""), user_id
        if chat_type == "room":
            return "room", str(source.get("roomId") or ""), user_id
        return "user", user_id, user_id

    def context(self, event: dict[str, Any], *, mentioned: bool = False) -> ChatContext:
        from ita_bot.chat.commands import ChatContext  # the command layer is loaded only when events arrive
        from ita_bot.chat.richmenus import roles_changed

        chat_type, chat_id, user_id = self._chat(event)
        return ChatContext(
            office=self.office,
            user_id=user_id,
            chat_type=chat_type,
            chat_id=chat_id,
            now=event_now(event),
            display_name=self.names.resolver(user_id, chat_type, chat_id),
            event_id=event.get("webhookEventId"),
            mentioned=mentioned,
            roles_changed=roles_changed,
        )

    def reply(self, event: dict[str, Any], messages: Sequence[Message]) -> None:
        """Reply once, when the event's changes are stored (after its transaction commits: a reply never says
        "saved" of something a failed commit threw away, and no lock is held while LINE answers); a failure
        is logged (status only) — the event's effect is already stored."""
        token = event.get("replyToken")
        if not messages or not token:
            return
        if len(messages) > MAX_MESSAGES:
            log.warning("%d reply messages for one event; the first %d are sent", len(messages), MAX_MESSAGES)
            messages = messages[:MAX_MESSAGES]
        kind = event.get("type")

        def send() -> None:
            try:
                self.line.reply(token, messages)
            except LineApiError as e:
                log.warning("reply to a %s event failed: LINE %s", kind, e.status or "timeout/unreachable")

        after_applied(send)

    def reply_text(self, event: dict[str, Any], text: str) -> None:
        self.reply(event, [text_message(text)])

    # -- messages ---------------------------------------------------------------------------------------

    def on_message(self, event: dict[str, Any]) -> None:
        message = event.get("message") or {}
        kind = message.get("type")
        chat_type, _, user_id = self._chat(event)
        if not user_id:
            return  # a message without a sender (should not happen) cannot be attributed
        if kind == "text":
            self.on_text(event, message, chat_type)
        elif kind in ("image", "file"):
            self.on_evidence(event, message, chat_type)
        else:
            # A forged type could carry a newline (a fake log line) or a user ID: only LINE's names are logged.
            log.info("%s message ignored", kind if kind in MESSAGE_TYPES else "other")

    def on_text(self, event: dict[str, Any], message: dict[str, Any], chat_type: str) -> None:
        from ita_bot.chat.commands import handle_text, wants_followup

        text, mentioned = strip_self_mention(message)
        text = clean_text(text)  # after the mention cut: LINE's offsets count the text as sent
        ctx = self.context(event, mentioned=mentioned)
        if chat_type == "user" or mentioned or _is_command_text(text) or wants_followup(ctx):
            self.reply(event, handle_text(ctx, text))

    def on_postback(self, event: dict[str, Any]) -> None:
        from ita_bot.chat.commands import handle_postback

        data = (event.get("postback") or {}).get("data")
        if not isinstance(data, str) or not self._chat(event)[2]:
            return
        self.reply(event, handle_postback(self.context(event), clean_text(data)))

    # -- evidence ---------------------------------------------------------------------------------------

    def on_evidence(self, event: dict[str, Any], message: dict[str, Any], chat_type: str) -> None:
        _, chat_id, user_id = self._chat(event)
        self.evidence.receive(message, user_id=user_id, chat_id=chat_id, now=event_now(event),
                              private=chat_type == "user", reply=lambda text: self.reply_text(event, text))

    # -- membership ---------------------------------------------------------------------------------------

    def on_join(self, event: dict[str, Any]) -> None:
        log.info("joined a %s", (event.get("source") or {}).get("type"))
        self.reply_text(event, JOIN_TEXT)

    def on_leave(self, event: dict[str, Any]) -> None:
        log.info("removed from a %s", (event.get("source") or {}).get("type"))

    def on_follow(self, event: dict[str, Any]) -> None:
        log.info("followed")
        self.reply_text(event, FOLLOW_TEXT)

    def on_unfollow(self, event: dict[str, Any]) -> None:
        log.info("unfollowed")

    def _members(self, event: dict[str, Any], key: str) -> list[str]:
        block = event.get(key) or {}
        return [str(m["userId"]) for m in block.get("members") or [] if isinstance(m, dict) and m.get("userId")]

    def _set_in_group(self, event: dict[str, Any], key: str, in_group: bool) -> None:
        _, chat_id, _ = self._chat(event)
        members = self._members(event, key)
        log.info("%d member(s) %s a chat", len(members), "joined" if in_group else "left")
        if chat_id and chat_id == self.office.staff_group_id():
            for user_id in members:
                self.office.people.set_in_group(user_id, in_group)

    def on_memberJoined(self, event: dict[str, Any]) -> None:  # LINE's event type name
        self._set_in_group(event, "joined", True)

    def on_memberLeft(self, event: dict[str, Any]) -> None:
        self._set_in_group(event, "left", False)
