"""POST /callback: verify LINE's signature, store the events durably in the journal, answer at once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
from collections import Counter
from typing import Any

from flask import Blueprint, Response, current_app, request

from ita_bot.chat.dispatch import event_kind

__all__ = ["MAX_BODY", "bp", "refusal_to_stranger", "signature_ok"]

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # LINE's bodies are small; anything over 1 MiB is not LINE
#: What in a body can give a parsed string a UTF-16 surrogate: a \uD800-\uDFFF escape, one written out in UTF-8
#: (json decodes with "surrogatepass"), or a body json reads as UTF-16/32 (a BOM, or NULs up front). Never in LINE's.
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]|[\x00\xfe\xff]")

bp = Blueprint("webhook", __name__)


def signature_ok(secret: str, body: bytes, signature: str) -> bool:
    """X-Line-Signature: base64 HMAC-SHA256 of the raw body with the channel secret, compared in constant time."""
    expected = base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.strip().encode("ascii", errors="replace"))


def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain")


def refusal_to_stranger(content_length: int | None, signature: str) -> Response:
    """What a request gets before any secret is used: too large, or no signature, else a bad one. The hosted service
    answers an office it does not serve with this, so probing offices tells nothing."""
    if content_length is not None and content_length > MAX_BODY:
        return _plain(413, "request body too large")
    return _plain(400, "bad signature" if signature else "missing signature")


@bp.post("/callback")
def callback() -> Response:
    runtime = current_app.extensions["ita_bot"]
    # Refused before reading: an oversized body never reaches memory.
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _plain(413, "request body too large")
    signature = request.headers.get("X-Line-Signature", "")
    if not signature:
        return _plain(400, "missing signature")
    body = request.get_data(cache=False)  # raises 413 (MAX_CONTENT_LENGTH) for a chunked oversize body
    if not signature_ok(runtime.office.config.line.channel_secret, body, signature):
        log.warning("webhook with a bad signature refused")
        return _plain(400, "bad signature")
    try:
        payload: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurdly nested JSON
        return _plain(400, "malformed JSON")
    expected = runtime.office.config.line.bot_user_id
    if expected and isinstance(payload, dict) and payload.get("destination") != expected:
        # Signed with this office's secret yet addressed to another bot: refused like a bad signature, so a
        # request meant for one office of the service never lands in another.
        log.warning("webhook for another bot refused")
        return _plain(400, "bad signature")
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        return _plain(400, "expected an object with an events list")
    # JSON may escape a lone surrogate (a "\\ud800" alone), which no UTF-8 text holds: LINE never sends one,
    # and it could be neither stored in the journal nor answered. A body with nothing that can make a surrogate
    # (LINE writes Thai and emoji as plain UTF-8) needs no walk through every string.
    if _MAYBE_SURROGATE.search(body):
        try:
            json.dumps(events, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return _plain(400, "malformed text (lone surrogate)")
    if not events:
        return _plain(200, "OK")  # LINE's webhook verification
    try:
        accepted = runtime.journal.accept(events)
    except OSError as e:
        # The only 5xx: LINE will redeliver what we could not store (e.g. disk full).
        log.error("could not store %d webhook event(s): %s (errno %s: %s)", len(events), type(e).__name__, e.errno,
                  os.strerror(e.errno) if e.errno else "-")
        return _plain(500, "events could not be stored")
    kinds = Counter(event_kind(e) for e in events)
    log.info(
        "webhook: %d event(s) %s; %d new, %d duplicate",
        len(events),
        ", ".join(f"{k}×{n}" for k, n in sorted(kinds.items())),
        accepted.new,
        accepted.duplicates,
    )
    if accepted.too_old:
        # Answered 200 all the same: LINE must not redeliver them, they are just not run.
        log.warning("webhook: %d event(s) too old (past the journal's retention) ignored", accepted.too_old)
    return _plain(200, "OK")
