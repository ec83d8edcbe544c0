"""Sign-in links and console sessions in the main database (tables "signin_links" and "console_sessions")."""

from __future__ import annotations

from datetime import datetime

from tinydb import Query

from ita_bot.domain.signin import SignInLink, StoredSession
from ita_bot.store.database import Store
from ita_bot.store.records import link_from_record, link_record, session_from_record, session_record

__all__ = ["TinySignIn"]

LINKS = "signin_links"
SESSIONS = "console_sessions"


class TinySignIn:
    """The sign-in repository over one Store; every method is one locked transaction of the main database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_link(self, link: SignInLink, *, limit: int, since: datetime, drop_before: datetime) -> bool:
        with self.store.write() as db:
            links = db.table(LINKS)
            after = since.isoformat()
            if len([r for r in links.search(Query().user_id == link.user_id) if r["created_at"] >= after]) >= limit:
                return False
            links.remove(Query().created_at < drop_before.isoformat())
            links.insert(link_record(link))
        return True

    def use_link(self, token_hash: str, at: datetime) -> SignInLink | None:
        with self.store.write() as db:
            links = db.table(LINKS)
            row = links.get(Query().hash == token_hash)
            if row is None:
                return None
            link = link_from_record(row)
            if link.used_at is None and link.expires_at > at:
                links.update({"used_at": at.isoformat()}, doc_ids=[row.doc_id])
            return link

    def add_session(self, session: StoredSession, *, drop_expired_at: datetime) -> None:
        with self.store.write() as db:
            sessions = db.table(SESSIONS)
            sessions.remove(Query().expires_at < drop_expired_at.isoformat())
            sessions.insert(session_record(session))

    def session(self, session_hash: str) -> StoredSession | None:
        with self.store.read() as db:
            row = db.table(SESSIONS).get(Query().hash == session_hash)
        if row is None:
            return None
        return session_from_record(row)

    def end_session(self, session_hash: str) -> None:
        with self.store.write() as db:
            db.table(SESSIONS).remove(Query().hash == session_hash)

    def end_sessions_of(self, user_id: str) -> int:
        with self.store.write() as db:
            return len(db.table(SESSIONS).remove(Query().user_id == user_id))
