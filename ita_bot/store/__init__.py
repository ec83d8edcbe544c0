"""The storage backends: where an office's repositories live; ``open_office`` wires an office onto them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ita_bot.domain.config import Config
from ita_bot.domain.office import Office
from ita_bot.store.database import Store
from ita_bot.store.tiny import tinydb_repositories

__all__ = ["backend_name", "open_office"]


def backend_name(config: Config) -> str:
    """The backend ``config`` selects: "postgresql" when a database URL is set, else "tinydb"."""
    return "postgresql" if config.database_url else "tinydb"


def open_office(config: Config, *, now: Callable[[], datetime] | None = None) -> Office:
    """The office of ``config`` on its configured backend: PostgreSQL when ``database_url`` is set (its schema
    must be current: DatabaseError naming `python bot.py migrate` otherwise), else TinyDB files in ``db_path``."""
    if config.database_url:
        from ita_bot.store.pg import Database, postgresql_repositories
        from ita_bot.store.pg.schema import ensure_office, require_current

        db = Database.shared(config.database_url)
        require_current(db)
        ensure_office(db, config.office)
        return Office(config, postgresql_repositories(db, config.office), now=now)
    store = Store(Path(config.db_path))  # the one Store of this office in this process, shared by its repositories
    return Office(config, tinydb_repositories(store.folder, store=store), now=now)
