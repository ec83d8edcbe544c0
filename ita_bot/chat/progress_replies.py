"""Progress replies: /สถานะ, /สถานะ n, /ค้าง and /สรุป as Flex messages with a plain-text altText."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from ita_bot.domain.meetings import Cycle
from ita_bot.domain.plan import Measure, Plan
from ita_bot.domain.progress import STATUS_ICON, Report
from ita_bot.domain.summary import CycleSummary, PairSummary
from ita_bot.domain.thai import ARABIC, ThaiFormat
from ita_bot.domain.wording import NOT_THIS_CYCLE, status_line, status_words
from ita_bot.line import kit
from ita_bot.line.cycle_summary import cycle_summary_message
from ita_bot.line.kit import Message

__all__ = ["history_messages", "pending_messages", "status_messages", "summary_messages"]


# --- progress views: /สถานะ, /สถานะ n, /ค้าง, /สรุป -------------------------------------------------

_DETAILS_IN_ROW = 300  # a row shows the start of long details; the full text is in the history
_RED, _GREY = "#C0392B", "#666666"


def _pair_row(state: PairSummary, fmt: ThaiFormat) -> dict[str, Any]:
    """One (measure, division) pair: icon, division, status and percent, latest report date and details."""
    head = kit.box(
        [
            kit.text(f"{STATUS_ICON[state.status]} {state.division}", weight="bold", size="sm", flex=5),
            kit.text(status_words(state.status, state.percent, fmt), size="sm", align="end", flex=5),
        ],
        layout="horizontal",
    )
    rows = [head]
    shown = [state.latest] if state.latest else []
    for r in shown:
        when = fmt.date(r.day)
        text = f"{when}: {kit.clip(r.details, _DETAILS_IN_ROW) if r.details else '(ไม่มีรายละเอียด)'}"
        if r.evidence:
            text += f" 📎{fmt.num(len(r.evidence))}"
        rows.append(kit.text(text, size="xs", color=_GREY))
    if state.pending and state.status is not None:  # "never reported" already says it
        rows.append(kit.text(f"{STATUS_ICON[None]} {NOT_THIS_CYCLE}", size="xs", color=_RED))
    return kit.box(rows, spacing="xs", margin="md")


def _pair_alt(state: PairSummary, fmt: ThaiFormat) -> str:
    latest = f" ({fmt.date(state.latest.day)})" if state.latest else ""
    flag = " ⏳ค้าง" if state.pending and state.status is not None else ""
    return (
        f"ม.{fmt.num(state.measure)} {state.division}: "
        f"{status_words(state.status, state.percent, fmt)}{latest}{flag}"
    )


def _measure_bubbles(summary: CycleSummary, fmt: ThaiFormat, footer: str) -> list[dict[str, Any]]:
    bubbles: list[dict[str, Any]] = []
    for m in summary.measures:
        rows = [_pair_row(s, fmt) for s in m.pairs]
        if rows:
            title = f"มาตรการที่ {fmt.num(m.number)}"
            bubbles += kit.paged_bubbles(title, kit.clip(m.title, kit.MEASURE_TITLE_CHARS), rows, footer, fmt.digits)
    return bubbles


def status_messages(summary: CycleSummary, today: date, fmt: ThaiFormat = ARABIC) -> list[Message]:
    """/สถานะ: every measure and division with its latest status, percent, date and details."""
    meeting = fmt.date(summary.cycle.meeting)
    head = f"สถานะมาตรการ ITA ณ {fmt.date(today)} (รอบประชุม {meeting})"
    alt = "\n".join([head, *(_pair_alt(s, fmt) for s in summary.pairs)])
    footer = f"{STATUS_ICON[None]} = {NOT_THIS_CYCLE} · /สถานะ <เลข> ดูประวัติ · /ค้าง ดูที่ค้าง"
    return kit.flex_messages(alt, _measure_bubbles(summary, fmt, footer))


def history_messages(
    plan: Plan, measure: Measure, summary: CycleSummary, reports: Sequence[Report], cycle_of: Callable[[date], Cycle],
    fmt: ThaiFormat = ARABIC,
) -> list[Message]:
    """/สถานะ n: the measure's state per division, then every live report of the fiscal year, oldest first."""
    n = fmt.num(measure.number)
    states = [s for s in summary.pairs if s.measure == measure.number]
    now_rows = [_pair_row(s, fmt) for s in states]
    history_rows = []
    for r in reports:
        lines = [
            kit.text(f"{fmt.date(r.day)} · {plan.division_name(r.division)}", weight="bold", size="xs"),
            kit.text(f"{status_line(r.status, r.percent, fmt)} "
                     f"(รอบ {fmt.month(cycle_of(r.day).month, abbr=True)})", size="xs"),
            kit.text(r.details or "(ไม่มีรายละเอียด)", size="xs", color=_GREY),
        ]
        if r.evidence:
            lines.append(kit.text(f"📎 หลักฐาน {fmt.num(len(r.evidence))} ไฟล์", size="xxs",
                                  color=_GREY))
        history_rows.append(kit.box(lines, spacing="xs", margin="md"))
    if not history_rows:
        history_rows = [kit.text("ยังไม่มีรายงานในปีงบประมาณนี้", size="sm", color=_GREY)]
    title = kit.clip(measure.title, kit.MEASURE_TITLE_CHARS)
    bubbles = kit.paged_bubbles(f"มาตรการที่ {n} สถานะล่าสุด", title, now_rows, None, fmt.digits)
    count = fmt.num(len(reports))
    bubbles += kit.paged_bubbles(f"มาตรการที่ {n} ประวัติรายงาน", f"ทั้งหมด {count} รายงาน เก่าไปใหม่",
                                 history_rows, None, fmt.digits)
    alt_lines = [f"มาตรการที่ {n} {measure.title}", *(_pair_alt(s, fmt) for s in states),
                 f"ประวัติ {count} รายงาน:"]
    alt_lines += [
        f"{fmt.date(r.day)} {plan.division_name(r.division)} "
        f"{status_words(r.status, r.percent, fmt)} {kit.clip(r.details, 80)}".rstrip()
        for r in reports
    ]
    return kit.flex_messages("\n".join(alt_lines), bubbles)


def pending_messages(summary: CycleSummary, fmt: ThaiFormat = ARABIC) -> list[Message]:
    """/ค้าง: each pending division with its measure numbers and latest status (text when nothing is pending)."""
    meeting = fmt.date(summary.cycle.meeting)
    if not summary.pending:
        return kit.text_messages(f"รอบประชุม {meeting}: ทุกกองรายงานครบแล้ว ไม่มีรายการค้าง 🎉")
    rows = []
    alt = [f"ยังไม่ได้รายงาน รอบประชุม {meeting}:"]
    for owing in summary.pending:
        listed = ", ".join(fmt.num(x) for x in owing.measures)
        rows.append(kit.text(f"{owing.division}: มาตรการที่ {listed}", weight="bold", size="sm"))
        for s in summary.pairs:
            if s.division_id == owing.division_id and s.pending:
                latest = f" (ล่าสุด {fmt.date(s.latest.day)})" if s.latest else ""
                rows.append(kit.text(
                    f"  {STATUS_ICON[s.status]} ม.{fmt.num(s.measure)} "
                    f"{status_words(s.status, s.percent, fmt)}{latest}", size="xs", color=_GREY))
        alt.append(f"{owing.division}: มาตรการที่ {listed}")
    count = fmt.num(summary.counts["pending"])
    bubbles = kit.paged_bubbles(f"ยังไม่ได้รายงาน {count} รายการ", f"รอบประชุม {meeting}", rows,
                                "รายงานด้วย /รายงาน <เลขมาตรการ> ... หรือ /รายงาน (มีปุ่ม)")
    return kit.flex_messages("\n".join(alt), bubbles)


def summary_messages(summary: CycleSummary, report_url: str, fmt: ThaiFormat = ARABIC) -> list[Message]:
    """/สรุป: the cycle's summary as the group and the chair receive it (line/cycle_summary.py), no reporter names."""
    meeting = fmt.date(summary.cycle.meeting)
    label = fmt.month(summary.cycle.month, abbr=True)
    return [cycle_summary_message(
        summary, title=f"สรุปผลรอบ {label}", lead=[f"ประชุมพนักงาน {meeting}"],
        alt=f"สรุปผลการดำเนินงานตามมาตรการ ITA รอบ {label} (ประชุม {meeting})", link=report_url, fmt=fmt,
        with_names=False,  # /สรุป may be asked in the staff group
    )]
