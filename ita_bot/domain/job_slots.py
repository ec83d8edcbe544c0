"""The clock's state: one entry per scheduled job slot (``job/cycle/days_before``), claimed before it runs."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

from ita_bot.domain.sent_log import HeldEntry

__all__ = ["JOBS", "SlotRepository"]

#: The scheduled jobs, by the names the command line, the clock's slots and the logs use.
JOBS = ("reminder", "digest", "summary", "plan", "milestone")


class SlotRepository(Protocol):
    """Where the clock keeps which slots ran. ``hold(slot)`` is **a slot claim and its record** in one
    transaction (see ``SentLogRepository``): of two clocks on one office, one runs the slot."""

    def hold(self, slot: str) -> AbstractContextManager[HeldEntry]: ...

    def all(self) -> list[dict[str, Any]]:
        """Every committed slot entry (copies): ``slot``, ``state`` (running, retry, done), ``attempts``, …"""
        ...
