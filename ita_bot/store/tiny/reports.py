"""Reports over TinyDB: a database file per fiscal year, and a cache of built Reports per file version."""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tinydb import Query

from ita_bot.domain.progress import Report
from ita_bot.store.database import Store, Version

__all__ = ["TinyReports"]


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

    version: Version | None  # None: built inside this thread's write(), not to be reused as is
    reports: list[Report]  # withdrawn too, oldest first
    # report id -> (its stored row, the Report built from it): a new version rebuilds only rows
    # that changed (an added report is one from_dict, not the year's hundreds).
    built: dict[str, tuple[dict[str, Any], Report]]


class TinyReports:
    """The ReportRepository over ``reports-<fy>.json``; every method is one locked transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # A report appends its row to the year's log instead of rewriting the year's file (see Store.log_commits).
        store.log_commits(r"reports-\d{4}")
        # Every /สถานะ or /ค้าง reads the whole year, and building Reports is what grows with it.
        self._years: dict[int, _Year] = {}
        # Per year: (the stored rows dict, event id -> the first row with it). Keyed by the very dict, which a
        # committed version never changes: a replayed event is found without scanning the year.
        self._events: dict[int, tuple[dict[str, Any], dict[str, dict[str, Any]]]] = {}
        # Per year: each pair's latest live report before a cycle's start, for one sorted list (progress_since).
        self._latest: dict[int, tuple[tuple[int, datetime], list[Report], list[Report]]] = {}

    @contextlib.contextmanager
    def hold(self, fiscal_year: int) -> Iterator[None]:
        with self.store.write(_db_name(fiscal_year)):
            yield

    def add(self, report: Report, check: Callable[[Report], None] | None = None) -> Report:
        with self.store.write(_db_name(report.fiscal_year)) as db:
            table = db.table("reports")
            rows = (db.storage.read() or {}).get("reports", {})
            events = self._event_index(report.fiscal_year, rows)
            if report.event_id:
                found = events.get(report.event_id)
                if found is not None:
                    return _detached(Report.from_dict(found))  # its own lists: the row stays the store's
            if check is not None:
                check(report)
            table.insert(report.to_dict())
            if report.event_id:
                # A new index, not the old one changed: should this transaction fail, the old one stays true.
                after = (db.storage.read() or {}).get("reports", {})
                row = next(reversed(after.values()))
                self._events[report.fiscal_year] = (after, {**events, report.event_id: row})
        return report

    def _event_index(self, fiscal_year: int, rows: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Event id -> the first stored row with it, built once per version of the year's rows."""
        hit = self._events.get(fiscal_year)
        if hit is not None and hit[0] is rows:
            return hit[1]
        index: dict[str, dict[str, Any]] = {}
        for row in rows.values():
            event_id = row.get("event_id")
            if event_id and event_id not in index:
                index[event_id] = row
        self._events[fiscal_year] = (rows, index)
        return index

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

    def of_year(self, fiscal_year: int, *, include_withdrawn: bool = False) -> list[Report]:
        return [_detached(r) for r in self._sorted(fiscal_year) if include_withdrawn or not r.withdrawn]

    def progress_since(self, fiscal_year: int, start: datetime) -> list[Report]:
        reports = self._sorted(fiscal_year)
        # Found by bisection in the shared sorted list: only the reports from ``start`` on are copied.
        cut = bisect.bisect_left(reports, start, key=lambda r: r.reported_at)
        key = (id(reports), start)
        hit = self._latest.get(fiscal_year)
        if hit is not None and hit[0] == key and hit[1] is reports:
            latest = hit[2]
        else:
            # Each pair's latest live report before the cut: the older part changes rarely, so kept per list.
            found: dict[tuple[int, str], Report] = {}
            for r in reports[:cut]:
                if not r.withdrawn:
                    found[(r.measure, r.division)] = r
            latest = sorted(found.values(), key=lambda r: (r.reported_at, r.sent_at))
            self._latest[fiscal_year] = (key, reports, latest)
        return [_detached(r) for r in latest] + [_detached(r) for r in reports[cut:] if not r.withdrawn]

    def get(self, fiscal_year: int, report_id: str) -> Report | None:
        found = next((r for r in self._sorted(fiscal_year) if r.id == report_id), None)
        return _detached(found) if found is not None else None

    def find(self, fiscal_year: int, predicate: Callable[[Report], bool]) -> list[Report]:
        return [_detached(r) for r in self._sorted(fiscal_year) if predicate(r)]

    def update(self, fiscal_year: int, report_id: str, change: Callable[[Report], None]) -> Report:
        with self.store.write(_db_name(fiscal_year)) as db:
            table = db.table("reports")
            row = table.get(Query().id == report_id)
            if row is None:
                raise KeyError(report_id)
            data = dict(row)
            before = Report.from_dict(data)
            report = _detached(before)
            change(report)
            # Only the fields the change touched are rewritten: the rest of the row stays as stored, keys
            # this version does not know included.
            old, new = before.to_dict(), report.to_dict()
            data.update({k: v for k, v in new.items() if old.get(k) != v})
            table.update(data, doc_ids=[row.doc_id])
        return Report.from_dict(data)
