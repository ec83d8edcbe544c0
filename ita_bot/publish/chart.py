"""The score-history chart: an inline SVG drawn on the server (no scripts), readable in colour and in print.

Each line has its own dash pattern and marker shape as well as its own colour, and is labelled at
its last point, so the chart still reads on a black-and-white printout. The target is a dashed
horizontal rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from ita_bot.domain.history import IndicatorKey, YearScores
from ita_bot.domain.thai import ARABIC, ThaiFormat

__all__ = ["Series", "history_chart", "history_series"]

WIDTH, HEIGHT = 800, 360
LEFT, RIGHT, TOP, BOTTOM = 56, 330, 28, 44  # the right margin holds the line labels
TARGET = "#c62828"
INSET = 48  # the first and last year stand a little inside the plot, clear of the axis and the labels
# Colours that stay apart in greyscale too; dash patterns and markers carry the difference in print.
STYLES = (
    ("#1a1a1a", "", "circle", 3.0),  # the total: solid, heavy
    ("#00838f", "8 4", "square", 2.0),
    ("#1565c0", "3 3", "triangle", 2.0),
    ("#6a1b9a", "10 3 2 3", "diamond", 2.0),
    ("#ef6c00", "2 4", "circle", 2.0),
    ("#2e7d32", "12 4", "square", 2.0),
)


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

    def x_of(year: int) -> float:
        if len(years) == 1:
            return LEFT + plot_w / 2
        return LEFT + INSET + (plot_w - 2 * INSET) * years.index(year) / (len(years) - 1)

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
    for year in years:
        x = x_of(year)
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 20}" text-anchor="middle" fill="#333">'
                     f"ITA {escape(number(year))}</text>")
    # Right-margin labels: (line y, text, colour, dash, marker, width), placed top-down once all are known.
    labels: list[tuple[float, str, str, str, str | None, float]] = []
    for target in sorted(targets):
        y = y_of(target)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="{TARGET}" '
                     'stroke-width="1.5" stroke-dasharray="6 3"/>')
        labels.append((y, f"เป้าหมาย {score(target)}", TARGET, "6 3", None, 1.5))
    for n, s in enumerate(series):
        color, dash, shape, width = STYLES[n % len(STYLES)]
        known = [(x_of(y), y_of(v), v) for y, v in s.points if v is not None]
        if not known:
            continue
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        if len(known) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in known)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="{width}"{dash_attr}/>')
        parts += [_marker(shape, x, y, color) for x, y, _ in known]
        if n == 0:  # the total's own figures, above its points
            parts += [f'<text x="{x:.1f}" y="{y - 9:.1f}" text-anchor="middle" font-weight="bold">'
                      f"{escape(score(v))}</text>" for x, y, v in known]
        label = s.label if len(s.label) <= 30 else s.label[:29] + "…"
        labels.append((known[-1][1], f"{label} {score(known[-1][2])}", color, dash, shape, width))
    # Each label beside the end of its line, pushed down just enough that none overlap.
    lx, last = LEFT + plot_w + 8, -1e9
    for y, text, color, dash, shape, width in sorted(labels, key=lambda item: item[0]):
        ly = max(y + 6, last + 21)
        last = ly
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<line x1="{lx:.1f}" y1="{ly - 6:.1f}" x2="{lx + 18:.1f}" y2="{ly - 6:.1f}" stroke="{color}" '
                     f'stroke-width="{width}"{dash_attr}/>')
        if shape:
            parts.append(_marker(shape, lx + 9, ly - 6, color))
        parts.append(f'<text x="{lx + 24:.1f}" y="{ly:.1f}" fill="{color}">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
