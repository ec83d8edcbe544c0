"""Reports over PostgreSQL: a row per report, a year's writes one at a time under the year's advisory lock."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from ita_bot.domain.progress import Report
from ita_bot.store.pg.database import Connection, Database

__all__ = ["PgReports"]

_ORDER = "ORDER BY reported_at, sent_at, seq"


def _report(data: dict[str, Any]) -> Report:
    """The Report of a row just read: its JSON was decoded for this call alone, so the Report's lists are the
    caller's own."""
    return Report.from_dict(data)


class PgReports:
    """The ReportRepository of one office. Every write of a year (an add, an update, a plan save's ``hold``)
    takes the year's transaction-scoped advisory lock first, as the TinyDB backend takes the year file's lock:
    a plan save's "no reports for what it removes" check and a report of a removed division never both pass."""

    def __init__(self, db: Database, office: str) -> None:
        self.db = db
        self.office = office

    def _lock_year(self, conn: Connection, fiscal_year: int) -> None:
        # No row to lock before a year's first report: an advisory lock on the (office, table, year) name.
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                     (f"{self.office}/reports/{fiscal_year}",))

    @contextlib.contextmanager
    def hold(self, fiscal_year: int) -> Iterator[None]:
        with self.db.transaction() as conn:
            self._lock_year(conn, fiscal_year)
            yield

    def add(self, report: Report, check: Callable[[Report], None] | None = None) -> Report:
        # No savepoint: the insert is the block's one write and its last statement (``check`` raises before it).
        with self.db.transaction(savepoint=False) as conn:
            self._lock_year(conn, report.fiscal_year)
            if report.event_id:
                found = conn.execute(
                    "SELECT data FROM reports WHERE office = %s AND fiscal_year = %s AND event_id = %s",
                    (self.office, report.fiscal_year, report.event_id),
                ).fetchone()
                if found is not None:
                    return _report(found["data"])
            if check is not None:
                check(report)
            data = report.to_dict()
            conn.execute(
                "INSERT INTO reports (office, fiscal_year, id, event_id, reported_at, sent_at, withdrawn, data)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (self.office, report.fiscal_year, report.id, report.event_id, report.reported_at, report.sent_at,
                 report.withdrawn, Jsonb(data)),
            )
        return report

    def _rows(self, fiscal_year: int, where: str = "") -> list[Report]:
        with self.db.reading() as conn:
            rows = conn.execute(
                f"SELECT data FROM reports WHERE office = %s AND fiscal_year = %s {where} {_ORDER}",
                (self.office, fiscal_year),
            ).fetchall()
        return [_report(r["data"]) for r in rows]

    def of_year(self, fiscal_year: int, *, include_withdrawn: bool = False) -> list[Report]:
        return self._rows(fiscal_year, "" if include_withdrawn else "AND NOT withdrawn")

    def progress_since(self, fiscal_year: int, start: datetime) -> list[Report]:
        # One snapshot for both parts: each pair's latest live report before ``start`` (DISTINCT ON keeps the
        # first row of each pair in the order given), then the live ones from ``start`` on.
        with self.db.reading() as conn:
            latest = conn.execute(
                "SELECT data FROM (SELECT DISTINCT ON (data->'measure', data->>'division') data, reported_at,"
                " sent_at, seq FROM reports WHERE office = %s AND fiscal_year = %s AND NOT withdrawn"
                " AND reported_at < %s ORDER BY data->'measure', data->>'division', reported_at DESC, sent_at DESC,"
                f" seq DESC) AS latest {_ORDER}",
                (self.office, fiscal_year, start),
            ).fetchall()
            rest = conn.execute(
                "SELECT data FROM reports WHERE office = %s AND fiscal_year = %s AND NOT withdrawn"
                f" AND reported_at >= %s {_ORDER}",
                (self.office, fiscal_year, start),
            ).fetchall()
        return [_report(r["data"]) for r in (*latest, *rest)]

    def get(self, fiscal_year: int, report_id: str) -> Report | None:
        with self.db.reading() as conn:
            row = conn.execute("SELECT data FROM reports WHERE office = %s AND fiscal_year = %s AND id = %s",
                               (self.office, fiscal_year, report_id)).fetchone()
        return _report(row["data"]) if row is not None else None

    def find(self, fiscal_year: int, predicate: Callable[[Report], bool]) -> list[Report]:
        return [r for r in self._rows(fiscal_year) if predicate(r)]

    def update(self, fiscal_year: int, report_id: str, change: Callable[[Report], None]) -> Report:
        with self.db.transaction() as conn:
            self._lock_year(conn, fiscal_year)
            row = conn.execute(
                "SELECT data FROM reports WHERE office = %s AND fiscal_year = %s AND id = %s FOR UPDATE",
                (self.office, fiscal_year, report_id),
            ).fetchone()
            if row is None:
                raise KeyError(report_id)
            data: dict[str, Any] = row["data"]
            # Copies: ``from_dict`` shares the row's lists, and ``change`` may append to them in place.
            before = Report.from_dict(copy.deepcopy(data))
            report = Report.from_dict(copy.deepcopy(data))
            change(report)
            # Only the fields the change touched are rewritten: the rest of the record stays as stored, keys
            # this version does not know included (as the TinyDB backend keeps them).
            old, new = before.to_dict(), report.to_dict()
            data.update({k: v for k, v in new.items() if old.get(k) != v})
            stored = Report.from_dict(copy.deepcopy(data))
            conn.execute(
                "UPDATE reports SET event_id = %s, reported_at = %s, sent_at = %s, withdrawn = %s, data = %s"
                " WHERE office = %s AND fiscal_year = %s AND id = %s",
                (stored.event_id, stored.reported_at, stored.sent_at, stored.withdrawn, Jsonb(data), self.office,
                 fiscal_year, report_id),
            )
        return stored
