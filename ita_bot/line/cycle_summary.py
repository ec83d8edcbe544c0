"""The cycle summary as a LINE Flex carousel: one builder for /สรุป (chat), the chair's digest and the meeting-day
summary (schedule).

An overview bubble (title, lead lines, counts, what is pending, a button to the cycle's report page), then
the measures with each division's status and this cycle's reports, fitted into LINE's bubble and carousel
sizes (per-report lines are dropped before statuses are).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ita_bot.domain.progress import Report
from ita_bot.domain.summary import CycleSummary, MeasureSummary, PairSummary
from ita_bot.domain.thai import ThaiFormat
from ita_bot.domain.wording import NOT_THIS_CYCLE, status_counts, status_line, status_words
from ita_bot.line import kit
from ita_bot.line.kit import MEASURE_TITLE_CHARS, Message

__all__ = ["REPORTS_PER_PAIR", "clip_line", "cycle_summary_message"]

REPORTS_PER_PAIR = 5  # this cycle's reports shown per (measure, division); older ones are counted


def cycle_summary_message(
    summary: CycleSummary, *, title: str, lead: Sequence[str], alt: str, link: str, fmt: ThaiFormat,
    with_names: bool,
) -> Message:
    """The summary of a cycle as one Flex message; `alt` heads its altText, `with_names` shows who reported."""
    overview = _overview_bubble(title, list(lead), summary, link, fmt)
    return kit.flex_message(_alt_text(alt, summary, fmt), _carousel(overview, summary, fmt, with_names=with_names))


def _text(text: str, size: str = "sm", **style: Any) -> dict[str, Any]:
    # Small by default here; an empty value shows a blank rather than the kit's dash.
    return kit.text(text or " ", size=size, **style)


def clip_line(text: str, limit: int) -> str:
    """One line (whitespace folded), cut to `limit` LINE characters."""
    return kit.clip(" ".join(text.split()), limit)


def _report_line(report: Report, fmt: ThaiFormat, *, with_names: bool) -> str:
    status = status_words(report.status, report.percent, fmt)
    head = f"{fmt.date(report.day)} · {status}"
    if with_names and report.reporter_name:
        head += f" · {report.reporter_name}"
    if report.evidence:
        head += f" · หลักฐาน {fmt.num(len(report.evidence))}"
    details = clip_line(report.details, 140)
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
        body.append(_text(clip_line(measure.title, MEASURE_TITLE_CHARS), size="xs", color="#666666"))
        for pair in measure.pairs:
            body.append(_pair_block(pair, fmt, with_names=with_names))
    return {"type": "bubble", "size": "mega", "body": kit.box(body, spacing="sm")}


def _count_lines(summary: CycleSummary, fmt: ThaiFormat) -> list[str]:
    c = summary.counts
    return [
        f"รายงานแล้วในรอบนี้ {fmt.num(summary.reported)} จาก {fmt.num(c['pairs'])} รายการ "
        f"(ค้าง {fmt.num(c['pending'])})",
        status_counts(c, fmt, icons=True),
    ]


def _pending_lines(summary: CycleSummary, fmt: ThaiFormat) -> list[str]:
    return [f"• {d.division}: มาตรการที่ {', '.join(fmt.num(n) for n in d.measures)}" for d in summary.pending]


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
