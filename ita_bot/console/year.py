"""The year at a glance: every measure and division across the year's cycles, a chart, pending and evidence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, request

from ita_bot.console.base import bp, clock, current_fiscal_year, office, page
from ita_bot.domain.meetings import Cycle
from ita_bot.domain.progress import STATUSES
from ita_bot.domain.thai import MONTHS_ABBR
from ita_bot.domain.wording import COUNT_ORDER
from ita_bot.publish.chart import STATUS_COLORS
from ita_bot.publish.disclosure import Disclosure, build_year
from ita_bot.publish.evidence import send_evidence

__all__ = ["Chart", "overview", "year_page"]

CHART_ORDER = tuple(status or "none" for status in COUNT_ORDER)


@dataclass(frozen=True)
class Cell:
    status: str | None
    percent: int | None
    pending: bool
    reports: int  # reports made in this cycle
    before_plan: bool = False  # the cycle's meeting came before the meeting that set the measures


@dataclass(frozen=True)
class Row:
    measure: int
    title: str
    division: str
    cells: tuple[Cell | None, ...]  # None: a cycle not reached yet


@dataclass(frozen=True)
class Bar:
    label: str
    x: float
    segments: tuple[tuple[str, float, float, int], ...]  # (status, y, height, count)


@dataclass(frozen=True)
class Chart:
    """A stacked bar per cycle of how many (measure, division) pairs stand at each status: drawn as SVG server-side."""

    width: int
    height: int
    bar_width: float
    top: float
    bottom: float
    total: int
    bars: tuple[Bar, ...]
    colors: dict[str, str]


def _chart(cycles: list[Cycle], counts: list[dict[str, int] | None], labels: list[str], total: int) -> Chart:
    width, height, top, bottom, left = 720, 240, 10.0, 200.0, 40.0
    step = (width - left - 10) / max(len(cycles), 1)
    bars = []
    for i, (label, c) in enumerate(zip(labels, counts, strict=True)):
        segments: list[tuple[str, float, float, int]] = []
        if c is not None and total:
            y = bottom
            for status in CHART_ORDER:
                n = c.get(status, 0)
                h = (bottom - top) * n / total
                y -= h
                if n:
                    segments.append((status, round(y, 1), round(h, 1), n))
        bars.append(Bar(label, round(left + i * step + step * 0.15, 1), tuple(segments)))
    return Chart(width, height, round(step * 0.7, 1), top, bottom, total, tuple(bars), STATUS_COLORS)


@bp.get("")
def overview() -> Any:
    return year_page(current_fiscal_year())


@bp.get("/year/<int:fy>")
def year(fy: int) -> Any:
    return year_page(fy)


def year_page(fy: int) -> Any:
    o = office()
    plan = o.plan_for(fy)
    now = clock()
    known = o.plans.years()
    if plan is None:
        return page("no_plan.html", fy=fy, known=known, first=not o.has_plan, active="console.overview")
    calendar = o.calendar()
    cycles = calendar.cycles(fy)
    current = calendar.cycle_of(now.date())
    reached = [c for c in cycles if c.meeting <= now.date() or c.id == current.id]
    # Months whose meeting came before the measures were set owed nothing: never drawn as overdue.
    before_plan = {c.id for c in cycles if plan.before_set(c)}
    views = {c.id: o.view(c, calendar) for c in reached if c.id not in before_plan}
    labels = [MONTHS_ABBR[c.month[1] - 1] for c in cycles]
    rows = []
    for number, division in plan.pairs():
        measure = plan.measure(number)
        cells: list[Cell | None] = []
        for c in cycles:
            v = views.get(c.id)
            if c.id in before_plan:
                cells.append(Cell(None, None, False, 0, before_plan=True))
                continue
            if v is None:
                cells.append(None)
                continue
            p = v.pair(number, division)
            cells.append(Cell(p.status, p.percent, p.pending, len(p.cycle_reports)))
        rows.append(Row(number, measure.title if measure else "", plan.division_name(division), tuple(cells)))
    counts = [views[c.id].counts() if c.id in views else None for c in cycles]
    chart = _chart(cycles, counts, labels, len(plan.pairs()))
    pending_now = views[current.id].pending_by_division() if current.id in views else {}
    detail = build_year(
        plan, calendar, o.reports.all(fy), now=now, disclosure=Disclosure(show_names=True, public_evidence=True)
    )
    return page(
        "year.html",
        fy=fy,
        plan=plan,
        known=known,
        cycles=cycles,
        labels=labels,
        rows=rows,
        chart=chart,
        current=current if current.fiscal_year == fy else None,
        current_index=next((i for i, c in enumerate(cycles) if c.id == current.id), None),
        before_plan=before_plan,
        pending=[(plan.division_name(d), ns) for d, ns in pending_now.items()],
        detail=detail,
        statuses=STATUSES,
        active="console.overview",
        show_all=request.args.get("all") == "1",
    )


@bp.get("/evidence/<int:fy>/<report_id>/<int:number>")
def evidence(fy: int, report_id: str, number: int) -> Any:
    """Evidence files, for managers only (the public sees them only with web.public_evidence)."""
    # The same function and headers as the public route: a file stored as a page never runs under /admin.
    response = send_evidence(office(), fy, report_id, number, withdrawn=True)
    if response is None:
        abort(404)
    return response
