"""The LINE message kit: the `Message` type, LINE's limits in one place, and builders that keep within them.

Every reply and push is built with this kit, as plain JSON data in the Messaging API's shape. Lengths
are counted as LINE counts them (UTF-16 code units: an emoji outside the BMP counts 2) and sizes as
the UTF-8 bytes of compact JSON.

Public API (what new commands and messages use):

- ``Message`` — a message object (``{"type": "text", "text": ...}``), a plain ``dict``; ``Component`` — a
  Flex component (text, box, bubble, carousel), also a plain ``dict``.
- Limits: ``MAX_MESSAGES`` (5 a reply or push request), ``MAX_TEXT`` (5,000 a text), ``MAX_ALT_TEXT``
  (1,500), ``MAX_BUBBLE_BYTES`` (30 KB), ``MAX_CAROUSEL_BYTES`` (50 KB), ``MAX_CAROUSEL_BUBBLES`` (12),
  ``MAX_QUICK_REPLY_ITEMS`` (13), ``MAX_LABEL`` (20), ``MAX_DISPLAY_TEXT`` (300), ``MAX_MENTIONS`` (20);
  ``BUBBLE_BUDGET`` and ``CAROUSEL_BUDGET`` are the sizes builders aim for (headroom under LINE's).
- Measuring and cutting: ``line_length(text)``, ``size(node)``, ``clip(text, limit)``, ``alt(text)``,
  ``split_text(text)``.
- Text: ``text_message(text, quick)``, ``text_messages(text, buttons)`` (split at line breaks, quick-reply
  ``Button``s on the last part), ``quick_reply(buttons)``, ``fit_reply(messages, more)`` (at most 5).
- Flex: components ``text(...)``, ``box(...)``, ``separator()``; ``bubble(title, subtitle, rows, footer)``
  (the bot's titled bubble), ``paged_bubbles(...)`` (rows over as many bubbles as the size allows),
  ``flex_message(alt_text, contents)`` (one message) and ``flex_messages(alt_text, bubbles)`` (bubbles
  packed into carousels of ≤12 and ≤ the carousel budget).

Messages are built and posted as plain data: validating them through line-bot-sdk's pydantic models
cost more CPU than everything else in a reply. Their structure is checked by the tests (against the
SDK's own models) and by the LINE stand-in, which refuses a malformed body as LINE would.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

__all__ = [
    "BUBBLE_BUDGET",
    "CAROUSEL_BUDGET",
    "MAX_ALT_TEXT",
    "MAX_BUBBLE_BYTES",
    "MAX_CAROUSEL_BUBBLES",
    "MAX_CAROUSEL_BYTES",
    "MAX_DISPLAY_TEXT",
    "MAX_LABEL",
    "MAX_MENTIONS",
    "MAX_MESSAGES",
    "MAX_QUICK_REPLY_ITEMS",
    "MAX_TEXT",
    "MEASURE_TITLE_CHARS",
    "Button",
    "Component",
    "Message",
    "alt",
    "box",
    "bubble",
    "clip",
    "fit_reply",
    "flex_message",
    "flex_messages",
    "line_length",
    "paged_bubbles",
    "quick_reply",
    "separator",
    "size",
    "split_text",
    "text",
    "text_message",
    "text_messages",
]

Message: TypeAlias = dict[str, Any]
"""A LINE message object in the Messaging API's JSON shape (``{"type": "text", "text": ...}``)."""

Component: TypeAlias = dict[str, Any]
"""A Flex component (text, box, bubble, carousel) as LINE takes it."""

# LINE's documented limits (Messaging API reference). Bubble sizes are taken as 1000-byte KB,
# the stricter reading, so what fits here fits LINE under either reading.
MAX_MESSAGES = 5  # messages in one reply or push request
MAX_TEXT = 5000  # a text message's text
MEASURE_TITLE_CHARS = 160  # a measure's title under a bubble's heading: three short lines on a phone
MAX_ALT_TEXT = 1500  # a Flex message's altText
MAX_BUBBLE_BYTES = 30_000
MAX_CAROUSEL_BYTES = 50_000
MAX_CAROUSEL_BUBBLES = 12
MAX_QUICK_REPLY_ITEMS = 13
MAX_LABEL = 20  # a quick-reply (or button) label
MAX_DISPLAY_TEXT = 300  # a postback's displayText
MAX_MENTIONS = 20  # mentions in one textV2 message
# Headroom: LINE measures its own serialization of what we send, which may differ from ours by a few bytes.
BUBBLE_BUDGET = MAX_BUBBLE_BYTES - 2_000
CAROUSEL_BUDGET = MAX_CAROUSEL_BYTES - 3_000


# --- measuring and cutting ----------------------------------------------------------------------


def line_length(value: str) -> int:
    """Length as LINE counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(value.encode("utf-16-le")) // 2


def size(node: Any) -> int:
    """Bytes of a message or component as compact UTF-8 JSON (how LINE sizes bubbles and carousels)."""
    return len(json.dumps(node, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def clip(value: str, limit: int, ellipsis: str = "…") -> str:
    """Text cut to at most `limit` LINE characters, marked with an ellipsis when cut."""
    # A character is 1 or 2 UTF-16 units, so twice the length bounds it: most texts need no encoding at all.
    if 2 * len(value) <= limit or line_length(value) <= limit:
        return value
    used = line_length(ellipsis)
    end = 0
    for ch in value:
        n = 2 if ord(ch) > 0xFFFF else 1  # outside the BMP: a surrogate pair
        if used + n > limit:
            break
        end += 1
        used += n
    return value[:end].rstrip() + ellipsis


def alt(value: str) -> str:
    """A Flex message's `altText`: never blank, at most 1,500 LINE characters."""
    return clip(value.strip() or "-", MAX_ALT_TEXT)


def split_text(value: str, limit: int = MAX_TEXT) -> list[str]:
    """Split at line breaks (else anywhere) so that each part is at most `limit` LINE characters."""
    parts: list[str] = []
    current = ""
    for line in value.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if line_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        # A single line longer than the limit is cut into pieces.
        while line_length(line) > limit:
            piece = clip(line, limit, "")
            parts.append(piece)
            line = line[len(piece):]
        current = line
    if current.strip():
        parts.append(current)
    return parts or ["-"]


# --- quick replies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """A quick-reply button that sends a postback; `shown` is what appears in the chat as the user's line."""

    label: str
    data: str
    shown: str | None = None


def quick_reply(buttons: Sequence[Button]) -> dict[str, Any] | None:
    """A `quickReply` object: up to 13 postback buttons, labels cut to 20 characters (LINE refuses longer ones)."""
    items = [
        {
            "type": "action",
            "action": {
                "type": "postback",
                "label": clip(b.label, MAX_LABEL, ""),
                "data": b.data,
                "displayText": clip(b.shown or b.label, MAX_DISPLAY_TEXT),
            },
        }
        for b in buttons[:MAX_QUICK_REPLY_ITEMS]
    ]
    return {"items": items} if items else None


# --- text messages ------------------------------------------------------------------------------


def text_message(value: str, quick: dict[str, Any] | None = None) -> Message:
    """One text message as is (the caller keeps it within 5,000 characters), with an optional `quickReply`."""
    message: Message = {"type": "text", "text": value}
    if quick:
        message["quickReply"] = quick
    return message


def text_messages(value: str, buttons: Sequence[Button] = ()) -> list[Message]:
    """A text reply, split into ≤5,000-character messages; quick-reply buttons go on the last one."""
    parts = split_text(value.strip() or "-")
    messages = [text_message(p) for p in parts[:-1]]
    messages.append(text_message(parts[-1], quick_reply(buttons)))
    return messages


def fit_reply(messages: list[Message], more: str | None = None) -> list[Message]:
    """At most 5 messages: when there are more, the fifth says where the rest is (a link or a command)."""
    if len(messages) <= MAX_MESSAGES:
        return messages
    tail = more or "ยังมีข้อมูลอีก แต่ LINE ส่งได้ครั้งละ 5 ข้อความ กรุณาดูฉบับเต็มในหน้ารายงาน"
    return [*messages[: MAX_MESSAGES - 1], text_message(clip(tail, MAX_TEXT))]


# --- Flex components (as dicts, exactly as LINE takes them) ---------------------------------------


def text(value: str, **style: Any) -> Component:
    """A Flex text component; LINE refuses empty text, so an empty value shows a dash."""
    # One text holds at most what a person can send in one message (5,000), ~15 KB: a bubble still fits it.
    return {"type": "text", "text": clip(value or "-", MAX_TEXT), "wrap": True, **style}


def box(contents: list[Component], layout: str = "vertical", **style: Any) -> Component:
    """A Flex box; LINE refuses an empty one, so no contents show a dash."""
    return {"type": "box", "layout": layout, "contents": contents or [text("-")], **style}


def separator() -> Component:
    return {"type": "separator", "margin": "md"}


def bubble(title: str, subtitle: str | None, rows: list[Component], footer: str | None = None) -> Component:
    """The bot's titled bubble: a bold title, an optional grey subtitle, the rows, an optional small footer."""
    header = [text(title, weight="bold", size="md", color="#1F3A60")]
    if subtitle:
        header.append(text(subtitle, size="xs", color="#666666"))
    out: Component = {
        "type": "bubble",
        "size": "mega",
        "header": box(header, paddingBottom="sm"),
        "body": box(rows, spacing="sm"),
    }
    if footer:
        out["footer"] = box([text(footer, size="xxs", color="#888888")])
    return out


def paged_bubbles(
    title: str,
    subtitle: str | None,
    rows: list[Component],
    footer: str | None = None,
    digits: Callable[[str], str] = str,
) -> list[Component]:
    """Rows spread over as many bubbles as needed to keep each under LINE's 30 KB; pages titled "(1/3)"."""
    pages: list[list[Component]] = [[]]
    for row in rows:
        trial = bubble(title, subtitle, [*pages[-1], row], footer)
        if pages[-1] and size(trial) > BUBBLE_BUDGET:
            pages.append([row])
        else:
            pages[-1].append(row)
    if len(pages) == 1:
        return [bubble(title, subtitle, pages[0], footer)]
    total = len(pages)
    return [bubble(f"{title} ({digits(f'{i}/{total}')})", subtitle, page, footer) for i, page in enumerate(pages, 1)]


# --- Flex messages ------------------------------------------------------------------------------


def flex_message(alt_text: str, contents: Component) -> Message:
    """One Flex message (a bubble or a carousel the caller kept within LINE's limits)."""
    return {"type": "flex", "altText": alt(alt_text), "contents": contents}


def flex_messages(alt_text: str, bubbles: Iterable[Component]) -> list[Message]:
    """Bubbles packed into Flex messages: a bubble alone, or carousels of ≤12 and ≤ the carousel budget.

    Every message carries the same plain `altText` (what notifications and old clients show),
    cut to 1,500 characters.
    """
    groups: list[list[Component]] = []
    used = 0
    for b in bubbles:
        n = size(b)
        if groups and len(groups[-1]) < MAX_CAROUSEL_BUBBLES and used + n < CAROUSEL_BUDGET:
            groups[-1].append(b)
            used += n + 1
        else:
            groups.append([b])
            used = n
    return [
        flex_message(alt_text, group[0] if len(group) == 1 else {"type": "carousel", "contents": group})
        for group in groups
    ]
