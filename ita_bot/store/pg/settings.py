"""Run-time settings over PostgreSQL: the ``settings``, ``meetings`` and ``memo_headers`` rows of one office."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from typing import Any

from psycopg.types.json import Jsonb

from ita_bot.domain.config import DocumentSettings
from ita_bot.store.pg.database import Database

__all__ = ["PgSettings"]


class PgSettings:
    """The SettingsRepository of one office: a row per setting key ({"key", "value"}), per moved meeting
    ({"cycle", "date", "set_by", "set_at"}), and one for the memo header, as the TinyDB tables keep them."""

    def __init__(self, db: Database, office: str) -> None:
        self.db = db
        self.office = office

    def setting(self, key: str, default: object = None) -> object:
        with self.db.reading() as conn:
            row = conn.execute("SELECT data FROM settings WHERE office = %s AND key = %s",
                               (self.office, key)).fetchone()
        return row["data"].get("value") if row is not None else default

    def set_setting(self, key: str, value: object) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO settings (office, key, data) VALUES (%s, %s, %s)"
                " ON CONFLICT (office, key) DO UPDATE SET data = excluded.data",
                (self.office, key, Jsonb({"key": key, "value": value})),
            )

    def meetings(self) -> dict[str, date]:
        with self.db.reading() as conn:
            rows = conn.execute("SELECT data FROM meetings WHERE office = %s ORDER BY cycle",
                                (self.office,)).fetchall()
        return {r["data"]["cycle"]: date.fromisoformat(r["data"]["date"]) for r in rows}

    def set_meeting(self, cycle_id: str, day: date, by: str | None, at: datetime) -> None:
        data = {"cycle": cycle_id, "date": day.isoformat(), "set_by": by, "set_at": at.isoformat()}
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO meetings (office, cycle, data) VALUES (%s, %s, %s)"
                " ON CONFLICT (office, cycle) DO UPDATE SET data = excluded.data",
                (self.office, cycle_id, Jsonb(data)),
            )

    def clear_meeting(self, cycle_id: str) -> bool:
        with self.db.transaction() as conn:
            cur = conn.execute("DELETE FROM meetings WHERE office = %s AND cycle = %s", (self.office, cycle_id))
            return cur.rowcount > 0

    def memo_header(self) -> dict[str, Any]:
        with self.db.reading() as conn:
            row = conn.execute("SELECT data FROM memo_headers WHERE office = %s", (self.office,)).fetchone()
        data: dict[str, Any] = row["data"] if row is not None else {}
        return {f.name: data[f.name] for f in fields(DocumentSettings) if f.name in data}

    def set_memo_header(self, values: DocumentSettings, by: str | None, at: datetime) -> None:
        data = {"key": "memo", **{f.name: getattr(values, f.name) for f in fields(values)}, "set_by": by,
                "set_at": at.isoformat()}
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO memo_headers (office, data) VALUES (%s, %s)"
                " ON CONFLICT (office) DO UPDATE SET data = excluded.data",
                (self.office, Jsonb(data)),
            )
