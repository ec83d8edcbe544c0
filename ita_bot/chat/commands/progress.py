"""Progress commands for the committee and staff: /สถานะ [n], /ค้าง and /สรุป [month]."""

from __future__ import annotations

from ita_bot.chat.commands.base import ChatContext, Refusal
from ita_bot.chat.progress_replies import history_messages, pending_messages, status_messages, summary_messages
from ita_bot.domain.links import report_url
from ita_bot.domain.meetings import Cycle, cycle_id
from ita_bot.domain.progress import measure_number, without_measure_word
from ita_bot.domain.summary import cycle_summary
from ita_bot.domain.thai import DateParseError, parse_month, to_arabic_digits
from ita_bot.line.kit import Message, fit_reply

__all__ = ["cycle_for_month", "parse_measure_opt", "parse_month_opt", "pending", "status", "summary"]


def cycle_url(ctx: ChatContext, cycle: Cycle) -> str:
    return report_url(ctx.office.config.web.base_url, cycle.fiscal_year, cycle.id)


def year_url(ctx: ChatContext, fiscal_year: int) -> str:
    return report_url(ctx.office.config.web.base_url, fiscal_year)


def _more(ctx: ChatContext, url: str) -> str:
    return f"ข้อมูลยาวเกินกว่าที่ LINE ส่งได้ในครั้งเดียว ดูฉบับเต็มได้ที่ {url}"


# --- /สถานะ -------------------------------------------------------------------------------------


def parse_measure_opt(ctx: ChatContext, rest: str) -> int | None:
    typed = without_measure_word(to_arabic_digits(rest).strip())
    if not typed:
        return None
    numbers = [m.number for m in ctx.year_plan.measures]
    listed = ", ".join(ctx.fmt.num(n) for n in numbers)
    number = measure_number(typed)
    if number is None:
        raise Refusal(f"ขออภัย กรุณาระบุเลขมาตรการเป็นตัวเลข เช่น /สถานะ 2 (มีมาตรการ {listed})")
    if number not in numbers:
        raise Refusal(f"ขออภัย ไม่มีมาตรการที่ {ctx.fmt.num(number)} ในปีงบประมาณนี้ (มีมาตรการ {listed})")
    return number


def status(ctx: ChatContext, measure: int | None) -> list[Message]:
    office = ctx.office
    calendar = office.calendar()
    cycle = calendar.cycle_of(ctx.today)
    view = office.view(cycle, calendar)
    plan = ctx.year_plan  # cycles never cross a fiscal year: the cycle's plan is this year's
    more = _more(ctx, year_url(ctx, cycle.fiscal_year))
    if measure is None:
        return fit_reply(status_messages(cycle_summary(plan, view), ctx.today, ctx.fmt), more)
    m = plan.measure(measure)
    assert m is not None  # the parser checked the number against this plan
    reports = [r for r in office.reports.all(cycle.fiscal_year) if r.measure == measure]
    summary = cycle_summary(plan, view)
    return fit_reply(history_messages(plan, m, summary, reports, calendar.cycle_of, ctx.fmt), more)


# --- /ค้าง --------------------------------------------------------------------------------------


def pending(ctx: ChatContext, _: None) -> list[Message]:
    office = ctx.office
    cycle = office.cycle_at(ctx.now)
    plan = ctx.year_plan  # cycles never cross a fiscal year: the cycle's plan is this year's
    summary = cycle_summary(plan, office.view(cycle))
    return fit_reply(pending_messages(summary, ctx.fmt), _more(ctx, cycle_url(ctx, cycle)))


# --- /สรุป --------------------------------------------------------------------------------------


def parse_month_opt(ctx: ChatContext, rest: str) -> Cycle:
    """No month: the current cycle; else the cycle of the month typed (ก.พ., กุมภาพันธ์, 2, 2/2564, ก.พ. 64)."""
    return cycle_for_month(ctx, rest, "/สรุป ก.พ.")


def cycle_for_month(ctx: ChatContext, rest: str, example: str) -> Cycle:
    calendar = ctx.office.calendar()
    if not rest.strip():
        return calendar.cycle_of(ctx.today)
    try:
        year, month = parse_month(rest, ctx.today)
    except DateParseError as e:
        raise Refusal(f"ขออภัย {e} (ตัวอย่าง {example})") from None
    return calendar.cycle(cycle_id(year, month))


def summary(ctx: ChatContext, cycle: Cycle) -> list[Message]:
    office = ctx.office
    plan = office.plan_for(cycle.fiscal_year)
    if plan is None:
        raise Refusal(f"ขออภัย ไม่มีแผนมาตรการของปีงบประมาณ {ctx.fmt.num(cycle.fiscal_year)} จึงสรุปเดือนนั้นไม่ได้")
    url = cycle_url(ctx, cycle)
    return fit_reply(summary_messages(cycle_summary(plan, office.view(cycle)), url, ctx.fmt), _more(ctx, url))
