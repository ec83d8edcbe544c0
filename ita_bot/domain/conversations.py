"""Guided reports in progress: a draft per (chat, person), and where drafts are kept between messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from ita_bot.domain.progress import Status

__all__ = ["DRAFT_TTL", "STEPS", "ConversationRepository", "Draft", "GuidedStep"]

# A guided report left alone this long is gone: the next plain message in a group is again
# ordinary conversation rather than being taken as report details.
DRAFT_TTL = timedelta(minutes=30)

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


class ConversationRepository(Protocol):
    """Where open drafts are kept: at most one per (chat, person), seen by every process at once."""

    def get(self, chat_id: str, user_id: str) -> Draft | None: ...

    def put(self, draft: Draft) -> None:
        """Keep ``draft`` as the one of its (chat, person), replacing any earlier one."""
        ...

    def remove(self, chat_id: str, user_id: str) -> bool:
        """Drop the draft of this (chat, person); True when there was one."""
        ...
