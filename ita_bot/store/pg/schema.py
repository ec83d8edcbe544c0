"""The PostgreSQL schema: numbered migrations, applied in order by ``python bot.py migrate``, and its version check."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ita_bot.store.pg.database import Connection, Database, DatabaseError, redact_url

__all__ = ["LATEST", "MIGRATIONS", "Migration", "SchemaState", "current_version", "ensure_office", "migrate",
           "require_current", "schema_state"]

_FOLDER = Path(__file__).resolve().parent / "migrations"
_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")
# Two `migrate` runs at once (two hosts deploying together) take turns on this lock instead of racing.
_LOCK_KEY = 0x17A_B07


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


def _migrations() -> tuple[Migration, ...]:
    found = []
    for path in sorted(_FOLDER.glob("*.sql")):
        match = _NAME.fullmatch(path.name)
        if match is None:
            raise RuntimeError(f"migration file name not NNNN_name.sql: {path.name}")
        found.append(Migration(int(match[1]), match[2], path))
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError("migrations must be numbered 0001, 0002, … without gaps")
    return tuple(found)


MIGRATIONS = _migrations()
#: The schema version this program runs on.
LATEST = MIGRATIONS[-1].version


@dataclass(frozen=True)
class SchemaState:
    current: int  # 0: an empty database
    latest: int = LATEST

    @property
    def is_current(self) -> bool:
        return self.current == self.latest

    @property
    def is_newer(self) -> bool:
        return self.current > self.latest


_VERSIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)"""


def current_version(conn: Connection) -> int:
    """The schema version recorded by the migrations applied to the database of ``conn`` (dict rows); 0 when
    none has been."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL AS present").fetchone()
    if not exists or not exists["present"]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) AS version FROM schema_migrations").fetchone()
    return int(row["version"]) if row else 0


def schema_state(db: Database) -> SchemaState:
    """The database's schema version as recorded by the migrations applied to it."""
    with db.transaction() as conn:
        return SchemaState(current_version(conn))


def _newer_error(db: Database, state: SchemaState) -> DatabaseError:
    return DatabaseError(
        f"the database {redact_url(db.url)} has schema version {state.current}, newer than this program's "
        f"{state.latest}: upgrade the program (never run an older one against it)"
    )


def migrate(db: Database) -> list[Migration]:
    """Apply every migration the database lacks, in order and in one transaction (PostgreSQL's DDL is
    transactional: a migration that fails leaves the database as it was); the ones applied, none when the schema
    is current. DatabaseError, changing nothing, when the database's schema is newer than this program's."""
    applied: list[Migration] = []
    with db.transaction() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(_VERSIONS_TABLE)
        state = SchemaState(current_version(conn))
        if state.is_newer:
            raise _newer_error(db, state)
        for migration in MIGRATIONS[state.current:]:
            with conn.transaction():
                conn.execute(migration.sql().encode())
                conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                             (migration.version, migration.name))
            applied.append(migration)
    return applied


def require_current(db: Database) -> None:
    """DatabaseError unless the schema is exactly this program's: older asks for `migrate`, newer for an upgrade."""
    state = schema_state(db)
    if state.is_newer:
        raise _newer_error(db, state)
    if not state.is_current:
        raise DatabaseError(
            f"the database {redact_url(db.url)} has schema version {state.current}, this program needs "
            f"{state.latest}: run `python bot.py migrate` first"
        )


def ensure_office(db: Database, slug: str, name: str = "") -> None:
    """Make sure ``slug`` is an office of this database (a single-office deployment's first start adds it)."""
    with db.transaction() as conn:
        conn.execute("INSERT INTO offices (slug, name) VALUES (%s, %s) ON CONFLICT (slug) DO NOTHING", (slug, name))
