"""Heartbeats: a long-running process (the clock) says it is alive; /healthz tells how long ago it last did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = ["Heartbeat", "HeartbeatRepository"]


@dataclass(frozen=True)
class Heartbeat:
    """One process's latest beat. ``at`` is real time (None when unreadable; naive when written without an
    offset, which the product reads as Bangkok time); ``as_of`` is the time the process acts as of."""

    name: str
    at: datetime | None
    as_of: datetime | None = None
    pid: int | None = None
    tick_seconds: float | None = None


class HeartbeatRepository(Protocol):
    """The latest heartbeat per process name; a beat replaces the one before."""

    def beat(self, heartbeat: Heartbeat) -> None: ...

    def last(self, name: str) -> Heartbeat | None: ...
