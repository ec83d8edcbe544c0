"""The sent-log database ("sent-log.json", its own file so chat writes and heartbeats never rewrite it):
table "sends" (one row per push) and table "slots" (the clock's slots)."""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from tinydb import Query
from tinydb.table import Table

from ita_bot.domain.sent_log import is_interrupted
from ita_bot.domain.thai import stored_time
from ita_bot.store.database import Store

__all__ = ["SENT_LOG", "TinySentLog", "TinySlots"]

SENT_LOG = "sent-log"


class _Held:
    """A row of one table inside a store.write() transaction, found by one key field."""

    def __init__(self, table: Table, field: str, key: str) -> None:
        self.table, self.field, self.key = table, field, key
        self._row = table.get(Query()[field] == key)

    @property
    def row(self) -> Mapping[str, Any] | None:
        return self._row

    def put(self, values: Mapping[str, Any]) -> None:
        if self._row is None:
            doc_id = self.table.insert({self.field: self.key, **values})
        else:
            doc_id = self._row.doc_id
            self.table.update(dict(values), doc_ids=[doc_id])
        self._row = self.table.get(doc_id=doc_id)


class _Keyed:
    """One table of the sent-log database, one row per key."""

    table = ""
    field = ""

    def __init__(self, store: Store) -> None:
        self.store = store

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[_Held]:
        # The database's file lock is the claim's arbiter across processes; the write commits on exit.
        with self.store.write(SENT_LOG) as db:
            yield _Held(db.table(self.table), self.field, key)

    def all(self) -> list[dict[str, Any]]:
        with self.store.read(SENT_LOG) as db:
            return [dict(r) for r in db.table(self.table).all()]


class TinySentLog(_Keyed):
    """The sent-log repository: table "sends", keyed by ``key``."""

    table, field = "sends", "key"

    def entry(self, key: str) -> dict[str, Any] | None:
        with self.store.read(SENT_LOG) as db:
            row = db.table(self.table).get(Query().key == key)
        return dict(row) if row else None

    def entries(self) -> list[dict[str, Any]]:
        return self.all()

    def count_sent(self, since: datetime, until: datetime) -> int:
        with self.store.read(SENT_LOG) as db:
            rows = db.table(self.table).all()
        return sum(1 for r in rows if r.get("state") == "done" and r.get("updated_at")
                   and since <= stored_time(r["updated_at"]) < until)

    @contextlib.contextmanager
    def hold_interrupted(self, now: datetime, skip: Collection[str] = ()) -> Iterator[_Held | None]:
        def first(rows: Iterable[Mapping[str, Any]]) -> str | None:
            return next((r[self.field] for r in rows if r[self.field] not in skip and is_interrupted(r, now)),
                        None)

        # Most ticks find nothing: look in a snapshot first, so they do not queue for the file lock.
        with self.store.read(SENT_LOG) as db:
            candidate = first(db.table(self.table).all())
        if candidate is None:
            yield None
            return
        # The file lock admits one holder at a time, so "no one else holds it" is every entry; look again
        # under it, as another process may have taken the entry since the snapshot.
        with self.store.write(SENT_LOG) as db:
            table = db.table(self.table)
            key = first(table.all())
            yield None if key is None else _Held(table, self.field, key)


class TinySlots(_Keyed):
    """The clock's slot repository: table "slots", keyed by ``slot``."""

    table, field = "slots", "slot"
