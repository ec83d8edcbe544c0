"""The office: one object wiring config, plans, repositories, report book, people and the meeting calendar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from datetime import date, datetime, time, timedelta
from typing import Literal

from ita_bot.domain.audit import AuditLog
from ita_bot.domain.config import Config, DocumentSettings
from ita_bot.domain.meetings import Cycle, MeetingCalendar
from ita_bot.domain.notices import Notices
from ita_bot.domain.people import People, Person
from ita_bot.domain.plan import Plan, PlanError
from ita_bot.domain.plan_book import PlanBook
from ita_bot.domain.progress import CycleView, cycle_view
from ita_bot.domain.reports import ReportBook
from ita_bot.domain.repositories import Repositories
from ita_bot.domain.roles import COMMITTEE, MANAGERS, is_manager
from ita_bot.domain.thai import BANGKOK, ThaiFormat, fiscal_year_of, fiscal_year_range

__all__ = ["NoPlanYet", "Office"]


class NoPlanYet(LookupError):
    """The office has no plan of any year yet (a new office before the managers make its first one): what needs
    a plan answers politely instead (chat, pages, console), and jobs that need one skip the office."""

    def __init__(self, organization: str) -> None:
        super().__init__(f"{organization or 'the office'} has no plan yet")


def _real_now() -> datetime:
    return datetime.now(BANGKOK)


class Office:
    """The domain services for one organization; free of Flask and LINE so every process can share it."""

    def __init__(
        self, config: Config, repositories: Repositories, *, now: Callable[[], datetime] | None = None
    ) -> None:
        self.config = config
        self.repositories = repositories
        # The one clock every part reads (pages, console, /healthz, jobs): a rehearsal or the demo replaces it,
        # so that no part runs on another day than the rest.
        self.now: Callable[[], datetime] = now or _real_now
        self.reports = ReportBook(repositories.reports)
        self.people = People(repositories.people)
        self.audit = AuditLog(repositories.audit)
        self.notices = Notices(repositories.notices)
        self.settings = repositories.settings
        self.publications = repositories.publications
        # Numbers, dates and labels in the office's digits, for every message, page and document.
        self.fmt = ThaiFormat(config.numerals)
        # Every fiscal year's plan: shipped ones, the configured one, and those saved after deployment.
        self.plans = PlanBook(config.plans_dir, repositories.plans, configured=config.plan_path,
                              reports=self.reports, notices=self.notices)
        # The configured plan must load at start-up: a broken file is a start-up error, not a later surprise.
        # An office configured without one (a new hosted office) starts with the plans it has saved, maybe none.
        if config.plan_path is not None and self.plans.get(self.plans.configured_year() or 0) is None:
            raise PlanError(config.plan_path, "(file)", "อ่านแผนที่ตั้งค่าไว้ไม่ได้")
        for fy in self.plans.years():
            self.plans.get(fy)

    # --- plans and calendar -------------------------------------------------------------------

    @property
    def plan(self) -> Plan:
        """The plan `[organization] plan` names: the deployment's own year (an office configured without one: its
        newest saved plan; NoPlanYet when it has none). The plan of a year is ``plan_for(fiscal_year)``; this one
        is for what does not depend on the year."""
        if self.config.plan_path is None:
            if (newest := self.plans.latest()) is None:
                raise NoPlanYet(self.config.organization_name)
            return newest
        plan = self.plans.get(self.plans.configured_year() or 0)
        if plan is None:
            raise PlanError(self.config.plan_path, "(file)", "อ่านแผนที่ตั้งค่าไว้ไม่ได้")
        return plan

    @property
    def has_plan(self) -> bool:
        """Whether the office has a plan of any year (a new office has none until its managers make one)."""
        return self.config.plan_path is not None or bool(self.plans.years())

    @property
    def organization_name(self) -> str:
        """The office's name: its plan's (``plan``), else the configured name (an office with no plan yet)."""
        return self.plan.organization.name if self.has_plan else self.config.organization_name

    def plan_for(self, fiscal_year: int) -> Plan | None:
        """The plan of a fiscal year, or None when that year has none yet."""
        return self.plans.get(fiscal_year)

    def latest_plan(self, day: date | None = None) -> Plan:
        """For information (divisions, scores) when a year may have no plan yet: the day's year's plan, else
        the newest one before it, else the configured one; NoPlanYet when the office has no plan at all."""
        if day is not None:
            fy = fiscal_year_of(day)
            return self.plans.get(fy) or self.plans.latest(before=fy) or self.plan
        return self.plans.latest() or self.plan

    def missing_plans(self, today: date) -> list[int]:
        """Fiscal years that should have a plan by now and have none: the current one, and in August and
        September the coming one (job `plan` tells the managers on the first working day of September)."""
        fy = fiscal_year_of(today)
        wanted = [fy, fy + 1] if today.month in (8, 9) else [fy]
        return [y for y in wanted if self.plan_for(y) is None]

    def meeting_overrides(self) -> dict[str, date]:
        return self.settings.meetings()

    def calendar(self) -> MeetingCalendar:
        """Built fresh per call: a /ประชุม override in another process must show at once."""
        return MeetingCalendar(self.config.schedule.meeting, self.meeting_overrides())

    def set_meeting(self, cycle_id: str, day: date, by: str | None, now: datetime) -> None:
        self.settings.set_meeting(cycle_id, day, by, now)

    def documents(self) -> DocumentSettings:
        """The monthly memo's header: what a manager set in the console, else the config's ``[documents]``."""
        row = self.settings.memo_header()
        base = self.config.documents
        return replace(base, **{f.name: row[f.name] for f in fields(base) if str(row.get(f.name) or "").strip()})

    def set_documents(self, values: DocumentSettings, by: str | None, now: datetime) -> None:
        """Keep the memo's header (a blank entry falls back to the config's)."""
        self.settings.set_memo_header(values, by, now)

    def clear_meeting(self, cycle_id: str) -> bool:
        """Back to the usual date (the rule and the holiday shift); False when the cycle had no set date."""
        return self.settings.clear_meeting(cycle_id)

    def cycle_at(self, now: datetime | date) -> Cycle:
        """The cycle a report made at that moment counts for: the first meeting on or after its day within the
        day's fiscal year; after the year's last meeting (up to 30 September), that last meeting's cycle, as cycles
        never cross a fiscal year. (Jobs look forward across the year's end instead: schedule.jobs.cycle_for.)"""
        day = now.date() if isinstance(now, datetime) else now
        return self.calendar().cycle_of(day)

    def view(self, cycle: Cycle, calendar: MeetingCalendar | None = None) -> CycleView:
        """Latest state and pending pairs of a cycle (withdrawn reports left out)."""
        cal = calendar or self.calendar()
        plan = self.plans.get(cycle.fiscal_year)
        # A year without a plan owes nothing yet (its measures are not set).
        pairs = plan.pairs() if plan is not None else ()
        # Reports before ``before`` are outside the cycle and on or before its meeting: only each pair's latest of
        # them can show, so the store hands over those and the rest, not the whole year.
        cycles = cal.cycles(cycle.fiscal_year)
        ids = [c.id for c in cycles]
        # A day is the cycle's only after every earlier cycle's meeting (cycle_of takes the first meeting on or
        # after it); a cycle not in the calendar's year gets the whole year.
        owed = plan is None or not plan.before_set(cycle)
        if cycle.id not in ids:
            return cycle_view(pairs, cal, self.reports.all(cycle.fiscal_year), cycle, owed=owed)
        earlier = [c.meeting for c in cycles[: ids.index(cycle.id)]]
        year_start = fiscal_year_range(cycle.fiscal_year)[0]
        before = min(max(earlier, default=year_start - timedelta(days=1)) + timedelta(days=1),
                     cycle.meeting + timedelta(days=1))
        start = datetime.combine(before, time(0), BANGKOK)
        return cycle_view(pairs, cal, self.reports.progress_since(cycle.fiscal_year, start), cycle, owed=owed)

    # --- roles and the staff group ------------------------------------------------------------

    def roles_of(self, user_id: str, person: Person | Literal[False] | None = False) -> frozenset[str]:
        """Roles from config plus roles claimed with a one-time code. ``person``: the user's record when the caller
        already read it (None: no record), so one event looks the person up once; False: read it here."""
        if person is False:
            person = self.people.get(user_id)
        claimed = frozenset(person.roles) if person else frozenset()
        return self.config.roles.roles_of(user_id) | claimed

    def is_manager(self, user_id: str) -> bool:
        return is_manager(self.roles_of(user_id))

    def is_committee(self, user_id: str) -> bool:
        return not self.roles_of(user_id).isdisjoint(COMMITTEE)

    def role_holders(self, role: str) -> list[str]:
        """User IDs holding a role, config first."""
        ids = list(self.config.roles.holders(role))
        ids += [p.user_id for p in self.people.all() if role in p.roles and p.user_id not in ids]
        return ids

    def managers(self) -> list[str]:
        out: list[str] = []
        for role in MANAGERS:
            out += [u for u in self.role_holders(role) if u not in out]
        return out

    def staff_group_id(self) -> str | None:
        """The staff group: config wins over /ตั้งกลุ่ม."""
        group = self.config.line.group_id or self.setting("group_id")
        return str(group) if group else None

    def setting(self, key: str, default: object = None) -> object:
        return self.settings.setting(key, default)

    def set_setting(self, key: str, value: object) -> None:
        self.settings.set_setting(key, value)
