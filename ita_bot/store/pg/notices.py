"""Notices over PostgreSQL: the ``notices`` rows of one office, one per key."""

from __future__ import annotations

from collections.abc import Callable

from psycopg.types.json import Jsonb

from ita_bot.domain.notices import Notice, NoticeRecord
from ita_bot.store.pg.database import Database
from ita_bot.store.records import notice_entry, notice_from_record, notice_record

__all__ = ["PgNotices"]


class PgNotices:
    """The NoticeRepository of one office: ``data`` is the TinyDB row (the notice with ``key``, ``told`` and
    ``resolved``); ``resolved`` is copied out to find the open ones, ``seq`` keeps the posting order."""

    def __init__(self, db: Database, office: str) -> None:
        self.db = db
        self.office = office

    def post(self, notice: Notice, key: str) -> Notice:
        data = notice_record(notice, key)
        with self.db.transaction() as conn:
            # Posting is claiming the key: of two processes posting it at once, the second inserts nothing.
            inserted = conn.execute(
                "INSERT INTO notices (office, key, resolved, data) VALUES (%s, %s, false, %s)"
                " ON CONFLICT (office, key) DO NOTHING RETURNING key",
                (self.office, key, Jsonb(data)),
            ).fetchone()
            if inserted is not None:
                return notice
            row = conn.execute("SELECT data FROM notices WHERE office = %s AND key = %s",
                               (self.office, key)).fetchone()
        assert row is not None  # a notice is never deleted
        return notice_from_record(row["data"])

    def unresolved(self) -> list[NoticeRecord]:
        with self.db.reading() as conn:
            rows = conn.execute("SELECT data FROM notices WHERE office = %s AND NOT resolved ORDER BY seq",
                                (self.office,)).fetchall()
        return [notice_entry(r["data"]) for r in rows]

    def tell(self, user_id: str, retire: Callable[[Notice], bool]) -> list[Notice]:
        out = []
        with self.db.transaction() as conn:
            # Locked while this person is told: two replies at once tell each notice once.
            rows = conn.execute(
                "SELECT key, data FROM notices WHERE office = %s AND NOT resolved ORDER BY seq FOR UPDATE",
                (self.office,),
            ).fetchall()
            for row in rows:
                data = row["data"]
                if retire(notice_from_record(data)):
                    conn.execute("UPDATE notices SET resolved = true, data = data || '{\"resolved\": true}'"
                                 " WHERE office = %s AND key = %s", (self.office, row["key"]))
                    continue
                told = list(data.get("told") or [])
                if user_id not in told:
                    conn.execute("UPDATE notices SET data = jsonb_set(data, '{told}', %s) WHERE office = %s"
                                 " AND key = %s", (Jsonb([*told, user_id]), self.office, row["key"]))
                    out.append(notice_from_record(data))
        return out

    def resolve(self, which: Callable[[NoticeRecord], bool]) -> int:
        if not any(which(r) for r in self.unresolved()):
            return 0  # most calls find nothing to retire: no row locked then
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT key, data FROM notices WHERE office = %s AND NOT resolved ORDER BY seq FOR UPDATE",
                (self.office,),
            ).fetchall()
            stale = [r["key"] for r in rows if which(notice_entry(r["data"]))]
            if stale:
                conn.execute("UPDATE notices SET resolved = true, data = data || '{\"resolved\": true}'"
                             " WHERE office = %s AND key = ANY(%s)", (self.office, stale))
        return len(stale)
