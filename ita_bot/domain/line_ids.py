"""LINE's IDs: what a user, group or room ID looks like, and how one is hidden from logs and public text (PDPA)."""

from __future__ import annotations

import re

__all__ = ["LINE_ID", "hide_ids", "is_chat_id", "is_user_id"]

#: Any LINE ID as it may appear inside a text: a user (U…), a group (C…) or a room (R…), 32 hex digits after.
LINE_ID = re.compile(r"[UCR][0-9a-f]{32}")


def is_user_id(text: str) -> bool:
    """The whole text is a LINE user ID ("U" and 32 hex digits)."""
    return LINE_ID.fullmatch(text) is not None and text[0] == "U"


def is_chat_id(text: str) -> bool:
    """The whole text is a LINE group ("C…") or room ("R…") ID."""
    return LINE_ID.fullmatch(text) is not None and text[0] in "CR"


def hide_ids(text: str, replacement: str | None = None) -> str:
    """Every LINE ID in the text replaced by `replacement`, or by default cut to its kind letter ("U…")."""
    return LINE_ID.sub(lambda m: m[0][0] + "…" if replacement is None else replacement, text)
