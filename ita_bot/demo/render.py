"""Render LINE message objects (as the stand-in recorded them) as readable terminal chat bubbles."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Choice", "Rendered", "bar", "render_messages"]

# How wide a progress bar is drawn, in cells.
BAR_CELLS = 10
_PERCENT = re.compile(r"^\s*(\d{1,3}(?:\.\d+)?)\s*%\s*$")
_TRAILING_PERCENT = re.compile(r"(?<![\d.])(\d{1,3})\s*%$")
_SUBSTITUTION = re.compile(r"\{\{|\}\}|\{([A-Za-z0-9_]{1,20})\}")


@dataclass(frozen=True)
class Choice:
    """A button the user can pick by number: a quick-reply item or a Flex button with an action."""

    label: str
    action: dict[str, Any]


@dataclass
class Rendered:
    """Lines to print for some messages, and the numbered choices they offer: Flex buttons (numbered
    where they stand in the card) first, then quick replies (to be listed after the messages)."""

    lines: list[str]
    choices: list[Choice]
    quick: list[Choice]

    @property
    def all_choices(self) -> list[Choice]:
        return [*self.choices, *self.quick]


def bar(percent: float) -> str:
    """A text progress bar: ▓▓▓▓▓▓░░░░ 60%."""
    p = max(0.0, min(100.0, percent))
    full = round(p / 100 * BAR_CELLS)
    return "▓" * full + "░" * (BAR_CELLS - full) + f" {p:g}%"


def render_messages(messages: Iterable[dict[str, Any]], name_of: Callable[[str], str]) -> Rendered:
    """Render messages in order; `name_of(user_id)` gives the display name for a mention.

    Quick replies only matter on the last message (LINE shows them only there), but every
    message's are listed so nothing the bot offered is hidden; Flex buttons that act are choices too.
    """
    out = Rendered([], [], [])
    for message in messages:
        kind = message.get("type")
        if kind == "text":
            out.lines += str(message.get("text", "")).split("\n")
        elif kind == "textV2":
            out.lines += _text_v2(message, name_of).split("\n")
        elif kind == "flex":
            out.lines += _flex(message.get("contents") or {}, out.choices)
        elif kind == "image":
            out.lines.append("[รูปภาพ]")
        elif kind == "video":
            out.lines.append("[วิดีโอ]")
        elif kind == "audio":
            out.lines.append("[เสียง]")
        elif kind == "sticker":
            out.lines.append("[สติกเกอร์]")
        elif kind == "location":
            out.lines.append(f"[ตำแหน่ง] {message.get('title', '')} {message.get('address', '')}".rstrip())
        elif kind == "template":
            out.lines += str(message.get("altText", "[template]")).split("\n")
        else:
            out.lines.append(f"[{kind}]")
        items = (message.get("quickReply") or {}).get("items") or []
        for item in items:
            action = item.get("action") or {}
            out.quick.append(Choice(str(action.get("label") or action.get("text") or "?"), action))
    return out


def _text_v2(message: dict[str, Any], name_of: Callable[[str], str]) -> str:
    """textV2: `{key}` placeholders become @names (mentions) or the emoji's placeholder; `{{`/`}}` unescape."""
    subs = message.get("substitution") or {}

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "{{":
            return "{"
        if m.group(0) == "}}":
            return "}"
        sub = subs.get(m.group(1))
        if not isinstance(sub, dict):
            return m.group(0)
        if sub.get("type") == "mention":
            mentionee = sub.get("mentionee") or {}
            if mentionee.get("type") == "all":
                return "@All"
            return "@" + name_of(str(mentionee.get("userId", "")))
        if sub.get("type") == "emoji":
            return "☺"
        return m.group(0)

    return _SUBSTITUTION.sub(one, str(message.get("text", "")))


# --- Flex: a generic walk over containers and components -----------------------------------------


def _flex(container: dict[str, Any], choices: list[Choice]) -> list[str]:
    if container.get("type") == "carousel":
        lines: list[str] = []
        for i, bubble in enumerate(container.get("contents") or []):
            if i:
                lines.append("")
            lines += _bubble(bubble, choices)
        return lines
    return _bubble(container, choices)


def _bubble(bubble: dict[str, Any], choices: list[Choice]) -> list[str]:
    """A card: ┌ header, │ body rows, └ footer (hero images are left out)."""
    header = _component(bubble["header"], choices) if bubble.get("header") else []
    body = _component(bubble["body"], choices) if bubble.get("body") else []
    footer = _component(bubble["footer"], choices) if bubble.get("footer") else []
    lines = [line for line in header if line.strip()]
    if not lines and body:
        # No header: the body's first line is the card's title.
        lines, body = body[:1], body[1:]
    card = ["┌ " + (lines[0] if lines else "")] + ["│ " + line for line in lines[1:]]
    if bubble.get("header") and body:
        card.append("├" + "─" * 30)
    card += ["│ " + line for line in body]
    if footer:
        card.append("├" + "─" * 30)
        card += ["│ " + line for line in footer]
    card.append("└" + "─" * 30)
    return card


def _component(c: dict[str, Any], choices: list[Choice]) -> list[str]:
    kind = c.get("type")
    if kind == "box":
        percent = _bar_percent(c)
        if percent is not None:
            return [bar(percent)]
        parts = [_component(child, choices) for child in c.get("contents") or []]
        parts = [p for p in parts if p]
        if c.get("layout") in ("horizontal", "baseline") and all(len(p) == 1 for p in parts):
            # A row: a label and its value side by side; a value that is a progress gets a bar.
            row = "  ".join(p[0] for p in parts if p[0].strip())
            m = _TRAILING_PERCENT.search(row)
            return ([f"{row}  {bar(float(m.group(1)))[:BAR_CELLS]}" if m else row]) if parts else []
        return [line for p in parts for line in p]
    if kind == "text":
        spans = c.get("contents")
        text = "".join(str(s.get("text", "")) for s in spans) if spans else str(c.get("text", ""))
        return text.split("\n") if text else []
    if kind == "separator":
        return ["─" * 20]
    if kind == "button":
        action = c.get("action") or {}
        label = str(action.get("label") or "ปุ่ม")
        if action.get("type") == "uri":
            return [f"🔗 {label}: {action.get('uri', '')}"]
        choices.append(Choice(label, action))
        return [f"[{len(choices)}] {label}"]
    if kind == "image":
        return []
    if kind == "icon":
        return []
    return []


def _bar_percent(box: dict[str, Any]) -> float | None:
    """A progress bar drawn in Flex: an outer box holding, and only holding, textless boxes, the
    first of which has a width in percent (the filled part). Its percent, else None."""
    children = box.get("contents") or []
    if not children or not all(isinstance(ch, dict) and ch.get("type") == "box" for ch in children):
        return None
    if any(_has_content(ch) for ch in children):
        return None
    width = children[0].get("width")
    m = _PERCENT.match(str(width)) if width is not None else None
    if m:
        return float(m.group(1))
    # Or two boxes side by side whose flex weights split the row: filled, then empty.
    flexes = [ch.get("flex") for ch in children]
    if len(children) == 2 and all(isinstance(f, int) and f >= 0 for f in flexes) and sum(flexes) > 0:
        return 100.0 * flexes[0] / sum(flexes)
    return None


def _has_content(c: dict[str, Any]) -> bool:
    if c.get("type") in ("text", "button", "image", "icon"):
        return True
    return any(_has_content(ch) for ch in c.get("contents") or [] if isinstance(ch, dict))
