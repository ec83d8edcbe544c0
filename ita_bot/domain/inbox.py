"""The inbox of webhook events: accepted durably before LINE hears 200, applied later, once, in order per chat.

The inbox is the write-ahead log of every other repository: an event's changes need not be durable when
they are made, because its entry is, until a *checkpoint* makes the changes durable and marks the entries
applied in one step ("a report and its journal mark"). A database backend implements ``applying`` and
``checkpoint`` as one transaction per batch; the file backend fsyncs the database files, then writes the
entries' done-markers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

__all__ = ["NEWEST_STEP_MS", "Inbox", "Outcome", "StorageError", "UnreadableEntry"]

#: The newest-event mark is rewritten only when it moves on by more than this: a minute's precision is plenty
#: against the days that ages are measured in, and most events then write nothing more.
NEWEST_STEP_MS = 60_000

Outcome = Literal["ok", "failed", "unreadable"]
"""How an applied entry ended: applied, failed by itself (a bug, a malformed event), or unreadable."""


class StorageError(RuntimeError):
    """The storage behind a repository is unusable now (a full disk, a lock timeout, a corrupt file): never
    the fault of the event or request being handled, which waits until it is put right."""


class UnreadableEntry(ValueError):
    """A stored entry that cannot be read back (corrupt): it is marked ``unreadable`` and passed over."""


class Inbox(Protocol):
    """Events by id (LINE's ``webhookEventId``): each is *pending* from ``accept`` until it is *applied*
    (marked with its outcome), and its id stays taken while it is pending or applied, so a redelivery is a
    duplicate in every process. Only a pruned id is free again, and prune takes only events older than the
    freshness horizon, which the webhook refuses anyway."""

    # -- what the webhook needs -------------------------------------------------------------------

    def accept(self, events: Sequence[tuple[str, Mapping[str, Any]]], received_at: str) -> list[bool]:
        """Store each (event id, event) unless its id is taken; for each, True when it was new. Every new
        entry is durable (survives a power cut) before this returns; OSError or StorageError when not."""
        ...

    def newest(self) -> int:
        """The newest event timestamp (ms) accepted so far, 0 before any: ages are measured against it."""
        ...

    def advance_newest(self, stamp: int) -> int:
        """Move the newest-event mark on to ``stamp`` (never back, in any process); the mark now. A mark
        that could not be saved only lags (it may ignore moves of under a minute)."""
        ...

    # -- what the worker needs --------------------------------------------------------------------

    def pending(self) -> list[str]:
        """Ids of the pending entries (any order)."""
        ...

    def count_pending(self) -> int: ...

    def event(self, event_id: str) -> dict[str, Any] | None:
        """The event of a pending entry; None when it is no longer pending; UnreadableEntry when corrupt."""
        ...

    def is_applied(self, event_id: str) -> bool:
        """Marked applied (a checkpoint cut short may leave it listed as pending too)."""
        ...

    def hold_chat(self, chat: str) -> bool:
        """Take a chat (a key naming no LINE id) for this process without waiting; False when another
        process holds it. Held until ``release_chat``, or until the process dies."""
        ...

    def release_chat(self, chat: str) -> None: ...

    def close(self) -> None:
        """Release every chat this process holds, as its death would (at a clean stop)."""
        ...

    def applying(self, event_id: str) -> AbstractContextManager[None]:
        """Around applying the event ``event_id``: the changes it makes to other repositories are covered by its
        entry, so they need be durable only at the next ``checkpoint``. A backend with transactions commits
        them together with the entry's "ok" mark when the block ends (none of it when the block raises), so a
        crash never leaves an applied event pending: the event is applied once, even across a kill -9."""
        ...

    def checkpoint(self, outcomes: Mapping[str, Outcome]) -> None:
        """**A report and its journal mark**: make every change made while ``applying`` durable, then mark
        these entries applied with their outcomes, as one step: a mark that survives a power cut never
        stands for a change that did not. On failure (OSError, StorageError) none is marked."""
        ...

    def mark(self, event_id: str, outcome: Outcome) -> None:
        """Mark one entry applied at once, for an entry that changed nothing (unreadable)."""
        ...

    def retire(self, event_id: str) -> None:
        """Finish an entry found applied and still listed (a checkpoint cut short): it is pending no more."""
        ...

    def prune(self, older_than: float, horizon: int) -> dict[str, bool]:
        """Forget entries stored before ``older_than`` (epoch seconds) whose event is older than ``horizon``
        (ms): their ids are free again. Each id forgotten → whether it was still pending (never applied)."""
        ...
