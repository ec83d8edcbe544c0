"""Notices for the managers: problems the bot could not tell anyone else (quota, unreachable chair, uncertain sends)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from tinydb import Query

from ita_bot.store.database import Store

__all__ = ["Notice", "NoticeKind", "Notices"]

NoticeKind = Literal["quota", "unreachable_chair", "uncertain_send", "failed_send", "richmenu"]
"""What a notice is about: LINE's message quota, a chair the bot cannot reach, a push that may or may not have
arrived, a push that failed, rich-menu links LINE would not update."""


@dataclass(frozen=True)
class Notice:
    id: str
    kind: NoticeKind
    text: str  # polite Thai, shown to managers as is; never contains LINE user IDs
    at: str


class Notices:
    """A small board of notices: each manager sees each notice once, in their next reply."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, kind: NoticeKind, text: str, now: datetime, *, key: str | None = None) -> Notice:
        """Post a notice; the same key posts only once (a rerun must not repeat itself)."""
        key = key or uuid.uuid4().hex
        with self.store.write() as db:
            table = db.table("notices")
            row = table.get(Query().key == key)
            if row:
                return Notice(row["id"], row["kind"], row["text"], row["at"])
            notice = Notice(uuid.uuid4().hex, kind, text, now.isoformat())
            table.insert({**notice.__dict__, "key": key, "told": [], "resolved": False})
        return notice

    def active(self) -> list[Notice]:
        """Unresolved notices (shown on /healthz)."""
        with self.store.read() as db:
            rows = db.table("notices").search(Query().resolved == False)  # noqa: E712 (TinyDB query)
        return [Notice(r["id"], r["kind"], r["text"], r["at"]) for r in rows]

    def take_for(self, user_id: str) -> list[Notice]:
        """Notices this manager has not seen yet, marked as seen by them."""
        with self.store.write() as db:
            table = db.table("notices")
            out = []
            for row in table.search(Query().resolved == False):  # noqa: E712
                if user_id not in row["told"]:
                    table.update({"told": [*row["told"], user_id]}, doc_ids=[row.doc_id])
                    out.append(Notice(row["id"], row["kind"], row["text"], row["at"]))
        return out

    def resolve(self, kind: NoticeKind, *, key_prefix: str = "") -> None:
        """Retire notices of a kind (only those whose key starts with key_prefix, when given)."""
        with self.store.write() as db:
            table = db.table("notices")
            for row in table.search((Query().kind == kind) & (Query().resolved == False)):  # noqa: E712
                if str(row.get("key", "")).startswith(key_prefix):
                    table.update({"resolved": True}, doc_ids=[row.doc_id])
