"""Heartbeats in PostgreSQL (table "heartbeats", one row per office and process name)."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from ita_bot.domain.heartbeats import Heartbeat
from ita_bot.store.pg.database import Database
from ita_bot.store.records import heartbeat_from_record, heartbeat_record

__all__ = ["PgHeartbeats"]


class PgHeartbeats:
    """The heartbeat repository of one office."""

    def __init__(self, db: Database, office: str) -> None:
        self.db = db
        self.office = office

    def beat(self, heartbeat: Heartbeat) -> None:
        record = heartbeat_record(heartbeat)
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO heartbeats (office, name, data) VALUES (%s, %s, %s) "
                         "ON CONFLICT (office, name) DO UPDATE SET data = EXCLUDED.data",
                         (self.office, heartbeat.name, Jsonb(record)))

    def last(self, name: str) -> Heartbeat | None:
        with self.db.reading() as conn:
            row = conn.execute("SELECT data FROM heartbeats WHERE office = %s AND name = %s",
                               (self.office, name)).fetchone()
        return heartbeat_from_record(name, row["data"]) if row else None
