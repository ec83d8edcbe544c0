"""The rule for moving a cycle's staff meeting (chat `/ประชุม` and the console share it)."""

from __future__ import annotations

from datetime import date, timedelta

from ita_bot.domain.meetings import Cycle, MeetingCalendar, holiday_name
from ita_bot.domain.thai import ARABIC, ThaiFormat, fiscal_year_of

__all__ = ["MeetingDateError", "check_meeting_date", "meeting_note", "same_day_cycles"]


class MeetingDateError(ValueError):
    """A meeting date the calendar cannot mean; the message is short polite Thai."""


def check_meeting_date(calendar: MeetingCalendar, cycle: Cycle, day: date, fmt: ThaiFormat = ARABIC) -> None:
    """Refuse a date outside the cycle's month (or the end of the month before), across fiscal years,
    or past a neighbouring meeting: reports are counted to "the first meeting on or after" their day."""
    year, month = cycle.month
    first = date(year, month, 1)
    earliest = (first - timedelta(days=1)).replace(day=1)  # a holiday shift may reach the previous month
    label = fmt.month(cycle.month, abbr=True)
    shown = fmt.date(day)
    if not earliest <= day < (first + timedelta(days=32)).replace(day=1):
        raise MeetingDateError(
            f"วันประชุมของรอบ {label} ต้องอยู่ในเดือนนั้นหรือปลายเดือนก่อนหน้า (ได้รับ {shown})"
        )
    if fiscal_year_of(day) != cycle.fiscal_year:
        raise MeetingDateError(
            f"รอบ {label} อยู่ในปีงบประมาณ {fmt.num(cycle.fiscal_year)} "
            f"วันประชุมต้องไม่ข้ามปีงบประมาณ (ได้รับ {shown})"
        )
    cycles = calendar.cycles(cycle.fiscal_year)
    index = next(i for i, c in enumerate(cycles) if c.id == cycle.id)
    before = cycles[index - 1] if index > 0 else None
    after = cycles[index + 1] if index + 1 < len(cycles) else None
    # The same day as a neighbour is allowed (a February meeting moved onto January's last Friday).
    if (before and day < before.meeting) or (after and day > after.meeting):
        neighbours = ", ".join(fmt.date(c.meeting) for c in (before, after) if c)
        raise MeetingDateError(f"วันที่ {shown} ข้ามวันประชุมของรอบข้างเคียง ({neighbours}) กรุณาเลือกวันอื่น")


def same_day_cycles(calendar: MeetingCalendar, cycle: Cycle, day: date) -> list[Cycle]:
    """Other cycles of the year whose meeting falls on this day (reports up to it count for the earlier one)."""
    return [c for c in calendar.cycles(cycle.fiscal_year) if c.id != cycle.id and c.meeting == day]


def meeting_note(calendar: MeetingCalendar, cycle: Cycle, fmt: ThaiFormat = ARABIC) -> str:
    """Why a cycle meets on its date, as the secretary reads it.

    "ตามกำหนดปกติ"; "เลื่อนจาก 26 ก.พ. 2564 เพราะตรงกับวันมาฆบูชา" when the rule's day was a holiday
    or a weekend; "ตั้งเอง (วันปกติคือ 26 มี.ค. 2564)" for a date a manager set.
    """
    usual = calendar.usual(cycle.id)
    if cycle.overridden:
        if cycle.meeting == usual:
            return "ตั้งเอง (ตรงกับวันปกติ)"
        return f"ตั้งเอง (วันปกติคือ {fmt.date(usual)})"
    nominal = calendar.rule.nominal_date(*cycle.month)
    if cycle.meeting == nominal:
        return "ตามกำหนดปกติ"
    holiday = holiday_name(nominal)
    why = holiday if holiday else f"วัน{fmt.weekday(nominal)}"
    return f"เลื่อนจาก {fmt.date(nominal)} เพราะตรงกับ{why}"
