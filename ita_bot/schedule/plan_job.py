"""Job `plan`: on the first working day of September (the coming fiscal year) and of October (the current one),
tell each manager 1:1 when that year has no plan yet, and how to make one; nothing when it has.

Sends go through the sent-log like every push, keyed (plan, cycle, working days before its meeting, manager),
so a rerun is a no-op and the clock's catch-up sends once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from ita_bot.domain.links import console_url
from ita_bot.domain.meetings import MeetingCalendar
from ita_bot.domain.thai import BANGKOK, fiscal_year_of, fiscal_year_range
from ita_bot.domain.wording import FIRST_PLAN_STEPS
from ita_bot.line.kit import text_message
from ita_bot.schedule.delivery import Delivery, SendKey

if TYPE_CHECKING:
    from ita_bot.domain.office import Office
    from ita_bot.line.client import LineClient
    from ita_bot.schedule.jobs import JobResult

__all__ = ["first_working_day", "plan_job_year", "plan_slot_days", "run_plan_job"]


def first_working_day(calendar: MeetingCalendar, year: int, month: int) -> date:
    d = date(year, month, 1)
    while not calendar.is_working_day(d):
        d += timedelta(days=1)
    return d


def plan_slot_days(calendar: MeetingCalendar, day: date) -> list[date]:
    """The job's days in the CE year of ``day``: first working day of September and of October."""
    return [first_working_day(calendar, day.year, 9), first_working_day(calendar, day.year, 10)]


def plan_job_year(day: date) -> tuple[int, bool]:
    """(fiscal year to check, whether it is the coming one): in September the coming year, else the current."""
    fy = fiscal_year_of(day)
    return (fy + 1, True) if day.month == 9 else (fy, False)


_CHECK_AND_FILL = "ตรวจแก้แล้วกดบันทึก จากนั้นกรอกส่วนที่ระบบขึ้นว่า “กรุณากรอก” ในหน้าแผนมาตรการ"


def plan_message(office: Office, fy: int, coming: bool) -> str:
    """What a manager reads: which year lacks a plan, from when, and the two ways to make one."""
    fmt = office.fmt
    start, _ = fiscal_year_range(fy)
    year = fmt.num(fy)
    when = (f"ปีงบประมาณ {year} จะเริ่มในวันที่ {fmt.date(start)}" if coming
            else f"ขณะนี้เป็นปีงบประมาณ {year} แล้ว (เริ่ม {fmt.date(start)})")
    link = console_url(office.config.web.base_url)
    if not office.has_plan:  # a new office: no earlier plan to copy, its first plan starts from the ITA result
        return (
            f"แจ้งเพื่อทราบ: {when} แต่ยังไม่มีแผนมาตรการของหน่วยงานในระบบ เจ้าหน้าที่จึงยังรายงานผลไม่ได้\n\n"
            "วิธีจัดทำแผนฉบับแรก:\n"
            f"1. พิมพ์ /จัดการ ในแชตนี้เพื่อรับลิงก์เข้าหน้าจัดการ ({link})\n"
            f"2. {FIRST_PLAN_STEPS}\n"
            f"3. {_CHECK_AND_FILL}"
        )
    return (
        f"แจ้งเพื่อทราบ: {when} แต่ยังไม่มีแผนมาตรการของปีงบประมาณ {year} ในระบบ "
        f"เจ้าหน้าที่จึงยังรายงานผลของปีงบประมาณ {year} ไม่ได้\n\n"
        "วิธีจัดทำแผน (ใช้เวลาไม่กี่นาที):\n"
        f"1. พิมพ์ /จัดการ ในแชตนี้เพื่อรับลิงก์เข้าหน้าจัดการ ({link})\n"
        "2. เลือกเมนู “ร่างแผนปีถัดไป” ระบบจะคัดลอกข้อมูลจากแผนปีก่อนและยกมาตรการที่ยังไม่เสร็จมาให้\n"
        f"3. {_CHECK_AND_FILL}"
    )


def run_plan_job(office: Office, line: LineClient, now: datetime, result: JobResult,
                 delivery: Delivery) -> None:
    """Fill ``result`` with one line per manager (or one saying nothing was needed)."""
    from ita_bot.schedule.jobs import FAILED, NOTHING, RecipientResult

    fy, coming = plan_job_year(now.astimezone(BANGKOK).date())
    if office.plan_for(fy) is not None:
        result.lines.append(RecipientResult("managers", NOTHING, f"fiscal year {fy} has a plan"))
        return
    managers = office.managers()
    if not managers:
        result.lines.append(
            RecipientResult("managers", FAILED, f"fiscal year {fy} has no plan and there is no manager to tell"))
        return
    assert result.cycle is not None and result.days_before is not None
    text = plan_message(office, fy, coming)
    for i, uid in enumerate(managers, start=1):
        person = office.people.get(uid)
        name = person.name if person and person.name else ""
        key = SendKey("plan", result.cycle.id, result.days_before, uid)
        label = f"การแจ้งว่ายังไม่มีแผนปีงบประมาณ {office.fmt.num(fy)} ถึงคุณ{name or 'ผู้จัดการ'}"
        sent = delivery.send(key, [text_message(text)], label=label)
        who = f"manager {i}" + (f" ({name})" if name else "")
        result.lines.append(RecipientResult(who, sent.outcome, sent.detail, sent))
