"""The office: one object wiring config, plans, store, report book, people and the meeting calendar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from datetime import date, datetime

from tinydb import Query

from ita_bot.domain.config import Config, DocumentSettings
from ita_bot.domain.meetings import Cycle, MeetingCalendar
from ita_bot.domain.people import People
from ita_bot.domain.plan import Plan, PlanError
from ita_bot.domain.plan_book import PlanBook
from ita_bot.domain.progress import CycleView, cycle_view
from ita_bot.domain.reports import ReportBook
from ita_bot.domain.repositories import Repositories
from ita_bot.domain.roles import COMMITTEE, MANAGERS
from ita_bot.domain.thai import BANGKOK, ThaiFormat, fiscal_year_of
from ita_bot.store.database import Store

__all__ = ["Office"]


def _real_now() -> datetime:
    return datetime.now(BANGKOK)


class Office:
    """The domain services for one organization; free of Flask and LINE so every process can share it."""

    def __init__(
        self, config: Config, repositories: Repositories, *, store: Store | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.repositories = repositories
        # The one clock every part reads (pages, console, /healthz, jobs): a rehearsal or the demo replaces it,
        # so that no part runs on another day than the rest.
        self.now: Callable[[], datetime] = now or _real_now
        self.store = store or Store(config.db_path)
        self.reports = ReportBook(self.store)
        self.people = People(self.store)
        # Numbers, dates and labels in the office's digits, for every message, page and document.
        self.fmt = ThaiFormat(config.numerals)
        # Every fiscal year's plan: shipped ones, the configured one, and those saved into the data folder.
        self.plans = PlanBook(config.plans_dir, self.store.folder, self.store, configured=config.plan_path,
                              reports=self.reports)
        # The configured plan must load at start-up: a broken file is a start-up error, not a later surprise.
        if self.plans.get(self.plans.configured_year() or 0) is None:
            raise PlanError(config.plan_path, "(file)", "อ่านแผนที่ตั้งค่าไว้ไม่ได้")
        for fy in self.plans.years():
            self.plans.get(fy)

    # --- plans and calendar -------------------------------------------------------------------

    @property
    def plan(self) -> Plan:
        """The plan `[organization] plan` names: the deployment's own year. The plan in force at a moment is
        ``plan_at(day)``; this one is for what does not depend on the year (the organization's name)."""
        plan = self.plans.get(self.plans.configured_year() or 0)
        if plan is None:
            raise PlanError(self.config.plan_path, "(file)", "อ่านแผนที่ตั้งค่าไว้ไม่ได้")
        return plan

    def plan_for(self, fiscal_year: int) -> Plan | None:
        """The plan of a fiscal year, or None when that year has none yet."""
        return self.plans.get(fiscal_year)

    def plan_at(self, day: date) -> Plan | None:
        """The plan in force on a day: its fiscal year's plan, or None."""
        return self.plans.get(fiscal_year_of(day))

    def latest_plan(self, day: date | None = None) -> Plan:
        """For information (divisions, scores) when a year may have no plan yet: the day's year's plan, else
        the newest one before it, else the configured one."""
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
        with self.store.read() as db:
            return {r["cycle"]: date.fromisoformat(r["date"]) for r in db.table("meetings").all()}

    def calendar(self) -> MeetingCalendar:
        """Built fresh per call: a /ประชุม override in another process must show at once."""
        return MeetingCalendar(self.config.schedule.meeting, self.meeting_overrides())

    def set_meeting(self, cycle_id: str, day: date, by: str | None, now: datetime) -> None:
        with self.store.write() as db:
            db.table("meetings").upsert(
                {"cycle": cycle_id, "date": day.isoformat(), "set_by": by, "set_at": now.isoformat()},
                Query().cycle == cycle_id,
            )

    def documents(self) -> DocumentSettings:
        """The monthly memo's header: what a manager set in the console, else the config's ``[documents]``."""
        with self.store.read() as db:
            row = next(iter(db.table("documents").all()), {})
        base = self.config.documents
        return replace(base, **{f.name: row[f.name] for f in fields(base) if str(row.get(f.name) or "").strip()})

    def set_documents(self, values: DocumentSettings, by: str | None, now: datetime) -> None:
        """Keep the memo's header in the store (a blank entry falls back to the config's)."""
        with self.store.write() as db:
            db.table("documents").upsert(
                {"key": "memo", **{f.name: getattr(values, f.name) for f in fields(values)}, "set_by": by,
                 "set_at": now.isoformat()},
                Query().key == "memo",
            )

    def clear_meeting(self, cycle_id: str) -> bool:
        """Back to the usual date (the rule and the holiday shift); False when the cycle had no set date."""
        with self.store.write() as db:
            return bool(db.table("meetings").remove(Query().cycle == cycle_id))

    def cycle_at(self, now: datetime | date) -> Cycle:
        """The current cycle as of a moment: the first meeting on or after that day."""
        day = now.date() if isinstance(now, datetime) else now
        return self.calendar().cycle_of(day)

    def view(self, cycle: Cycle, calendar: MeetingCalendar | None = None) -> CycleView:
        """Latest state and pending pairs of a cycle (withdrawn reports left out)."""
        cal = calendar or self.calendar()
        plan = self.plans.get(cycle.fiscal_year)
        # A year without a plan owes nothing yet (its measures are not set).
        pairs = plan.pairs() if plan is not None else ()
        return cycle_view(pairs, cal, self.reports.all(cycle.fiscal_year), cycle)

    # --- roles and the staff group ------------------------------------------------------------

    def roles_of(self, user_id: str) -> frozenset[str]:
        """Roles from config plus roles claimed with a one-time code."""
        person = self.people.get(user_id)
        claimed = frozenset(person.roles) if person else frozenset()
        return self.config.roles.roles_of(user_id) | claimed

    def is_manager(self, user_id: str) -> bool:
        return not self.roles_of(user_id).isdisjoint(MANAGERS)

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
        return self.config.line.group_id or self.setting("group_id")

    def setting(self, key: str, default: object = None) -> object:
        with self.store.read() as db:
            row = db.table("settings").get(Query().key == key)
        return row["value"] if row else default

    def set_setting(self, key: str, value: object) -> None:
        with self.store.write() as db:
            db.table("settings").upsert({"key": key, "value": value}, Query().key == key)
