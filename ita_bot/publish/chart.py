"""The score-history chart: an inline SVG drawn on the server (no scripts), readable in colour and in print.

Each line has its own dash pattern and marker shape as well as its own colour, and is labelled at
its last point, so the chart still reads on a black-and-white printout. The target is a dashed
horizontal rule.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from ita_bot.domain.history import IndicatorKey, YearScores
from ita_bot.domain.thai import ARABIC, ThaiFormat

__all__ = ["STATUS_COLORS", "Series", "history_chart", "history_series"]

#: Each status's colour on every page, badge, grid cell and chart bar (the pages' CSS variables are made from it).
STATUS_COLORS = {"done": "#2e7d32", "doing": "#e0a100", "blocked": "#c62828", "todo": "#616161", "none": "#cfcfcf"}
WIDTH, HEIGHT = 800, 360
LEFT, RIGHT, TOP, BOTTOM = 56, 330, 28, 44  # the right margin holds the line labels
TARGET = "#c62828"
INSET = 60  # the first and last year stand inside the plot, with room for a figure beside them
# Colours that stay apart in greyscale too; dash patterns and markers carry the difference in print.
STYLES = (
    ("#1a1a1a", "", "circle", 3.0),  # the total: solid, heavy
    ("#00838f", "8 4", "square", 2.0),
    ("#1565c0", "3 3", "triangle", 2.0),
    ("#6a1b9a", "10 3 2 3", "diamond", 2.0),
    ("#ef6c00", "2 4", "circle", 2.0),
    ("#2e7d32", "12 4", "square", 2.0),
)
Lines = Sequence[Sequence[tuple[float, float]]]  # drawn lines as their points in SVG units


@dataclass(frozen=True)
class Series:
    label: str
    points: tuple[tuple[int, Decimal | None], ...]  # (ITA year, score or None when not assessed)


def history_series(history: Sequence[YearScores], names: Sequence[tuple[IndicatorKey, str]],
                   fmt: ThaiFormat = ARABIC) -> list[Series]:
    """The total, then every indicator under the target in any year known (the flagged ones), each labelled
    with the latest year's NACC number."""
    out = [Series("คะแนนรวม", tuple((y.fiscal_year, y.total) for y in history))]
    for key, name in names:
        if any(y.below(key) for y in history):
            label = history[-1].label(key, name, fmt, short=True)
            out.append(Series(label, tuple((y.fiscal_year, y.score(key)) for y in history)))
    return out


def _marker(shape: str, x: float, y: float, color: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{color}"/>'
    if shape == "triangle":
        return f'<polygon points="{x:.1f},{y - 5:.1f} {x - 5:.1f},{y + 4:.1f} {x + 5:.1f},{y + 4:.1f}" fill="{color}"/>'
    if shape == "diamond":
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}"
        return f'<polygon points="{points}" fill="{color}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{color}"/>'


def _runs(points: Sequence[tuple[int, Decimal | None]]) -> list[list[tuple[int, Decimal]]]:
    """The points split into runs of consecutive assessed years (a missing year or a missing score ends a run)."""
    runs: list[list[tuple[int, Decimal]]] = []
    previous: int | None = None
    for year, value in points:
        if value is None:
            previous = None
            continue
        if previous is None or year != previous + 1:
            runs.append([])
        runs[-1].append((year, value))
        previous = year
    return runs


def _box_gap(box: tuple[float, float, float, float], lines: Lines) -> float:
    """How close any drawn line comes to a box (left, top, right, bottom); 0 when one runs through it."""
    left, top, right, bottom = box
    gap = 1e9
    for line in lines:
        for (x1, y1), (x2, y2) in itertools.pairwise(line) if len(line) > 1 else [(line[0], line[0])]:
            steps = max(1, int(max(abs(x2 - x1), abs(y2 - y1)) / 3))
            for i in range(steps + 1):
                px, py = x1 + (x2 - x1) * i / steps, y1 + (y2 - y1) * i / steps
                dx, dy = max(left - px, 0.0, px - right), max(top - py, 0.0, py - bottom)
                gap = min(gap, (dx * dx + dy * dy) ** 0.5)
    return gap


def _figure_spot(x: float, y: float, text: str, lines: Lines) -> tuple[float, float, str]:
    """Where a total's figure goes: (x, baseline, text-anchor) above its point, else below, left or right.

    Above is the habit; the first spot with room to spare wins, and when none has, the one furthest from
    any line (another series, the target, or the total's own line leaving the point).
    """
    width = 9.5 * len(text)
    spots = [  # (text x, baseline, anchor, box)
        (x, y - 9, "middle", (x - width / 2, y - 24, x + width / 2, y - 7)),
        (x, y + 22, "middle", (x - width / 2, y + 7, x + width / 2, y + 24)),
        (x - 8, y + 6, "end", (x - 8 - width, y - 9, x - 8, y + 8)),
        (x + 8, y + 6, "start", (x + 8, y - 9, x + 8 + width, y + 8)),
    ]
    inside = [s for s in spots if s[3][1] >= TOP - 4 and s[3][3] <= HEIGHT - BOTTOM + 4
              and s[3][0] >= LEFT + 2 and s[3][2] <= WIDTH - RIGHT - 2]
    spots = inside or spots
    gaps = [_box_gap(s[3], lines) for s in spots]
    best = next((i for i, g in enumerate(gaps) if g >= 4), max(range(len(spots)), key=gaps.__getitem__))
    tx, baseline, anchor, _ = spots[best]
    return tx, baseline, anchor


def history_chart(
    history: Sequence[YearScores],
    series: Sequence[Series],
    *,
    score: Callable[[Decimal], str],
    number: Callable[[int], str],
) -> str:
    """The SVG markup; `score` and `number` format figures in the page's digits."""
    years = [y.fiscal_year for y in history]
    if not years or not series:
        return ""
    targets = {y.target for y in history}
    values = [v for s in series for _, v in s.points if v is not None] + list(targets)
    low = max(Decimal(0), (min(values) // 5) * 5 - 5)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    first, final = years[0], years[-1]

    def x_of(year: int) -> float:
        # By year, not by rank: a gap of five years is five steps wide, so the slope reads as a trend per year.
        if first == final:
            return LEFT + plot_w / 2
        return LEFT + INSET + (plot_w - 2 * INSET) * (year - first) / (final - first)

    def y_of(value: Decimal) -> float:
        return TOP + plot_h * float((Decimal(100) - value) / (Decimal(100) - low))

    summary = "; ".join(
        f"{s.label}: " + ", ".join(f"{number(y)} {score(v)}" for y, v in s.points if v is not None) for s in series
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{escape("กราฟคะแนน ITA ย้อนหลัง — " + summary)}" class="history-chart" '
        'font-family="inherit" font-size="17">',
        f"<title>{escape('กราฟคะแนน ITA ย้อนหลัง: ' + summary)}</title>",
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#999"/>',
    ]
    step = 5 if 100 - low <= 30 else 10
    tick = Decimal(100)
    while tick >= low:
        y = y_of(tick)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#333">'
                     f"{escape(number(int(tick)))}</text>")
        tick -= step
    axis_y = TOP + plot_h
    step_w = (plot_w - 2 * INSET) / max(1, final - first)
    for year in range(first, final + 1):
        # Every year gets a tick; a year without an assessment has no label when space is short and no point.
        x, assessed = x_of(year), year in years
        parts.append(f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + (6 if assessed else 4)}" '
                     f'stroke="{"#333" if assessed else "#999"}" class="year-tick{"" if assessed else " missing"}"/>')
        if assessed:
            text = f"ITA {number(year)}" if step_w >= 72 or len(years) == 1 else number(year)
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 20}" text-anchor="middle" fill="#333">'
                         f"{escape(text)}</text>")
        elif step_w >= 48:
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 20}" text-anchor="middle" fill="#999" '
                         f'font-size="14">{escape(number(year))}</text>')
    # Right-margin labels: (line y, text, colour, dash, marker, width), placed top-down once all are known.
    labels: list[tuple[float, str, str, str, str | None, float]] = []
    for target in sorted(targets):
        y = y_of(target)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="{TARGET}" '
                     'stroke-width="1.5" stroke-dasharray="6 3"/>')
        labels.append((y, f"เป้าหมาย {score(target)}", TARGET, "6 3", None, 1.5))
    drawn: list[list[tuple[float, float]]] = []  # every line's segments, for placing the total's figures
    for n, s in enumerate(series):
        color, dash, shape, width = STYLES[n % len(STYLES)]
        known = [(x_of(y), y_of(v), v) for y, v in s.points if v is not None]
        if not known:
            continue
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        for run in _runs(s.points):
            # One polyline per run of consecutive assessed years: no line joins years with a gap between them.
            if len(run) > 1:
                path = " ".join(f"{x_of(y):.1f},{y_of(v):.1f}" for y, v in run)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="{width}"'
                             f"{dash_attr}/>")
            drawn.append([(x_of(y), y_of(v)) for y, v in run])
        parts += [_marker(shape, x, y, color) for x, y, _ in known]
        label = s.label if len(s.label) <= 30 else s.label[:29] + "…"
        labels.append((known[-1][1], f"{label} {score(known[-1][2])}", color, dash, shape, width))
    drawn += [[(LEFT, y_of(t)), (LEFT + plot_w, y_of(t))] for t in targets]
    total = [(x_of(y), y_of(v), v) for y, v in series[0].points if v is not None]
    for x, y, v in total:
        # The figures go on last, with a white halo, where no line runs through them.
        tx, ty, anchor = _figure_spot(x, y, score(v), drawn)
        parts.append(f'<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="{anchor}" font-weight="bold" class="total-figure" '
                     f'stroke="#fff" stroke-width="4" paint-order="stroke">{escape(score(v))}</text>')
    # Each label beside the end of its line, pushed down just enough that none overlap.
    lx, last = LEFT + plot_w + 8, -1e9
    for y, text, color, dash, mark, width in sorted(labels, key=lambda item: item[0]):
        ly = max(y + 6, last + 21)
        last = ly
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<line x1="{lx:.1f}" y1="{ly - 6:.1f}" x2="{lx + 18:.1f}" y2="{ly - 6:.1f}" stroke="{color}" '
                     f'stroke-width="{width}"{dash_attr}/>')
        if mark:
            parts.append(_marker(mark, lx + 9, ly - 6, color))
        parts.append(f'<text x="{lx + 24:.1f}" y="{ly:.1f}" fill="{color}">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
