"""Which backend an office runs on and whether its schema is this program's: for /healthz and `bot.py check`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ita_bot.domain.config import Config

if TYPE_CHECKING:
    from ita_bot.store.pg.schema import SchemaState

# PostgreSQL's modules are imported only where a database URL is set: a TinyDB process never loads psycopg
# (about 8 MiB per web worker).

__all__ = ["StorageStatus", "probe_database", "storage_status"]


@dataclass(frozen=True)
class StorageStatus:
    backend: str  # "tinydb" or "postgresql"
    schema_current: bool


def storage_status(config: Config) -> StorageStatus:
    """The configured backend and whether its schema is this program's, through the process's pool (DatabaseError
    when the database cannot be reached). TinyDB files carry their own layout version, which every read checks (a
    newer one is refused as unreadable), so a TinyDB store that reads is current."""
    if not config.database_url:
        return StorageStatus("tinydb", True)
    from ita_bot.store.pg.database import Database
    from ita_bot.store.pg.schema import schema_state

    return StorageStatus("postgresql", schema_state(Database.shared(config.database_url)).is_current)


def probe_database(url: str, *, timeout: float = 5.0) -> SchemaState:
    """Connect once, outside any pool, and read the schema version: DatabaseError within ``timeout`` seconds when
    the database cannot be reached (the pool waits much longer, for a server that is restarting)."""
    import psycopg
    from psycopg.rows import dict_row

    from ita_bot.store.pg.database import DatabaseError, redact_url
    from ita_bot.store.pg.schema import SchemaState, current_version

    try:
        with psycopg.connect(url, connect_timeout=max(1, round(timeout)), autocommit=True,
                             row_factory=dict_row) as conn:
            return SchemaState(current_version(conn))
    except psycopg.Error as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DatabaseError(f"PostgreSQL at {redact_url(url)} cannot be reached: {first}") from e
