"""Heartbeats in the main database (table "heartbeats", one row per process name)."""

from __future__ import annotations

from tinydb import Query

from ita_bot.domain.heartbeats import Heartbeat
from ita_bot.store.database import Store
from ita_bot.store.records import heartbeat_from_record, heartbeat_record

__all__ = ["TinyHeartbeats"]

TABLE = "heartbeats"


class TinyHeartbeats:
    """The heartbeat repository over one Store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def beat(self, heartbeat: Heartbeat) -> None:
        row = heartbeat_record(heartbeat)
        with self.store.write() as db:
            db.table(TABLE).upsert(row, Query().name == heartbeat.name)

    def last(self, name: str) -> Heartbeat | None:
        with self.store.read() as db:
            row = db.table(TABLE).get(Query().name == name)
        if row is None:
            return None
        return heartbeat_from_record(name, row)
