"""The hosted service's backend: every repository interface implemented over PostgreSQL, every row by office."""

from __future__ import annotations

from ita_bot.domain.repositories import Repositories
from ita_bot.store.pg.audit import PgAudit
from ita_bot.store.pg.conversations import PgConversations
from ita_bot.store.pg.database import Database
from ita_bot.store.pg.evidence import PgEvidence
from ita_bot.store.pg.health import PgHealth
from ita_bot.store.pg.heartbeats import PgHeartbeats
from ita_bot.store.pg.inbox import PgInbox
from ita_bot.store.pg.menus import PgMenuState
from ita_bot.store.pg.notices import PgNotices
from ita_bot.store.pg.people import PgPeople
from ita_bot.store.pg.plans import PgPlans
from ita_bot.store.pg.publications import PgPublications
from ita_bot.store.pg.reports import PgReports
from ita_bot.store.pg.secret_keys import PgSecretKeys
from ita_bot.store.pg.sent_log import PgSentLog, PgSlots
from ita_bot.store.pg.settings import PgSettings
from ita_bot.store.pg.signin import PgSignIn
from ita_bot.store.pg.unit_of_work import PgUnitOfWork

__all__ = ["Database", "postgresql_repositories"]


def postgresql_repositories(db: Database, office: str) -> Repositories:
    """The repositories of ``office`` in ``db`` (the process's pool, shared by every office it serves)."""
    return Repositories(
        reports=PgReports(db, office),
        people=PgPeople(db, office),
        audit=PgAudit(db, office),
        plans=PgPlans(db, office),
        settings=PgSettings(db, office),
        notices=PgNotices(db, office),
        signin=PgSignIn(db, office),
        conversations=PgConversations(db, office),
        menus=PgMenuState(db, office),
        heartbeats=PgHeartbeats(db, office),
        slots=PgSlots(db, office),
        sent_log=PgSentLog(db, office),
        inbox=PgInbox(db, office),
        evidence=PgEvidence(db, office),
        secret_keys=PgSecretKeys(db, office),
        health=PgHealth(db, office),
        publications=PgPublications(db, office),
        unit_of_work=PgUnitOfWork(db),
    )
