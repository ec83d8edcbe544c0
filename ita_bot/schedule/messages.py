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
from ita_bot.domain.progress import REPORT_EXAMPLE
from ita_bot.domain.summary import CycleSummary
from ita_bot.domain.thai import ARABIC, ThaiFormat
from ita_bot.line import kit
from ita_bot.line.cycle_summary import clip_line, cycle_summary_message
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
_HOW_TO_REPORT = f"เช่น {REPORT_EXAMPLE} (พิมพ์ /รายงาน เพื่อเลือกจากปุ่ม)"
REPORT_HINT = f"รายงานได้ในกลุ่มนี้หรือแชตกับบอท {_HOW_TO_REPORT}"


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
        f"รายงานได้ที่แชตนี้ {_HOW_TO_REPORT}"
    )
    return text_message(text)


# --- digest and summary (Flex, built by line/cycle_summary.py) ---------------------------------


def digest_message(summary: CycleSummary, link: str, fmt: ThaiFormat = ARABIC) -> Message:
    """The chair's digest: per measure and division status and percent, this cycle's reports, pending, counts, link."""
    cycle = summary.cycle
    when = fmt.meeting(cycle.meeting)
    return cycle_summary_message(
        summary, title="สรุปความคืบหน้ามาตรการ ITA สำหรับประธาน",
        lead=[f"รอบประชุมพนักงานเดือน{fmt.month(cycle.month)}", f"ประชุม{when}"],
        alt=f"สรุปความคืบหน้ามาตรการ ITA ก่อนประชุม{when}", link=link, fmt=fmt, with_names=True,
    )


def summary_message(summary: CycleSummary, link: str, fmt: ThaiFormat = ARABIC) -> Message:
    """The meeting-day summary to the staff group: for the agenda and circulation to staff (plan section ๕)."""
    cycle = summary.cycle
    month = fmt.month(cycle.month)
    lead = [
        f"ประจำเดือน{month} สำหรับวาระการประชุมพนักงาน{fmt.meeting(cycle.meeting)}",
        "แจ้งเวียนให้พนักงานทุกท่านทราบ",
    ]
    if summary.reporting_rule:
        lead.append(f"“{clip_line(summary.reporting_rule, 300)}”")
    # Staff-wide circulation: divisions only, no personal names.
    return cycle_summary_message(
        summary,
        title=f"สรุปผลการดำเนินงานตามมาตรการส่งเสริมคุณธรรมและความโปร่งใส {summary.organization.short_name}".strip(),
        lead=lead, alt=f"สรุปผลการดำเนินงานตามมาตรการ ITA ประจำเดือน{month} (ประชุม {fmt.date(cycle.meeting)})",
        link=link, fmt=fmt, with_names=False,
    )
