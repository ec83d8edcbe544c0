"""The sent-log: one entry per scheduled push, claimed before it is sent, so every push is made exactly once."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from ita_bot.domain.thai import stored_time

__all__ = ["HeldEntry", "SentLogRepository", "is_interrupted"]


def _at(text: Any) -> datetime | None:
    return stored_time(text) if text else None


def is_interrupted(entry: Mapping[str, Any], now: datetime) -> bool:
    """An entry a resume may take at ``now``: still "sending", its lease over and its ``next_attempt_at`` come
    (its owner died mid-send, or its retries ran out and their pause is over). Both times are ISO text."""
    if entry.get("state") != "sending":
        return False
    lease, retry_at = _at(entry.get("lease_until")), _at(entry.get("next_attempt_at"))
    return not ((lease is not None and lease > now) or (retry_at is not None and retry_at > now))


class HeldEntry(Protocol):
    """One entry held inside a transaction: read it, decide, change it; no other process can change it
    meanwhile, and every change made through it is committed together when the hold ends normally (an
    exception discards them)."""

    @property
    def row(self) -> Mapping[str, Any] | None:
        """The entry as it is now (with this transaction's changes), None when there is none."""
        ...

    def put(self, values: Mapping[str, Any]) -> None:
        """Create the entry with ``values`` when there is none, else change those fields of it."""
        ...


class SentLogRepository(Protocol):
    """Where pushes are logged, one entry per send key (``job/cycle/days_before/recipient/part``).

    The transaction that matters is **a claim and its sent-log**: ``hold(key)`` reads the entry, the caller
    decides (new, done, someone else's lease, expired lease, uncertain) and writes the claim, all as one
    transaction, so of two processes racing for a key exactly one wins. A database backend implements it as
    one transaction with the row locked (``SELECT … FOR UPDATE``, or an insert that refuses a second key).

    ``hold_interrupted(now)`` is how any number of clocks share the resumes without a leader: each call holds
    the oldest interrupted entry (:func:`is_interrupted`) that no one else holds right now — a database
    backend skips locked rows (``FOR UPDATE SKIP LOCKED``) rather than waiting for them — so two callers at
    once never get the same entry, and the holder re-leases it before its hold ends.
    """

    def hold(self, key: str) -> AbstractContextManager[HeldEntry]: ...

    def hold_interrupted(self, now: datetime,
                         skip: Collection[str] = ()) -> AbstractContextManager[HeldEntry | None]:
        """Hold (as ``hold`` does) the oldest entry interrupted at ``now`` whose key is not in ``skip`` and
        which no other hold has right now; None when there is none."""
        ...

    def entry(self, key: str) -> dict[str, Any] | None:
        """The committed entry of ``key`` (a copy), or None."""
        ...

    def entries(self) -> list[dict[str, Any]]:
        """Every committed entry (copies), oldest first."""
        ...

    def count_sent(self, since: datetime, until: datetime) -> int:
        """How many pushes LINE accepted (state "done") whose entry was finished in ``[since, until)``: the
        operator's month against the free message quota, without reading every entry's payload."""
        ...
