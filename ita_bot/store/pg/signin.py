"""Sign-in links and console sessions in PostgreSQL (tables "signin_links" and "sessions"), by office."""

from __future__ import annotations

from datetime import datetime

from psycopg.types.json import Jsonb

from ita_bot.domain.signin import SignInLink, StoredSession
from ita_bot.store.pg.database import Database
from ita_bot.store.records import link_from_record, link_record, session_from_record, session_record

__all__ = ["PgSignIn"]


class PgSignIn:
    """The sign-in repository of one office; every method is one transaction (or a savepoint of the caller's)."""

    def __init__(self, db: Database, office: str) -> None:
        self.db = db
        self.office = office

    def add_link(self, link: SignInLink, *, limit: int, since: datetime, drop_before: datetime) -> bool:
        with self.db.transaction() as conn:
            # Two requests of one person at once must not both slip under the limit: they take turns on a lock
            # of (office, person); the person may have no link row yet to lock.
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                         (f"signin_links/{self.office}/{link.user_id}",))
            row = conn.execute(
                "SELECT count(*) AS n FROM signin_links WHERE office = %s AND user_id = %s AND created_at >= %s",
                (self.office, link.user_id, since)).fetchone()
            if row is not None and int(row["n"]) >= limit:
                return False
            conn.execute("DELETE FROM signin_links WHERE office = %s AND created_at < %s", (self.office, drop_before))
            conn.execute(
                "INSERT INTO signin_links (office, token_hash, user_id, created_at, data) VALUES (%s, %s, %s, %s, %s)",
                (self.office, link.hash, link.user_id, link.created_at, Jsonb(link_record(link))))
        return True

    def use_link(self, token_hash: str, at: datetime) -> SignInLink | None:
        with self.db.transaction() as conn:
            # The row lock makes a second user of the same link wait, then read it as the first left it (used).
            row = conn.execute("SELECT data FROM signin_links WHERE office = %s AND token_hash = %s FOR UPDATE",
                               (self.office, token_hash)).fetchone()
            if row is None:
                return None
            link = link_from_record(row["data"])
            if link.used_at is None and link.expires_at > at:
                conn.execute(
                    "UPDATE signin_links SET data = jsonb_set(data, '{used_at}', to_jsonb(%s::text)) "
                    "WHERE office = %s AND token_hash = %s", (at.isoformat(), self.office, token_hash))
            return link

    def add_session(self, session: StoredSession, *, drop_expired_at: datetime) -> None:
        record = session_record(session)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE office = %s AND expires_at < %s", (self.office, drop_expired_at))
            conn.execute(
                "INSERT INTO sessions (office, session_hash, user_id, expires_at, data) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (office, session_hash) DO UPDATE SET user_id = EXCLUDED.user_id, "
                "expires_at = EXCLUDED.expires_at, data = EXCLUDED.data",
                (self.office, session.hash, session.user_id, session.expires_at, Jsonb(record)))

    def session(self, session_hash: str) -> StoredSession | None:
        with self.db.reading() as conn:
            row = conn.execute("SELECT data FROM sessions WHERE office = %s AND session_hash = %s",
                               (self.office, session_hash)).fetchone()
        return session_from_record(row["data"]) if row else None

    def end_session(self, session_hash: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE office = %s AND session_hash = %s", (self.office, session_hash))

    def end_sessions_of(self, user_id: str) -> int:
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM sessions WHERE office = %s AND user_id = %s",
                                (self.office, user_id)).rowcount
