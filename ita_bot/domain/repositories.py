"""The repository bundle: every store an office needs, each typed by the Protocol its backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ita_bot.domain.audit import AuditRepository
    from ita_bot.domain.notices import NoticeRepository
    from ita_bot.domain.people import PeopleRepository
    from ita_bot.domain.plan_book import PlanRepository
    from ita_bot.domain.reports import ReportRepository
    from ita_bot.domain.settings import SettingsRepository

__all__ = ["Repositories"]


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
