"""The scheduled jobs — reminder, digest, summary: what to send to whom for a cycle, sent through the sent-log.

``run_job(office, line, name, now)`` is the core, shared by the clock and ``python bot.py job NAME
--now T``. It works on the cycle whose meeting is the first on or after T's date (across fiscal
years: after September's meeting the next one is October's), builds the messages from the cycle's
view as of now, and hands each push to :class:`~ita_bot.schedule.delivery.Delivery`, keyed by (job, cycle,
working days before the meeting, recipient). The working days before come from the clock's slot
(so a slot caught up a day late keeps its own key), or for a manual run from T's date — a rerun is
a no-op and a run on another day is its own send.

- ``reminder``: nothing when nothing is pending. ``[schedule] reminder_to = "group"`` (default):
  one textV2 message (more when over 20 mentions) to the staff group naming the meeting date and
  each pending division's measures, mentioning its registered staff still in the group.
  ``"direct"``: a 1:1 text to each registered staff member of a pending division instead
  (cheaper when the group is big and few divisions are pending; each recipient has its own key).
- ``digest``: a Flex carousel 1:1 to every chair. A chair whose profile LINE will not show (not a
  friend, or blocked the bot) is not pushed to; the managers get a notice.
- ``summary``: the cycle summary Flex to the staff group, for the meeting agenda and for circulation
  (plan section ๕), sent whatever is pending.
- ``milestone``: the assessment calendar's reminders, keyed by milestone rather than cycle
  (:mod:`ita_bot.schedule.milestones`).
- ``plan``: on the first working days of September and October, each manager 1:1 when the coming (September)
  or current (October) fiscal year has no plan (see :mod:`ita_bot.schedule.plan_job`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from ita_bot.domain.guidance import make_plan
from ita_bot.domain.job_slots import JOBS
from ita_bot.domain.links import report_url
from ita_bot.domain.meetings import Cycle, MeetingCalendar
from ita_bot.domain.office import Office
from ita_bot.domain.plan import Plan
from ita_bot.domain.progress import CycleView
from ita_bot.domain.summary import cycle_summary
from ita_bot.domain.thai import format_date
from ita_bot.line.client import LineApiError, LineClient
from ita_bot.line.kit import MAX_MESSAGES, Message
from ita_bot.schedule.delivery import (
    ALREADY,
    BUSY,
    FAILED,
    SENT,
    SKIPPED,
    UNCERTAIN,
    Delivery,
    SendKey,
    SendOutcome,
    SendResult,
)
from ita_bot.schedule.messages import (
    DivisionToRemind,
    digest_message,
    direct_reminder_message,
    reminder_messages,
    summary_message,
)

__all__ = ["JOBS", "JobOutcome", "JobResult", "NoSend", "RecipientResult", "cycle_for", "days_before_of", "notice_tag",
           "run_job", "send_parts"]

log = logging.getLogger(__name__)


class NoSend(StrEnum):
    """A job's outcomes for a recipient that was not pushed to at all (besides delivery's SendOutcome)."""

    NOTHING = "nothing"  # nothing pending, or no one to remind
    UNREACHABLE = "unreachable"  # the chair is not a friend of the bot, or blocked it


NOTHING, UNREACHABLE = NoSend.NOTHING, NoSend.UNREACHABLE
JobOutcome = SendOutcome | NoSend

OUTCOME_TEXT = {
    SENT: "ส่งแล้ว / sent",
    ALREADY: "เคยส่งแล้ว ไม่ส่งซ้ำ / already sent",
    BUSY: "อีกโปรเซสกำลังส่งอยู่ / being sent by another process",
    SKIPPED: "ข้าม เพราะโควตาข้อความไม่พอ / skipped (quota)",
    FAILED: "ไม่สำเร็จ / failed",
    UNCERTAIN: "ไม่แน่ใจว่าส่งถึง จึงไม่ส่งซ้ำ / uncertain, not resent",
    NOTHING: "ไม่มีรายการค้าง ไม่ส่ง / nothing pending",
    UNREACHABLE: "ส่งไม่ได้: ยังไม่ได้เป็นเพื่อนกับบอทหรือบล็อกไว้ / unreachable (not a friend, or blocked)",
}
OK_OUTCOMES = frozenset({SENT, ALREADY, BUSY, NOTHING})


@dataclass(frozen=True)
class RecipientResult:
    """One recipient's line in a job's result: to whom (a label, never a LINE ID), what happened, why."""

    recipient: str
    outcome: JobOutcome
    detail: str = ""
    send: SendResult | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in OK_OUTCOMES

    def text(self) -> str:
        detail = f": {self.detail}" if self.detail and self.outcome not in (SENT, ALREADY, NOTHING) else ""
        return f"{self.recipient} — {OUTCOME_TEXT.get(self.outcome, self.outcome)}{detail}"


@dataclass
class JobResult:
    """What one run of a job did."""

    job: str
    cycle: Cycle | None
    days_before: int | None
    lines: list[RecipientResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(line.ok for line in self.lines)

    @property
    def sent(self) -> int:
        return sum(1 for line in self.lines if line.outcome == SENT)

    def headline(self) -> str:
        if self.cycle is None:
            return self.job
        return (f"{self.job} — cycle {self.cycle.id}, meeting {self.cycle.meeting.isoformat()} "
                f"({format_date(self.cycle.meeting)}), {self.days_before} working day(s) before")


def cycle_for(calendar: MeetingCalendar, day: date) -> Cycle:
    """The cycle whose meeting is the first on or after `day`, crossing into the next fiscal year if need be.

    The meeting a job works towards, so it looks forward: after the year's last meeting it is the next
    year's first. A report's cycle is `Office.cycle_at` instead, which never crosses a fiscal year.
    """
    return calendar.next_meetings(day, 1)[0]


def days_before_of(calendar: MeetingCalendar, meeting: date, day: date) -> int:
    """How many working days before the meeting `day` is: the smallest n with working_days_before(n) ≤ day.

    Meeting Thu 25 Feb 2564: Mon 22 → 3, Wed 24 → 1, Thu 25 → 0, Sat 20 → 4 (a weekend run is its own send).
    """
    n = 0
    while calendar.working_days_before(meeting, n) > day:
        n += 1
    return n


def notice_tag(*parts: str) -> str:
    # Notice keys are stored, and may be shown in debugging: hash anything that holds a LINE ID.
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]


def run_job(
    office: Office,
    line: LineClient,
    name: str,
    now: datetime,
    *,
    days_before: int | None = None,
    delivery: Delivery | None = None,
    ref: str | None = None,
) -> JobResult:
    """Run a job as of `now` for the cycle of the first meeting on or after now's date.

    Job ``milestone`` follows the assessment calendar instead (``ref``: one milestone's key, as the clock's slot has).
    """
    if name not in JOBS:
        raise ValueError(f"unknown job {name!r}; expected one of {', '.join(JOBS)}")
    if name == "milestone":  # not tied to a meeting: see schedule/milestones.py
        from ita_bot.schedule.milestones import run_milestones

        return run_milestones(office, line, now, delivery=delivery, only=ref)
    cal = office.calendar()
    cycle = cycle_for(cal, now.date())
    n = days_before_of(cal, cycle.meeting, now.date()) if days_before is None else days_before
    delivery = delivery or Delivery(office, line, fmt=office.fmt)
    result = JobResult(name, cycle, n)
    if name == "plan":
        from ita_bot.schedule.plan_job import run_plan_job

        run_plan_job(office, line, now, result, delivery)
        for entry in result.lines:
            log.info("plan %s: %s %s", cycle.id, entry.outcome, entry.detail)
        return result
    plan = office.plan_for(cycle.fiscal_year)
    if plan is None and not office.has_plan:
        # A new office before its first plan owes nothing and has no one to remind; its managers are told how
        # to make the plan in the console and by job `plan`, so no failure notice piles up each cycle.
        result.lines.append(RecipientResult("—", NOTHING, "the office has no plan yet"))
        log.info("%s %s: skipped, the office has no plan yet", name, cycle.id)
        return result
    if plan is None:
        fy = office.fmt.num(cycle.fiscal_year)
        text = (f"ไม่มีแผนมาตรการของปีงบประมาณ {fy} จึงส่งการแจ้งเตือนและสรุปของรอบประชุม "
                f"{office.fmt.date(cycle.meeting)} ไม่ได้ {make_plan(cycle.fiscal_year, office.fmt)}")
        # Tied to the year: the notice retires itself once that year has a plan.
        office.notices.add("failed_send", text, now, key=f"noplan:{cycle.id}", plan_year=cycle.fiscal_year)
        result.lines.append(RecipientResult("—", FAILED, f"no plan file for fiscal year {cycle.fiscal_year}"))
        return result
    view = office.view(cycle, cal)
    job: Callable[..., None] = {"reminder": _reminder, "digest": _digest, "summary": _summary}[name]
    job(office, line, delivery, result, view, plan, now)
    for entry in result.lines:
        log.info("%s %s (%s wd before): %s %s", name, cycle.id, n, entry.outcome, entry.detail)
    return result


def _group_or_fail(office: Office, result: JobResult, now: datetime, what: str) -> str | None:
    gid = office.staff_group_id()
    if gid is None:
        assert result.cycle is not None
        text = (f"ส่ง{what}ไม่ได้ เพราะยังไม่ได้ตั้งกลุ่มพนักงาน กรุณาพิมพ์ /ตั้งกลุ่ม ในกลุ่มไลน์พนักงาน "
                "หรือกำหนด group_id ในไฟล์ตั้งค่า")
        office.notices.add("failed_send", text, now, key=f"nogroup:{result.job}:{result.cycle.id}")
        result.lines.append(RecipientResult("staff group", FAILED, "no staff group: set [line] group_id or use /ตั้งกลุ่ม"))
    return gid


def send_parts(delivery: Delivery, result: JobResult, key_of: Callable[[int], SendKey], label_en: str, label: str,
               messages: list[Message]) -> None:
    """Push messages up to LINE's MAX_MESSAGES a request; each request is its own part of the send key."""
    for part, i in enumerate(range(0, len(messages), MAX_MESSAGES)):
        sent = delivery.send(key_of(part), messages[i : i + MAX_MESSAGES], label=label)
        suffix = f" (part {part + 1})" if len(messages) > MAX_MESSAGES else ""
        result.lines.append(RecipientResult(label_en + suffix, sent.outcome, sent.detail, sent))


def _send_parts(
    delivery: Delivery, result: JobResult, recipient: str, label_en: str, label: str, messages: list[Message]
) -> None:
    """A meeting job's push: its key parts are the job, cycle, days before and recipient."""
    assert result.cycle is not None and result.days_before is not None
    cycle, days_before = result.cycle.id, result.days_before
    send_parts(delivery, result, lambda part: SendKey(result.job, cycle, days_before, recipient, part), label_en,
               label, messages)


def _reminder(
    office: Office, line: LineClient, delivery: Delivery, result: JobResult, view: CycleView, plan: Plan,
    now: datetime,
) -> None:
    cycle, fmt = view.cycle, office.fmt
    pending = view.pending_by_division()
    if not pending:
        result.lines.append(RecipientResult("staff", NOTHING, "every responsible division has reported this cycle"))
        return
    days_left = days_before_of(office.calendar(), cycle.meeting, now.date())
    meeting = fmt.date(cycle.meeting)
    staff = {div: office.people.staff_of(div) for div in pending}
    if office.config.schedule.reminder_to == "direct":
        for div, measures in pending.items():
            div_name = plan.division_name(div)
            if not staff[div]:
                result.lines.append(RecipientResult(div_name, NOTHING, "no registered staff to remind"))
            for i, person in enumerate(staff[div], start=1):
                message = direct_reminder_message(person.name, cycle, days_left, div_name, measures, fmt)
                label = f"การแจ้งเตือนรายงานผลก่อนประชุม {meeting} ถึงคุณ{person.label} ({div_name})"
                _send_parts(delivery, result, person.user_id, f"{div_name} staff {i} ({person.name})", label, [message])
        return
    gid = _group_or_fail(office, result, now, "การแจ้งเตือนรายงานผล")
    if gid is None:
        return
    divisions = [
        DivisionToRemind(
            plan.division_name(div),
            tuple(measures),
            tuple(p.user_id for p in staff[div] if p.in_group),  # mention only people still in the group
        )
        for div, measures in pending.items()
    ]
    messages: list[Message] = list(reminder_messages(cycle, days_left, divisions, fmt))
    label = f"การแจ้งเตือนรายงานผลก่อนประชุม {meeting} ในกลุ่มพนักงาน"
    _send_parts(delivery, result, gid, "staff group", label, messages)


def _digest(
    office: Office, line: LineClient, delivery: Delivery, result: JobResult, view: CycleView, plan: Plan,
    now: datetime,
) -> None:
    cycle, fmt = view.cycle, office.fmt
    assert result.days_before is not None
    meeting = fmt.date(cycle.meeting)
    chairs = office.role_holders("chair")
    if not chairs:
        text = ("ยังไม่มีผู้ได้รับบทบาทประธาน จึงไม่มีผู้รับสรุปรายเดือนก่อนประชุม "
                f"{meeting} กรุณาเชิญประธานด้วย /เชิญ chair")
        office.notices.add("unreachable_chair", text, now, key=f"nochair:{cycle.id}")
        result.lines.append(RecipientResult("chair", FAILED, "no chair: bind one in [roles] chair or with /เชิญ chair"))
        return
    link = report_url(office.config.web.base_url, cycle.fiscal_year, cycle.id)
    message = digest_message(cycle_summary(plan, view), link, fmt)
    for i, uid in enumerate(chairs, start=1):
        person = office.people.get(uid)
        name = person.name if person and person.name else ""
        who = f"chair {i}" + (f" ({name})" if name else "")
        key = SendKey("digest", cycle.id, result.days_before, uid)
        entry = delivery.entry(key)
        if entry is None or entry["state"] not in ("done", "uncertain"):
            try:
                reachable = line.profile(uid) is not None
            except LineApiError:
                reachable = True  # LINE is having trouble; the push retries and reports for itself
            if not reachable:
                text = (f"ส่งสรุปรายเดือนก่อนประชุม {meeting} ถึงประธาน{(' ' + name) if name else ''}ไม่ได้ "
                        "เพราะประธานยังไม่ได้เพิ่มบอทเป็นเพื่อน หรือบล็อกบอทไว้ "
                        "กรุณาขอให้ประธานเพิ่มบอทเป็นเพื่อนในไลน์ สรุปรอบถัดไปจะส่งถึงประธานตามปกติ")
                office.notices.add("unreachable_chair", text, now, key=f"unreachable:{notice_tag(cycle.id, uid)}")
                result.lines.append(RecipientResult(who, UNREACHABLE, "profile lookup failed"))
                continue
        label = f"สรุปรายเดือนก่อนประชุม {meeting} ถึงประธาน{(' ' + name) if name else ''}"
        sent = delivery.send(key, [message], label=label)
        result.lines.append(RecipientResult(who, sent.outcome, sent.detail, sent))


def _summary(
    office: Office, line: LineClient, delivery: Delivery, result: JobResult, view: CycleView, plan: Plan,
    now: datetime,
) -> None:
    cycle, fmt = view.cycle, office.fmt
    gid = _group_or_fail(office, result, now, "สรุปผลประจำเดือน")
    if gid is None:
        return
    link = report_url(office.config.web.base_url, cycle.fiscal_year, cycle.id)
    label = f"สรุปผลการดำเนินงานประจำเดือน{fmt.month(cycle.month)} ในกลุ่มพนักงาน"
    message = summary_message(cycle_summary(plan, view), link, fmt)
    _send_parts(delivery, result, gid, "staff group", label, [message])
