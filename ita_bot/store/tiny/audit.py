"""The change log over TinyDB: the ``audit`` table of the main database."""

from __future__ import annotations

from typing import Any

from ita_bot.domain.audit import AuditEntry
from ita_bot.store.database import Store
from ita_bot.store.records import audit_from_record, audit_record

__all__ = ["TinyAudit"]

_TABLE = "audit"


class TinyAudit:
    """The AuditRepository: one row per entry, read back newest first."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, entry: AuditEntry) -> None:
        with self.store.write() as db:
            db.table(_TABLE).insert(audit_record(entry))

    def newest(self, limit: int) -> list[AuditEntry]:
        with self.store.read() as db:
            rows: list[Any] = list(db.table(_TABLE).all())
        # Newest first; within one moment, the later record first (insertion order, by document id).
        rows.sort(key=lambda r: (r["at"], r.doc_id), reverse=True)
        return [audit_from_record(r) for r in rows[:limit]]
