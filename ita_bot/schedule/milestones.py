"""Job `milestone`: remind the people responsible for an assessment-calendar milestone on its reminder days.

As of a moment T, each milestone of the plans for T's fiscal year and the next (a milestone early in
October is reminded in September) owes at most one reminder: the latest of its
``remind_days_before`` working days that has come, and none once its date has passed
(:func:`ita_bot.domain.milestones.due_reminder`). That reminder goes:

- for divisions: one textV2 message (more when over 20 mentions) to the staff group, mentioning
  the registered staff of those divisions still in the group — the meeting reminder's own builder;
- for ``"committee"`` / ``"managers"``: a 1:1 text to each role holder (a person holding two roles
  gets one); one whose profile LINE will not show (not a friend, or blocked) is not pushed to and
  the managers are told.

Every push goes through :class:`~ita_bot.schedule.delivery.Delivery` keyed by
("milestone", milestone key, working days before, recipient), so a rerun, the clock and a manual
``python bot.py job milestone --now T`` together send each (milestone, day, recipient) once, and
each push passes the same quota check as the meeting reminders.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from ita_bot.domain.meetings import MeetingCalendar
from ita_bot.domain.milestones import (
    Milestone,
    Standing,
    due_reminder,
    reminder_day,
    time_left,
    who_names,
    working_days_left,
)
from ita_bot.domain.office import Office
from ita_bot.domain.people import UNKNOWN_NAME
from ita_bot.domain.plan import Plan
from ita_bot.domain.roles import COMMITTEE
from ita_bot.domain.thai import ARABIC, BANGKOK, ThaiFormat, fiscal_year_of
from ita_bot.line.client import LineApiError, LineClient
from ita_bot.line.kit import Message, text_message
from ita_bot.schedule.delivery import Delivery, SendKey
from ita_bot.schedule.jobs import FAILED, NOTHING, UNREACHABLE, JobResult, RecipientResult, notice_tag, send_parts
from ita_bot.schedule.messages import mention_lines, mention_messages

__all__ = ["JOB", "ReminderTime", "milestone_direct_message", "milestone_group_messages", "reminder_times",
           "run_milestones"]

log = logging.getLogger(__name__)

JOB = "milestone"
CALENDAR_HINT = "พิมพ์ /ปฏิทิน เพื่อดูกำหนดการประเมินทั้งปี"


@dataclass(frozen=True)
class ReminderTime:
    """When one reminder of a milestone is due (its day at `reminder_time`)."""

    at: datetime
    milestone: Milestone
    days_before: int


def _plans(office: Office, today: date) -> list[Plan]:
    fy = fiscal_year_of(today)
    return [p for p in (office.plan_for(fy), office.plan_for(fy + 1)) if p is not None]


def reminder_times(office: Office, calendar: MeetingCalendar, today: date) -> list[ReminderTime]:
    """Every reminder of the milestones not yet passed as of `today`, in time order (the clock's slots)."""
    at = office.config.schedule.reminder_time
    out = [
        ReminderTime(datetime.combine(reminder_day(calendar, m.date, n), at, tzinfo=BANGKOK), m, n)
        for plan in _plans(office, today)
        for m in plan.milestones
        if m.date >= today
        for n in m.remind_days_before
    ]
    return sorted(out, key=lambda r: (r.at, r.milestone.date, r.milestone.title))


# --- messages (pure) ------------------------------------------------------------------------------


def _when(m: Milestone, today: date, days_left: int, fmt: ThaiFormat) -> str:
    # Reminders stop after the date, so it is today's or still ahead (maybe with no working day left).
    left = time_left(fmt, Standing.TODAY if m.date == today else Standing.LATER, days_left)
    return f"กำหนด{fmt.meeting(m.date)} ({left})"


def milestone_group_messages(
    m: Milestone, who: str, today: date, days_left: int, divisions: list[tuple[str, tuple[str, ...]]],
    fmt: ThaiFormat = ARABIC,
) -> list[Message]:
    """The staff-group reminder: the milestone, its date and notes, each division named with its staff mentioned."""
    header = f"📅 แจ้งเตือนกำหนดการประเมิน ITA: {m.title}\n{_when(m, today, days_left, fmt)}\nผู้รับผิดชอบ: {who}"
    if m.notes:
        header += f"\nหมายเหตุ: {m.notes}"
    cont = f"(ต่อ) แจ้งเตือนกำหนดการ “{m.title}” {fmt.date(m.date)}:"
    lines = [line for name, staff in divisions for line in mention_lines(f"• {name}", staff)]
    return mention_messages(header, cont, lines, "\n" + CALENDAR_HINT)


def milestone_direct_message(
    m: Milestone, name: str, who: str, today: date, days_left: int, fmt: ThaiFormat = ARABIC
) -> Message:
    """The 1:1 reminder to a committee member or manager."""
    greeting = f"เรียน คุณ{name}\n" if name else ""
    text = f"📅 {greeting}แจ้งเตือนกำหนดการประเมิน ITA: {m.title}\n{_when(m, today, days_left, fmt)}\nผู้รับผิดชอบ: {who}"
    if m.notes:
        text += f"\nหมายเหตุ: {m.notes}"
    return text_message(f"{text}\n{CALENDAR_HINT}")


# --- the job --------------------------------------------------------------------------------------


def run_milestones(
    office: Office, line: LineClient, now: datetime, *, delivery: Delivery | None = None, only: str | None = None
) -> JobResult:
    """Send the milestone reminders owed as of `now` (only the milestone with key `only`, when given)."""
    calendar = office.calendar()
    today = now.date()
    delivery = delivery or Delivery(office, line, fmt=office.fmt)
    result = JobResult(JOB, None, None)
    owed = [
        (plan, m, n)
        for plan in _plans(office, today)
        for m in plan.milestones
        if only is None or m.key == only
        if (n := due_reminder(calendar, m, today)) is not None
    ]
    if not owed:
        result.lines.append(RecipientResult("ปฏิทินการประเมิน (milestones)", NOTHING, "no milestone reminder is due"))
    for plan, m, n in owed:
        _remind(office, line, delivery, result, plan, m, n, now, working_days_left(calendar, today, m.date))
    for entry in result.lines:
        log.info("%s (%s): %s %s", JOB, today.isoformat(), entry.outcome, entry.detail)
    return result


def _remind(
    office: Office, line: LineClient, delivery: Delivery, result: JobResult, plan: Plan, m: Milestone, n: int,
    now: datetime, days_left: int,
) -> None:
    fmt = office.fmt
    who = ", ".join(who_names(m, plan))
    what = f"“{m.title}” ({m.date.isoformat()}, {n} wd before)"
    label = f"การแจ้งเตือนกำหนดการ “{m.title}” ({fmt.date(m.date)})"
    if m.divisions:
        gid = office.staff_group_id()
        if gid is None:
            text = (f"ส่ง{label}ในกลุ่มพนักงานไม่ได้ เพราะยังไม่ได้ตั้งกลุ่มพนักงาน กรุณาพิมพ์ /ตั้งกลุ่ม "
                    "ในกลุ่มไลน์พนักงาน หรือกำหนด group_id ในไฟล์ตั้งค่า")
            office.notices.add("failed_send", text, now, key=f"nogroup:{JOB}:{m.key}:{n}")
            result.lines.append(RecipientResult(f"{what} → staff group", FAILED, "no staff group: set [line] group_id"))
        else:
            divisions = [
                (plan.division_name(div), tuple(p.user_id for p in office.people.staff_of(div) if p.in_group))
                for div in m.divisions
            ]
            messages = milestone_group_messages(m, who, now.date(), days_left, divisions, fmt)
            send_parts(delivery, result, lambda part: SendKey(JOB, m.key, n, gid, part), f"{what} → staff group",
                       f"{label} ในกลุ่มพนักงาน", messages)
    people = _people(office, m)
    if (m.committee or m.managers) and not people:
        result.lines.append(RecipientResult(f"{what} → {who}", FAILED,
                                 "nobody holds these roles: bind them in [roles] or with /เชิญ"))
    for i, uid in enumerate(people, start=1):
        person = office.people.get(uid)
        name = person.name if person and person.name else ""
        tag = f"{what} → person {i}" + (f" ({name})" if name else "")
        key = SendKey(JOB, m.key, n, uid)
        entry = delivery.entry(key)
        if entry is None or entry["state"] not in ("done", "uncertain"):
            try:
                shown = line.profile(uid)
                reachable = shown is not None
                name = name or shown or ""  # a role bound in config has no stored name: greet by LINE's
            except LineApiError:
                reachable = True  # LINE is having trouble; the push retries and reports for itself
            if not reachable:
                text = (f"ส่ง{label}ถึง{('คุณ' + name) if name else 'กรรมการท่านหนึ่ง'}ไม่ได้ เพราะยังไม่ได้เพิ่มบอท"
                        "เป็นเพื่อน หรือบล็อกบอทไว้ กรุณาขอให้เพิ่มบอทเป็นเพื่อนในไลน์")
                office.notices.add("failed_send", text, now, key=f"unreachable:{notice_tag(JOB, m.key, uid)}")
                result.lines.append(RecipientResult(tag, UNREACHABLE, "profile lookup failed"))
                continue
        message = milestone_direct_message(m, name, who, now.date(), days_left, fmt)
        sent = delivery.send(key, [message], label=f"{label} ถึงคุณ{name or UNKNOWN_NAME}")
        result.lines.append(RecipientResult(tag, sent.outcome, sent.detail, sent))


def _people(office: Office, m: Milestone) -> list[str]:
    """The 1:1 recipients: committee role holders and/or the managers, each once."""
    out: list[str] = []
    if m.committee:
        for role in COMMITTEE:
            out += [u for u in office.role_holders(role) if u not in out]
    if m.managers:
        out += [u for u in office.managers() if u not in out]
    return out
