"""The hosted service's office registry over PostgreSQL: the ``offices`` rows marked ``hosted``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from psycopg.types.json import Jsonb

from ita_bot.domain.offices import OfficeExists, OfficeRecord
from ita_bot.store.pg.database import Database
from ita_bot.store.records import office_from_record, office_record

__all__ = ["PgOfficeRegistry"]


class PgOfficeRegistry:
    """The OfficeRegistry of a service on one database. ``name`` and ``disabled`` are copied out of the record
    for the operator's own SQL; the record in ``data`` is what the code reads."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, slug: str) -> OfficeRecord | None:
        with self.db.reading() as conn:
            row = conn.execute("SELECT data FROM offices WHERE slug = %s AND hosted", (slug,)).fetchone()
        return office_from_record(row["data"]) if row is not None else None

    def all(self) -> list[OfficeRecord]:
        with self.db.reading() as conn:
            rows = conn.execute("SELECT data FROM offices WHERE hosted ORDER BY slug").fetchall()
        return [office_from_record(r["data"]) for r in rows]

    def add(self, record: OfficeRecord) -> None:
        with self.db.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO offices (slug, name, disabled, hosted, data) VALUES (%s, %s, %s, true, %s)"
                " ON CONFLICT (slug) DO NOTHING",
                (record.slug, record.name, record.disabled, Jsonb(office_record(record))))
            if cur.rowcount == 0:
                raise OfficeExists(record.slug)

    def update(self, slug: str, **changes: Any) -> OfficeRecord:
        return self.change(slug, lambda _record: changes)

    def change(self, slug: str, edit: Callable[[OfficeRecord], Mapping[str, Any]]) -> OfficeRecord:
        with self.db.transaction() as conn:
            row = conn.execute("SELECT data FROM offices WHERE slug = %s AND hosted FOR UPDATE", (slug,)).fetchone()
            if row is None:
                raise KeyError(slug)
            current = office_from_record(row["data"])
            record = replace(current, **edit(current))
            conn.execute("UPDATE offices SET name = %s, disabled = %s, data = %s WHERE slug = %s",
                         (record.name, record.disabled, Jsonb(office_record(record)), slug))
        return record

    def remove(self, slug: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM offices WHERE slug = %s AND hosted", (slug,))
