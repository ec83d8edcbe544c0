"""The sent-log: one entry per scheduled push, claimed before it is sent, so every push is made exactly once."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

__all__ = ["HeldEntry", "SentLogRepository"]


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
    """

    def hold(self, key: str) -> AbstractContextManager[HeldEntry]: ...

    def entry(self, key: str) -> dict[str, Any] | None:
        """The committed entry of ``key`` (a copy), or None."""
        ...

    def entries(self) -> list[dict[str, Any]]:
        """Every committed entry (copies), oldest first."""
        ...
