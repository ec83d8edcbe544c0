"""The sent-log and the clock's slots on PostgreSQL: one row per key, each hold one transaction with the key locked.

``hold(key)`` is **a claim and its record** in one transaction. It first takes a transaction-level advisory
lock named by (table, office, key) — a lock on a key that may have no row yet — then reads the row
``FOR UPDATE``; ``put`` inserts or updates it, and the commit at the block's end releases both. A second
holder of the key (another thread, process or host) waits for that commit and then reads the committed
entry, so it sees the claim and decides accordingly (done, someone else's lease, expired lease, …): of any
number of clocks running at once without a leader, one claims a key and the push is made once.

The wait is short by construction: the job code holds a key only to read and write its entry, never across
the LINE call (``ita_bot.schedule.delivery``: the claim commits with a lease, the push runs, ``_finish``
holds the key again to record the outcome). A resume that finds a row locked therefore waits milliseconds and
then reads the lease the owner just wrote, which is what keeps it off the send — so no ``SKIP LOCKED`` path
is needed, and none would be safe to take without reading the lease.

Each row's ``data`` is the entry as TinyDB stores it (the key field included); ``seq`` keeps insertion order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from ita_bot.store.pg.database import Connection, Database

__all__ = ["PgHeld", "PgSentLog", "PgSlots"]


class PgHeld:
    """One entry held inside its transaction (``HeldEntry``): the key's lock is held until the commit."""

    def __init__(self, conn: Connection, table: sql.Identifier, office: str, field: str, key: str,
                 row: dict[str, Any] | None) -> None:
        self._conn, self._table, self._office, self._field, self._key = conn, table, office, field, key
        self._row = row

    @property
    def row(self) -> Mapping[str, Any] | None:
        return self._row

    def put(self, values: Mapping[str, Any]) -> None:
        if self._row is None:
            data = {self._field: self._key, **values}
            self._conn.execute(
                sql.SQL("INSERT INTO {} (office, {}, data) VALUES (%s, %s, %s)").format(
                    self._table, sql.Identifier(self._field)),
                (self._office, self._key, Jsonb(data)),
            )
        else:
            data = {**self._row, **values}  # a shallow change of those fields, as TinyDB's update
            self._conn.execute(
                sql.SQL("UPDATE {} SET data = %s WHERE office = %s AND {} = %s").format(
                    self._table, sql.Identifier(self._field)),
                (Jsonb(data), self._office, self._key),
            )
        self._row = data


class _Keyed:
    """One table of entries keyed by one field."""

    table = ""
    field = ""

    def __init__(self, db: Database, office: str) -> None:
        self.db, self.office = db, office

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[PgHeld]:
        table = sql.Identifier(self.table)
        with self.db.transaction() as conn:
            # The key's lock, whether or not its row exists yet; held until this transaction ends.
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                         (f"{self.table}|{self.office}|{key}",))
            # Read after the lock (a fresh snapshot per statement): the previous holder's commit is visible.
            found = conn.execute(
                sql.SQL("SELECT data FROM {} WHERE office = %s AND {} = %s FOR UPDATE").format(
                    table, sql.Identifier(self.field)),
                (self.office, key),
            ).fetchone()
            yield PgHeld(conn, table, self.office, self.field, key, dict(found["data"]) if found else None)

    def all(self) -> list[dict[str, Any]]:
        """Every committed entry (copies), oldest first."""
        with self.db.transaction() as conn:
            rows = conn.execute(
                sql.SQL("SELECT data FROM {} WHERE office = %s ORDER BY seq").format(sql.Identifier(self.table)),
                (self.office,),
            ).fetchall()
        return [dict(r["data"]) for r in rows]


class PgSentLog(_Keyed):
    """The sent-log repository: table ``sent_log``, keyed by ``key``."""

    table, field = "sent_log", "key"

    def entry(self, key: str) -> dict[str, Any] | None:
        with self.db.transaction() as conn:
            row = conn.execute("SELECT data FROM sent_log WHERE office = %s AND key = %s",
                               (self.office, key)).fetchone()
        return dict(row["data"]) if row else None

    def entries(self) -> list[dict[str, Any]]:
        return self.all()


class PgSlots(_Keyed):
    """The clock's slot repository: table ``slots``, keyed by ``slot``."""

    table, field = "slots", "slot"
