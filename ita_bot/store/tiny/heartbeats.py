"""Heartbeats in the main database (table "heartbeats", one row per process name)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tinydb import Query

from ita_bot.domain.heartbeats import Heartbeat
from ita_bot.store.database import Store

__all__ = ["TinyHeartbeats"]

TABLE = "heartbeats"


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


class TinyHeartbeats:
    """The heartbeat repository over one Store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def beat(self, heartbeat: Heartbeat) -> None:
        row = {"name": heartbeat.name, "at": heartbeat.at.isoformat() if heartbeat.at else None,
               "as_of": heartbeat.as_of.isoformat() if heartbeat.as_of else None, "pid": heartbeat.pid,
               "tick_seconds": heartbeat.tick_seconds}
        with self.store.write() as db:
            db.table(TABLE).upsert(row, Query().name == heartbeat.name)

    def last(self, name: str) -> Heartbeat | None:
        with self.store.read() as db:
            row = db.table(TABLE).get(Query().name == name)
        if row is None:
            return None
        tick = row.get("tick_seconds")
        pid = row.get("pid")
        return Heartbeat(name, _moment(row.get("at")), _moment(row.get("as_of")),
                         pid if isinstance(pid, int) else None,
                         float(tick) if isinstance(tick, int | float) and not isinstance(tick, bool) else None)
