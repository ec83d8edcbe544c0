"""Report commands: /รายงาน (typed or guided), /แก้ไข, /ถอนรายงาน and the managers' /รายงานแทน."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time

from ita_bot.chat.commands import guided
from ita_bot.chat.commands.base import ChatContext, Refusal
from ita_bot.chat.commands.recording import check_responsible, record, recorded_reply, sender_division
from ita_bot.domain.plan import Plan
from ita_bot.domain.progress import STATUS_THAI, Report, ReportInput, ReportInputError, parse_report_input
from ita_bot.domain.thai import BANGKOK, DateParseError, fiscal_year_of, parse_date, to_arabic_digits
from ita_bot.line.kit import Message, text_messages

__all__ = ["edit", "parse_edit", "parse_report", "parse_report_for", "report", "report_for", "withdraw"]

REPORT_FOR_USAGE = "/รายงานแทน <กอง> <เลขมาตรการ> [สถานะ] [ร้อยละ%] [รายละเอียด] [@วันที่]"
REPORT_FOR_EXAMPLE = "/รายงานแทน กองคลัง 4 เสร็จ ตั้งผู้ดูแลเว็บไซต์แล้ว @25/2/2564"
REPORT_FOR_FORM = f"{REPORT_FOR_USAGE} เช่น {REPORT_FOR_EXAMPLE}"
# A backdated report is dated at noon: mid-working-day, so it sorts after anything sent that
# morning and before that afternoon's, and no time zone reading can move it to another day.
BACKDATED_TIME = time(12, 0)


@dataclass(frozen=True)
class Guided:
    """/รายงาน with no details: open the guided flow (at the status step when the measure was given)."""

    measure: int | None


def _parse_input(ctx: ChatContext, text: str, plan: Plan) -> ReportInput:
    try:
        parsed = parse_report_input(text, [m.number for m in plan.measures])
    except ReportInputError as e:
        # The domain writes numbers in Arabic digits; follow display.numerals like every other reply
        # (Thai digits are read back as equal on input, so the examples stay valid).
        raise Refusal(ctx.fmt.digits(f"ขออภัย {e}")) from None
    if not parsed.details:
        return parsed
    # The parser reads Thai digits as Arabic; the details keep the digits the person typed. Both
    # forms have the same length once spaces are folded, so the typed text's tail is the details.
    typed = " ".join(text.split())
    return replace(parsed, details=typed[len(typed) - len(parsed.details):])


# --- /รายงาน ------------------------------------------------------------------------------------


def parse_report(ctx: ChatContext, rest: str) -> ReportInput | Guided:
    typed = to_arabic_digits(rest).strip()
    if not typed:
        return Guided(None)
    if re.fullmatch(r"\d{1,3}", typed):
        parsed = _parse_input(ctx, typed, ctx.year_plan)  # refuses an unknown measure
        return Guided(parsed.measure)
    return _parse_input(ctx, rest, ctx.year_plan)


def report(ctx: ChatContext, given: ReportInput | Guided) -> list[Message]:
    if isinstance(given, Guided):
        return guided.start(ctx, given.measure)
    division = sender_division(ctx)
    check_responsible(ctx, ctx.year_plan, given.measure, division)
    stored = record(ctx, given.measure, division, given.status, given.percent, given.details)
    return recorded_reply(ctx, stored)


# --- /แก้ไข and /ถอนรายงาน ------------------------------------------------------------------------


def _latest_mine(ctx: ChatContext) -> Report:
    """The sender's latest live report (or report recorded for a division) in the current cycle."""
    calendar = ctx.office.calendar()
    cycle = calendar.cycle_of(ctx.today)
    found = ctx.office.reports.latest_by(
        cycle.fiscal_year, ctx.user_id, lambda r: calendar.cycle_of(r.day).id == cycle.id
    )
    if found is None:
        raise Refusal(
            f"ขออภัย ไม่พบรายงานของคุณในรอบการประชุมนี้ (ประชุม {ctx.fmt.date(cycle.meeting)}) "
            "แก้ไขหรือถอนได้เฉพาะรายงานล่าสุดของคุณในรอบปัจจุบัน"
        )
    return found


def parse_edit(ctx: ChatContext, rest: str) -> str:
    if not rest.strip():
        raise Refusal("กรุณาพิมพ์รายละเอียดใหม่ต่อท้ายคำสั่ง เช่น /แก้ไข อัปเดตเว็บไซต์ครบ 3 กระบวนงานแล้ว")
    return rest.strip()


def edit(ctx: ChatContext, details: str) -> list[Message]:
    latest = _latest_mine(ctx)
    updated = ctx.office.reports.edit_details(latest.fiscal_year, latest.id, details, ctx.now, event_id=ctx.event_id)
    text = (
        f"แก้รายละเอียดรายงานมาตรการที่ {ctx.fmt.num(updated.measure)} ({ctx.division_name(updated.division)}) "
        f"ที่ส่งเมื่อ {ctx.fmt.date(updated.sent_at.date())} แล้ว ✅\nรายละเอียดใหม่: {updated.details}\n"
        f"(สถานะยังเป็น {STATUS_THAI[updated.status]} หากสถานะเปลี่ยน ให้ /ถอนรายงาน แล้วรายงานใหม่)"
    )
    return text_messages(text)


def withdraw(ctx: ChatContext, _: None) -> list[Message]:
    # Applied already (the journal replays events after a crash): answer about that report, else the
    # latest one left would be withdrawn too.
    cycle = ctx.office.calendar().cycle_of(ctx.today)
    latest = ctx.office.reports.withdrawn_by(cycle.fiscal_year, ctx.event_id)
    if latest is None:
        latest = _latest_mine(ctx)
        ctx.office.reports.withdraw(latest.fiscal_year, latest.id, ctx.now, event_id=ctx.event_id)
    text = (
        f"ถอนรายงานมาตรการที่ {ctx.fmt.num(latest.measure)} ({ctx.division_name(latest.division)}) "
        f"สถานะ {STATUS_THAI[latest.status]} ที่ส่งเมื่อ {ctx.fmt.date(latest.sent_at.date())} แล้ว\n"
        "รายงานนี้ยังเก็บไว้ในประวัติ แต่จะไม่แสดงในสถานะ สรุป และรายงานการประชุม"
    )
    return text_messages(text)


# --- /รายงานแทน ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFor:
    division: str
    given: ReportInput
    day: date | None


def _split_date(text: str) -> tuple[str, date | None]:
    """A trailing "@25/2/2564" (after a space, so an e-mail address in the details stays details)."""
    m = re.search(r"(?:^|\s)@\s*([^@]+)$", text)
    if not m:
        return text, None
    try:
        return text[: m.start()].strip(), parse_date(m[1])
    except DateParseError as e:
        raise Refusal(f"ขออภัย {e}\nรูปแบบ: {REPORT_FOR_FORM}") from None


def parse_report_for(ctx: ChatContext, rest: str) -> ReportFor:
    text, day = _split_date(rest.strip())
    if day is not None and day > ctx.today:
        raise Refusal(f"ขออภัย วันที่ {ctx.fmt.date(day)} ยังมาไม่ถึง ลงวันที่รายงานได้ถึงวันนี้ ({ctx.fmt.date(ctx.today)})")
    plan = ctx.office.plan_for(fiscal_year_of(day)) if day else ctx.year_plan
    if plan is None:
        raise Refusal(f"ขออภัย ไม่มีแผนมาตรการของปีงบประมาณ {ctx.fmt.num(fiscal_year_of(day or ctx.today))} "
                      "จึงบันทึกรายงานของวันที่นั้นไม่ได้")
    arabic = to_arabic_digits(text)
    # The division is everything before the measure number; names may contain spaces.
    for m in re.finditer(r"\d", arabic):
        division = plan.division(text[: m.start()].strip())
        if division is not None:
            given = _parse_input(ctx, text[m.start():], plan)
            return ReportFor(division.id, given, day)
    names = ", ".join(d.name for d in plan.divisions)
    if not text.strip():
        raise Refusal(f"กรุณาระบุกองและเลขมาตรการ รูปแบบ: {REPORT_FOR_FORM}")
    raise Refusal(
        f"ขออภัย อ่านกองหรือเลขมาตรการไม่ออก (กองที่มี: {names})\nรูปแบบ: {REPORT_FOR_FORM}"
    )


def report_for(ctx: ChatContext, given: ReportFor) -> list[Message]:
    day = given.day
    plan = ctx.office.plan_for(fiscal_year_of(day)) if day else ctx.year_plan
    assert plan is not None  # parse_report_for refused a day whose fiscal year has no plan
    check_responsible(ctx, plan, given.given.measure, given.division, yours=False)
    reported_at: datetime | None = None
    if day is not None and day != ctx.today:
        reported_at = datetime.combine(day, BACKDATED_TIME, tzinfo=BANGKOK)
    g = given.given
    stored = record(ctx, g.measure, given.division, g.status, g.percent, g.details,
                    reported_at=reported_at, on_behalf=True)
    return recorded_reply(ctx, stored, head=f"บันทึกรายงานแทน {ctx.division_name(given.division)} แล้ว ✅")
