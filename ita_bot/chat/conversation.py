"""Guided reports in progress: one draft per (chat, person), kept in the store so a restart loses nothing."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from tinydb import Query

from ita_bot.domain.progress import Status
from ita_bot.store.database import Store

__all__ = ["DRAFT_TTL", "Conversations", "Draft"]

# A guided report left alone this long is gone: the next plain message in a group is again
# ordinary conversation rather than being taken as report details.
DRAFT_TTL = timedelta(minutes=30)
TABLE = "conversations"

GuidedStep = Literal["measure", "status", "details"]
"""Where a guided report waits: for the measure button, then the status button, then the details message."""
STEPS: tuple[GuidedStep, ...] = ("measure", "status", "details")


@dataclass
class Draft:
    """A half-finished guided report: which step it waits at and what has been chosen so far."""

    chat_id: str
    user_id: str
    step: GuidedStep
    started_at: str
    updated_at: str
    measure: int | None = None
    status: Status | None = None
    percent: int | None = None
    id: str = ""  # postback buttons carry it, so buttons of an earlier draft cannot act on this one

    def updated(self) -> datetime:
        return datetime.fromisoformat(self.updated_at)

    def expired(self, now: datetime) -> bool:
        return now - self.updated() > DRAFT_TTL


def _key(chat_id: str, user_id: str) -> Any:
    q = Query()
    return (q.chat_id == chat_id) & (q.user_id == user_id)


class Conversations:
    """Repository of guided-report drafts in the main database (table "conversations")."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, chat_id: str, user_id: str, now: datetime) -> Draft | None:
        """The open draft of this person in this chat; an expired one is dropped and None returned."""
        with self.store.read() as db:
            row = db.table(TABLE).get(_key(chat_id, user_id))
        if row is None:
            return None
        draft = Draft(**{k: v for k, v in dict(row).items() if k in Draft.__dataclass_fields__})
        if draft.expired(now):
            self.clear(chat_id, user_id)
            return None
        return draft

    def start(
        self, chat_id: str, user_id: str, now: datetime, *, measure: int | None = None, event_id: str | None = None
    ) -> Draft:
        """Open a fresh draft (replacing any earlier one of this person in this chat). Its id comes from
        the event that opened it, so a replayed event opens the same draft its buttons point at."""
        draft = Draft(
            chat_id=chat_id,
            user_id=user_id,
            step="status" if measure is not None else "measure",
            started_at=now.isoformat(),
            updated_at=now.isoformat(),
            measure=measure,
            id=hashlib.sha256(event_id.encode()).hexdigest()[:12] if event_id else uuid.uuid4().hex[:12],
        )
        self.save(draft, now)
        return draft

    def save(self, draft: Draft, now: datetime) -> Draft:
        if draft.step not in STEPS:
            raise ValueError(f"unknown draft step {draft.step!r}")
        draft.updated_at = now.isoformat()
        with self.store.write() as db:
            db.table(TABLE).upsert(asdict(draft), _key(draft.chat_id, draft.user_id))
        return draft

    def clear(self, chat_id: str, user_id: str) -> bool:
        """Close the draft; True when there was one."""
        # Every report closes the draft, and most have none: looking first spares a locked write
        # (and an encoding of the whole main file) per report. Only this chat's events, which run
        # one at a time, open or close this draft, so it cannot appear in between.
        with self.store.read() as db:
            if not db.table(TABLE).contains(_key(chat_id, user_id)):
                return False
        with self.store.write() as db:
            return bool(db.table(TABLE).remove(_key(chat_id, user_id)))

    def sweep(self, now: datetime) -> int:
        """Drop every expired draft (housekeeping; expiry is also checked on every read)."""
        # Compared as datetimes, not ISO strings: stored offsets need not match `now`'s.
        stale = Query().updated_at.test(lambda at: now - datetime.fromisoformat(at) > DRAFT_TTL)
        with self.store.write() as db:
            return len(db.table(TABLE).remove(stale))
