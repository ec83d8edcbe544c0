"""Open guided-report drafts in the main database (table "conversations"), one row per (chat, person)."""

from __future__ import annotations

from dataclasses import asdict

from tinydb import Query
from tinydb.queries import QueryInstance

from ita_bot.domain.conversations import Draft
from ita_bot.store.database import Store
from ita_bot.store.records import draft_from_record

__all__ = ["TinyConversations"]

TABLE = "conversations"


def _key(chat_id: str, user_id: str) -> QueryInstance:
    q = Query()
    return (q.chat_id == chat_id) & (q.user_id == user_id)


class TinyConversations:
    """The conversation repository over one Store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, chat_id: str, user_id: str) -> Draft | None:
        with self.store.read() as db:
            row = db.table(TABLE).get(_key(chat_id, user_id))
        if row is None:
            return None
        return draft_from_record(row)

    def put(self, draft: Draft) -> None:
        with self.store.write() as db:
            db.table(TABLE).upsert(asdict(draft), _key(draft.chat_id, draft.user_id))

    def remove(self, chat_id: str, user_id: str) -> bool:
        # Every report closes the draft, and most have none: looking first spares a locked write
        # (and an encoding of the whole main file) per report. Only this chat's events, which run
        # one at a time, open or close this draft, so it cannot appear in between.
        with self.store.read() as db:
            if not db.table(TABLE).contains(_key(chat_id, user_id)):
                return False
        with self.store.write() as db:
            return bool(db.table(TABLE).remove(_key(chat_id, user_id)))
