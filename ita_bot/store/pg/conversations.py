"""Open guided-report drafts in PostgreSQL (table "drafts"), one row per (office, chat, person)."""

from __future__ import annotations

from dataclasses import asdict

from psycopg.types.json import Jsonb

from ita_bot.domain.conversations import Draft
from ita_bot.store.pg.database import Database
from ita_bot.store.records import draft_from_record

__all__ = ["PgConversations"]


class PgConversations:
    """The conversation repository of one office."""

    def __init__(self, db: Database, office: str) -> None:
        self.db = db
        self.office = office

    def get(self, chat_id: str, user_id: str) -> Draft | None:
        with self.db.reading() as conn:
            row = conn.execute("SELECT data FROM drafts WHERE office = %s AND chat_id = %s AND user_id = %s",
                               (self.office, chat_id, user_id)).fetchone()
        return draft_from_record(row["data"]) if row else None

    def put(self, draft: Draft) -> None:
        with self.db.writing() as conn:  # one statement: no savepoint, no BEGIN/COMMIT
            conn.execute(
                "INSERT INTO drafts (office, chat_id, user_id, data) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (office, chat_id, user_id) DO UPDATE SET data = EXCLUDED.data",
                (self.office, draft.chat_id, draft.user_id, Jsonb(asdict(draft))))

    def remove(self, chat_id: str, user_id: str) -> bool:
        with self.db.writing() as conn:  # one statement: no savepoint, no BEGIN/COMMIT
            return conn.execute("DELETE FROM drafts WHERE office = %s AND chat_id = %s AND user_id = %s",
                                (self.office, chat_id, user_id)).rowcount > 0
