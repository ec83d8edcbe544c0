"""The hosted service's backend: every repository interface implemented over PostgreSQL, every row by office."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ita_bot.domain.repositories import Repositories
from ita_bot.store.pg.conversations import PgConversations
from ita_bot.store.pg.database import Database
from ita_bot.store.pg.evidence import PgEvidence
from ita_bot.store.pg.health import PgHealth
from ita_bot.store.pg.heartbeats import PgHeartbeats
from ita_bot.store.pg.inbox import PgInbox
from ita_bot.store.pg.menus import PgMenuState
from ita_bot.store.pg.secret_keys import PgSecretKeys
from ita_bot.store.pg.sent_log import PgSentLog, PgSlots
from ita_bot.store.pg.signin import PgSignIn

__all__ = ["Database", "postgresql_parts", "postgresql_repositories"]


def postgresql_parts(db: Database, office: str) -> dict[str, Any]:
    """The repositories built on PostgreSQL so far, by ``Repositories`` field name."""
    return {
        "inbox": PgInbox(db, office),
        "sent_log": PgSentLog(db, office),
        "slots": PgSlots(db, office),
        "signin": PgSignIn(db, office),
        "conversations": PgConversations(db, office),
        "menus": PgMenuState(db, office),
        "heartbeats": PgHeartbeats(db, office),
        "secret_keys": PgSecretKeys(db, office),
        "evidence": PgEvidence(db, office),
        "health": PgHealth(db, office),
    }


def postgresql_repositories(db: Database, office: str, folder: Path) -> Repositories:
    """The repositories of ``office`` in ``db``. While the backend is being built, the parts not yet on PostgreSQL
    are TinyDB's over ``folder``."""
    from ita_bot.store.tiny import tinydb_repositories

    return dataclasses.replace(tinydb_repositories(folder), **postgresql_parts(db, office))
