"""The cycle summary: built once from the plan and the cycle view, the same figures for every output."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ita_bot.domain.progress import Report
from ita_bot.domain.summary import cycle_summary
from ita_bot.domain.thai import BANGKOK


def _report(measure: int, division: str, status: str, percent: int | None, day: int, month: int = 2) -> Report:
    when = datetime(2021, month, day, 10, 0, tzinfo=BANGKOK)
    return Report(2564, measure, division, status, percent, f"ม.{measure} {division}", when, when)


def test_summary_carries_names_counts_and_pending_in_plan_order(office: Any) -> None:
    book = office.reports
    book.add(_report(1, "sp", "done", 100, 20, month=1))  # done before the cycle: not pending
    book.add(_report(4, "klang", "doing", 30, 10))
    book.add(_report(4, "klang", "doing", 60, 12))
    summary = cycle_summary(office.plan, office.view(office.calendar().cycle("2021-02")))
    assert [m.number for m in summary.measures] == [m.number for m in office.plan.measures]
    klang = next(p for p in summary.pairs if (p.measure, p.division_id) == (4, "klang"))
    assert klang.division == office.plan.division_name("klang") != "klang"
    assert (klang.status, klang.percent, klang.pending, len(klang.reports)) == ("doing", 60, False, 2)
    assert summary.reported == 1 and len(summary.reports) == 2
    assert summary.counts["pairs"] == len(summary.pairs)
    assert summary.counts["pending"] == sum(len(d.measures) for d in summary.pending)
    assert all(d.division == office.plan.division_name(d.division_id) for d in summary.pending)
    assert office.plan.division_name("gone") == "gone"  # a division no longer in the plan shows what is stored


def test_summary_maps_reports_and_drops_them_keeping_statuses(office: Any) -> None:
    office.reports.add(_report(4, "klang", "blocked", None, 10))
    summary = cycle_summary(office.plan, office.view(office.calendar().cycle("2021-02")))
    public = summary.map_reports(lambda r: r.details.upper())
    assert public.reports == ("ม.4 KLANG",)
    klang = next(p for p in public.pairs if p.division_id == "klang")
    assert klang.latest == "ม.4 KLANG" and klang.reports == ("ม.4 KLANG",)
    bare = summary.without_reports()
    assert bare.reported == 0
    assert [p.status for p in bare.pairs] == [p.status for p in summary.pairs]
