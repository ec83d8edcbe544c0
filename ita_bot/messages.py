"""Pure message builders: domain data → line-bot-sdk v3 messages, split to fit LINE's documented limits."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from linebot.v3.messaging import (
    FlexContainer,
    FlexMessage,
    Message,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    TextMessage,
)

__all__ = [
    "MAX_ALT_TEXT",
    "MAX_BUBBLE_BYTES",
    "MAX_CAROUSEL_BUBBLES",
    "MAX_LABEL",
    "MAX_MESSAGES",
    "MAX_QUICK_REPLY_ITEMS",
    "MAX_TEXT",
    "Button",
    "clip",
    "fit_reply",
    "flex_messages",
    "line_length",
    "quick_reply",
    "text_messages",
]

# LINE's documented limits (Messaging API reference). Bubble sizes are taken as 1000-byte KB,
# the stricter reading, so what fits here fits LINE under either reading.
MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_ALT_TEXT = 1500
MAX_BUBBLE_BYTES = 30_000
MAX_CAROUSEL_BYTES = 50_000
MAX_CAROUSEL_BUBBLES = 12
MAX_QUICK_REPLY_ITEMS = 13
MAX_LABEL = 20
# Headroom for the few bytes the SDK's serialization may add (key order, escapes) over ours.
_BUBBLE_BUDGET = MAX_BUBBLE_BYTES - 2_000
_CAROUSEL_BUDGET = MAX_CAROUSEL_BYTES - 3_000


def line_length(text: str) -> int:
    """Length as LINE counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def clip(text: str, limit: int, ellipsis: str = "…") -> str:
    """Text cut to at most `limit` LINE characters, marked with an ellipsis when cut."""
    if line_length(text) <= limit:
        return text
    out = []
    used = line_length(ellipsis)
    for ch in text:
        n = line_length(ch)
        if used + n > limit:
            break
        out.append(ch)
        used += n
    return "".join(out).rstrip() + ellipsis


# --- quick replies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """A quick-reply button that sends a postback; `shown` is what appears in the chat as the user's line."""

    label: str
    data: str
    shown: str | None = None


def quick_reply(buttons: Sequence[Button]) -> QuickReply | None:
    """Up to 13 postback buttons with labels cut to 20 characters (LINE refuses longer ones)."""
    items = [
        QuickReplyItem(
            action=PostbackAction(
                label=clip(b.label, MAX_LABEL, ""),
                data=b.data,
                display_text=clip(b.shown or b.label, 300),
            )
        )
        for b in buttons[:MAX_QUICK_REPLY_ITEMS]
    ]
    return QuickReply(items=items) if items else None


# --- text ---------------------------------------------------------------------------------------


def _split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split at line breaks (else anywhere) so that each part is at most `limit` LINE characters."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
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


def text_messages(text: str, buttons: Sequence[Button] = ()) -> list[Message]:
    """A text reply, split into ≤5,000-character messages; quick-reply buttons go on the last one."""
    parts = _split_text(text.strip() or "-")
    messages: list[Message] = [TextMessage(text=p) for p in parts[:-1]]
    messages.append(TextMessage(text=parts[-1], quick_reply=quick_reply(buttons)))
    return messages


# --- flex ---------------------------------------------------------------------------------------


def flex_messages(alt_text: str, bubbles: Iterable[dict[str, Any]]) -> list[Message]:
    """Bubbles (built as dicts) packed into Flex messages: a bubble alone, or carousels of ≤12 and ≤50 KB.

    Every message carries the same plain `altText` (what notifications and old clients show),
    cut to 1,500 characters.
    """
    alt = clip(alt_text.strip() or "-", MAX_ALT_TEXT)
    groups: list[list[dict[str, Any]]] = []
    size = 0
    for bubble in bubbles:
        b = json_size(bubble)
        if groups and len(groups[-1]) < MAX_CAROUSEL_BUBBLES and size + b < _CAROUSEL_BUDGET:
            groups[-1].append(bubble)
            size += b + 1
        else:
            groups.append([bubble])
            size = b
    messages: list[Message] = []
    for group in groups:
        contents = group[0] if len(group) == 1 else {"type": "carousel", "contents": group}
        messages.append(FlexMessage(alt_text=alt, contents=FlexContainer.from_dict(contents)))
    return messages


def fit_reply(messages: list[Message], more: str | None = None) -> list[Message]:
    """At most 5 messages: when there are more, the fifth says where the rest is (a link or a command)."""
    if len(messages) <= MAX_MESSAGES:
        return messages
    tail = more or "ยังมีข้อมูลอีก แต่ LINE ส่งได้ครั้งละ 5 ข้อความ กรุณาดูฉบับเต็มในหน้ารายงาน"
    return [*messages[: MAX_MESSAGES - 1], TextMessage(text=clip(tail, MAX_TEXT))]


# --- flex building blocks (dicts: the SDK models are built from them once, in flex_messages) -----


def txt(text: str, **style: Any) -> dict[str, Any]:
    """A Flex text component; LINE refuses empty text, so an empty value shows a dash."""
    return {"type": "text", "text": clip(text or "-", 2000), "wrap": True, **style}


def box(contents: list[dict[str, Any]], layout: str = "vertical", **style: Any) -> dict[str, Any]:
    return {"type": "box", "layout": layout, "contents": contents or [txt("-")], **style}


def separator() -> dict[str, Any]:
    return {"type": "separator", "margin": "md"}


def bubble(title: str, subtitle: str | None, rows: list[dict[str, Any]], footer: str | None = None) -> dict[str, Any]:
    header = [txt(title, weight="bold", size="md", color="#1F3A60")]
    if subtitle:
        header.append(txt(subtitle, size="xs", color="#666666"))
    out: dict[str, Any] = {
        "type": "bubble",
        "size": "mega",
        "header": box(header, paddingBottom="sm"),
        "body": box(rows, spacing="sm"),
    }
    if footer:
        out["footer"] = box([txt(footer, size="xxs", color="#888888")])
    return out


def paged_bubbles(
    title: str,
    subtitle: str | None,
    rows: list[dict[str, Any]],
    footer: str | None = None,
    digits: Callable[[str], str] = str,
) -> list[dict[str, Any]]:
    """Rows spread over as many bubbles as needed to keep each one under LINE's 30 KB."""
    pages: list[list[dict[str, Any]]] = [[]]
    for row in rows:
        trial = bubble(title, subtitle, [*pages[-1], row], footer)
        if pages[-1] and json_size(trial) > _BUBBLE_BUDGET:
            pages.append([row])
        else:
            pages[-1].append(row)
    if len(pages) == 1:
        return [bubble(title, subtitle, pages[0], footer)]
    total = len(pages)
    return [bubble(f"{title} ({digits(f'{i}/{total}')})", subtitle, page, footer) for i, page in enumerate(pages, 1)]
