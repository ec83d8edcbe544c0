"""Heartbeats in PostgreSQL (table "heartbeats", one row per office and process name)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from ita_bot.domain.heartbeats import Heartbeat
from ita_bot.store.pg.database import Database

__all__ = ["PgHeartbeats", "heartbeat_from_record"]


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def heartbeat_from_record(name: str, data: Any) -> Heartbeat:
    """The beat a row's ``data`` holds (the TinyDB row's record); unreadable parts are None, as on TinyDB."""
    tick = data.get("tick_seconds")
    pid = data.get("pid")
    return Heartbeat(name, _moment(data.get("at")), _moment(data.get("as_of")),
                     pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
                     float(tick) if isinstance(tick, int | float) and not isinstance(tick, bool) else None)


class PgHeartbeats:
    """The heartbeat repository of one office."""

    def __init__(self, db: Database, office: str) -> None:
        self.db = db
        self.office = office

    def beat(self, heartbeat: Heartbeat) -> None:
        record = {"name": heartbeat.name, "at": heartbeat.at.isoformat() if heartbeat.at else None,
                  "as_of": heartbeat.as_of.isoformat() if heartbeat.as_of else None, "pid": heartbeat.pid,
                  "tick_seconds": heartbeat.tick_seconds}
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO heartbeats (office, name, data) VALUES (%s, %s, %s) "
                         "ON CONFLICT (office, name) DO UPDATE SET data = EXCLUDED.data",
                         (self.office, heartbeat.name, Jsonb(record)))

    def last(self, name: str) -> Heartbeat | None:
        with self.db.reading() as conn:
            row = conn.execute("SELECT data FROM heartbeats WHERE office = %s AND name = %s",
                               (self.office, name)).fetchone()
        return heartbeat_from_record(name, row["data"]) if row else None
