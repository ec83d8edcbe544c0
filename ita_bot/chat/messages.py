"""Pure message builders: domain data → LINE message objects as plain JSON data, split to fit LINE's limits."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeAlias

from ita_bot.domain.meetings import Cycle
from ita_bot.domain.plan import Measure, Plan
from ita_bot.domain.progress import STATUS_ICON, STATUS_THAI, CycleView, PairState, Report
from ita_bot.domain.thai import MONTHS_ABBR, be_year, format_date, format_number, format_percent, to_thai_digits

__all__ = [
    "MAX_ALT_TEXT",
    "MAX_BUBBLE_BYTES",
    "MAX_CAROUSEL_BUBBLES",
    "MAX_LABEL",
    "MAX_MESSAGES",
    "MAX_QUICK_REPLY_ITEMS",
    "MAX_TEXT",
    "Button",
    "Message",
    "clip",
    "fit_reply",
    "flex_messages",
    "history_messages",
    "line_length",
    "pending_messages",
    "quick_reply",
    "status_messages",
    "summary_messages",
    "text_message",
    "text_messages",
]

Message: TypeAlias = dict[str, Any]
"""A LINE message object in the Messaging API's JSON shape (``{"type": "text", "text": ...}``).

Messages are built and posted as plain data: validating them through line-bot-sdk's pydantic models
cost more CPU than everything else in a reply. Their structure is checked by the tests (against the
SDK's own models) and by the LINE stand-in, which refuses a malformed body as LINE would.
"""

# LINE's documented limits (Messaging API reference). Bubble sizes are taken as 1000-byte KB,
# the stricter reading, so what fits here fits LINE under either reading.
MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_ALT_TEXT = 1500
MAX_BUBBLE_BYTES = 30_000
MAX_CAROUSEL_BYTES = 50_000
MAX_CAROUSEL_BUBBLES = 12
MAX_QUICK_REPLY_ITEMS = 13
MAX_LABEL = 20
# Headroom: LINE measures its own serialization of what we send, which may differ from ours by a few bytes.
_BUBBLE_BUDGET = MAX_BUBBLE_BYTES - 2_000
_CAROUSEL_BUDGET = MAX_CAROUSEL_BYTES - 3_000


def line_length(text: str) -> int:
    """Length as LINE counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def clip(text: str, limit: int, ellipsis: str = "…") -> str:
    """Text cut to at most `limit` LINE characters, marked with an ellipsis when cut."""
    if line_length(text) <= limit:
        return text
    out = []
    used = line_length(ellipsis)
    for ch in text:
        n = line_length(ch)
        if used + n > limit:
            break
        out.append(ch)
        used += n
    return "".join(out).rstrip() + ellipsis


# --- quick replies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """A quick-reply button that sends a postback; `shown` is what appears in the chat as the user's line."""

    label: str
    data: str
    shown: str | None = None


def quick_reply(buttons: Sequence[Button]) -> dict[str, Any] | None:
    """A `quickReply` object: up to 13 postback buttons, labels cut to 20 characters (LINE refuses longer ones)."""
    items = [
        {
            "type": "action",
            "action": {
                "type": "postback",
                "label": clip(b.label, MAX_LABEL, ""),
                "data": b.data,
                "displayText": clip(b.shown or b.label, 300),
            },
        }
        for b in buttons[:MAX_QUICK_REPLY_ITEMS]
    ]
    return {"items": items} if items else None


# --- text ---------------------------------------------------------------------------------------


def _split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split at line breaks (else anywhere) so that each part is at most `limit` LINE characters."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if line_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        # A single line longer than the limit is cut into pieces.
        while line_length(line) > limit:
            piece = clip(line, limit, "")
            parts.append(piece)
            line = line[len(piece):]
        current = line
    if current.strip():
        parts.append(current)
    return parts or ["-"]


def text_message(text: str, quick: dict[str, Any] | None = None) -> Message:
    """One text message as is (the caller keeps it within 5,000 characters), with an optional `quickReply`."""
    message: Message = {"type": "text", "text": text}
    if quick:
        message["quickReply"] = quick
    return message


def text_messages(text: str, buttons: Sequence[Button] = ()) -> list[Message]:
    """A text reply, split into ≤5,000-character messages; quick-reply buttons go on the last one."""
    parts = _split_text(text.strip() or "-")
    messages = [text_message(p) for p in parts[:-1]]
    messages.append(text_message(parts[-1], quick_reply(buttons)))
    return messages


# --- flex ---------------------------------------------------------------------------------------


def flex_messages(alt_text: str, bubbles: Iterable[dict[str, Any]]) -> list[Message]:
    """Bubbles (built as dicts) packed into Flex messages: a bubble alone, or carousels of ≤12 and ≤50 KB.

    Every message carries the same plain `altText` (what notifications and old clients show),
    cut to 1,500 characters.
    """
    alt = clip(alt_text.strip() or "-", MAX_ALT_TEXT)
    groups: list[list[dict[str, Any]]] = []
    size = 0
    for bubble in bubbles:
        b = json_size(bubble)
        if groups and len(groups[-1]) < MAX_CAROUSEL_BUBBLES and size + b < _CAROUSEL_BUDGET:
            groups[-1].append(bubble)
            size += b + 1
        else:
            groups.append([bubble])
            size = b
    messages: list[Message] = []
    for group in groups:
        contents = group[0] if len(group) == 1 else {"type": "carousel", "contents": group}
        messages.append({"type": "flex", "altText": alt, "contents": contents})
    return messages


def fit_reply(messages: list[Message], more: str | None = None) -> list[Message]:
    """At most 5 messages: when there are more, the fifth says where the rest is (a link or a command)."""
    if len(messages) <= MAX_MESSAGES:
        return messages
    tail = more or "ยังมีข้อมูลอีก แต่ LINE ส่งได้ครั้งละ 5 ข้อความ กรุณาดูฉบับเต็มในหน้ารายงาน"
    return [*messages[: MAX_MESSAGES - 1], text_message(clip(tail, MAX_TEXT))]


# --- flex building blocks (Flex components as dicts, exactly as LINE takes them) -------------------


def txt(text: str, **style: Any) -> dict[str, Any]:
    """A Flex text component; LINE refuses empty text, so an empty value shows a dash."""
    # One text holds at most what a person can send in one message (5,000), ~15 KB: a bubble still fits it.
    return {"type": "text", "text": clip(text or "-", MAX_TEXT), "wrap": True, **style}


def box(contents: list[dict[str, Any]], layout: str = "vertical", **style: Any) -> dict[str, Any]:
    return {"type": "box", "layout": layout, "contents": contents or [txt("-")], **style}


def separator() -> dict[str, Any]:
    return {"type": "separator", "margin": "md"}


def bubble(title: str, subtitle: str | None, rows: list[dict[str, Any]], footer: str | None = None) -> dict[str, Any]:
    header = [txt(title, weight="bold", size="md", color="#1F3A60")]
    if subtitle:
        header.append(txt(subtitle, size="xs", color="#666666"))
    out: dict[str, Any] = {
        "type": "bubble",
        "size": "mega",
        "header": box(header, paddingBottom="sm"),
        "body": box(rows, spacing="sm"),
    }
    if footer:
        out["footer"] = box([txt(footer, size="xxs", color="#888888")])
    return out


def paged_bubbles(
    title: str,
    subtitle: str | None,
    rows: list[dict[str, Any]],
    footer: str | None = None,
    digits: Callable[[str], str] = str,
) -> list[dict[str, Any]]:
    """Rows spread over as many bubbles as needed to keep each one under LINE's 30 KB."""
    pages: list[list[dict[str, Any]]] = [[]]
    for row in rows:
        trial = bubble(title, subtitle, [*pages[-1], row], footer)
        if pages[-1] and json_size(trial) > _BUBBLE_BUDGET:
            pages.append([row])
        else:
            pages[-1].append(row)
    if len(pages) == 1:
        return [bubble(title, subtitle, pages[0], footer)]
    total = len(pages)
    return [bubble(f"{title} ({digits(f'{i}/{total}')})", subtitle, page, footer) for i, page in enumerate(pages, 1)]


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


def _pair_row(plan: Plan, state: PairState, numerals: str, *, cycle_reports: bool = False) -> dict[str, Any]:
    """One (measure, division) pair: icon, division, status and percent, latest report date and details."""
    head = box(
        [
            txt(f"{STATUS_ICON[state.status]} {plan.division_name(state.division)}", weight="bold", size="sm", flex=5),
            txt(_status_words(state.status, state.percent, numerals), size="sm", align="end", flex=5),
        ],
        layout="horizontal",
    )
    rows = [head]
    shown = state.cycle_reports if cycle_reports and state.cycle_reports else ([state.latest] if state.latest else [])
    for r in shown:
        when = format_date(r.day, numerals)
        text = f"{when}: {clip(r.details, _DETAILS_IN_ROW) if r.details else '(ไม่มีรายละเอียด)'}"
        if r.evidence:
            text += f" 📎{format_number(len(r.evidence), numerals)}"
        rows.append(txt(text, size="xs", color=_GREY))
    if state.pending:
        rows.append(txt("⏳ ยังไม่ได้รายงานในรอบนี้", size="xs", color=_RED))
    return box(rows, spacing="xs", margin="md")


def _pair_alt(plan: Plan, state: PairState, numerals: str) -> str:
    latest = f" ({format_date(state.latest.day, numerals)})" if state.latest else ""
    flag = " ⏳ค้าง" if state.pending else ""
    return (
        f"ม.{format_number(state.measure, numerals)} {plan.division_name(state.division)}: "
        f"{_status_words(state.status, state.percent, numerals)}{latest}{flag}"
    )


def _measure_bubbles(
    plan: Plan, view: CycleView, numerals: str, footer: str, *, cycle_reports: bool = False
) -> list[dict[str, Any]]:
    bubbles: list[dict[str, Any]] = []
    digits = (lambda s: to_thai_digits(s)) if numerals == "thai" else str
    for m in plan.measures:
        rows = [_pair_row(plan, s, numerals, cycle_reports=cycle_reports) for s in view.pairs if s.measure == m.number]
        if rows:
            title = f"มาตรการที่ {format_number(m.number, numerals)}"
            bubbles += paged_bubbles(title, clip(m.title, 160), rows, footer, digits)
    return bubbles


def status_messages(plan: Plan, view: CycleView, today: date, numerals: str = "arabic") -> list[Message]:
    """/สถานะ: every measure and division with its latest status, percent, date and details."""
    meeting = format_date(view.cycle.meeting, numerals)
    head = f"สถานะมาตรการ ITA ณ {format_date(today, numerals)} (รอบประชุม {meeting})"
    alt = "\n".join([head, *(_pair_alt(plan, s, numerals) for s in view.pairs)])
    footer = "⏳ = ยังไม่ได้รายงานในรอบนี้ · /สถานะ <เลข> ดูประวัติ · /ค้าง ดูที่ค้าง"
    return flex_messages(alt, _measure_bubbles(plan, view, numerals, footer))


def history_messages(
    plan: Plan, measure: Measure, view: CycleView, reports: Sequence[Report], cycle_of: Callable[[date], Cycle],
    numerals: str = "arabic",
) -> list[Message]:
    """/สถานะ n: the measure's state per division, then every live report of the fiscal year, oldest first."""
    n = format_number(measure.number, numerals)
    states = [s for s in view.pairs if s.measure == measure.number]
    now_rows = [_pair_row(plan, s, numerals) for s in states]
    history_rows = []
    for r in reports:
        lines = [
            txt(f"{format_date(r.day, numerals)} · {plan.division_name(r.division)}", weight="bold", size="xs"),
            txt(f"{STATUS_ICON[r.status]} {_status_words(r.status, r.percent, numerals)} "
                f"(รอบ {_cycle_label(cycle_of(r.day), numerals)})", size="xs"),
            txt(r.details or "(ไม่มีรายละเอียด)", size="xs", color=_GREY),
        ]
        if r.evidence:
            lines.append(txt(f"📎 หลักฐาน {format_number(len(r.evidence), numerals)} ไฟล์", size="xxs", color=_GREY))
        history_rows.append(box(lines, spacing="xs", margin="md"))
    if not history_rows:
        history_rows = [txt("ยังไม่มีรายงานในปีงบประมาณนี้", size="sm", color=_GREY)]
    digits = (lambda s: to_thai_digits(s)) if numerals == "thai" else str
    bubbles = paged_bubbles(f"มาตรการที่ {n} สถานะล่าสุด", clip(measure.title, 160), now_rows, None, digits)
    count = format_number(len(reports), numerals)
    bubbles += paged_bubbles(f"มาตรการที่ {n} ประวัติรายงาน", f"ทั้งหมด {count} รายงาน เก่าไปใหม่",
                             history_rows, None, digits)
    alt_lines = [f"มาตรการที่ {n} {measure.title}", *(_pair_alt(plan, s, numerals) for s in states),
                 f"ประวัติ {count} รายงาน:"]
    alt_lines += [
        f"{format_date(r.day, numerals)} {plan.division_name(r.division)} "
        f"{_status_words(r.status, r.percent, numerals)} {clip(r.details, 80)}".rstrip()
        for r in reports
    ]
    return flex_messages("\n".join(alt_lines), bubbles)


def pending_messages(plan: Plan, view: CycleView, numerals: str = "arabic") -> list[Message]:
    """/ค้าง: each pending division with its measure numbers and latest status (text when nothing is pending)."""
    meeting = format_date(view.cycle.meeting, numerals)
    by_division = view.pending_by_division()
    if not by_division:
        return text_messages(f"รอบประชุม {meeting}: ทุกกองรายงานครบแล้ว ไม่มีรายการค้าง 🎉")
    rows = []
    alt = [f"ยังไม่ได้รายงาน รอบประชุม {meeting}:"]
    for division, numbers in by_division.items():
        listed = ", ".join(format_number(x, numerals) for x in numbers)
        rows.append(txt(f"{plan.division_name(division)}: มาตรการที่ {listed}", weight="bold", size="sm"))
        for s in view.pairs:
            if s.division == division and s.pending:
                latest = f" (ล่าสุด {format_date(s.latest.day, numerals)})" if s.latest else ""
                rows.append(txt(
                    f"  {STATUS_ICON[s.status]} ม.{format_number(s.measure, numerals)} "
                    f"{_status_words(s.status, s.percent, numerals)}{latest}", size="xs", color=_GREY))
        alt.append(f"{plan.division_name(division)}: มาตรการที่ {listed}")
    count = format_number(len(view.pending), numerals)
    bubbles = paged_bubbles(f"ยังไม่ได้รายงาน {count} รายการ", f"รอบประชุม {meeting}", rows,
                            "รายงานด้วย /รายงาน <เลขมาตรการ> ... หรือ /รายงาน (มีปุ่ม)")
    return flex_messages("\n".join(alt), bubbles)


def summary_messages(plan: Plan, view: CycleView, report_url: str, numerals: str = "arabic") -> list[Message]:
    """/สรุป: a cycle's counts, each pair's status with this cycle's reports, what is pending, the report link."""
    meeting = format_date(view.cycle.meeting, numerals)
    label = _cycle_label(view.cycle, numerals)
    counts = view.counts()
    num = lambda v: format_number(v, numerals)  # noqa: E731 (a local shorthand)
    count_line = (
        f"{STATUS_ICON['done']} เสร็จ {num(counts['done'])} · {STATUS_ICON['doing']} กำลังทำ {num(counts['doing'])} · "
        f"{STATUS_ICON['blocked']} ติดปัญหา {num(counts['blocked'])} · {STATUS_ICON['todo']} ยังไม่เริ่ม "
        f"{num(counts['todo'])} · ยังไม่เคยรายงาน {num(counts['none'])}"
    )
    pending = view.pending_by_division()
    rows = [
        txt(count_line, size="sm"),
        txt(f"รายงานในรอบนี้ {num(len(view.reports))} รายงาน จาก {num(counts['pairs'])} คู่มาตรการ–กอง", size="sm"),
    ]
    if pending:
        rows.append(txt(f"ค้าง {num(counts['pending'])} รายการ:", weight="bold", size="sm", color=_RED))
        rows += [
            txt(f"• {plan.division_name(d)}: มาตรการที่ {', '.join(num(x) for x in ns)}", size="xs")
            for d, ns in pending.items()
        ]
    else:
        rows.append(txt("ทุกกองรายงานครบแล้ว 🎉", size="sm", color=_GREEN))
    rows.append(txt(f"รายงานการประชุม: {report_url}", size="xs", color=_GREY))
    head = paged_bubbles(f"สรุปผลรอบ {label}", f"ประชุมพนักงาน {meeting}", rows)
    footer = "แสดงรายงานของรอบนี้ (ถ้าไม่มี แสดงรายงานล่าสุด)"
    bubbles = head + _measure_bubbles(plan, view, numerals, footer, cycle_reports=True)
    alt = [f"สรุปผลการดำเนินงานตามมาตรการ ITA รอบ {label} (ประชุม {meeting})", count_line]
    if pending:
        alt.append("ค้าง: " + "; ".join(f"{plan.division_name(d)} ม.{', '.join(num(x) for x in ns)}"
                                          for d, ns in pending.items()))
    alt += [_pair_alt(plan, s, numerals) for s in view.pairs]
    return flex_messages("\n".join(alt), bubbles)
