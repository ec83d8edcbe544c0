"""Notices over TinyDB: the ``notices`` table of the main database."""

from __future__ import annotations

from collections.abc import Callable

from tinydb import Query

from ita_bot.domain.notices import Notice, NoticeRecord
from ita_bot.store.database import Store
from ita_bot.store.records import notice_entry, notice_from_record, notice_record

__all__ = ["TinyNotices"]

_TABLE = "notices"


class TinyNotices:
    """The NoticeRepository: one row per notice, with ``key``, ``told`` and ``resolved``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def post(self, notice: Notice, key: str) -> Notice:
        with self.store.write() as db:
            table = db.table(_TABLE)
            row = table.get(Query().key == key)
            if row:
                return notice_from_record(row)
            table.insert(notice_record(notice, key))
        return notice

    def unresolved(self) -> list[NoticeRecord]:
        with self.store.read() as db:
            rows = db.table(_TABLE).search(Query().resolved == False)  # noqa: E712 (TinyDB query)
        return [notice_entry(r) for r in rows]

    def tell(self, user_id: str, retire: Callable[[Notice], bool]) -> list[Notice]:
        with self.store.write() as db:
            table = db.table(_TABLE)
            out = []
            for row in table.search(Query().resolved == False):  # noqa: E712
                if retire(notice_from_record(row)):
                    table.update({"resolved": True}, doc_ids=[row.doc_id])
                    continue
                if user_id not in row["told"]:
                    table.update({"told": [*row["told"], user_id]}, doc_ids=[row.doc_id])
                    out.append(notice_from_record(row))
        return out

    def resolve(self, which: Callable[[NoticeRecord], bool]) -> int:
        with self.store.read() as db:  # most calls find nothing to retire: no write then
            if not any(which(notice_entry(r)) for r in db.table(_TABLE).search(Query().resolved == False)):  # noqa: E712
                return 0
        with self.store.write() as db:
            table = db.table(_TABLE)
            stale = [r.doc_id for r in table.search(Query().resolved == False) if which(notice_entry(r))]  # noqa: E712
            table.update({"resolved": True}, doc_ids=stale)
        return len(stale)
