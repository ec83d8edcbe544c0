"""Managers' console sign-in: one-time links from LINE and the sessions they start, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tinydb import Query

from ita_bot.store.database import Store

__all__ = [
    "LINK_TTL",
    "MAX_LINKS_PER_HOUR",
    "SESSION_TTL",
    "LinkProblem",
    "SignIn",
    "SignInError",
    "SignInLimit",
]

LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=8)
MAX_LINKS_PER_HOUR = 5  # per person: enough to retry, too few to farm links
_LINKS = "signin_links"
_SESSIONS = "console_sessions"


class LinkProblem(StrEnum):
    """Why a sign-in link cannot be used; the console words each for the person holding it."""

    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


class SignInError(ValueError):
    """A sign-in link that does not open the console."""

    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


class SignInLimit(ValueError):
    """Too many links asked for within the hour; the message is a short polite Thai reply."""


@dataclass(frozen=True)
class Session:
    """A signed-in manager: who, and until when."""

    user_id: str
    expires_at: datetime


def _hash(secret: str) -> str:
    # Only hashes are stored: a leaked database file opens no console.
    return hashlib.sha256(secret.encode()).hexdigest()


class SignIn:
    """One-time sign-in links (10 minutes, single use) and console sessions (8 hours) in the main database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- links ------------------------------------------------------------------------------------

    def issue(self, user_id: str, now: datetime) -> str:
        """A new link token bound to this person (256 random bits); SignInLimit after a few in one hour."""
        token = secrets.token_urlsafe(32)
        since = (now - timedelta(hours=1)).isoformat()
        with self.store.write() as db:
            links = db.table(_LINKS)
            recent = [r for r in links.search(Query().user_id == user_id) if r["created_at"] >= since]
            if len(recent) >= MAX_LINKS_PER_HOUR:
                raise SignInLimit(
                    f"ขออภัย ขอลิงก์เข้าระบบจัดการได้ไม่เกิน {MAX_LINKS_PER_HOUR} ครั้งต่อชั่วโมง "
                    "กรุณาใช้ลิงก์ล่าสุดที่ได้รับ (ใช้ได้ 10 นาที) หรือรอสักครู่แล้วขอใหม่"
                )
            # Links older than a day serve neither sign-in nor the hourly limit: drop them.
            stale = (now - timedelta(days=1)).isoformat()
            links.remove(Query().created_at < stale)
            links.insert(
                {
                    "hash": _hash(token),
                    "user_id": user_id,
                    "created_at": now.isoformat(),
                    "expires_at": (now + LINK_TTL).isoformat(),
                    "used_at": None,
                }
            )
        return token

    def redeem(self, token: str, now: datetime) -> str:
        """Use a link once: the person it was issued to; SignInError (unknown, used, expired) otherwise."""
        if not token or len(token) > 200:
            raise SignInError(LinkProblem.UNKNOWN)
        with self.store.write() as db:
            links = db.table(_LINKS)
            row = links.get(Query().hash == _hash(token))
            if row is None:
                raise SignInError(LinkProblem.UNKNOWN)
            if row.get("used_at"):
                raise SignInError(LinkProblem.USED)
            if datetime.fromisoformat(row["expires_at"]) <= now:
                raise SignInError(LinkProblem.EXPIRED)
            links.update({"used_at": now.isoformat()}, doc_ids=[row.doc_id])
            return str(row["user_id"])

    # --- sessions ---------------------------------------------------------------------------------

    def start_session(self, user_id: str, now: datetime) -> str:
        """A new session id (kept by the browser); the store keeps only its hash."""
        session_id = secrets.token_urlsafe(32)
        with self.store.write() as db:
            sessions = db.table(_SESSIONS)
            sessions.remove(Query().expires_at < now.isoformat())
            sessions.insert(
                {
                    "hash": _hash(session_id),
                    "user_id": user_id,
                    "started_at": now.isoformat(),
                    "expires_at": (now + SESSION_TTL).isoformat(),
                }
            )
        return session_id

    def session(self, session_id: str | None, now: datetime) -> Session | None:
        """The live session for this id, or None (unknown, ended or expired)."""
        if not session_id:
            return None
        with self.store.read() as db:
            row = db.table(_SESSIONS).get(Query().hash == _hash(session_id))
        if row is None:
            return None
        expires = datetime.fromisoformat(row["expires_at"])
        return Session(str(row["user_id"]), expires) if expires > now else None

    def end_session(self, session_id: str | None) -> None:
        if not session_id:
            return
        with self.store.write() as db:
            db.table(_SESSIONS).remove(Query().hash == _hash(session_id))

    def end_sessions_of(self, user_id: str) -> int:
        """End every session of a person (they lost the manager role); how many there were."""
        with self.store.write() as db:
            return len(db.table(_SESSIONS).remove(Query().user_id == user_id))
