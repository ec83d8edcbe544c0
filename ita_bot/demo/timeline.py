"""The demo's simulated clock: which scheduled job slots fall between two moments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ..meetings import MeetingCalendar
from ..office import Office
from ..thai import BANGKOK, fiscal_year_of

__all__ = ["JOB_THAI", "Slot", "due_slots"]

JOB_THAI = {
    "reminder": "แจ้งเตือนกลุ่มพนักงาน",
    "digest": "สรุปส่งประธาน",
    "summary": "สรุปประจำเดือนสำหรับที่ประชุม",
}


@dataclass(frozen=True, order=True)
class Slot:
    """One scheduled run: when, which job, and the meeting it serves."""

    at: datetime
    job: str
    meeting: date
    days_before: int


def _at(day: date, t: time) -> datetime:
    return datetime.combine(day, t, tzinfo=BANGKOK)


def slots_of_meeting(office: Office, calendar: MeetingCalendar, meeting: date) -> list[Slot]:
    """One meeting's slots (PRODUCT.md): reminders and the digest on working days before it, the summary on the day."""
    s = office.config.schedule
    out = [
        Slot(_at(calendar.working_days_before(meeting, n), s.reminder_time), "reminder", meeting, n)
        for n in s.reminder_days_before
    ]
    out.append(
        Slot(_at(calendar.working_days_before(meeting, s.digest_days_before), s.digest_time), "digest", meeting,
             s.digest_days_before)
    )
    out.append(Slot(_at(meeting, s.summary_time), "summary", meeting, 0))
    return out


def due_slots(office: Office, after: datetime, upto: datetime) -> list[Slot]:
    """Every slot with `after < at <= upto`, in time order, as the clock process would have run them.

    Built from the calendar afresh, so a meeting moved by /ประชุม moves its slots too.
    """
    if upto <= after:
        return []
    calendar = office.calendar()
    meetings: set[date] = set()
    # Slots come at most a few weeks before their meeting: look at the cycles from `after` on
    # until one whose meeting is well beyond `upto`.
    fy = fiscal_year_of(after.date())
    horizon = upto.date() + timedelta(days=45)
    while True:
        cycles = calendar.cycles(fy)
        meetings.update(c.meeting for c in cycles if after.date() - timedelta(days=1) <= c.meeting <= horizon)
        if cycles[-1].meeting > horizon:
            break
        fy += 1
    slots = [slot for m in meetings for slot in slots_of_meeting(office, calendar, m)]
    return sorted(slot for slot in slots if after < slot.at <= upto)


def next_slots(office: Office, after: datetime, count: int = 4) -> list[Slot]:
    """The next few slots after a moment (for the demo's :time)."""
    found: list[Slot] = []
    span = timedelta(days=35)
    while len(found) < count and span < timedelta(days=800):
        found = due_slots(office, after, after + span)
        span *= 2
    return found[:count]
