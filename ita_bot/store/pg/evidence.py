"""Evidence files' bytes in PostgreSQL (table "evidence", bytea): web hosts share nothing but the database."""

from __future__ import annotations

from ita_bot.domain.evidence import StoredEvidence, safe_name
from ita_bot.domain.thai import BANGKOK
from ita_bot.store.pg.database import Database

__all__ = ["PgEvidence"]


class PgEvidence:
    """The EvidenceRepository of one office: a name is a row's key, checked as on every backend (``safe_name``)."""

    def __init__(self, db: Database, office: str) -> None:
        self.db = db
        self.office = office

    def save(self, name: str, data: bytes) -> None:
        if not safe_name(name):
            raise ValueError(f"evidence name {name!r} does not name an evidence file")
        with self.db.transaction() as conn:
            # A row is written whole in its transaction, so a reader sees the old bytes or the new, never part.
            # Saving a name again replaces it (a replayed event's download), as a file is replaced on TinyDB.
            conn.execute(
                "INSERT INTO evidence (office, name, content) VALUES (%s, %s, %s) ON CONFLICT (office, name) "
                "DO UPDATE SET content = EXCLUDED.content, stored_at = now()",
                (self.office, name, bytes(data)))

    def open(self, name: str) -> StoredEvidence | None:
        if not safe_name(name):
            return None
        with self.db.reading() as conn:
            row = conn.execute("SELECT content, stored_at FROM evidence WHERE office = %s AND name = %s",
                               (self.office, name)).fetchone()
        if row is None:
            return None
        return StoredEvidence(bytes(row["content"]), row["stored_at"].astimezone(BANGKOK))
