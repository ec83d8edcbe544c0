"""Managers' console sign-in: one-time links from LINE and the sessions they start, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from ita_bot.domain.thai import format_duration

__all__ = [
    "LINK_TTL",
    "MAX_LINKS_PER_HOUR",
    "SESSION_TTL",
    "LinkProblem",
    "SignIn",
    "SignInError",
    "SignInLimit",
    "SignInLink",
    "SignInRepository",
    "StoredSession",
]

LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=8)
MAX_LINKS_PER_HOUR = 5  # per person: enough to retry, too few to farm links


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


@dataclass(frozen=True)
class SignInLink:
    """A stored sign-in link: the hash of its token, never the token."""

    hash: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True)
class StoredSession:
    """A stored console session: the hash of its id (the browser keeps the id)."""

    hash: str
    user_id: str
    started_at: datetime
    expires_at: datetime


class SignInRepository(Protocol):
    """Where sign-in links and console sessions are kept. Each method is one transaction: of two processes
    using one link, exactly one marks it used."""

    def add_link(self, link: SignInLink, *, limit: int, since: datetime, drop_before: datetime) -> bool:
        """Keep ``link`` unless its person already has ``limit`` links created at or after ``since`` (then
        False, nothing stored); links created before ``drop_before`` are dropped meanwhile."""
        ...

    def use_link(self, token_hash: str, at: datetime) -> SignInLink | None:
        """The link as it was before this call (None: unknown); it is marked used at ``at`` when it was
        neither used nor expired at ``at``, so a link opens the console once."""
        ...

    def add_session(self, session: StoredSession, *, drop_expired_at: datetime) -> None:
        """Keep ``session``; sessions expired at ``drop_expired_at`` are dropped meanwhile."""
        ...

    def session(self, session_hash: str) -> StoredSession | None: ...

    def end_session(self, session_hash: str) -> None: ...

    def end_sessions_of(self, user_id: str) -> int:
        """Drop every session of a person; how many there were."""
        ...


def _hash(secret: str) -> str:
    # Only hashes are stored: a leaked database file opens no console.
    return hashlib.sha256(secret.encode()).hexdigest()


class SignIn:
    """One-time sign-in links (10 minutes, single use) and console sessions (8 hours), stored only hashed."""

    def __init__(self, repository: SignInRepository) -> None:
        self.repository = repository

    # --- links ------------------------------------------------------------------------------------

    def issue(self, user_id: str, now: datetime) -> str:
        """A new link token bound to this person (256 random bits); SignInLimit after a few in one hour."""
        token = secrets.token_urlsafe(32)
        link = SignInLink(_hash(token), user_id, now, now + LINK_TTL)
        # Links older than a day serve neither sign-in nor the hourly limit: they are dropped.
        if not self.repository.add_link(link, limit=MAX_LINKS_PER_HOUR, since=now - timedelta(hours=1),
                                        drop_before=now - timedelta(days=1)):
            raise SignInLimit(
                f"ขออภัย ขอลิงก์เข้าระบบจัดการได้ไม่เกิน {MAX_LINKS_PER_HOUR} ครั้งต่อชั่วโมง "
                f"กรุณาใช้ลิงก์ล่าสุดที่ได้รับ (ใช้ได้ {format_duration(LINK_TTL)}) หรือรอสักครู่แล้วขอใหม่"
            )
        return token

    def redeem(self, token: str, now: datetime) -> str:
        """Use a link once: the person it was issued to; SignInError (unknown, used, expired) otherwise."""
        if not token or len(token) > 200:
            raise SignInError(LinkProblem.UNKNOWN)
        link = self.repository.use_link(_hash(token), now)
        if link is None:
            raise SignInError(LinkProblem.UNKNOWN)
        if link.used_at is not None:
            raise SignInError(LinkProblem.USED)
        if link.expires_at <= now:
            raise SignInError(LinkProblem.EXPIRED)
        return link.user_id

    # --- sessions ---------------------------------------------------------------------------------

    def start_session(self, user_id: str, now: datetime) -> str:
        """A new session id (kept by the browser); the store keeps only its hash."""
        session_id = secrets.token_urlsafe(32)
        self.repository.add_session(StoredSession(_hash(session_id), user_id, now, now + SESSION_TTL),
                                    drop_expired_at=now)
        return session_id

    def session(self, session_id: str | None, now: datetime) -> Session | None:
        """The live session for this id, or None (unknown, ended or expired)."""
        if not session_id:
            return None
        row = self.repository.session(_hash(session_id))
        if row is None:
            return None
        return Session(row.user_id, row.expires_at) if row.expires_at > now else None

    def end_session(self, session_id: str | None) -> None:
        if not session_id:
            return
        self.repository.end_session(_hash(session_id))

    def end_sessions_of(self, user_id: str) -> int:
        """End every session of a person (they lost the manager role); how many there were."""
        return self.repository.end_sessions_of(user_id)
