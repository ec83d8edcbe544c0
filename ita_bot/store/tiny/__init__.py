"""The embedded backend: every repository interface implemented over TinyDB files in one data folder."""

from __future__ import annotations

from pathlib import Path

from ita_bot.domain.repositories import Repositories
from ita_bot.store.database import Store
from ita_bot.store.tiny.audit import TinyAudit
from ita_bot.store.tiny.conversations import TinyConversations
from ita_bot.store.tiny.evidence import TinyEvidence
from ita_bot.store.tiny.heartbeats import TinyHeartbeats
from ita_bot.store.tiny.inbox import FileInbox
from ita_bot.store.tiny.menus import TinyMenuState
from ita_bot.store.tiny.notices import TinyNotices
from ita_bot.store.tiny.people import TinyPeople
from ita_bot.store.tiny.plans import TinyPlans
from ita_bot.store.tiny.publications import TinyHealth, TinyPublications
from ita_bot.store.tiny.reports import TinyReports
from ita_bot.store.tiny.secret_keys import TinySecretKeys
from ita_bot.store.tiny.sent_log import TinySentLog, TinySlots
from ita_bot.store.tiny.settings import TinySettings
from ita_bot.store.tiny.signin import TinySignIn
from ita_bot.store.tiny.unit_of_work import TinyUnitOfWork

__all__ = ["MAIN_FILE", "tinydb_repositories"]

#: The main database's file name in a data folder when none is configured (ITA_BOT_DB's default's).
MAIN_FILE = "ita-bot.json"


def tinydb_repositories(folder: Path, *, store: Store | None = None) -> Repositories:
    """The repositories of the office whose data folder is ``folder``. ``store``: the process's open Store over
    that folder (one per process: it holds the parse cache, the locks, this thread's transactions, which nested
    writes across repositories share, and the writes the inbox's checkpoint must sync); a new one over
    ``folder/ita-bot.json`` when not given."""
    store = store if store is not None else Store(Path(folder) / MAIN_FILE)
    return Repositories(
        reports=TinyReports(store),
        people=TinyPeople(store),
        audit=TinyAudit(store),
        plans=TinyPlans(store),
        settings=TinySettings(store),
        notices=TinyNotices(store),
        signin=TinySignIn(store),
        conversations=TinyConversations(store),
        menus=TinyMenuState(store),
        heartbeats=TinyHeartbeats(store),
        slots=TinySlots(store),
        sent_log=TinySentLog(store),
        inbox=FileInbox(store.journal_dir, store=store),
        evidence=TinyEvidence(store.evidence_dir),
        secret_keys=TinySecretKeys(store.folder),
        health=TinyHealth(store),  # every database file parsed afresh, and the snapshots' files checked
        publications=TinyPublications(store),
        unit_of_work=TinyUnitOfWork(store),
    )
