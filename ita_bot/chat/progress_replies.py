"""Progress replies: /สถานะ, /สถานะ n, /ค้าง and /สรุป as Flex messages with a plain-text altText."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from ita_bot.domain.meetings import Cycle
from ita_bot.domain.plan import Measure, Plan
from ita_bot.domain.progress import STATUS_ICON, STATUS_THAI, Report
from ita_bot.domain.summary import CycleSummary, PairSummary, division_name
from ita_bot.domain.thai import MONTHS_ABBR, be_year, format_date, format_number, format_percent, to_thai_digits
from ita_bot.line import kit
from ita_bot.line.kit import Message

__all__ = ["history_messages", "pending_messages", "status_messages", "summary_messages"]


# --- progress views: /สถานะ, /สถานะ n, /ค้าง, /สรุป -------------------------------------------------

_DETAILS_IN_ROW = 300  # a row shows the start of long details; the full text is in the history
_RED, _GREY, _GREEN = "#C0392B", "#666666", "#1E8449"


def _status_words(status: str | None, percent: int | None, numerals: str) -> str:
    if status is None:
        return "ยังไม่เคยรายงาน"
    words = STATUS_THAI[status]
    return words if percent is None else f"{words} {format_percent(percent, numerals)}"


def _cycle_label(cycle: Cycle, numerals: str) -> str:
    year, month = cycle.month
    return format_number(f"{MONTHS_ABBR[month - 1]} {be_year(year)}", numerals)


def _pair_row(state: PairSummary, numerals: str, *, cycle_reports: bool = False) -> dict[str, Any]:
    """One (measure, division) pair: icon, division, status and percent, latest report date and details."""
    head = kit.box(
        [
            kit.text(f"{STATUS_ICON[state.status]} {state.division}", weight="bold", size="sm", flex=5),
            kit.text(_status_words(state.status, state.percent, numerals), size="sm", align="end", flex=5),
        ],
        layout="horizontal",
    )
    rows = [head]
    shown = state.reports if cycle_reports and state.reports else ([state.latest] if state.latest else [])
    for r in shown:
        when = format_date(r.day, numerals)
        text = f"{when}: {kit.clip(r.details, _DETAILS_IN_ROW) if r.details else '(ไม่มีรายละเอียด)'}"
        if r.evidence:
            text += f" 📎{format_number(len(r.evidence), numerals)}"
        rows.append(kit.text(text, size="xs", color=_GREY))
    if state.pending:
        rows.append(kit.text("⏳ ยังไม่ได้รายงานในรอบนี้", size="xs", color=_RED))
    return kit.box(rows, spacing="xs", margin="md")


def _pair_alt(state: PairSummary, numerals: str) -> str:
    latest = f" ({format_date(state.latest.day, numerals)})" if state.latest else ""
    flag = " ⏳ค้าง" if state.pending else ""
    return (
        f"ม.{format_number(state.measure, numerals)} {state.division}: "
        f"{_status_words(state.status, state.percent, numerals)}{latest}{flag}"
    )


def _measure_bubbles(
    summary: CycleSummary, numerals: str, footer: str, *, cycle_reports: bool = False
) -> list[dict[str, Any]]:
    bubbles: list[dict[str, Any]] = []
    digits = (lambda s: to_thai_digits(s)) if numerals == "thai" else str
    for m in summary.measures:
        rows = [_pair_row(s, numerals, cycle_reports=cycle_reports) for s in m.pairs]
        if rows:
            title = f"มาตรการที่ {format_number(m.number, numerals)}"
            bubbles += kit.paged_bubbles(title, kit.clip(m.title, 160), rows, footer, digits)
    return bubbles


def status_messages(summary: CycleSummary, today: date, numerals: str = "arabic") -> list[Message]:
    """/สถานะ: every measure and division with its latest status, percent, date and details."""
    meeting = format_date(summary.cycle.meeting, numerals)
    head = f"สถานะมาตรการ ITA ณ {format_date(today, numerals)} (รอบประชุม {meeting})"
    alt = "\n".join([head, *(_pair_alt(s, numerals) for s in summary.pairs)])
    footer = "⏳ = ยังไม่ได้รายงานในรอบนี้ · /สถานะ <เลข> ดูประวัติ · /ค้าง ดูที่ค้าง"
    return kit.flex_messages(alt, _measure_bubbles(summary, numerals, footer))


def history_messages(
    plan: Plan, measure: Measure, summary: CycleSummary, reports: Sequence[Report], cycle_of: Callable[[date], Cycle],
    numerals: str = "arabic",
) -> list[Message]:
    """/สถานะ n: the measure's state per division, then every live report of the fiscal year, oldest first."""
    n = format_number(measure.number, numerals)
    states = [s for s in summary.pairs if s.measure == measure.number]
    now_rows = [_pair_row(s, numerals) for s in states]
    history_rows = []
    for r in reports:
        lines = [
            kit.text(f"{format_date(r.day, numerals)} · {division_name(plan, r.division)}", weight="bold", size="xs"),
            kit.text(f"{STATUS_ICON[r.status]} {_status_words(r.status, r.percent, numerals)} "
                     f"(รอบ {_cycle_label(cycle_of(r.day), numerals)})", size="xs"),
            kit.text(r.details or "(ไม่มีรายละเอียด)", size="xs", color=_GREY),
        ]
        if r.evidence:
            lines.append(kit.text(f"📎 หลักฐาน {format_number(len(r.evidence), numerals)} ไฟล์", size="xxs",
                                  color=_GREY))
        history_rows.append(kit.box(lines, spacing="xs", margin="md"))
    if not history_rows:
        history_rows = [kit.text("ยังไม่มีรายงานในปีงบประมาณนี้", size="sm", color=_GREY)]
    digits = (lambda s: to_thai_digits(s)) if numerals == "thai" else str
    bubbles = kit.paged_bubbles(f"มาตรการที่ {n} สถานะล่าสุด", kit.clip(measure.title, 160), now_rows, None, digits)
    count = format_number(len(reports), numerals)
    bubbles += kit.paged_bubbles(f"มาตรการที่ {n} ประวัติรายงาน", f"ทั้งหมด {count} รายงาน เก่าไปใหม่",
                                 history_rows, None, digits)
    alt_lines = [f"มาตรการที่ {n} {measure.title}", *(_pair_alt(s, numerals) for s in states),
                 f"ประวัติ {count} รายงาน:"]
    alt_lines += [
        f"{format_date(r.day, numerals)} {division_name(plan, r.division)} "
        f"{_status_words(r.status, r.percent, numerals)} {kit.clip(r.details, 80)}".rstrip()
        for r in reports
    ]
    return kit.flex_messages("\n".join(alt_lines), bubbles)


def pending_messages(summary: CycleSummary, numerals: str = "arabic") -> list[Message]:
    """/ค้าง: each pending division with its measure numbers and latest status (text when nothing is pending)."""
    meeting = format_date(summary.cycle.meeting, numerals)
    if not summary.pending:
        return kit.text_messages(f"รอบประชุม {meeting}: ทุกกองรายงานครบแล้ว ไม่มีรายการค้าง 🎉")
    rows = []
    alt = [f"ยังไม่ได้รายงาน รอบประชุม {meeting}:"]
    for owing in summary.pending:
        listed = ", ".join(format_number(x, numerals) for x in owing.measures)
        rows.append(kit.text(f"{owing.division}: มาตรการที่ {listed}", weight="bold", size="sm"))
        for s in summary.pairs:
            if s.division_id == owing.division_id and s.pending:
                latest = f" (ล่าสุด {format_date(s.latest.day, numerals)})" if s.latest else ""
                rows.append(kit.text(
                    f"  {STATUS_ICON[s.status]} ม.{format_number(s.measure, numerals)} "
                    f"{_status_words(s.status, s.percent, numerals)}{latest}", size="xs", color=_GREY))
        alt.append(f"{owing.division}: มาตรการที่ {listed}")
    count = format_number(summary.counts["pending"], numerals)
    bubbles = kit.paged_bubbles(f"ยังไม่ได้รายงาน {count} รายการ", f"รอบประชุม {meeting}", rows,
                                "รายงานด้วย /รายงาน <เลขมาตรการ> ... หรือ /รายงาน (มีปุ่ม)")
    return kit.flex_messages("\n".join(alt), bubbles)


def summary_messages(summary: CycleSummary, report_url: str, numerals: str = "arabic") -> list[Message]:
    """/สรุป: a cycle's counts, each pair's status with this cycle's reports, what is pending, the report link."""
    meeting = format_date(summary.cycle.meeting, numerals)
    label = _cycle_label(summary.cycle, numerals)
    counts = summary.counts
    num = lambda v: format_number(v, numerals)  # noqa: E731 (a local shorthand)
    count_line = (
        f"{STATUS_ICON['done']} เสร็จ {num(counts['done'])} · {STATUS_ICON['doing']} กำลังทำ {num(counts['doing'])} · "
        f"{STATUS_ICON['blocked']} ติดปัญหา {num(counts['blocked'])} · {STATUS_ICON['todo']} ยังไม่เริ่ม "
        f"{num(counts['todo'])} · ยังไม่เคยรายงาน {num(counts['none'])}"
    )
    rows = [
        kit.text(count_line, size="sm"),
        kit.text(f"รายงานในรอบนี้ {num(len(summary.reports))} รายงาน จาก {num(counts['pairs'])} คู่มาตรการ–กอง",
                 size="sm"),
    ]
    if summary.pending:
        rows.append(kit.text(f"ค้าง {num(counts['pending'])} รายการ:", weight="bold", size="sm", color=_RED))
        rows += [
            kit.text(f"• {d.division}: มาตรการที่ {', '.join(num(x) for x in d.measures)}", size="xs")
            for d in summary.pending
        ]
    else:
        rows.append(kit.text("ทุกกองรายงานครบแล้ว 🎉", size="sm", color=_GREEN))
    rows.append(kit.text(f"รายงานการประชุม: {report_url}", size="xs", color=_GREY))
    head = kit.paged_bubbles(f"สรุปผลรอบ {label}", f"ประชุมพนักงาน {meeting}", rows)
    footer = "แสดงรายงานของรอบนี้ (ถ้าไม่มี แสดงรายงานล่าสุด)"
    bubbles = head + _measure_bubbles(summary, numerals, footer, cycle_reports=True)
    alt = [f"สรุปผลการดำเนินงานตามมาตรการ ITA รอบ {label} (ประชุม {meeting})", count_line]
    if summary.pending:
        alt.append("ค้าง: " + "; ".join(f"{d.division} ม.{', '.join(num(x) for x in d.measures)}"
                                          for d in summary.pending))
    alt += [_pair_alt(s, numerals) for s in summary.pairs]
    return kit.flex_messages("\n".join(alt), bubbles)
