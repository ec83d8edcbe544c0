"""The hosted service's office registry over TinyDB: table ``offices`` of ``offices.json`` in the service's folder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from tinydb import Query

from ita_bot.domain.offices import OfficeExists, OfficeRecord
from ita_bot.store.database import Store
from ita_bot.store.records import office_from_record, office_record

__all__ = ["TinyOfficeRegistry"]


class TinyOfficeRegistry:
    """The OfficeRegistry of a service whose offices each keep a TinyDB data folder under ``folder/offices``."""

    def __init__(self, folder: Path) -> None:
        self.store = Store(Path(folder) / "offices.json")

    def get(self, slug: str) -> OfficeRecord | None:
        with self.store.read() as db:
            row = db.table("offices").get(Query().slug == slug)
        return office_from_record(row) if row else None

    def all(self) -> list[OfficeRecord]:
        with self.store.read() as db:
            rows = db.table("offices").all()
        return sorted((office_from_record(r) for r in rows), key=lambda r: r.slug)

    def add(self, record: OfficeRecord) -> None:
        with self.store.write() as db:
            table = db.table("offices")
            if table.get(Query().slug == record.slug):
                raise OfficeExists(record.slug)
            table.insert(office_record(record))

    def update(self, slug: str, **changes: Any) -> OfficeRecord:
        return self.change(slug, lambda _record: changes)

    def change(self, slug: str, edit: Callable[[OfficeRecord], Mapping[str, Any]]) -> OfficeRecord:
        with self.store.write() as db:
            table = db.table("offices")
            row = table.get(Query().slug == slug)
            if not row:
                raise KeyError(slug)
            current = office_from_record(row)
            record = replace(current, **edit(current))
            table.update(office_record(record), Query().slug == slug)
        return record

    def remove(self, slug: str) -> None:
        with self.store.write() as db:
            db.table("offices").remove(Query().slug == slug)
