"""The repository bundle: every store an office needs, each typed by the Protocol its backend implements."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ita_bot.domain.audit import AuditRepository
    from ita_bot.domain.conversations import ConversationRepository
    from ita_bot.domain.evidence import EvidenceRepository
    from ita_bot.domain.heartbeats import HeartbeatRepository
    from ita_bot.domain.inbox import Inbox
    from ita_bot.domain.job_slots import SlotRepository
    from ita_bot.domain.menu_state import MenuStateRepository
    from ita_bot.domain.notices import NoticeRepository
    from ita_bot.domain.people import PeopleRepository
    from ita_bot.domain.plan_book import PlanRepository
    from ita_bot.domain.publication import PublicationRepository
    from ita_bot.domain.reports import ReportRepository
    from ita_bot.domain.secret_keys import SecretKeyRepository
    from ita_bot.domain.sent_log import SentLogRepository
    from ita_bot.domain.settings import SettingsRepository
    from ita_bot.domain.signin import SignInRepository

__all__ = ["Repositories", "StorageHealth", "UnitOfWork"]


class StorageHealth(Protocol):
    """The backend as a whole, for the pre-flight check (`python bot.py check`)."""

    def check(self) -> None:
        """Read everything stored afresh: StorageError listing each part that is unreadable (corrupt,
        truncated) or written by a newer program (its schema newer than this one's)."""
        ...


class UnitOfWork(Protocol):
    """Several repository calls made one transaction: a change and its audit entry are kept together or not
    at all."""

    def atomic(self) -> AbstractContextManager[None]:
        """A transaction that every repository call made inside it, on this thread, joins: all are kept when the
        block ends normally, none when it raises. Keep the block short (it holds what the calls lock) and do
        nothing slow or outside the store inside it (no LINE calls)."""
        ...


@dataclass(frozen=True)
class Repositories:
    """One office's repositories on one backend; ``ita_bot.store`` builds it, ``Office`` reaches everything
    stored through it. Fields are typed by the Protocols in the domain modules that own each concept."""

    reports: ReportRepository
    people: PeopleRepository
    audit: AuditRepository
    plans: PlanRepository
    settings: SettingsRepository
    notices: NoticeRepository
    # The processes' own state: console sign-in, guided-report drafts, the rich menus in use, heartbeats,
    # the clock's slots, the sent-log, and the webhook's inbox (the write-ahead log of every other one).
    signin: SignInRepository
    conversations: ConversationRepository
    menus: MenuStateRepository
    heartbeats: HeartbeatRepository
    slots: SlotRepository
    sent_log: SentLogRepository
    inbox: Inbox
    # Evidence files' bytes, the processes' shared secret keys, and the pre-flight check of everything stored.
    evidence: EvidenceRepository
    secret_keys: SecretKeyRepository
    health: StorageHealth
    # The year pages' approvals, frozen ITAS snapshots and main-site link checks.
    publications: PublicationRepository
    # Several calls as one transaction (a manager's change and its audit entry).
    unit_of_work: UnitOfWork
