"""One event, one reading of the plans (PlanBook.pinned), on every backend: what it keeps, and what it never keeps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from ita_bot.domain.plan_book import PlanBook
from ita_bot.domain.plan_writer import plan_to_data
from ita_bot.domain.progress import Report
from ita_bot.domain.reports import ReportBook, ReportRefused
from ita_bot.domain.repositories import Repositories
from ita_bot.domain.thai import BANGKOK

SHIPPED = Path(__file__).resolve().parents[2] / "storage" / "plans"
NOW = datetime(2021, 2, 10, 9, 0, tzinfo=BANGKOK)


def open_book(repositories: Repositories) -> PlanBook:
    """A plan book as one process opens it (its own caches)."""
    return PlanBook(SHIPPED, repositories.plans, reports=ReportBook(repositories.reports))


def klang_leaves_measure_4(book: PlanBook) -> None:
    plan = book.get(2564)
    assert plan is not None
    data = plan_to_data(plan)
    data["measures"][3]["divisions"] = [d for d in data["measures"][3]["divisions"] if d != "klang"]
    book.save_data(2564, data, expected_version=book.version(2564), who="เลขาทดสอบ", section="measures", now=NOW)


def a_report(division: str) -> Report:
    return Report(2564, 4, division, "doing", 50, "ปรับปรุงเว็บไซต์", NOW, NOW, reporter_name="ผู้รายงาน")


def test_a_pinned_event_keeps_its_reading_but_the_report_check_reads_afresh(
    open_repositories: Callable[[], Repositories],
) -> None:
    book, other = open_book(open_repositories()), open_book(open_repositories())
    with book.pinned():
        before = book.get(2564)
        assert before is not None and "klang" in before.measure(4).divisions  # type: ignore[union-attr]
        klang_leaves_measure_4(other)  # another process saves while this event runs
        assert book.get(2564) is before  # the event's one reading
        # The check runs under the year's lock and never trusts the event's reading: a save that dropped the
        # pair is seen, so no report is stored against a measure its division no longer has.
        with pytest.raises(ReportRefused):
            book.report_book().add(a_report("klang"))
        after = book.get(2564)
        assert after is not None and "klang" not in after.measure(4).divisions  # type: ignore[union-attr]
    assert book.report_book().all(2564) == []
    assert book.version(2564) == other.version(2564)


def test_a_save_inside_the_scope_is_read_back_inside_it(open_repositories: Callable[[], Repositories]) -> None:
    book = open_book(open_repositories())
    with book.pinned():
        assert book.get(2564) is not None
        klang_leaves_measure_4(book)
        plan = book.get(2564)
        assert plan is not None and "klang" not in plan.measure(4).divisions  # type: ignore[union-attr]
        assert book.report_book().add(a_report("sp")).division == "sp"


def test_outside_a_scope_every_read_looks_again(open_repositories: Callable[[], Repositories]) -> None:
    book, other = open_book(open_repositories()), open_book(open_repositories())
    assert book.get(2564) is not None
    klang_leaves_measure_4(other)
    plan = book.get(2564)
    assert plan is not None and "klang" not in plan.measure(4).divisions  # type: ignore[union-attr]
