"""People over PostgreSQL: the ``people``, ``counters``, ``role_codes`` and ``claim_attempts`` rows of one office."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict

from psycopg.types.json import Jsonb

from ita_bot.domain.people import Person, RoleCode
from ita_bot.store.pg.database import Connection, Database
from ita_bot.store.records import CODE_COUNTER, HANDLE_COUNTER, code_from_record, code_record, person_from_record

__all__ = ["PgPeople", "PgPeopleRecords", "ReadOnlyRecords"]


class ReadOnlyRecords(RuntimeError):
    """A write through ``PeopleRepository.read()``: a snapshot is for reading."""


class PgPeopleRecords:
    """PeopleRecords over one transaction of one office. The records (``data``) are the TinyDB rows: a person's
    ``asdict``, a code's fields without its number (which is the row's key, as TinyDB's document id was)."""

    def __init__(self, conn: Connection, office: str, *, writable: bool) -> None:
        self.conn = conn
        self.office = office
        self.writable = writable

    def _writing(self) -> Connection:
        if not self.writable:
            raise ReadOnlyRecords("people.read() gives a snapshot to read; change people inside people.write()")
        return self.conn

    def _next(self, counter: str, taken_sql: str) -> int:
        """One more than the highest ever given (the counter, or a higher number already stored), kept in the
        counter so that a removed one's number is never given again."""
        conn = self._writing()
        row = conn.execute(
            f"SELECT greatest((SELECT value FROM counters WHERE office = %s AND name = %s), ({taken_sql}), 0)"
            " AS taken",
            (self.office, counter, self.office),
        ).fetchone()
        value = int(row["taken"] if row else 0) + 1
        conn.execute(
            "INSERT INTO counters (office, name, value) VALUES (%s, %s, %s)"
            " ON CONFLICT (office, name) DO UPDATE SET value = excluded.value",
            (self.office, counter, value),
        )
        return value

    def get(self, user_id: str) -> Person | None:
        row = self.conn.execute("SELECT data FROM people WHERE office = %s AND user_id = %s",
                                (self.office, user_id)).fetchone()
        return person_from_record(row["data"]) if row is not None else None

    def all(self) -> list[Person]:
        rows = self.conn.execute("SELECT data FROM people WHERE office = %s ORDER BY seq", (self.office,)).fetchall()
        return [person_from_record(r["data"]) for r in rows]

    def put(self, person: Person) -> Person:
        conn = self._writing()
        stored = Person(**asdict(person))
        if not stored.handle:
            stored.handle = self._next(HANDLE_COUNTER, "SELECT max(handle) FROM people WHERE office = %s")
        # An update keeps the row's ``seq``: a person stays where they were first stored.
        conn.execute(
            "INSERT INTO people (office, user_id, handle, data) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (office, user_id) DO UPDATE SET handle = excluded.handle, data = excluded.data",
            (self.office, stored.user_id, stored.handle, Jsonb(asdict(stored))),
        )
        return Person(**asdict(stored))

    def remove(self, user_id: str) -> Person | None:
        row = self._writing().execute("DELETE FROM people WHERE office = %s AND user_id = %s RETURNING data",
                                      (self.office, user_id)).fetchone()
        return person_from_record(row["data"]) if row is not None else None

    def add_code(self, code: RoleCode) -> int:
        conn = self._writing()
        data = code_record(code)
        number = self._next(CODE_COUNTER, "SELECT max(number) FROM role_codes WHERE office = %s")
        conn.execute("INSERT INTO role_codes (office, number, hash, data) VALUES (%s, %s, %s, %s)",
                     (self.office, number, code.hash, Jsonb(data)))
        return number

    def codes(self) -> list[RoleCode]:
        rows = self.conn.execute("SELECT number, data FROM role_codes WHERE office = %s ORDER BY number",
                                 (self.office,)).fetchall()
        return [code_from_record(r["data"], r["number"]) for r in rows]

    def code(self, number: int) -> RoleCode | None:
        row = self.conn.execute("SELECT number, data FROM role_codes WHERE office = %s AND number = %s",
                                (self.office, number)).fetchone()
        return code_from_record(row["data"], row["number"]) if row is not None else None

    def code_by_hash(self, code_hash: str) -> RoleCode | None:
        row = self.conn.execute("SELECT number, data FROM role_codes WHERE office = %s AND hash = %s",
                                (self.office, code_hash)).fetchone()
        return code_from_record(row["data"], row["number"]) if row is not None else None

    def mark_used(self, number: int, user_id: str, at: str) -> None:
        self._writing().execute(
            "UPDATE role_codes SET data = data || %s WHERE office = %s AND number = %s",
            (Jsonb({"used_by": user_id, "used_at": at}), self.office, number),
        )

    def remove_code(self, number: int) -> None:
        self._writing().execute("DELETE FROM role_codes WHERE office = %s AND number = %s", (self.office, number))

    def failed_claims(self, user_id: str) -> list[str]:
        rows = self.conn.execute("SELECT at FROM claim_attempts WHERE office = %s AND user_id = %s ORDER BY seq",
                                 (self.office, user_id)).fetchall()
        return [r["at"] for r in rows]

    def add_failed_claim(self, user_id: str, at: str) -> None:
        self._writing().execute("INSERT INTO claim_attempts (office, user_id, at) VALUES (%s, %s, %s)",
                                (self.office, user_id, at))


class PgPeople:
    """The PeopleRepository of one office. A write is one transaction under the office's people lock, so
    writers in every process take turns (two claims of one role code: one binds, the other finds it used); a
    read, when it is the outermost transaction, is one REPEATABLE READ, READ ONLY snapshot."""

    def __init__(self, db: Database, office: str) -> None:
        self.db = db
        self.office = office

    @contextlib.contextmanager
    def read(self) -> Iterator[PgPeopleRecords]:
        if self.db.in_transaction:
            # Inside a caller's transaction (a write, an event) reads see what it has changed so far; a read has
            # nothing to roll back, so no savepoint (two round trips an event would pay for nothing).
            with self.db.reading() as conn:
                yield PgPeopleRecords(conn, self.office, writable=False)
            return
        with self.db.transaction() as conn:
            # The first statement of the transaction: every later read sees the same snapshot.
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield PgPeopleRecords(conn, self.office, writable=False)

    @contextlib.contextmanager
    def write(self) -> Iterator[PgPeopleRecords]:
        with self.db.transaction() as conn:
            # Taken before anything is read: what the block reads next is what the last writer committed.
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{self.office}/people",))
            yield PgPeopleRecords(conn, self.office, writable=True)
