"""Guided reports in progress: one draft per (chat, person), kept in a repository so a restart loses nothing."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from ita_bot.domain.conversations import DRAFT_TTL, STEPS, ConversationRepository, Draft, GuidedStep

__all__ = ["DRAFT_TTL", "Conversations", "Draft", "GuidedStep"]


class Conversations:
    """Guided-report drafts: expiry, ids derived from the opening event, and the steps' order."""

    def __init__(self, repository: ConversationRepository) -> None:
        self.repository = repository

    def get(self, chat_id: str, user_id: str, now: datetime) -> Draft | None:
        """The open draft of this person in this chat; an expired one is dropped and None returned."""
        draft = self.repository.get(chat_id, user_id)
        if draft is None:
            return None
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
        self.repository.put(draft)
        return draft

    def clear(self, chat_id: str, user_id: str) -> bool:
        """Close the draft; True when there was one."""
        return self.repository.remove(chat_id, user_id)
