"""Messages of the scheduled jobs: the reminder (textV2 with mentions), the chair's digest and the meeting-day summary.

Pure functions from domain values to LINE message objects as plain JSON data (``messages.Message``);
they read no store and no clock.
Everything here respects LINE's message limits: at most 20 mentions and 5,000 characters a
text, ``altText`` ≤ 1,500, a bubble ≤ 30 KB, a carousel ≤ 12 bubbles.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ita_bot.chat.messages import Message, text_message
from ita_bot.domain.meetings import Cycle
from ita_bot.domain.plan import Plan
from ita_bot.domain.progress import STATUS_ICON, STATUS_THAI, CycleView, PairState, Report
from ita_bot.domain.thai import format_date, format_month, format_number, format_percent

__all__ = [
    "MAX_MENTIONS",
    "PendingDivision",
    "digest_message",
    "direct_reminder_message",
    "meeting_phrase",
    "mention_lines",
    "mention_messages",
    "reminder_messages",
    "summary_message",
]

MAX_MENTIONS = 20
# Below LINE's 5,000 so a message never needs measuring twice; mention placeholders expand to names.
MAX_TEXT = 4000
MAX_ALT_TEXT = 1500
MAX_BUBBLES = 12
MAX_BUBBLE_BYTES = 29_000  # LINE: 30 KB a bubble ...
MAX_CAROUSEL_BYTES = 48_000  # ... and 50 KB a carousel (kept a little under both)
REPORTS_PER_PAIR = 5  # this cycle's reports shown per (measure, division); older ones are counted
WEEKDAYS = ("จันทร์", "อังคาร", "พุธ", "พฤหัสบดี", "ศุกร์", "เสาร์", "อาทิตย์")
REPORT_HINT = "รายงานได้ในกลุ่มนี้หรือแชตกับบอท เช่น /รายงาน 4 กำลังทำ 50% อัปเดตเว็บไซต์แล้ว (พิมพ์ /รายงาน เพื่อเลือกจากปุ่ม)"


@dataclass(frozen=True)
class PendingDivision:
    """A division still owing reports this cycle, and who to mention for it."""

    name: str
    measures: tuple[int, ...]
    staff: tuple[str, ...]  # LINE user IDs of its registered staff still in the group


def meeting_phrase(meeting: date, numerals: str) -> str:
    """"วันพฤหัสบดีที่ 25 ก.พ. 2564"."""
    return f"วัน{WEEKDAYS[meeting.weekday()]}ที่ {format_date(meeting, numerals)}"


def _days_left(days: int, numerals: str) -> str:
    return "วันนี้" if days == 0 else f"อีก {format_number(days, numerals)} วันทำการ"


def _measures(numbers: Sequence[int], numerals: str) -> str:
    return ", ".join(format_number(n, numerals) for n in numbers)


def _cycle_month(cycle: Cycle, numerals: str) -> str:
    year, month = cycle.month
    return format_month(year, month, numerals)


# --- reminder -----------------------------------------------------------------------------------

Segment = str | tuple[str, str]  # plain text, or ("mention", user_id)


def _escape(text: str) -> str:
    # textV2 treats {key} as a placeholder; literal braces are written doubled.
    return text.replace("{", "{{").replace("}", "}}")


def _render(segments: Sequence[Segment]) -> Message:
    """A textV2 message: each mention a `{uN}` placeholder with its `substitution` entry."""
    parts: list[str] = []
    subs: dict[str, Any] = {}
    for seg in segments:
        if isinstance(seg, str):
            parts.append(_escape(seg))
        else:
            key = f"u{len(subs)}"
            subs[key] = {"type": "mention", "mentionee": {"type": "user", "userId": seg[1]}}
            parts.append("{" + key + "}")
    message: Message = {"type": "textV2", "text": "".join(parts)}
    if subs:
        message["substitution"] = subs
    return message


def mention_lines(head: str, staff: Sequence[str]) -> list[list[Segment]]:
    """A line naming a division and mentioning its staff, or several when it has more than one message may mention."""
    if not staff:
        return [[f"{head} (ยังไม่มีผู้ลงทะเบียนในกองนี้)"]]
    lines: list[list[Segment]] = []
    for i in range(0, len(staff), MAX_MENTIONS):
        line: list[Segment] = [head + (": " if i == 0 else " (ต่อ): ")]
        for j, uid in enumerate(staff[i : i + MAX_MENTIONS]):
            if j:
                line.append(" ")
            line.append(("mention", uid))
        lines.append(line)
    return lines


def _division_lines(div: PendingDivision, numerals: str) -> list[list[Segment]]:
    return mention_lines(f"• {div.name} — มาตรการที่ {_measures(div.measures, numerals)}", div.staff)


def _mentions(segments: Sequence[Segment]) -> int:
    return sum(1 for s in segments if not isinstance(s, str))


def _length(segments: Sequence[Segment]) -> int:
    # A mention renders as "@display name": count it generously.
    return sum(len(s) if isinstance(s, str) else 30 for s in segments)


def reminder_messages(
    cycle: Cycle, days_left: int, pending: Sequence[PendingDivision], numerals: str = "arabic"
) -> list[Message]:
    """The group reminder: meeting date, each pending division with its measures, its staff mentioned.

    Split into as many textV2 messages as needed so none has more than 20 mentions; the caller
    sends them five to a request. Empty when nothing is pending.
    """
    if not pending:
        return []
    when = meeting_phrase(cycle.meeting, numerals)
    header = (
        "🔔 แจ้งเตือนรายงานผลการดำเนินงานตามมาตรการส่งเสริมคุณธรรมและความโปร่งใส (ITA)\n"
        f"การประชุมพนักงานประจำเดือน{_cycle_month(cycle, numerals)} {when} ({_days_left(days_left, numerals)})\n"
        "กองที่ยังไม่ได้รายงานในรอบนี้:"
    )
    cont = f"(ต่อ) แจ้งเตือนรายงานผล ITA ประชุม {format_date(cycle.meeting, numerals)}:"
    lines = [line for div in pending for line in _division_lines(div, numerals)]
    return mention_messages(header, cont, lines, "\n" + REPORT_HINT)


def mention_messages(header: str, cont: str, lines: Sequence[list[Segment]], footer: str) -> list[Message]:
    """Header, then the lines, as textV2 messages of at most 20 mentions and 4,000 characters each.

    A message after the first starts with `cont`; the footer closes the last one.
    """
    messages: list[list[Segment]] = []
    current: list[Segment] = [header]
    for line in lines:
        fits = _mentions(current) + _mentions(line) <= MAX_MENTIONS and _length(current) + _length(line) < MAX_TEXT
        if not fits:
            messages.append(current)
            current = [cont]
        current += ["\n", *line]
    current.append(footer)
    messages.append(current)
    return [_render(m) for m in messages]


def direct_reminder_message(
    name: str, cycle: Cycle, days_left: int, division: str, measures: Sequence[int], numerals: str = "arabic"
) -> Message:
    """The 1:1 reminder (`reminder_to = "direct"`) to one registered staff member of a pending division."""
    greeting = f"เรียน คุณ{name}\n" if name else ""
    text = (
        f"🔔 {greeting}การประชุมพนักงานประจำเดือน{_cycle_month(cycle, numerals)} "
        f"{meeting_phrase(cycle.meeting, numerals)} ({_days_left(days_left, numerals)})\n"
        f"{division} ยังไม่ได้รายงานผลมาตรการที่ {_measures(measures, numerals)} ในรอบนี้\n"
        "รายงานได้ที่แชตนี้ เช่น /รายงาน 4 กำลังทำ 50% อัปเดตเว็บไซต์แล้ว (พิมพ์ /รายงาน เพื่อเลือกจากปุ่ม)"
    )
    return text_message(text)


# --- digest and summary (Flex) ------------------------------------------------------------------


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "text", "text": text or " ", "wrap": True, "size": style.pop("size", "sm"), **style}


def _box(contents: list[dict[str, Any]], **style: Any) -> dict[str, Any]:
    return {"type": "box", "layout": style.pop("layout", "vertical"), "contents": contents, **style}


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _status_line(pair: PairState, numerals: str) -> str:
    if pair.latest is None:
        return f"{STATUS_ICON[None]} ยังไม่เคยรายงาน"
    status = pair.latest.status
    return f"{STATUS_ICON[status]} {STATUS_THAI[status]} {format_percent(pair.latest.percent, numerals)}"


def _report_line(report: Report, numerals: str, *, with_names: bool) -> str:
    status = f"{STATUS_THAI[report.status]} {format_percent(report.percent, numerals)}"
    head = f"{format_date(report.day, numerals)} · {status}"
    if with_names and report.reporter_name:
        head += f" · {report.reporter_name}"
    if report.evidence:
        head += f" · หลักฐาน {format_number(len(report.evidence), numerals)}"
    details = _clip(report.details, 140)
    return f"{head}\n{details}" if details else head


def _pair_block(pair: PairState, plan: Plan, numerals: str, *, with_names: bool) -> dict[str, Any]:
    name = plan.division_name(pair.division)
    rows: list[dict[str, Any]] = [
        _box(
            [
                _text(name, weight="bold", flex=3),
                _text(_status_line(pair, numerals), flex=4, align="end", color="#333333"),
            ],
            layout="horizontal",
        )
    ]
    if pair.pending:
        rows.append(_text("ยังไม่ได้รายงานในรอบนี้", size="xs", color="#C0392B"))
    shown = pair.cycle_reports[-REPORTS_PER_PAIR:]
    hidden = len(pair.cycle_reports) - len(shown)
    if hidden:
        rows.append(_text(f"(รายงานก่อนหน้าในรอบนี้อีก {format_number(hidden, numerals)} ครั้ง)", size="xs",
                          color="#888888"))
    for report in shown:
        rows.append(_text(_report_line(report, numerals, with_names=with_names), size="xs", color="#555555"))
    if not pair.cycle_reports and pair.latest is not None:
        rows.append(_text(f"รายงานล่าสุด {format_date(pair.latest.day, numerals)}", size="xs", color="#888888"))
    return _box(rows, spacing="xs", margin="md")


def _measure_bubble(
    numbers: Sequence[int], view: CycleView, plan: Plan, numerals: str, *, with_names: bool
) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    for number in numbers:
        measure = plan.measure(number)
        title = _clip(measure.title, 160) if measure else ""
        body.append(_text(f"มาตรการที่ {format_number(number, numerals)}", weight="bold", size="md",
                          margin="lg" if body else "none"))
        body.append(_text(title, size="xs", color="#666666"))
        for pair in (p for p in view.pairs if p.measure == number):
            body.append(_pair_block(pair, plan, numerals, with_names=with_names))
    return {"type": "bubble", "size": "mega", "body": _box(body, spacing="sm")}


def _count_lines(view: CycleView, numerals: str) -> list[str]:
    c = view.counts()
    reported = sum(1 for p in view.pairs if p.cycle_reports)
    n = numerals
    return [
        f"รายงานแล้วในรอบนี้ {format_number(reported, n)} จาก {format_number(c['pairs'], n)} รายการ "
        f"(ค้าง {format_number(c['pending'], n)})",
        f"🟢 เสร็จสิ้น {format_number(c['done'], n)} · 🟡 กำลังดำเนินการ {format_number(c['doing'], n)} · "
        f"🔴 ติดปัญหา {format_number(c['blocked'], n)} · ⚪ ยังไม่เริ่ม {format_number(c['todo'], n)} · "
        f"⏳ ยังไม่เคยรายงาน {format_number(c['none'], n)}",
    ]


def _pending_lines(view: CycleView, plan: Plan, numerals: str) -> list[str]:
    return [
        f"• {plan.division_name(div)}: มาตรการที่ {_measures(numbers, numerals)}"
        for div, numbers in view.pending_by_division().items()
    ]


def _overview_bubble(
    title: str, lead: list[str], view: CycleView, plan: Plan, link: str, numerals: str
) -> dict[str, Any]:
    body: list[dict[str, Any]] = [_text(title, weight="bold", size="md")]
    body += [_text(line, size="sm", color="#333333") for line in lead]
    body.append({"type": "separator", "margin": "md"})
    body += [_text(line, size="sm", margin="md") for line in _count_lines(view, numerals)]
    pending = _pending_lines(view, plan, numerals)
    body.append(_text("ค้างรายงานในรอบนี้:" if pending else "ทุกกองรายงานครบแล้วในรอบนี้ 🎉", weight="bold",
                      margin="md"))
    body += [_text(line, size="sm", color="#C0392B") for line in pending]
    return {
        "type": "bubble",
        "size": "mega",
        "body": _box(body, spacing="sm"),
        "footer": _box(
            [{"type": "button", "style": "primary", "height": "sm",
              "action": {"type": "uri", "label": "ดูรายงานประจำรอบ", "uri": link}}]
        ),
    }


def _size(node: Any) -> int:
    return len(json.dumps(node, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _carousel(overview: dict[str, Any], view: CycleView, plan: Plan, numerals: str, *, with_names: bool
              ) -> dict[str, Any]:
    numbers = sorted({p.measure for p in view.pairs})
    # One bubble per measure; with more measures than a carousel holds, several share a bubble.
    per = max(1, -(-len(numbers) // (MAX_BUBBLES - 1)))
    groups = [numbers[i : i + per] for i in range(0, len(numbers), per)]
    bubbles = [overview]
    for group in groups:
        bubble = _measure_bubble(group, view, plan, numerals, with_names=with_names)
        if _size(bubble) > MAX_BUBBLE_BYTES:
            # Far too many reports for one bubble: drop the per-report lines, keep the statuses.
            bubble = _measure_bubble(group, _without_reports(view), plan, numerals, with_names=with_names)
        bubbles.append(bubble)
    if sum(_size(b) for b in bubbles) > MAX_CAROUSEL_BYTES:
        # The statuses matter more than the report texts; the link in the overview has the rest.
        bare = _without_reports(view)
        bubbles = [overview, *(_measure_bubble(g, bare, plan, numerals, with_names=with_names) for g in groups)]
    return {"type": "carousel", "contents": bubbles}


def _without_reports(view: CycleView) -> CycleView:
    pairs = [PairState(p.measure, p.division, p.latest, [], p.pending) for p in view.pairs]
    return CycleView(view.cycle, pairs)


def _alt(text: str) -> str:
    return text if len(text) <= MAX_ALT_TEXT else text[: MAX_ALT_TEXT - 1] + "…"


def _alt_text(prefix: str, view: CycleView, plan: Plan, numerals: str) -> str:
    lines = [prefix, *_count_lines(view, numerals)[:1]]
    pending = _pending_lines(view, plan, numerals)
    if pending:
        lines += ["ค้างรายงาน:", *pending]
    return _alt("\n".join(lines))


def digest_message(view: CycleView, plan: Plan, link: str, numerals: str = "arabic") -> Message:
    """The chair's digest: per measure and division status and percent, this cycle's reports, pending, counts, link."""
    cycle = view.cycle
    when = meeting_phrase(cycle.meeting, numerals)
    lead = [f"รอบประชุมพนักงานเดือน{_cycle_month(cycle, numerals)}", f"ประชุม{when}"]
    overview = _overview_bubble("สรุปความคืบหน้ามาตรการ ITA สำหรับประธาน", lead, view, plan, link, numerals)
    contents = _carousel(overview, view, plan, numerals, with_names=True)
    alt = _alt_text(f"สรุปความคืบหน้ามาตรการ ITA ก่อนประชุม{when}", view, plan, numerals)
    return _flex(alt, contents)


def summary_message(view: CycleView, plan: Plan, link: str, numerals: str = "arabic") -> Message:
    """The meeting-day summary to the staff group: for the agenda and circulation to staff (plan section ๕)."""
    cycle = view.cycle
    month = _cycle_month(cycle, numerals)
    lead = [
        f"ประจำเดือน{month} สำหรับวาระการประชุมพนักงาน{meeting_phrase(cycle.meeting, numerals)}",
        "แจ้งเวียนให้พนักงานทุกท่านทราบ",
    ]
    if plan.reporting_rule:
        lead.append(f"“{_clip(plan.reporting_rule, 300)}”")
    overview = _overview_bubble(
        f"สรุปผลการดำเนินงานตามมาตรการส่งเสริมคุณธรรมและความโปร่งใส {plan.organization.short_name}".strip(),
        lead, view, plan, link, numerals,
    )
    # Staff-wide circulation: divisions only, no personal names.
    contents = _carousel(overview, view, plan, numerals, with_names=False)
    alt = _alt_text(f"สรุปผลการดำเนินงานตามมาตรการ ITA ประจำเดือน{month} (ประชุม {format_date(cycle.meeting, numerals)})",
                    view, plan, numerals)
    return _flex(alt, contents)


def _flex(alt: str, contents: dict[str, Any]) -> Message:
    return {"type": "flex", "altText": alt, "contents": contents}
