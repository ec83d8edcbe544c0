"""The change log over PostgreSQL: the ``audit`` rows of one office, append-only."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from ita_bot.domain.audit import AuditEntry
from ita_bot.store.pg.database import Database
from ita_bot.store.records import audit_from_record, audit_record

__all__ = ["PgAudit"]


class PgAudit:
    """The AuditRepository of one office: one row per entry (``data`` is the TinyDB record), newest first by
    its moment, and within one moment the later recorded first (the row's identity)."""

    def __init__(self, db: Database, office: str) -> None:
        self.db = db
        self.office = office

    def add(self, entry: AuditEntry) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO audit (office, at, data) VALUES (%s, %s, %s)",
                         (self.office, entry.at, Jsonb(audit_record(entry))))

    def newest(self, limit: int) -> list[AuditEntry]:
        with self.db.reading() as conn:
            rows = conn.execute("SELECT data FROM audit WHERE office = %s ORDER BY at DESC, id DESC LIMIT %s",
                                (self.office, max(limit, 0))).fetchall()
        return [audit_from_record(r["data"]) for r in rows]
