"""People over TinyDB: the ``people``, ``counters``, ``codes`` and ``claim_attempts`` tables of the main database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict

from tinydb import Query, TinyDB

from ita_bot.domain.people import Person, RoleCode
from ita_bot.store.database import Store
from ita_bot.store.records import CODE_COUNTER, HANDLE_COUNTER, code_from_record, code_record, person_from_record

__all__ = ["TinyPeople"]


class _Records:
    """PeopleRecords over one TinyDB transaction (or snapshot) of the main database."""

    def __init__(self, db: TinyDB) -> None:
        self.db = db

    def get(self, user_id: str) -> Person | None:
        row = self.db.table("people").get(Query().user_id == user_id)
        return person_from_record(row) if row else None

    def all(self) -> list[Person]:
        return [person_from_record(r) for r in self.db.table("people").all()]

    def _next(self, counter: str, taken: Iterable[int]) -> int:
        """One more than the highest ever given (the counter, or a higher number already stored: data from
        before the counter), kept in the counter so that a removed one's number is never given again."""
        counters = self.db.table("counters")
        row = counters.get(Query().name == counter)
        value = max([row["value"] if row else 0, *taken]) + 1
        counters.upsert({"name": counter, "value": value}, Query().name == counter)
        return value

    def put(self, person: Person) -> Person:
        stored = Person(**asdict(person))
        if not stored.handle:
            stored.handle = self._next(HANDLE_COUNTER, (r.get("handle") or 0 for r in self.db.table("people").all()))
        self.db.table("people").upsert(asdict(stored), Query().user_id == stored.user_id)
        return stored

    def remove(self, user_id: str) -> Person | None:
        table = self.db.table("people")
        row = table.get(Query().user_id == user_id)
        if row is None:
            return None
        table.remove(doc_ids=[row.doc_id])
        return person_from_record(row)

    def add_code(self, code: RoleCode) -> int:
        row = code_record(code)
        table = self.db.table("codes")
        # The number is the document id (as it always was, so older data reads the same), but chosen from the
        # counter: TinyDB would give the newest removed code's id again.
        number = self._next(CODE_COUNTER, (r.doc_id for r in table.all()))
        return table.insert(table.document_class(row, doc_id=number))

    def codes(self) -> list[RoleCode]:
        return sorted((code_from_record(r, r.doc_id) for r in self.db.table("codes").all()), key=lambda c: c.number)

    def code(self, number: int) -> RoleCode | None:
        row = self.db.table("codes").get(doc_id=number)
        return code_from_record(row, row.doc_id) if row is not None else None

    def code_by_hash(self, code_hash: str) -> RoleCode | None:
        row = self.db.table("codes").get(Query().hash == code_hash)
        return code_from_record(row, row.doc_id) if row is not None else None

    def mark_used(self, number: int, user_id: str, at: str) -> None:
        self.db.table("codes").update({"used_by": user_id, "used_at": at}, doc_ids=[number])

    def remove_code(self, number: int) -> None:
        self.db.table("codes").remove(doc_ids=[number])

    def failed_claims(self, user_id: str) -> list[str]:
        return [a["at"] for a in self.db.table("claim_attempts").search(Query().user_id == user_id)]

    def add_failed_claim(self, user_id: str, at: str) -> None:
        self.db.table("claim_attempts").insert({"user_id": user_id, "at": at})


class TinyPeople:
    """The PeopleRepository: a read is a snapshot, a write one locked transaction of the main database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @contextlib.contextmanager
    def read(self) -> Iterator[_Records]:
        with self.store.read() as db:
            yield _Records(db)

    @contextlib.contextmanager
    def write(self) -> Iterator[_Records]:
        with self.store.write() as db:
            yield _Records(db)
