"""The assessment calendar: a plan's milestones, the working days their reminders fall on, where the year stands.

A milestone is a dated step of the committee's year (the NACC's OIT deadline, the stakeholder lists
due, the result announced) with who is responsible: ``"committee"``, ``"managers"`` and/or division
ids. Its reminders go out ``remind_days_before`` *working* days before its date, counted back over
weekends and Thai public holidays exactly as the meeting reminders are (a milestone on a Saturday
with 1 working day before is reminded on the Friday, or the Thursday when Friday is a holiday).
Reminders only ever fall on working days, and a milestone whose date has passed is never reminded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol

from ita_bot.domain.meetings import MeetingCalendar
from ita_bot.domain.roles import managers_thai
from ita_bot.domain.thai import ThaiFormat

__all__ = [
    "COMMITTEE",
    "DEFAULT_REMIND_DAYS",
    "MANAGERS",
    "MAX_REMIND_DAYS",
    "WHO_THAI",
    "Milestone",
    "MilestoneState",
    "Standing",
    "due_reminder",
    "reminder_day",
    "standings",
    "time_left",
    "title_id",
    "who_names",
    "working_days_left",
]

COMMITTEE = "committee"
MANAGERS = "managers"
DEFAULT_REMIND_DAYS = (5, 1)
MAX_REMIND_DAYS = 60  # about three months of working days: anything longer is a typo
#: How people read `who` (divisions read by their names).
WHO_THAI = {COMMITTEE: "คณะกรรมการ", MANAGERS: managers_thai()}


@dataclass(frozen=True)
class Milestone:
    """One step of the assessment calendar."""

    date: date
    title: str
    who: tuple[str, ...]  # COMMITTEE, MANAGERS and/or division ids, as the plan lists them
    remind_days_before: tuple[int, ...] = DEFAULT_REMIND_DAYS  # distinct, largest first
    notes: str = ""
    id: str = ""  # kept in the plan across edits; "" only for one built by hand (then taken from the title)

    @property
    def key(self) -> str:
        """The sent-log's key: the date and the milestone's id (no "/", which keys use).

        The id, not the title, so a corrected title is not a new milestone (its reminder is not sent
        again); the date too, so a milestone moved to another day is reminded of its new date.
        """
        return f"{self.date.isoformat()}~{self.id or title_id(self.title)}"

    @property
    def divisions(self) -> tuple[str, ...]:
        return tuple(w for w in self.who if w not in (COMMITTEE, MANAGERS))

    @property
    def committee(self) -> bool:
        return COMMITTEE in self.who

    @property
    def managers(self) -> bool:
        return MANAGERS in self.who


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _Divisions(Protocol):
    """What who_names needs of a Plan (plan.py imports this module for Milestone, so it is not imported back)."""

    def division_by_id(self, div_id: str) -> _Named: ...


def who_names(milestone: Milestone, plan: _Divisions) -> tuple[str, ...]:
    """Who is responsible, as people read it: "คณะกรรมการ", "ประธานและเลขานุการ", division names."""
    names = []
    for w in milestone.who:
        if w in WHO_THAI:
            names.append(WHO_THAI[w])
            continue
        try:
            names.append(plan.division_by_id(w).name)
        except KeyError:  # validated at load; a division renamed away later still shows something
            names.append(w)
    return tuple(names)


def title_id(title: str, attempt: int = 1) -> str:
    """The id a milestone gets when first saved: a short hash of its first title (for plans written before
    milestones had ids this is also the key their reminders were sent under, so none is sent again)."""
    seed = title if attempt == 1 else f"{title}\n{attempt}"
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:8]


# --------------------------------------------------------------------------------------------- rules


def reminder_day(calendar: MeetingCalendar, day: date, n: int) -> date:
    """The working day `n` working days before `day`; for 0, `day` itself or the working day before it."""
    return calendar.working_days_before(day, n) if n > 0 else calendar.previous_working_day(day)


def due_reminder(calendar: MeetingCalendar, milestone: Milestone, today: date) -> int | None:
    """The reminder owed as of `today`: the latest one whose day has come, while the milestone has not passed.

    A reminder day missed (the clock was down) is made up by this rule once, on a later day, and only
    the latest missed one; after the milestone's date nothing is owed.
    """
    if today > milestone.date:
        return None
    come = [n for n in milestone.remind_days_before if reminder_day(calendar, milestone.date, n) <= today]
    return min(come) if come else None


def working_days_left(calendar: MeetingCalendar, today: date, day: date) -> int:
    """Working days after `today` up to and including `day` (Mon 22 → Thu 25 Feb 2564: 3); 0 when not later."""
    count, d = 0, today
    while d < day:
        d += timedelta(days=1)
        count += calendar.is_working_day(d)
    return count


class Standing(StrEnum):
    """Where a milestone stands as of a day."""

    PAST = "past"  # its date has passed: shown as done by its date
    TODAY = "today"
    NEXT = "next"  # the first one still ahead (today's counts as the next when there is one)
    LATER = "later"


def time_left(fmt: ThaiFormat, standing: Standing, working_days: int) -> str:
    """How far off a milestone is, said alike by /ปฏิทิน, its reminders and the year page.

    "ผ่านมาแล้ว", "ครบกำหนดวันนี้", "อีก 3 วันทำการ", or "ไม่มีวันทำการเหลือ" for a date still ahead with no
    working day before it: a Saturday milestone is reminded on the Friday, which is not its day.
    """
    if standing is Standing.PAST:
        return "ผ่านมาแล้ว"
    if standing is Standing.TODAY:
        return "ครบกำหนดวันนี้"
    return f"อีก {fmt.num(working_days)} วันทำการ" if working_days else "ไม่มีวันทำการเหลือ"


@dataclass(frozen=True)
class MilestoneState:
    milestone: Milestone
    standing: Standing
    days_left: int  # working days after today up to its date (0 for past and today's)

    @property
    def highlighted(self) -> bool:
        return self.standing in (Standing.TODAY, Standing.NEXT)


def standings(calendar: MeetingCalendar, milestones: Sequence[Milestone], today: date) -> list[MilestoneState]:
    """The milestones in date order with where each stands: past, today, the next one, later."""
    out: list[MilestoneState] = []
    next_date: date | None = None
    for m in sorted(milestones, key=lambda m: (m.date, m.title)):
        if m.date < today:
            standing = Standing.PAST
        elif m.date == today:
            standing = Standing.TODAY
            next_date = next_date or m.date
        elif next_date is None or next_date == m.date:
            standing, next_date = Standing.NEXT, m.date
        else:
            standing = Standing.LATER
        out.append(MilestoneState(m, standing, working_days_left(calendar, today, m.date)))
    return out
