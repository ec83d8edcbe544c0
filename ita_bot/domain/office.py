"""The office: one object wiring config, plans, store, report book, people and the meeting calendar."""

from __future__ import annotations

from datetime import date, datetime

from tinydb import Query

from ita_bot.domain.config import Config
from ita_bot.domain.meetings import Cycle, MeetingCalendar
from ita_bot.domain.people import People
from ita_bot.domain.plan import Plan, load_plan, load_plans
from ita_bot.domain.progress import CycleView, cycle_view
from ita_bot.domain.reports import ReportBook
from ita_bot.domain.roles import COMMITTEE, MANAGERS
from ita_bot.domain.thai import fiscal_year_of
from ita_bot.store.database import Store

__all__ = ["Office"]

class Office:
    """The domain services for one organization; free of Flask and LINE so every process can share it."""

    def __init__(self, config: Config, *, store: Store | None = None) -> None:
        self.config = config
        self.plan: Plan = load_plan(config.plan_path)
        # Other fiscal years' plans (history pages); the configured one wins for its year.
        self.plans: dict[int, Plan] = {**load_plans(config.plans_dir), self.plan.fiscal_year: self.plan}
        self.store = store or Store(config.db_path)
        self.reports = ReportBook(self.store)
        self.people = People(self.store)

    # --- plans and calendar -------------------------------------------------------------------

    def plan_for(self, fiscal_year: int) -> Plan | None:
        return self.plans.get(fiscal_year)

    def plan_at(self, day: date) -> Plan:
        """The plan of the fiscal year a date falls in, else the current plan."""
        return self.plans.get(fiscal_year_of(day), self.plan)

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

    def cycle_at(self, now: datetime | date) -> Cycle:
        """The current cycle as of a moment: the first meeting on or after that day."""
        day = now.date() if isinstance(now, datetime) else now
        return self.calendar().cycle_of(day)

    def view(self, cycle: Cycle, calendar: MeetingCalendar | None = None) -> CycleView:
        """Latest state and pending pairs of a cycle (withdrawn reports left out)."""
        cal = calendar or self.calendar()
        plan = self.plans.get(cycle.fiscal_year, self.plan)
        return cycle_view(plan.pairs(), cal, self.reports.all(cycle.fiscal_year), cycle)

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
