"""Score history: every plan's `[assessment]` is one ITA year; the years side by side and what moved between them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ita_bot.domain.indicators import IndicatorKey, indicator_label, nacc_numbers
from ita_bot.domain.plan import Indicator, Plan
from ita_bot.domain.thai import ARABIC, ThaiFormat

__all__ = ["NOTABLE_CHANGE", "Change", "IndicatorKey", "YearScores", "changes_since", "indicator_keys", "score_history"]

#: /คะแนน names an indicator that moved by more than this since the year before.
NOTABLE_CHANGE = Decimal(2)


@dataclass(frozen=True)
class YearScores:
    """The official result of one ITA year (the year assessed: plan 2564 holds ITA 2563)."""

    fiscal_year: int
    total: Decimal
    level: str
    target: Decimal
    indicators: tuple[Indicator, ...]
    #: The instruments' codes in the plan's order, which the NACC's numbering follows (as Assessment's does).
    instruments: tuple[str, ...] = ()

    def score(self, key: IndicatorKey) -> Decimal | None:
        return next((i.score for i in self.indicators if (i.instrument, i.number) == key), None)

    def below(self, key: IndicatorKey) -> bool:
        score = self.score(key)
        return score is not None and score < self.target

    def label(self, key: IndicatorKey, name: str, fmt: ThaiFormat = ARABIC, *, short: bool = False) -> str:
        """The indicator as this year's NACC report numbers it (no number when the year did not have it)."""
        numbers = nacc_numbers(((i.instrument, i.number) for i in self.indicators), self.instruments)
        return indicator_label(numbers.get(key), name, key[0], fmt, short=short)


@dataclass(frozen=True)
class Change:
    """An indicator that moved between two years."""

    indicator: Indicator  # as the later year names it
    before: Decimal
    after: Decimal

    @property
    def delta(self) -> Decimal:
        return self.after - self.before


def score_history(plans: Iterable[Plan]) -> tuple[YearScores, ...]:
    """Each ITA year known from the plans, oldest first; a year two plans hold is taken from the later plan."""
    years: dict[int, tuple[int, YearScores]] = {}
    for plan in plans:
        a = plan.assessment
        if a is None:  # a plan drafted before its year's official result was entered
            continue
        if a.fiscal_year in years and years[a.fiscal_year][0] > plan.fiscal_year:
            continue
        years[a.fiscal_year] = (plan.fiscal_year, YearScores(a.fiscal_year, a.total, a.level, a.target, a.indicators,
                                                            tuple(i.code for i in a.instruments)))
    return tuple(years[y][1] for y in sorted(years))


def indicator_keys(history: Sequence[YearScores]) -> list[tuple[IndicatorKey, str]]:
    """Every indicator of any year with its latest name, in the latest year's order (older-only ones after)."""
    names: dict[IndicatorKey, str] = {}
    for year in reversed(history):
        for i in year.indicators:
            names.setdefault((i.instrument, i.number), i.name)
    return list(names.items())


def changes_since(history: Sequence[YearScores], year: int, more_than: Decimal = NOTABLE_CHANGE) -> list[Change] | None:
    """Indicators of ITA `year` that moved by more than `more_than` points since the year before; None when
    the year before is not known."""
    by_year = {y.fiscal_year: y for y in history}
    now, before = by_year.get(year), by_year.get(year - 1)
    if now is None or before is None:
        return None
    out = []
    for i in now.indicators:
        old = before.score((i.instrument, i.number))
        if old is not None and abs(i.score - old) > more_than:
            out.append(Change(i, old, i.score))
    return out
