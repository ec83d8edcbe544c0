"""The report book: storing, editing, withdrawing reports and attaching evidence, one year at a time."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol

from ita_bot.domain.progress import Report

__all__ = ["EVIDENCE_WINDOW", "ReportBook", "ReportRefused", "ReportRepository"]

EVIDENCE_WINDOW = timedelta(minutes=30)


class ReportRefused(ValueError):
    """A report the year's plan, as it stands when the report is stored, has no place for (short polite Thai)."""


class ReportRepository(Protocol):
    """Where reports are kept, a fiscal year at a time. Every method is one transaction; every Report handed
    out is the caller's own copy (changing it changes nothing stored)."""

    def add(self, report: Report, check: Callable[[Report], None] | None = None) -> Report:
        """Store a new report. When one with the same ``event_id`` is stored already, return that one instead
        (an event applied twice stores once). ``check`` runs inside the year's write transaction, before the
        report is stored, and refuses it by raising."""
        ...

    def of_year(self, fiscal_year: int, *, include_withdrawn: bool = False) -> list[Report]:
        """The year's reports, oldest first by (reported_at, sent_at)."""
        ...

    def progress_since(self, fiscal_year: int, start: datetime) -> list[Report]:
        """The year's live reports reported at or after ``start``, plus each (measure, division)'s latest live
        report before it; oldest first by (reported_at, sent_at). What a cycle's view needs, without the year."""
        ...

    def get(self, fiscal_year: int, report_id: str) -> Report | None: ...

    def find(self, fiscal_year: int, predicate: Callable[[Report], bool]) -> list[Report]:
        """The year's reports (withdrawn too) that match, oldest first. ``predicate`` only reads."""
        ...

    def update(self, fiscal_year: int, report_id: str, change: Callable[[Report], None]) -> Report:
        """Read, change and store one report in one transaction; KeyError when the year has no such report."""
        ...

    def hold(self, fiscal_year: int) -> AbstractContextManager[None]:
        """The year's write transaction, held by a caller across its own check-and-save (a plan save), so no
        report of that year is stored meanwhile. A report ``add`` inside it from the same thread joins it."""
        ...


class ReportBook:
    """The rules of storing reports (one per event, the plan's guard, edit history, withdrawals) over a
    ReportRepository."""

    def __init__(self, repository: ReportRepository) -> None:
        self.repository = repository
        # Set by the plan book: raises ReportRefused when the plan no longer has the report's measure and
        # division. Run inside the year's write transaction, which a plan save also holds while it checks.
        self.guard: Callable[[Report], None] | None = None

    def hold(self, fiscal_year: int) -> AbstractContextManager[None]:
        """The year's write transaction: what a plan save holds so no report lands between its check and its save."""
        return self.repository.hold(fiscal_year)

    def add(self, report: Report) -> Report:
        """Store a new report; an event already applied (same event id) returns the stored one."""
        return self.repository.add(report, self.guard)

    def all(self, fiscal_year: int, *, include_withdrawn: bool = False) -> list[Report]:
        """A fiscal year's reports, oldest first (by the date they are reported as of); copies the
        caller may change."""
        return self.repository.of_year(fiscal_year, include_withdrawn=include_withdrawn)

    def progress_since(self, fiscal_year: int, start: datetime) -> list[Report]:
        """Live reports from ``start`` on, plus each pair's latest live one before it, oldest first; copies."""
        return self.repository.progress_since(fiscal_year, start)

    def get(self, fiscal_year: int, report_id: str) -> Report | None:
        return self.repository.get(fiscal_year, report_id)

    def edit_details(
        self, fiscal_year: int, report_id: str, details: str, now: datetime, *, event_id: str | None = None
    ) -> Report:
        """Replace the details, keeping the previous text in the report's edit history; an event
        already applied (same event id) changes nothing."""

        def change(report: Report) -> None:
            if event_id and any(e.get("event_id") == event_id for e in report.edits):
                return
            edit: dict[str, Any] = {"details": report.details, "edited_at": now.isoformat()}
            if event_id:
                edit["event_id"] = event_id
            report.edits = [*report.edits, edit]
            report.details = details

        return self.repository.update(fiscal_year, report_id, change)

    def withdraw(self, fiscal_year: int, report_id: str, now: datetime, *, event_id: str | None = None) -> Report:
        """Hide a report from every output; it stays in history."""

        def change(report: Report) -> None:
            report.withdrawn_at = now
            report.withdrawn_event = event_id

        return self.repository.update(fiscal_year, report_id, change)

    def withdrawn_by(self, fiscal_year: int, event_id: str | None) -> Report | None:
        """The report this event withdrew, if it was applied before (a replay must not withdraw the next one)."""
        if not event_id:
            return None
        return next(iter(self.repository.find(fiscal_year, lambda r: r.withdrawn_event == event_id)), None)

    def attach_evidence(self, fiscal_year: int, report_id: str, evidence: dict[str, Any]) -> Report:
        def change(report: Report) -> None:
            report.evidence = [*report.evidence, evidence]

        return self.repository.update(fiscal_year, report_id, change)

    def latest_by(self, fiscal_year: int, author_id: str, predicate: Callable[[Report], bool]) -> Report | None:
        """The latest live report this person made (or recorded for a division) that matches."""
        mine = self.repository.find(
            fiscal_year, lambda r: not r.withdrawn and r.author_id == author_id and predicate(r)
        )
        return max(mine, key=lambda r: r.sent_at, default=None)

    def evidence_target(self, fiscal_year: int, author_id: str, chat_id: str, now: datetime) -> Report | None:
        """The report a photo or file sent now belongs to: the sender's latest in this chat within 30 minutes."""
        return self.latest_by(
            fiscal_year,
            author_id,
            lambda r: r.chat_id == chat_id and timedelta(0) <= now - r.sent_at <= EVIDENCE_WINDOW,
        )
