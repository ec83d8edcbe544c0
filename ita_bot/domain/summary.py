"""One cycle's summary, built once for every output: counts, each pair with this cycle's reports, who is pending.

The meeting-day push, the chair's digest, the /สรุป reply, the public page, its CSV and the DOCX memo
all render this model; the public outputs render it with each report replaced by its redacted public
view (``CycleSummary.map_reports``), so the figures they show cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from ita_bot.domain.meetings import Cycle
from ita_bot.domain.plan import Organization, Plan
from ita_bot.domain.progress import CycleView, LatestStatus, Report

__all__ = ["CycleSummary", "MeasureSummary", "PairSummary", "PendingDivision", "cycle_summary"]

R = TypeVar("R")  # a Report in the domain; the public view of one in published outputs
S = TypeVar("S")


@dataclass(frozen=True)
class PairSummary(LatestStatus, Generic[R]):
    """One (measure, division) pair as of the cycle's meeting."""

    measure: int
    division_id: str
    division: str  # the Thai name
    latest: R | None  # latest report up to the meeting
    reports: tuple[R, ...]  # this cycle's reports, oldest first
    pending: bool  # owes a report this cycle


@dataclass(frozen=True)
class MeasureSummary(Generic[R]):
    number: int
    title: str
    pairs: tuple[PairSummary[R], ...]  # in plan order; empty for a measure no division owes


@dataclass(frozen=True)
class PendingDivision:
    """A division still owing reports this cycle, and for which measures."""

    division_id: str
    division: str  # the Thai name
    measures: tuple[int, ...]


@dataclass(frozen=True)
class CycleSummary(Generic[R]):
    """Everything any summary of one cycle shows."""

    cycle: Cycle
    fiscal_year: int
    organization: Organization
    reporting_rule: str
    measures: tuple[MeasureSummary[R], ...]  # plan order
    pending: tuple[PendingDivision, ...]
    counts: dict[str, int]  # pairs at each latest status ("none" = never reported), "pending", "pairs"
    reports: tuple[R, ...]  # this cycle's reports, oldest first

    @property
    def pairs(self) -> tuple[PairSummary[R], ...]:
        return tuple(p for m in self.measures for p in m.pairs)

    @property
    def reported(self) -> int:
        """How many pairs have reported this cycle."""
        return sum(1 for p in self.pairs if p.reports)

    def without_reports(self) -> CycleSummary[R]:
        """The same statuses without this cycle's report lines (for outputs that ran out of room)."""
        measures = tuple(replace(m, pairs=tuple(replace(p, reports=()) for p in m.pairs)) for m in self.measures)
        return replace(self, measures=measures)

    def map_reports(self, show: Callable[[R], S]) -> CycleSummary[S]:
        """The same summary with every report replaced by `show(report)` (e.g. its public, redacted view)."""
        # Built field by field, not with dataclasses.replace: the copies hold S, not R.
        measures = tuple(
            MeasureSummary(
                m.number,
                m.title,
                tuple(
                    PairSummary(p.measure, p.division_id, p.division, show(p.latest) if p.latest else None,
                                tuple(map(show, p.reports)), p.pending)
                    for p in m.pairs
                ),
            )
            for m in self.measures
        )
        return CycleSummary(self.cycle, self.fiscal_year, self.organization, self.reporting_rule, measures,
                            self.pending, self.counts, tuple(map(show, self.reports)))


def cycle_summary(plan: Plan, view: CycleView) -> CycleSummary[Report]:
    """The summary of `view`'s cycle under `plan` (the cycle's own fiscal year's plan)."""
    measures = tuple(
        MeasureSummary(
            m.number,
            m.title,
            tuple(
                PairSummary(p.measure, p.division, plan.division_name(p.division), p.latest,
                            tuple(p.cycle_reports), p.pending)
                for p in view.pairs
                if p.measure == m.number
            ),
        )
        for m in plan.measures
    )
    pending = tuple(
        PendingDivision(d, plan.division_name(d), tuple(ns)) for d, ns in view.pending_by_division().items()
    )
    return CycleSummary(
        cycle=view.cycle,
        fiscal_year=plan.fiscal_year,
        organization=plan.organization,
        reporting_rule=plan.reporting_rule,
        measures=measures,
        pending=pending,
        counts=view.counts(),
        reports=tuple(view.reports),
    )
