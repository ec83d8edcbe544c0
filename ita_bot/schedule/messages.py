"""Messages of the scheduled jobs: the reminder (textV2 with mentions), the chair's digest and the meeting-day summary.

Pure functions from domain values to LINE message objects as plain JSON data (``kit.Message``);
they read no store and no clock. LINE's limits (mentions, text, altText, bubble and carousel sizes)
come from the message kit, :mod:`ita_bot.line.kit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ita_bot.domain.meetings import Cycle
from ita_bot.domain.progress import STATUS_ICON, Report
from ita_bot.domain.summary import CycleSummary, MeasureSummary, PairSummary
from ita_bot.domain.thai import ARABIC, ThaiFormat
from ita_bot.domain.wording import NEVER_REPORTED, NOT_THIS_CYCLE, status_line, status_words
from ita_bot.line import kit
from ita_bot.line.kit import MAX_MENTIONS, Message, text_message

__all__ = [
    "DivisionToRemind",
    "digest_message",
    "direct_reminder_message",
    "mention_lines",
    "mention_messages",
    "reminder_messages",
    "summary_message",
]

# A reminder's text stays well under LINE's 5,000: its mention placeholders expand to display names
# whose length we only estimate, so the room left is the margin for that estimate.
REMINDER_TEXT_BUDGET = kit.MAX_TEXT - 1_000
REPORTS_PER_PAIR = 5  # this cycle's reports shown per (measure, division); older ones are counted
REPORT_HINT = "รายงานได้ในกลุ่มนี้หรือแชตกับบอท เช่น /รายงาน 4 กำลังทำ 50% อัปเดตเว็บไซต์แล้ว (พิมพ์ /รายงาน เพื่อเลือกจากปุ่ม)"


@dataclass(frozen=True)
class DivisionToRemind:
    """A division still owing reports this cycle, and who to mention for it."""

    name: str
    measures: tuple[int, ...]
    staff: tuple[str, ...]  # LINE user IDs of its registered staff still in the group


def _days_left(days: int, fmt: ThaiFormat) -> str:
    return "วันนี้" if days == 0 else f"อีก {fmt.num(days)} วันทำการ"


def _measures(numbers: Sequence[int], fmt: ThaiFormat) -> str:
    return ", ".join(fmt.num(n) for n in numbers)


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


def _division_lines(div: DivisionToRemind, fmt: ThaiFormat) -> list[list[Segment]]:
    return mention_lines(f"• {div.name} — มาตรการที่ {_measures(div.measures, fmt)}", div.staff)


def _mentions(segments: Sequence[Segment]) -> int:
    return sum(1 for s in segments if not isinstance(s, str))


def _length(segments: Sequence[Segment]) -> int:
    # A mention renders as "@display name": count it generously.
    return sum(kit.line_length(s) if isinstance(s, str) else 30 for s in segments)


def reminder_messages(
    cycle: Cycle, days_left: int, pending: Sequence[DivisionToRemind], fmt: ThaiFormat = ARABIC
) -> list[Message]:
    """The group reminder: meeting date, each pending division with its measures, its staff mentioned.

    Split into as many textV2 messages as needed so none has more than 20 mentions; the caller
    sends them five to a request. Empty when nothing is pending.
    """
    if not pending:
        return []
    when = fmt.meeting(cycle.meeting)
    header = (
        "🔔 แจ้งเตือนรายงานผลการดำเนินงานตามมาตรการส่งเสริมคุณธรรมและความโปร่งใส (ITA)\n"
        f"การประชุมพนักงานประจำเดือน{fmt.month(cycle.month)} {when} ({_days_left(days_left, fmt)})\n"
        "กองที่ยังไม่ได้รายงานในรอบนี้:"
    )
    cont = f"(ต่อ) แจ้งเตือนรายงานผล ITA ประชุม {fmt.date(cycle.meeting)}:"
    lines = [line for div in pending for line in _division_lines(div, fmt)]
    return mention_messages(header, cont, lines, "\n" + REPORT_HINT)


def mention_messages(header: str, cont: str, lines: Sequence[list[Segment]], footer: str) -> list[Message]:
    """Header, then the lines, as textV2 messages of at most 20 mentions and the reminder's text budget each.

    A message after the first starts with `cont`; the footer closes the last one.
    """
    messages: list[list[Segment]] = []
    current: list[Segment] = [header]
    for line in lines:
        fits = (_mentions(current) + _mentions(line) <= MAX_MENTIONS
                and _length(current) + _length(line) < REMINDER_TEXT_BUDGET)
        if not fits:
            messages.append(current)
            current = [cont]
        current += ["\n", *line]
    current.append(footer)
    messages.append(current)
    return [_render(m) for m in messages]


def direct_reminder_message(
    name: str, cycle: Cycle, days_left: int, division: str, measures: Sequence[int], fmt: ThaiFormat = ARABIC
) -> Message:
    """The 1:1 reminder (`reminder_to = "direct"`) to one registered staff member of a pending division."""
    greeting = f"เรียน คุณ{name}\n" if name else ""
    text = (
        f"🔔 {greeting}การประชุมพนักงานประจำเดือน{fmt.month(cycle.month)} "
        f"{fmt.meeting(cycle.meeting)} ({_days_left(days_left, fmt)})\n"
        f"{division} ยังไม่ได้รายงานผลมาตรการที่ {_measures(measures, fmt)} ในรอบนี้\n"
        "รายงานได้ที่แชตนี้ เช่น /รายงาน 4 กำลังทำ 50% อัปเดตเว็บไซต์แล้ว (พิมพ์ /รายงาน เพื่อเลือกจากปุ่ม)"
    )
    return text_message(text)


# --- digest and summary (Flex) ------------------------------------------------------------------


def _text(text: str, size: str = "sm", **style: Any) -> dict[str, Any]:
    # Small by default here; an empty value shows a blank rather than the kit's dash.
    return kit.text(text or " ", size=size, **style)


def _clip(text: str, limit: int) -> str:
    """One line (whitespace folded), cut to `limit` LINE characters."""
    return kit.clip(" ".join(text.split()), limit)


def _report_line(report: Report, fmt: ThaiFormat, *, with_names: bool) -> str:
    status = status_words(report.status, report.percent, fmt)
    head = f"{fmt.date(report.day)} · {status}"
    if with_names and report.reporter_name:
        head += f" · {report.reporter_name}"
    if report.evidence:
        head += f" · หลักฐาน {fmt.num(len(report.evidence))}"
    details = _clip(report.details, 140)
    return f"{head}\n{details}" if details else head


def _pair_block(pair: PairSummary, fmt: ThaiFormat, *, with_names: bool) -> dict[str, Any]:
    rows: list[dict[str, Any]] = [
        kit.box(
            [
                _text(pair.division, weight="bold", flex=3),
                _text(status_line(pair.status, pair.percent, fmt), flex=4, align="end", color="#333333"),
            ],
            layout="horizontal",
        )
    ]
    if pair.pending and pair.latest is not None:  # "never reported" already says it
        rows.append(_text(NOT_THIS_CYCLE, size="xs", color="#C0392B"))
    shown = pair.reports[-REPORTS_PER_PAIR:]
    hidden = len(pair.reports) - len(shown)
    if hidden:
        rows.append(_text(f"(รายงานก่อนหน้าในรอบนี้อีก {fmt.num(hidden)} ครั้ง)", size="xs",
                          color="#888888"))
    for report in shown:
        rows.append(_text(_report_line(report, fmt, with_names=with_names), size="xs", color="#555555"))
    if not pair.reports and pair.latest is not None:
        rows.append(_text(f"รายงานล่าสุด {fmt.date(pair.latest.day)}", size="xs", color="#888888"))
    return kit.box(rows, spacing="xs", margin="md")


def _measure_bubble(measures: Sequence[MeasureSummary], fmt: ThaiFormat, *, with_names: bool) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    for measure in measures:
        body.append(_text(f"มาตรการที่ {fmt.num(measure.number)}", weight="bold", size="md",
                          margin="lg" if body else "none"))
        body.append(_text(_clip(measure.title, 160), size="xs", color="#666666"))
        for pair in measure.pairs:
            body.append(_pair_block(pair, fmt, with_names=with_names))
    return {"type": "bubble", "size": "mega", "body": kit.box(body, spacing="sm")}


def _count_lines(summary: CycleSummary, fmt: ThaiFormat) -> list[str]:
    c = summary.counts
    return [
        f"รายงานแล้วในรอบนี้ {fmt.num(summary.reported)} จาก {fmt.num(c['pairs'])} รายการ "
        f"(ค้าง {fmt.num(c['pending'])})",
        f"🟢 เสร็จสิ้น {fmt.num(c['done'])} · 🟡 กำลังดำเนินการ {fmt.num(c['doing'])} · "
        f"🔴 ติดปัญหา {fmt.num(c['blocked'])} · ⚪ ยังไม่เริ่ม {fmt.num(c['todo'])} · "
        f"{STATUS_ICON[None]} {NEVER_REPORTED} {fmt.num(c['none'])}",
    ]


def _pending_lines(summary: CycleSummary, fmt: ThaiFormat) -> list[str]:
    return [f"• {d.division}: มาตรการที่ {_measures(d.measures, fmt)}" for d in summary.pending]


def _overview_bubble(title: str, lead: list[str], summary: CycleSummary, link: str, fmt: ThaiFormat) -> dict[str, Any]:
    body: list[dict[str, Any]] = [_text(title, weight="bold", size="md")]
    body += [_text(line, size="sm", color="#333333") for line in lead]
    body.append({"type": "separator", "margin": "md"})
    body += [_text(line, size="sm", margin="md") for line in _count_lines(summary, fmt)]
    pending = _pending_lines(summary, fmt)
    body.append(_text("ค้างรายงานในรอบนี้:" if pending else "ทุกกองรายงานครบแล้วในรอบนี้ 🎉", weight="bold",
                      margin="md"))
    body += [_text(line, size="sm", color="#C0392B") for line in pending]
    return {
        "type": "bubble",
        "size": "mega",
        "body": kit.box(body, spacing="sm"),
        "footer": kit.box(
            [{"type": "button", "style": "primary", "height": "sm",
              "action": {"type": "uri", "label": "ดูรายงานประจำรอบ", "uri": link}}]
        ),
    }


def _carousel(overview: dict[str, Any], summary: CycleSummary, fmt: ThaiFormat, *, with_names: bool) -> dict[str, Any]:
    def groups_of(s: CycleSummary) -> list[list[MeasureSummary]]:
        measures = sorted((m for m in s.measures if m.pairs), key=lambda m: m.number)
        # One bubble per measure; with more measures than a carousel holds, several share a bubble.
        per = max(1, -(-len(measures) // (kit.MAX_CAROUSEL_BUBBLES - 1)))
        return [measures[i : i + per] for i in range(0, len(measures), per)]

    groups, bare = groups_of(summary), groups_of(summary.without_reports())
    bubbles = [overview]
    for group, bare_group in zip(groups, bare, strict=True):
        bubble = _measure_bubble(group, fmt, with_names=with_names)
        if kit.size(bubble) > kit.BUBBLE_BUDGET:
            # Far too many reports for one bubble: drop the per-report lines, keep the statuses.
            bubble = _measure_bubble(bare_group, fmt, with_names=with_names)
        bubbles.append(bubble)
    if sum(kit.size(b) for b in bubbles) > kit.CAROUSEL_BUDGET:
        # The statuses matter more than the report texts; the link in the overview has the rest.
        bubbles = [overview, *(_measure_bubble(g, fmt, with_names=with_names) for g in bare)]
    return {"type": "carousel", "contents": bubbles}


def _alt_text(prefix: str, summary: CycleSummary, fmt: ThaiFormat) -> str:
    lines = [prefix, *_count_lines(summary, fmt)[:1]]
    pending = _pending_lines(summary, fmt)
    if pending:
        lines += ["ค้างรายงาน:", *pending]
    return "\n".join(lines)


def digest_message(summary: CycleSummary, link: str, fmt: ThaiFormat = ARABIC) -> Message:
    """The chair's digest: per measure and division status and percent, this cycle's reports, pending, counts, link."""
    cycle = summary.cycle
    when = fmt.meeting(cycle.meeting)
    lead = [f"รอบประชุมพนักงานเดือน{fmt.month(cycle.month)}", f"ประชุม{when}"]
    overview = _overview_bubble("สรุปความคืบหน้ามาตรการ ITA สำหรับประธาน", lead, summary, link, fmt)
    contents = _carousel(overview, summary, fmt, with_names=True)
    alt = _alt_text(f"สรุปความคืบหน้ามาตรการ ITA ก่อนประชุม{when}", summary, fmt)
    return kit.flex_message(alt, contents)


def summary_message(summary: CycleSummary, link: str, fmt: ThaiFormat = ARABIC) -> Message:
    """The meeting-day summary to the staff group: for the agenda and circulation to staff (plan section ๕)."""
    cycle = summary.cycle
    month = fmt.month(cycle.month)
    lead = [
        f"ประจำเดือน{month} สำหรับวาระการประชุมพนักงาน{fmt.meeting(cycle.meeting)}",
        "แจ้งเวียนให้พนักงานทุกท่านทราบ",
    ]
    if summary.reporting_rule:
        lead.append(f"“{_clip(summary.reporting_rule, 300)}”")
    overview = _overview_bubble(
        f"สรุปผลการดำเนินงานตามมาตรการส่งเสริมคุณธรรมและความโปร่งใส {summary.organization.short_name}".strip(),
        lead, summary, link, fmt,
    )
    # Staff-wide circulation: divisions only, no personal names.
    contents = _carousel(overview, summary, fmt, with_names=False)
    alt = _alt_text(f"สรุปผลการดำเนินงานตามมาตรการ ITA ประจำเดือน{month} (ประชุม {fmt.date(cycle.meeting)})",
                    summary, fmt)
    return kit.flex_message(alt, contents)
