"""Request-body checks of the LINE stand-in: LINE's documented message limits plus the SDK's own models."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from linebot.v3.messaging import (
    Message,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
)

__all__ = [
    "MAX_ACTION_LABEL",
    "MAX_ALT_TEXT",
    "MAX_BUBBLE_BYTES",
    "MAX_CAROUSEL_BUBBLES",
    "MAX_CAROUSEL_BYTES",
    "MAX_MENTIONS",
    "MAX_MESSAGES",
    "MAX_MULTICAST_TO",
    "MAX_QUICK_REPLY_ITEMS",
    "MAX_TEXT",
    "Problem",
    "check_loading_request",
    "check_send_request",
    "error_body",
    "json_size",
    "line_length",
]

MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_ALT_TEXT = 1500
# LINE says "30 KB" / "50 KB" without saying 1000 or 1024; the stand-in takes the stricter
# reading so that output accepted here is accepted by LINE under either.
MAX_BUBBLE_BYTES = 30_000
MAX_CAROUSEL_BUBBLES = 12
MAX_CAROUSEL_BYTES = 50_000
MAX_QUICK_REPLY_ITEMS = 13
MAX_ACTION_LABEL = 20
MAX_MENTIONS = 20
MAX_MULTICAST_TO = 500

# textV2 placeholders: `{key}` with LINE's key alphabet; `{{` and `}}` are literal braces.
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_]{1,20})\}")
_ESCAPED_BRACE = re.compile(r"\{\{|\}\}")

_REQUEST_MODELS = {"reply": ReplyMessageRequest, "push": PushMessageRequest, "multicast": MulticastRequest}


@dataclass(frozen=True)
class Problem:
    """One entry of LINE's error `details`: where in the body, and what is wrong."""

    property: str
    message: str


def error_body(problems: list[Problem]) -> dict[str, Any]:
    """LINE's 400 body for a request whose body breaks the rules."""
    return {
        "message": f"The request body has {len(problems)} error(s)",
        "details": [{"message": p.message, "property": p.property} for p in problems],
    }


def line_length(text: str) -> int:
    """Length as LINE counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def json_size(value: Any) -> int:
    """Compact UTF-8 JSON size in bytes: how the Flex size limits are measured here."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def check_send_request(kind: str, body: Any) -> list[Problem]:
    """All problems with a reply/push/multicast body; an empty list means LINE would take it."""
    if not isinstance(body, dict):
        return [Problem("", "The request body must be a JSON object")]
    problems: list[Problem] = []
    if kind == "multicast":
        to = body.get("to")
        if isinstance(to, list) and not 1 <= len(to) <= MAX_MULTICAST_TO:
            problems.append(Problem("to", f"Size must be between 1 and {MAX_MULTICAST_TO}"))
    messages = body.get("messages")
    if isinstance(messages, list):
        if not 1 <= len(messages) <= MAX_MESSAGES:
            problems.append(Problem("messages", f"Size must be between 1 and {MAX_MESSAGES}"))
        for i, message in enumerate(messages):
            problems.extend(_check_message(f"messages[{i}]", message))
    if problems:
        return problems
    # Our own limit rules passed: now the SDK's generated models judge structure and enums.
    return _check_with_model(kind, body)


def check_loading_request(body: Any) -> list[Problem]:
    """Problems with a loading-animation body (chatId required; 5–60 s in steps of 5)."""
    problems = _parse_with(ShowLoadingAnimationRequest, body, "")
    if not problems:
        seconds = body.get("loadingSeconds")
        if seconds is not None and seconds % 5:
            problems.append(Problem("loadingSeconds", "Must be a multiple of 5"))
    return problems


def _check_message(where: str, message: Any) -> list[Problem]:
    if not isinstance(message, dict):
        return [Problem(where, "Must be a message object")]
    kind = message.get("type")
    if not isinstance(kind, str) or Message.get_discriminator_value({"type": kind}) is None:
        return [Problem(f"{where}.type", f"Unknown message type: {kind!r}")]
    problems: list[Problem] = []
    if kind == "text":
        problems.extend(_check_text(f"{where}.text", message.get("text")))
    elif kind == "textV2":
        problems.extend(_check_text_v2(where, message))
    elif kind == "flex":
        problems.extend(_check_flex(where, message))
    problems.extend(_check_quick_reply(f"{where}.quickReply", message.get("quickReply")))
    return problems


def _check_text(where: str, text: Any) -> list[Problem]:
    if isinstance(text, str) and not 1 <= line_length(text) <= MAX_TEXT:
        return [Problem(where, f"Length must be between 1 and {MAX_TEXT}")]
    return []


def _check_text_v2(where: str, message: dict[str, Any]) -> list[Problem]:
    text = message.get("text")
    problems = _check_text(f"{where}.text", text)
    substitution = message.get("substitution") or {}
    if not isinstance(substitution, dict):
        return problems
    mentions = sum(1 for s in substitution.values() if isinstance(s, dict) and s.get("type") == "mention")
    if mentions > MAX_MENTIONS:
        problems.append(Problem(f"{where}.substitution", f"At most {MAX_MENTIONS} mentions are allowed"))
    if isinstance(text, str):
        for key in _PLACEHOLDER.findall(_ESCAPED_BRACE.sub("", text)):
            if key not in substitution:
                problems.append(Problem(f"{where}.text", f"No substitution for {{{key}}}"))
    return problems


def _check_flex(where: str, message: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    alt_text = message.get("altText")
    if not isinstance(alt_text, str) or not alt_text.strip():
        problems.append(Problem(f"{where}.altText", "must be specified"))
    elif line_length(alt_text) > MAX_ALT_TEXT:
        problems.append(Problem(f"{where}.altText", f"Length must be between 1 and {MAX_ALT_TEXT}"))
    contents = message.get("contents")
    if not isinstance(contents, dict):
        return problems
    if contents.get("type") == "bubble" and json_size(contents) > MAX_BUBBLE_BYTES:
        problems.append(Problem(f"{where}.contents", f"A bubble must be at most {MAX_BUBBLE_BYTES} bytes"))
    elif contents.get("type") == "carousel":
        bubbles = contents.get("contents")
        if isinstance(bubbles, list):
            if not 1 <= len(bubbles) <= MAX_CAROUSEL_BUBBLES:
                problems.append(
                    Problem(f"{where}.contents.contents", f"Size must be between 1 and {MAX_CAROUSEL_BUBBLES}")
                )
            for i, bubble in enumerate(bubbles):
                if json_size(bubble) > MAX_BUBBLE_BYTES:
                    problems.append(
                        Problem(
                            f"{where}.contents.contents[{i}]",
                            f"A bubble must be at most {MAX_BUBBLE_BYTES} bytes",
                        )
                    )
        if json_size(contents) > MAX_CAROUSEL_BYTES:
            problems.append(Problem(f"{where}.contents", f"A carousel must be at most {MAX_CAROUSEL_BYTES} bytes"))
    return problems


def _check_quick_reply(where: str, quick_reply: Any) -> list[Problem]:
    if not isinstance(quick_reply, dict) or not isinstance(quick_reply.get("items"), list):
        return []
    items = quick_reply["items"]
    problems: list[Problem] = []
    if not 1 <= len(items) <= MAX_QUICK_REPLY_ITEMS:
        problems.append(Problem(f"{where}.items", f"Size must be between 1 and {MAX_QUICK_REPLY_ITEMS}"))
    for i, item in enumerate(items):
        action = item.get("action") if isinstance(item, dict) else None
        label = action.get("label") if isinstance(action, dict) else None
        if isinstance(label, str) and line_length(label) > MAX_ACTION_LABEL:
            problems.append(
                Problem(f"{where}.items[{i}].action.label", f"Length must be between 1 and {MAX_ACTION_LABEL}")
            )
    return problems


def _check_with_model(kind: str, body: dict[str, Any]) -> list[Problem]:
    # The request's model parses every message with `Message.from_dict` itself, so a body it takes has
    # no message that fails alone: an accepted body is parsed once. Only a refused one is parsed again,
    # message by message first, so that the problems name the message they are in.
    model = _REQUEST_MODELS[kind]
    if not _parse_with(model, body, ""):
        return []
    for i, message in enumerate(body.get("messages") or []):
        problems = _parse_with(Message, message, f"messages[{i}]")
        if problems:
            return problems
    return _parse_with(model, body, "")


def _parse_with(model: Any, value: Any, where: str) -> list[Problem]:
    """Run an SDK model's `from_dict`; turn whatever it raises into LINE-style problems."""
    try:
        model.from_dict(value)
    except Exception as exc:  # the generated models raise ValueError, KeyError, TypeError or pydantic errors
        errors = getattr(exc, "errors", None)
        if callable(errors):
            return [
                Problem(_join(where, ".".join(str(part) for part in e.get("loc", ()))), str(e.get("msg")))
                for e in errors()
            ]
        if isinstance(exc, KeyError):
            return [Problem(_join(where, str(exc.args[0])), "must be specified")]
        return [Problem(where, str(exc).splitlines()[0][:300] or type(exc).__name__)]
    return []


def _join(where: str, leaf: str) -> str:
    if leaf in ("", "__root__"):
        return where
    return f"{where}.{leaf}" if where else leaf
