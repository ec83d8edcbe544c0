"""The sent-log and the clock's slots on PostgreSQL: a key's claim is its row (a unique key), each hold one transaction.

The claim is a unique key
-------------------------
``hold(key)`` is **a claim and its record** in one transaction. It claims the key's row with
``INSERT … ON CONFLICT DO NOTHING`` — the primary key (office, key) is the unique key, so of any number of
holders at once exactly one inserts it and the others wait on that insert — and then locks the row with
``SELECT … FOR UPDATE``; ``put`` updates it, and the commit at the block's end releases it. A second holder
of the key (another thread, process or host) waits for that commit and then reads the committed entry, so it
sees the claim and decides accordingly (done, someone else's lease, expired lease, …): of any number of
clocks running at once without a leader, one claims a key and the push is made once. No advisory lock is
needed: the row exists from the claim on, so a row lock covers a key that had no entry yet.

The placeholder: ``data`` NULL means "no entry yet". The row a hold inserts only so that it can lock it has
``data`` NULL until the holder ``put``s; ``row`` reads it as None, and if it is still NULL when the hold ends,
the hold deletes it before its commit. So a placeholder is never committed: other transactions never see it
(an insert and a delete in one transaction leave nothing), a holder waiting on its insert inserts its own,
and an exception rolls both back. ``entry``/``entries``/``all`` and ``hold_interrupted`` skip NULL rows all
the same, for a caller reading inside its own hold's transaction. Each hold draws a ``seq`` value even when
the row exists (the insert's default is evaluated before its conflict is found): ``seq`` only orders rows,
so gaps are harmless.

Resumes: whichever clock finds it
---------------------------------
The job code holds a key only to read and write its entry, never across the LINE call
(``ita_bot.schedule.delivery``: the claim commits with a lease, the push runs, ``_finish`` holds the key again
to record the outcome). ``hold_interrupted(now)`` takes the oldest "sending" entry whose lease and
``next_attempt_at`` are over with ``SELECT … FOR UPDATE SKIP LOCKED LIMIT 1``: a row another clock holds is
passed over rather than waited for, and a row another clock re-leased and committed after this statement's
snapshot is re-checked on its newest version by PostgreSQL (it no longer qualifies), so two clocks never
take the same entry. The lease test is done in SQL, so SKIP LOCKED and LIMIT 1 see only candidates: the
stored times are ISO 8601 text with their UTC offset (``2021-02-22T09:00:00+07:00``, what TinyDB stores),
which ``::timestamptz`` reads exactly, whatever the session's time zone, and compares with ``now`` (a
timezone-aware datetime) to the microsecond, as Python compares them (``ita_bot.domain.sent_log.is_interrupted``).

Each row's ``data`` is the entry as TinyDB stores it (the key field included); ``seq`` keeps insertion order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Mapping
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from ita_bot.store.pg.database import Connection, Database

__all__ = ["PgHeld", "PgSentLog", "PgSlots"]


class PgHeld:
    """One entry held inside its transaction (``HeldEntry``): its row is locked until the commit."""

    def __init__(self, conn: Connection, table: sql.Identifier, office: str, field: str, key: str,
                 row: dict[str, Any] | None) -> None:
        self._conn, self._table, self._office, self._field, self._key = conn, table, office, field, key
        self._row = row

    @property
    def row(self) -> Mapping[str, Any] | None:
        return self._row

    def put(self, values: Mapping[str, Any]) -> None:
        # The row is there (the claim inserted it); a placeholder becomes the entry, an entry takes a shallow
        # change of those fields, as TinyDB's update.
        data = {self._field: self._key, **values} if self._row is None else {**self._row, **values}
        self._conn.execute(
            sql.SQL("UPDATE {} SET data = %s WHERE office = %s AND {} = %s").format(
                self._table, sql.Identifier(self._field)),
            (Jsonb(data), self._office, self._key),
        )
        self._row = data

    def drop_placeholder(self) -> None:
        """End of a hold that never put: delete the row inserted only to be locked (nothing to commit)."""
        if self._row is None:
            self._conn.execute(
                sql.SQL("DELETE FROM {} WHERE office = %s AND {} = %s AND data IS NULL").format(
                    self._table, sql.Identifier(self._field)),
                (self._office, self._key),
            )


class _Keyed:
    """One table of entries keyed by one field."""

    table = ""
    field = ""

    def __init__(self, db: Database, office: str) -> None:
        self.db, self.office = db, office

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[PgHeld]:
        table, field = sql.Identifier(self.table), sql.Identifier(self.field)
        with self.db.transaction() as conn:
            while True:
                # The claim: the unique key admits one row per key. A holder racing ours waits here until our
                # transaction ends, then finds our committed entry (or, our placeholder gone, inserts its own).
                conn.execute(
                    sql.SQL("INSERT INTO {} (office, {}, data) VALUES (%s, %s, NULL) ON CONFLICT DO NOTHING")
                    .format(table, field),
                    (self.office, key),
                )
                # Lock it; read after the insert (a fresh snapshot per statement), so a committed entry is seen.
                found = conn.execute(
                    sql.SQL("SELECT data FROM {} WHERE office = %s AND {} = %s FOR UPDATE").format(table, field),
                    (self.office, key),
                ).fetchone()
                if found is not None:
                    break
                # Deleted between the two statements (only a placeholder ever is): claim it again.
            data = found["data"]
            held = PgHeld(conn, table, self.office, self.field, key, dict(data) if data is not None else None)
            yield held
            held.drop_placeholder()  # not reached on an exception: the rollback discards the row anyway

    def all(self) -> list[dict[str, Any]]:
        """Every committed entry (copies), oldest first."""
        with self.db.reading() as conn:
            rows = conn.execute(
                sql.SQL("SELECT data FROM {} WHERE office = %s AND data IS NOT NULL ORDER BY seq").format(
                    sql.Identifier(self.table)),
                (self.office,),
            ).fetchall()
        return [dict(r["data"]) for r in rows]


class PgSentLog(_Keyed):
    """The sent-log repository: table ``sent_log``, keyed by ``key``."""

    table, field = "sent_log", "key"

    def entry(self, key: str) -> dict[str, Any] | None:
        with self.db.reading() as conn:
            row = conn.execute("SELECT data FROM sent_log WHERE office = %s AND key = %s AND data IS NOT NULL",
                               (self.office, key)).fetchone()
        return dict(row["data"]) if row else None

    def entries(self) -> list[dict[str, Any]]:
        return self.all()

    def count_sent(self, since: datetime, until: datetime) -> int:
        # The stored times are ISO text with their offset (see above): ::timestamptz compares them exactly.
        with self.db.reading() as conn:
            row = conn.execute(
                """
                SELECT count(*) AS n FROM sent_log
                WHERE office = %s AND data ->> 'state' = 'done'
                  AND NULLIF(data ->> 'updated_at', '')::timestamptz >= %s
                  AND NULLIF(data ->> 'updated_at', '')::timestamptz < %s
                """,
                (self.office, since, until),
            ).fetchone()
        return int(row["n"]) if row else 0

    @contextlib.contextmanager
    def hold_interrupted(self, now: datetime, skip: Collection[str] = ()) -> Iterator[PgHeld | None]:
        with self.db.transaction() as conn:
            # NULLIF: an empty time reads as none, as in Python; a JSON null is SQL NULL through ->> already.
            found = conn.execute(
                """
                SELECT key, data FROM sent_log
                WHERE office = %(office)s AND data ->> 'state' = 'sending'
                  AND coalesce(NULLIF(data ->> 'lease_until', '')::timestamptz <= %(now)s, true)
                  AND coalesce(NULLIF(data ->> 'next_attempt_at', '')::timestamptz <= %(now)s, true)
                  AND NOT (key = ANY(%(skip)s))
                ORDER BY seq
                LIMIT 1
                FOR UPDATE SKIP LOCKED
                """,
                {"office": self.office, "now": now, "skip": list(skip)},
            ).fetchone()
            yield (None if found is None else
                   PgHeld(conn, sql.Identifier(self.table), self.office, self.field, found["key"],
                          dict(found["data"])))


class PgSlots(_Keyed):
    """The clock's slot repository: table ``slots``, keyed by ``slot``."""

    table, field = "slots", "slot"
