"""Webhook event builders of the LINE stand-in: dicts in LINE's webhook JSON shape."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["BOT_DISPLAY_NAME", "TINY_JPEG", "EventBuilders", "as_redelivery"]

BOT_DISPLAY_NAME = "ITA Bot"
_BANGKOK = ZoneInfo("Asia/Bangkok")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _tiny_jpeg() -> bytes:
    """A 1×1 mid-grey baseline JPEG (159 bytes) that real decoders accept, built by hand so
    that tests need no imaging library: one 8×8 block whose only coefficient is DC 0."""
    ones = bytes([1] + [0] * 15)  # Huffman table: a single code of length 1
    return b"".join(
        [
            bytes.fromhex("FFD8"),  # SOI
            bytes.fromhex("FFE000104A46494600010100000100010000"),  # APP0 JFIF 1.01
            bytes.fromhex("FFDB004300") + b"\x01" * 64,  # quantisation table of ones
            bytes.fromhex("FFC0000B080001000101011100"),  # SOF0: 8-bit, 1×1, one component
            bytes.fromhex("FFC4001400") + ones + b"\x00",  # DC table: category 0
            bytes.fromhex("FFC4001410") + ones + b"\x00",  # AC table: end-of-block
            bytes.fromhex("FFDA0008010100003F00"),  # SOS
            b"\x3f",  # bits "0" (DC diff 0) "0" (EOB), padded with ones
            bytes.fromhex("FFD9"),  # EOI
        ]
    )


TINY_JPEG = _tiny_jpeg()


def as_redelivery(event: dict[str, Any]) -> dict[str, Any]:
    """The same event as LINE redelivers it: same `webhookEventId`, `isRedelivery` true."""
    again = copy.deepcopy(event)
    again["deliveryContext"] = {"isRedelivery": True}
    return again


def _millis(timestamp: datetime | int | None) -> int:
    if timestamp is None:
        return int(time.time() * 1000)
    if isinstance(timestamp, datetime):
        # Product rule: a date-time without an offset is Bangkok time.
        aware = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=_BANGKOK)
        return int(aware.timestamp() * 1000)
    return int(timestamp)


def _webhook_event_id() -> str:
    """A ULID like LINE's: 48-bit milliseconds then 80 random bits, Crockford base32."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def _utf16_index(text: str, index: int) -> int:
    """LINE's mention offsets count UTF-16 code units."""
    return len(text[:index].encode("utf-16-le")) // 2


class EventBuilders:
    """Mixin for LineStandIn: builds events and changes the stand-in's world to match them
    (a follow makes a friend, a member join adds a member), as LINE would before telling the bot.

    Relies on the host class for `bot_user_id`, `add_content`, `_issue_reply_token`,
    `_next_message_id`, `_world_update`, `_display_name`.
    """

    @property
    def bot_user_id(self) -> str:
        raise NotImplementedError

    # -- message events -------------------------------------------------------------------------------

    def text_event(
        self,
        text: str,
        *,
        user_id: str,
        group_id: str | None = None,
        room_id: str | None = None,
        timestamp: datetime | int | None = None,
        mention_self: bool = False,
        mentionees: list[dict[str, Any]] | None = None,
        mode: str = "active",
        redelivery: bool = False,
    ) -> dict[str, Any]:
        """A text message event; `mention_self` puts "@ITA Bot" in the text (unless there) and
        mentions the bot with `isSelf`; a mentionee given without `index` is found as "@<display name>"
        in the text (appended when missing)."""
        found: list[dict[str, Any]] = []
        if mention_self:
            label = "@" + BOT_DISPLAY_NAME
            if label not in text:
                text = f"{label} {text}"
            found.append(
                {
                    "index": _utf16_index(text, text.index(label)),
                    "length": len(label),
                    "type": "user",
                    "userId": self.bot_user_id,
                    "isSelf": True,
                }
            )
        for given in mentionees or []:
            mentionee = {"type": "user", **given}
            if "index" not in mentionee and mentionee.get("userId"):
                label = "@" + self._display_name(mentionee["userId"])
                if label not in text:
                    text = f"{text} {label}"
                mentionee["index"] = _utf16_index(text, text.index(label))
                mentionee["length"] = len(label.encode("utf-16-le")) // 2
            found.append(mentionee)
        message: dict[str, Any] = {
            "id": self._next_message_id(),
            "type": "text",
            "text": text,
            "quoteToken": secrets.token_urlsafe(24),
        }
        if found:
            message["mention"] = {"mentionees": sorted(found, key=lambda m: m["index"])}
        return self._message_event(message, user_id, group_id, room_id, timestamp, mode, redelivery)

    def image_event(
        self,
        *,
        user_id: str,
        group_id: str | None = None,
        room_id: str | None = None,
        timestamp: datetime | int | None = None,
        mode: str = "active",
        redelivery: bool = False,
        data: bytes = TINY_JPEG,
        image_set: tuple[str, int, int] | None = None,
        content_type: str = "image/jpeg",
    ) -> dict[str, Any]:
        """An image message event; its bytes become downloadable at the content path.
        `image_set` is (set id, index from 1, total) for images sent together."""
        message: dict[str, Any] = {
            "id": self._next_message_id(),
            "type": "image",
            "contentProvider": {"type": "line"},
            "quoteToken": secrets.token_urlsafe(24),
        }
        if image_set is not None:
            set_id, index, total = image_set
            message["imageSet"] = {"id": set_id, "index": index, "total": total}
        self.add_content(message["id"], data, content_type)
        return self._message_event(message, user_id, group_id, room_id, timestamp, mode, redelivery)

    def file_event(
        self,
        *,
        user_id: str,
        file_name: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        group_id: str | None = None,
        room_id: str | None = None,
        timestamp: datetime | int | None = None,
        mode: str = "active",
        redelivery: bool = False,
    ) -> dict[str, Any]:
        """A file message event (PDF, Word, Excel…); its bytes become downloadable."""
        message_id = self._next_message_id()
        message = {"id": message_id, "type": "file", "fileName": file_name, "fileSize": len(data)}
        self.add_content(message_id, data, content_type)
        return self._message_event(message, user_id, group_id, room_id, timestamp, mode, redelivery)

    def postback_event(
        self,
        data: str,
        *,
        user_id: str,
        group_id: str | None = None,
        room_id: str | None = None,
        timestamp: datetime | int | None = None,
        params: dict[str, str] | None = None,
        mode: str = "active",
        redelivery: bool = False,
    ) -> dict[str, Any]:
        """A postback event, as a button with a postback action sends it."""
        postback: dict[str, Any] = {"data": data}
        if params:
            postback["params"] = params
        source, chat_id = self._source(user_id, group_id, room_id)
        return self._event("postback", source, chat_id, timestamp, mode, redelivery, postback=postback)

    # -- membership events ----------------------------------------------------------------------------

    def join_event(
        self, *, group_id: str | None = None, room_id: str | None = None, timestamp: datetime | int | None = None
    ) -> dict[str, Any]:
        """The bot joined a group or room (which must have been added)."""
        chat_id = self._chat(group_id, room_id)
        self._world_update("join", chat_id)
        return self._event("join", self._chat_source(group_id, room_id), chat_id, timestamp)

    def leave_event(
        self, *, group_id: str | None = None, room_id: str | None = None, timestamp: datetime | int | None = None
    ) -> dict[str, Any]:
        """The bot was removed from a group or room; pushes there fail from now on."""
        chat_id = self._chat(group_id, room_id)
        self._world_update("leave", chat_id)
        return self._event("leave", self._chat_source(group_id, room_id), None, timestamp)

    def follow_event(
        self, user_id: str, *, unblocked: bool = False, timestamp: datetime | int | None = None
    ) -> dict[str, Any]:
        """A known user added the bot as a friend (or unblocked it); they become a friend."""
        self._world_update("follow", user_id)
        source = {"type": "user", "userId": user_id}
        return self._event("follow", source, user_id, timestamp, follow={"isUnblocked": unblocked})

    def unfollow_event(self, user_id: str, *, timestamp: datetime | int | None = None) -> dict[str, Any]:
        """A user blocked the bot; profile lookups and pushes to them fail from now on."""
        self._world_update("unfollow", user_id)
        return self._event("unfollow", {"type": "user", "userId": user_id}, None, timestamp)

    def member_joined_event(
        self, group_id: str, user_ids: Iterable[str], *, timestamp: datetime | int | None = None
    ) -> dict[str, Any]:
        """Known users joined a group or room (`group_id` may be a room id); they become members."""
        user_ids = list(user_ids)
        self._world_update("members_joined", group_id, user_ids)
        source = self._chat_source(*self._group_or_room(group_id))
        members = [{"type": "user", "userId": u} for u in user_ids]
        return self._event("memberJoined", source, group_id, timestamp, joined={"members": members})

    def member_left_event(
        self, group_id: str, user_ids: Iterable[str], *, timestamp: datetime | int | None = None
    ) -> dict[str, Any]:
        """Users left a group or room; they stop being members."""
        user_ids = list(user_ids)
        self._world_update("members_left", group_id, user_ids)
        source = self._chat_source(*self._group_or_room(group_id))
        members = [{"type": "user", "userId": u} for u in user_ids]
        return self._event("memberLeft", source, None, timestamp, left={"members": members})

    # -- helpers --------------------------------------------------------------------------------------

    def _message_event(
        self,
        message: dict[str, Any],
        user_id: str,
        group_id: str | None,
        room_id: str | None,
        timestamp: datetime | int | None,
        mode: str,
        redelivery: bool,
    ) -> dict[str, Any]:
        source, chat_id = self._source(user_id, group_id, room_id)
        return self._event("message", source, chat_id, timestamp, mode, redelivery, message=message)

    def _event(
        self,
        event_type: str,
        source: dict[str, Any],
        reply_chat: str | None,
        timestamp: datetime | int | None,
        mode: str = "active",
        redelivery: bool = False,
        **fields: Any,
    ) -> dict[str, Any]:
        if mode not in ("active", "standby"):
            raise ValueError(f"mode must be 'active' or 'standby', not {mode!r}")
        event: dict[str, Any] = {"type": event_type}
        # LINE gives no reply token in standby mode (another channel is answering).
        if reply_chat is not None and mode == "active":
            event["replyToken"] = self._issue_reply_token(reply_chat)
        event.update(
            {
                "source": source,
                "timestamp": _millis(timestamp),
                "mode": mode,
                "webhookEventId": _webhook_event_id(),
                "deliveryContext": {"isRedelivery": redelivery},
                **fields,
            }
        )
        return event

    @staticmethod
    def _source(user_id: str, group_id: str | None, room_id: str | None) -> tuple[dict[str, Any], str]:
        if group_id and room_id:
            raise ValueError("give group_id or room_id, not both")
        if group_id:
            return {"type": "group", "groupId": group_id, "userId": user_id}, group_id
        if room_id:
            return {"type": "room", "roomId": room_id, "userId": user_id}, room_id
        return {"type": "user", "userId": user_id}, user_id

    @staticmethod
    def _chat(group_id: str | None, room_id: str | None) -> str:
        if bool(group_id) == bool(room_id):
            raise ValueError("give exactly one of group_id and room_id")
        return group_id or room_id  # type: ignore[return-value]

    @staticmethod
    def _chat_source(group_id: str | None, room_id: str | None) -> dict[str, Any]:
        if group_id:
            return {"type": "group", "groupId": group_id}
        return {"type": "room", "roomId": room_id}

    # Provided by LineStandIn.
    def add_content(self, message_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        raise NotImplementedError

    def _issue_reply_token(self, chat_id: str) -> str:
        raise NotImplementedError

    def _next_message_id(self) -> str:
        raise NotImplementedError

    def _world_update(self, change: str, chat_or_user: str, user_ids: list[str] | None = None) -> None:
        raise NotImplementedError

    def _display_name(self, user_id: str) -> str:
        raise NotImplementedError

    def _group_or_room(self, chat_id: str) -> tuple[str | None, str | None]:
        raise NotImplementedError
