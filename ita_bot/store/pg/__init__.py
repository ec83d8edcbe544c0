"""The hosted service's backend: every repository interface implemented over PostgreSQL, every row by office."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ita_bot.domain.repositories import Repositories
from ita_bot.store.pg.database import Database
from ita_bot.store.pg.inbox import PgInbox
from ita_bot.store.pg.sent_log import PgSentLog, PgSlots

__all__ = ["Database", "postgresql_parts", "postgresql_repositories"]


def postgresql_parts(db: Database, office: str) -> dict[str, Any]:
    """The repositories built on PostgreSQL so far, by ``Repositories`` field name."""
    return {
        "inbox": PgInbox(db, office),
        "sent_log": PgSentLog(db, office),
        "slots": PgSlots(db, office),
    }


def postgresql_repositories(db: Database, office: str, folder: Path) -> Repositories:
    """The repositories of ``office`` in ``db``. While the backend is being built, the parts not yet on PostgreSQL
    are TinyDB's over ``folder``."""
    from ita_bot.store.tiny import tinydb_repositories

    return dataclasses.replace(tinydb_repositories(folder), **postgresql_parts(db, office))
