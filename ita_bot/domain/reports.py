"""The report book: storing, editing, withdrawing reports and attaching evidence, one file per fiscal year."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tinydb import Query

from ita_bot.domain.progress import Report
from ita_bot.store.database import Signature, Store

__all__ = ["EVIDENCE_WINDOW", "ReportBook", "ReportRefused"]

EVIDENCE_WINDOW = timedelta(minutes=30)


class ReportRefused(ValueError):
    """A report the year's plan, as it stands when the report is stored, has no place for (short polite Thai)."""


def _db_name(fiscal_year: int) -> str:
    # A file per fiscal year keeps the working set small as years pass.
    return f"reports-{fiscal_year}"


def _detached(report: Report) -> Report:
    """A copy a caller may change freely: its own field dict and its own evidence/edit lists and dicts
    (their values are plain scalars). Several times cheaper than ``Report.from_dict``."""
    out = object.__new__(Report)
    fields = out.__dict__
    fields.update(report.__dict__)
    evidence, edits = report.evidence, report.edits  # mostly empty: skip the comprehension then
    fields["evidence"] = [dict(e) for e in evidence] if evidence else []
    fields["edits"] = [dict(e) for e in edits] if edits else []
    return out


@dataclass(frozen=True)
class _Year:
    """One version of a year's file, parsed: never handed out (callers get ``_detached`` copies)."""

    version: Signature | None  # None: built inside this thread's write(), not to be reused as is
    reports: list[Report]  # withdrawn too, oldest first
    # report id -> (its stored row, the Report built from it): a new version rebuilds only rows
    # that changed (an added report is one from_dict, not the year's hundreds).
    built: dict[str, tuple[dict[str, Any], Report]]


class ReportBook:
    """Repository of reports over the store; every method is one locked transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # Every /สถานะ or /ค้าง reads the whole year, and building Reports is what grows with it.
        self._years: dict[int, _Year] = {}
        # Set by the plan book: raises ReportRefused when the plan no longer has the report's measure and
        # division. Run inside the year's write lock, which a plan save also holds while it checks for reports.
        self.guard: Callable[[Report], None] | None = None

    def hold(self, fiscal_year: int) -> Any:
        """The year's write transaction: what a plan save holds so no report lands between its check and its save."""
        return self.store.write(_db_name(fiscal_year))

    def add(self, report: Report) -> Report:
        """Store a new report; an event already applied (same event id) returns the stored one."""
        with self.store.write(_db_name(report.fiscal_year)) as db:
            table = db.table("reports")
            if report.event_id:
                # The stored rows, scanned directly: a TinyDB query per row costs ten times more, for
                # every report, over the whole year.
                rows = (db.storage.read() or {}).get("reports", {})
                found = next((row for row in rows.values() if row.get("event_id") == report.event_id), None)
                if found is not None:
                    return _detached(Report.from_dict(found))  # its own lists: the row stays the store's
            if self.guard is not None:
                self.guard(report)
            table.insert(report.to_dict())
        return report

    def _sorted(self, fiscal_year: int) -> list[Report]:
        """The year's reports (withdrawn too), oldest first, built once per file version. Shared: copy
        what leaves this class."""
        name = _db_name(fiscal_year)
        version = self.store.version(name)  # before reading: the rows read are at least this new
        cached = self._years.get(fiscal_year)
        if version is not None and cached is not None and cached.version == version:
            return cached.reports
        if version is None and not self.store.path_of(name).exists():
            return []
        old = cached.built if cached is not None else {}
        built: dict[str, tuple[dict[str, Any], Report]] = {}
        reports = []
        with self.store.read(name) as db:
            # The store's own rows, not TinyDB's per-row copies: only read and compared here, never
            # changed (the store replaces rows, it never mutates them).
            rows = (db.storage.read() or {}).get("reports", {})
            for row in rows.values():
                hit = old.get(row.get("id"))
                if hit is None or not (hit[0] is row or hit[0] == row):
                    hit = (row, Report.from_dict(dict(row)))
                built[hit[1].id] = hit
                reports.append(hit[1])
        reports.sort(key=lambda r: (r.reported_at, r.sent_at))
        if version is not None:  # None: this thread's uncommitted write(), not a version to keep
            self._years[fiscal_year] = _Year(version, reports, built)
        return reports

    def all(self, fiscal_year: int, *, include_withdrawn: bool = False) -> list[Report]:
        """A fiscal year's reports, oldest first (by the date they are reported as of); copies the
        caller may change."""
        return [_detached(r) for r in self._sorted(fiscal_year) if include_withdrawn or not r.withdrawn]

    def get(self, fiscal_year: int, report_id: str) -> Report | None:
        found = next((r for r in self._sorted(fiscal_year) if r.id == report_id), None)
        return _detached(found) if found is not None else None

    def _update(self, fiscal_year: int, report_id: str, change: Callable[[dict[str, Any]], None]) -> Report:
        with self.store.write(_db_name(fiscal_year)) as db:
            table = db.table("reports")
            row = table.get(Query().id == report_id)
            if row is None:
                raise KeyError(report_id)
            data = dict(row)
            change(data)
            table.update(data, doc_ids=[row.doc_id])
        return Report.from_dict(data)

    def edit_details(
        self, fiscal_year: int, report_id: str, details: str, now: datetime, *, event_id: str | None = None
    ) -> Report:
        """Replace the details, keeping the previous text in the report's edit history; an event
        already applied (same event id) changes nothing."""

        def change(data: dict[str, Any]) -> None:
            edits = data.get("edits", [])
            if event_id and any(e.get("event_id") == event_id for e in edits):
                return
            edit: dict[str, Any] = {"details": data["details"], "edited_at": now.isoformat()}
            if event_id:
                edit["event_id"] = event_id
            data["edits"] = [*edits, edit]
            data["details"] = details

        return self._update(fiscal_year, report_id, change)

    def withdraw(self, fiscal_year: int, report_id: str, now: datetime, *, event_id: str | None = None) -> Report:
        """Hide a report from every output; it stays in history."""

        def change(data: dict[str, Any]) -> None:
            data["withdrawn_at"] = now.isoformat()
            data["withdrawn_event"] = event_id

        return self._update(fiscal_year, report_id, change)

    def withdrawn_by(self, fiscal_year: int, event_id: str | None) -> Report | None:
        """The report this event withdrew, if it was applied before (a replay must not withdraw the next one)."""
        if not event_id:
            return None
        found = next((r for r in self._sorted(fiscal_year) if r.withdrawn_event == event_id), None)
        return _detached(found) if found is not None else None

    def attach_evidence(self, fiscal_year: int, report_id: str, evidence: dict[str, Any]) -> Report:
        return self._update(
            fiscal_year, report_id, lambda d: d.__setitem__("evidence", [*d.get("evidence", []), evidence])
        )

    def latest_by(self, fiscal_year: int, author_id: str, predicate: Callable[[Report], bool]) -> Report | None:
        """The latest live report this person made (or recorded for a division) that matches."""
        mine = [r for r in self._sorted(fiscal_year) if not r.withdrawn and r.author_id == author_id and predicate(r)]
        latest = max(mine, key=lambda r: r.sent_at, default=None)
        return _detached(latest) if latest is not None else None

    def evidence_target(self, fiscal_year: int, author_id: str, chat_id: str, now: datetime) -> Report | None:
        """The report a photo or file sent now belongs to: the sender's latest in this chat within 30 minutes."""
        return self.latest_by(
            fiscal_year,
            author_id,
            lambda r: r.chat_id == chat_id and timedelta(0) <= now - r.sent_at <= EVIDENCE_WINDOW,
        )
