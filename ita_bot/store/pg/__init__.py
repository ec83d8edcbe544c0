"""The hosted service's backend: every repository interface implemented over PostgreSQL, every row by office."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ita_bot.domain.repositories import Repositories
from ita_bot.store.pg.audit import PgAudit
from ita_bot.store.pg.database import Database
from ita_bot.store.pg.notices import PgNotices
from ita_bot.store.pg.people import PgPeople
from ita_bot.store.pg.plans import PgPlans
from ita_bot.store.pg.reports import PgReports
from ita_bot.store.pg.settings import PgSettings
from ita_bot.store.pg.unit_of_work import PgUnitOfWork

__all__ = ["Database", "postgresql_parts", "postgresql_repositories"]


def postgresql_parts(db: Database, office: str) -> dict[str, Any]:
    """The repositories built on PostgreSQL so far, by ``Repositories`` field name."""
    return {
        "reports": PgReports(db, office),
        "people": PgPeople(db, office),
        "audit": PgAudit(db, office),
        "plans": PgPlans(db, office),
        "settings": PgSettings(db, office),
        "notices": PgNotices(db, office),
        "unit_of_work": PgUnitOfWork(db),
    }


def postgresql_repositories(db: Database, office: str, folder: Path) -> Repositories:
    """The repositories of ``office`` in ``db``. While the backend is being built, the parts not yet on PostgreSQL
    are TinyDB's over ``folder``."""
    from ita_bot.store.tiny import tinydb_repositories

    return dataclasses.replace(tinydb_repositories(folder), **postgresql_parts(db, office))
