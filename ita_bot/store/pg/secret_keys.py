"""Secret keys in PostgreSQL (table "secret_keys"): made once per office and name, the same for every process."""

from __future__ import annotations

import re
import secrets

from ita_bot.store.pg.database import Database, DatabaseError

__all__ = ["PgSecretKeys"]

_NAME_RE = re.compile(r"[a-z0-9-]+")


class PgSecretKeys:
    """The SecretKeyRepository of one office."""

    def __init__(self, db: Database, office: str) -> None:
        self.db = db
        self.office = office

    def get_or_create(self, name: str) -> str:
        if not _NAME_RE.fullmatch(name):
            raise ValueError(f"secret key name {name!r} must be lowercase letters, digits and '-' only")
        with self.db.transaction() as conn:
            # The first insert wins; a process inserting at the same time waits for it and inserts nothing, and
            # then every one reads the winner's key. An empty key is replaced rather than handed out as "" (the
            # row lock of the update lets only one replacement win, too).
            conn.execute(
                "INSERT INTO secret_keys (office, name, value) VALUES (%s, %s, %s) ON CONFLICT (office, name) "
                "DO UPDATE SET value = EXCLUDED.value WHERE btrim(secret_keys.value) = ''",
                (self.office, name, secrets.token_urlsafe(48)))
            row = conn.execute("SELECT value FROM secret_keys WHERE office = %s AND name = %s",
                               (self.office, name)).fetchone()
        if row is None or not str(row["value"]).strip():
            raise DatabaseError(f"secret key {name!r} of office {self.office!r} could not be kept")  # no key shown
        return str(row["value"]).strip()
