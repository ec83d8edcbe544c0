"""The scheduled jobs' slots: when each job runs for a calendar, one plan for the clock, the demo and `check`.

A slot belongs to an occasion: the meeting for the reminder, digest and summary, the milestone's date
for a milestone reminder, the month of job plan's day. :func:`job_slots` lists every slot whose occasion
is still to come, so the clock (what is due now), the demo's simulated time (what falls between two
moments) and ``python bot.py check`` (what comes next) read one plan and cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

from ita_bot.domain.config import ScheduleSettings
from ita_bot.domain.meetings import Cycle, MeetingCalendar
from ita_bot.domain.office import Office
from ita_bot.domain.thai import BANGKOK, fiscal_year_of
from ita_bot.schedule.jobs import cycle_for, days_before_of
from ita_bot.schedule.milestones import reminder_times
from ita_bot.schedule.plan_job import plan_slot_days

__all__ = ["MEETING_JOBS", "Slot", "job_slots", "milestone_slots", "slots_of"]

#: The jobs whose slots belong to a meeting (a passed meeting's slots are never run).
MEETING_JOBS = ("reminder", "digest", "summary")


@dataclass(frozen=True, order=True)
class Slot:
    """One planned run of a job: when, which job, for which cycle, how many working days before its meeting."""

    at: datetime
    job: str
    cycle: Cycle = field(compare=False)
    days_before: int = 0
    ref: str = field(default="", compare=False)  # a slot for something else than the meeting: a milestone's key

    @property
    def id(self) -> str:
        return f"{self.job}/{self.ref or self.cycle.id}/{self.days_before}"

    def describe(self) -> str:
        if self.ref:
            return f"{self.job} at {self.at:%Y-%m-%d %H:%M} ({self.ref}, {self.days_before} working day(s) before)"
        return (f"{self.job} at {self.at:%Y-%m-%d %H:%M} (cycle {self.cycle.id}, meeting "
                f"{self.cycle.meeting.isoformat()}, {self.days_before} working day(s) before)")


def _bangkok_moment(day: date, clock_time: time) -> datetime:
    """The moment of a day's configured clock time, in Bangkok."""
    return datetime.combine(day, clock_time, tzinfo=BANGKOK)


def slots_of(calendar: MeetingCalendar, cycle: Cycle, schedule: ScheduleSettings) -> list[Slot]:
    """Every slot of a cycle from the schedule settings (docs/product.md, "Scheduled jobs"), in time order."""
    out = [
        Slot(_bangkok_moment(calendar.working_days_before(cycle.meeting, n), schedule.reminder_time),
             "reminder", cycle, n)
        for n in schedule.reminder_days_before
    ]
    n = schedule.digest_days_before
    digest_day = calendar.working_days_before(cycle.meeting, n)
    out.append(Slot(_bangkok_moment(digest_day, schedule.digest_time), "digest", cycle, n))
    out.append(Slot(_bangkok_moment(cycle.meeting, schedule.summary_time), "summary", cycle, 0))
    return sorted(out)


def milestone_slots(office: Office, calendar: MeetingCalendar, today: date) -> list[Slot]:
    """Every reminder slot of the milestones not yet passed as of `today` (job `milestone`), in time order."""
    return [Slot(r.at, "milestone", calendar.cycle_of(r.at.date()), r.days_before, r.milestone.key)
            for r in reminder_times(office, calendar, today)]


def _meetings_from(calendar: MeetingCalendar, start: date) -> Iterator[Cycle]:
    """The cycles whose meeting is on or after `start`, in order, across fiscal years (without end)."""
    fy = fiscal_year_of(start)
    while True:
        yield from (c for c in calendar.cycles(fy) if c.meeting >= start)
        fy += 1


def job_slots(office: Office, calendar: MeetingCalendar, start: date, end: date) -> list[Slot]:
    """Every job's slots on or before day `end` whose occasion is still to come on day `start`, in time order.

    Meeting jobs: the slots of each meeting on or after `start`, however early they fall. Milestones: the
    reminders of every milestone not passed on `start`. Job plan: its days from `start`'s month on (a plan
    slot is caught up within its own month, never later).
    """
    schedule = office.config.schedule
    out: list[Slot] = []
    for cycle in _meetings_from(calendar, start):
        slots = slots_of(calendar, cycle, schedule)
        if slots[0].at.date() > end:  # each later meeting's slots start later still
            break
        out += [s for s in slots if s.at.date() <= end]
    out += [s for s in milestone_slots(office, calendar, start) if s.at.date() <= end]
    for year in range(start.year, end.year + 1):
        for day in plan_slot_days(calendar, date(year, 1, 1)):
            if (day.year, day.month) >= (start.year, start.month) and day <= end:
                cycle = cycle_for(calendar, day)
                out.append(Slot(_bangkok_moment(day, schedule.reminder_time), "plan", cycle,
                                days_before_of(calendar, cycle.meeting, day)))
    return sorted(out)
