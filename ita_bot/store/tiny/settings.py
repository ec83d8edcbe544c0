"""Run-time settings over TinyDB: the ``settings``, ``meetings`` and ``documents`` tables of the main database."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from typing import Any

from tinydb import Query

from ita_bot.domain.config import DocumentSettings
from ita_bot.store.database import Store

__all__ = ["TinySettings"]


class TinySettings:
    """The SettingsRepository: a row per setting key, per moved meeting, and one for the memo header."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def setting(self, key: str, default: object = None) -> object:
        with self.store.read() as db:
            row = db.table("settings").get(Query().key == key)
        return row["value"] if row else default

    def set_setting(self, key: str, value: object) -> None:
        with self.store.write() as db:
            db.table("settings").upsert({"key": key, "value": value}, Query().key == key)

    def meetings(self) -> dict[str, date]:
        with self.store.read() as db:
            return {r["cycle"]: date.fromisoformat(r["date"]) for r in db.table("meetings").all()}

    def set_meeting(self, cycle_id: str, day: date, by: str | None, at: datetime) -> None:
        with self.store.write() as db:
            db.table("meetings").upsert(
                {"cycle": cycle_id, "date": day.isoformat(), "set_by": by, "set_at": at.isoformat()},
                Query().cycle == cycle_id,
            )

    def clear_meeting(self, cycle_id: str) -> bool:
        with self.store.write() as db:
            return bool(db.table("meetings").remove(Query().cycle == cycle_id))

    def memo_header(self) -> dict[str, Any]:
        with self.store.read() as db:
            row: dict[str, Any] = next(iter(db.table("documents").all()), {})
        return {f.name: row[f.name] for f in fields(DocumentSettings) if f.name in row}

    def set_memo_header(self, values: DocumentSettings, by: str | None, at: datetime) -> None:
        with self.store.write() as db:
            db.table("documents").upsert(
                {"key": "memo", **{f.name: getattr(values, f.name) for f in fields(values)}, "set_by": by,
                 "set_at": at.isoformat()},
                Query().key == "memo",
            )
