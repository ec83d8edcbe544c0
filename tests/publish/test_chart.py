"""The score-history SVG: years spaced by year, no line across a missing year, the total's figures clear of lines."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal

from ita_bot.domain.history import YearScores
from ita_bot.domain.plan import Indicator
from ita_bot.domain.thai import ARABIC, THAI
from ita_bot.publish.chart import LEFT, RIGHT, WIDTH, history_chart, history_series

NAMES = [(("EIT", 2), "ประสิทธิภาพการสื่อสาร"), (("EIT", 3), "การปรับปรุงการทำงาน"), (("OIT", 1), "การเปิดเผยข้อมูล")]
TOTAL_COLOUR = "#1a1a1a"


def year(fy: int, total: str, eit2: str, eit3: str, oit1: str) -> YearScores:
    scores = {("EIT", 2): eit2, ("EIT", 3): eit3, ("OIT", 1): oit1}
    indicators = tuple(Indicator(k[0], k[1], name, Decimal(scores[k]), ()) for k, name in NAMES)
    return YearScores(fy, Decimal(total), "A", Decimal("85.00"), indicators)


# The office's history as it stands in FY 2570: ITA 2563 and 2564, then nothing until ITA 2569.
HISTORY = (
    year(2563, "92.65", "81.80", "81.70", "97.50"),
    year(2564, "88.42", "82.40", "84.90", "80.25"),
    year(2569, "91.37", "83.60", "88.00", "92.00"),
)


def chart(history: tuple[YearScores, ...] = HISTORY, fmt: object = ARABIC) -> str:
    series = history_series(history, NAMES)
    return history_chart(history, series, score=fmt.score, number=fmt.num)  # type: ignore[attr-defined]


def polylines(svg: str) -> list[list[tuple[float, float]]]:
    return [
        [(float(x), float(y)) for x, y in (p.split(",") for p in points.split())]
        for points in re.findall(r'<polyline points="([^"]+)"', svg)
    ]


def total_points(svg: str) -> list[tuple[float, float]]:
    """The total's markers in the plot (the legend in the right margin has one too)."""
    found = re.findall(rf'<circle cx="([\d.]+)" cy="([\d.]+)" r="4" fill="{TOTAL_COLOUR}"', svg)
    return [(float(x), float(y)) for x, y in found if float(x) < WIDTH - RIGHT]


def test_years_are_spaced_by_year_not_by_rank() -> None:
    xs = [x for x, _ in total_points(chart())]
    assert len(xs) == 3
    one_year = xs[1] - xs[0]
    # ITA 2569 stands five years after ITA 2564, not one step after it.
    assert abs((xs[2] - xs[1]) - 5 * one_year) < 0.5, xs


def test_no_line_joins_years_that_are_not_consecutive() -> None:
    svg = chart()
    xs = [x for x, _ in total_points(svg)]
    one_year = xs[1] - xs[0]
    lines = polylines(svg)
    assert lines, "2563–2564 are consecutive and still joined"
    for line in lines:
        for (x1, _), (x2, _) in itertools.pairwise(line):
            assert abs((x2 - x1) - one_year) < 0.5, f"a segment spans {(x2 - x1) / one_year:.1f} years"
    # Every series is drawn 2563–2564 only: ITA 2569 is a point of its own.
    assert len(lines) == 4 and all(len(line) == 2 for line in lines)


def test_missing_years_are_ticks_without_points() -> None:
    svg = chart()
    missing = re.findall(r'<line x1="([\d.]+)"[^>]*class="year-tick missing"', svg)
    assert len(missing) == 4  # 2565, 2566, 2567, 2568
    marked = {round(x) for x, _ in total_points(svg)}
    assert not marked & {round(float(x)) for x in missing}
    assert len(re.findall(r'class="year-tick"', svg)) == 3


def test_the_totals_figures_keep_clear_of_every_line() -> None:
    svg = chart()
    lines = polylines(svg) + [
        [(float(a), float(b)), (float(c), float(b))]
        for a, b, c in re.findall(r'<line x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="\2" stroke="#c62828"', svg)
    ]
    figures = re.findall(
        r'<text x="([\d.]+)" y="([\d.]+)" text-anchor="(\w+)"[^>]*class="total-figure"[^>]*>([^<]+)</text>', svg
    )
    assert [f[3] for f in figures] == ["92.65", "88.42", "91.37"]
    for x, baseline, anchor, text in figures:
        width = 9 * len(text)  # bold 17 px digits
        left = {"middle": float(x) - width / 2, "end": float(x) - width, "start": float(x)}[anchor]
        right, bottom, top = left + width, float(baseline) + 2, float(baseline) - 15
        assert left >= LEFT and top >= 0
        for line in lines:
            for (x1, y1), (x2, y2) in itertools.pairwise(line):
                for i in range(21):  # sample the segment where it passes under the figure
                    px, py = x1 + (x2 - x1) * i / 20, y1 + (y2 - y1) * i / 20
                    assert not (left <= px <= right and top <= py <= bottom), f"{text} is crossed by a line"


def test_consecutive_years_are_one_line_and_thai_digits_label_the_axis() -> None:
    history = (year(2562, "88.10", "77.50", "80.00", "90.00"), *HISTORY[:2])
    svg = chart(history, THAI)
    lines = polylines(svg)
    assert all(len(line) == 3 for line in lines)  # 2562–2563–2564 unbroken
    assert "ITA ๒๕๖๓" in svg and "year-tick missing" not in svg
