"""Publication records in PostgreSQL: tables "publications" (approval, link check) and "snapshots" (files in bytea)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from ita_bot.domain.publication import (
    Approval,
    LinkCheck,
    SnapshotFile,
    SnapshotInfo,
    next_snapshot_number,
)
from ita_bot.store.pg.database import Database, DatabaseError
from ita_bot.store.records import (
    approval_from_record,
    approval_record,
    link_check_from_record,
    link_check_record,
    snapshot_from_record,
    snapshot_number,
    snapshot_record,
)

__all__ = ["PgPublications"]

# The file columns by kind: the column's name in SQL comes from here, never from a caller.
_COLUMNS: dict[str, str] = {"html": "html", "pdf": "pdf"}


class PgPublications:
    """The PublicationRepository of one office; each row's ``data`` is the record the TinyDB table keeps."""

    def __init__(self, db: Database, office: str) -> None:
        self.db = db
        self.office = office

    def _data(self, fiscal_year: int, kind: str) -> dict[str, Any] | None:
        with self.db.reading() as conn:
            row = conn.execute("SELECT data FROM publications WHERE office = %s AND fiscal_year = %s AND kind = %s",
                               (self.office, fiscal_year, kind)).fetchone()
        return dict(row["data"]) if row else None

    def _put(self, fiscal_year: int, kind: str, data: dict[str, Any]) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO publications (office, fiscal_year, kind, data) VALUES (%s, %s, %s, %s) "
                         "ON CONFLICT (office, fiscal_year, kind) DO UPDATE SET data = EXCLUDED.data",
                         (self.office, fiscal_year, kind, Jsonb(data)))

    def approval(self, fiscal_year: int) -> Approval | None:
        d = self._data(fiscal_year, "approval")
        return approval_from_record(d) if d is not None else None

    def set_approval(self, fiscal_year: int, approval: Approval | None) -> None:
        if approval is not None:
            self._put(fiscal_year, "approval", approval_record(fiscal_year, approval))
            return
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM publications WHERE office = %s AND fiscal_year = %s AND kind = 'approval'",
                         (self.office, fiscal_year))

    def link_check(self, fiscal_year: int) -> LinkCheck | None:
        d = self._data(fiscal_year, "link_check")
        return link_check_from_record(d) if d is not None else None

    def set_link_check(self, fiscal_year: int, check: LinkCheck) -> None:
        self._put(fiscal_year, "link_check", link_check_record(fiscal_year, check))

    def snapshots(self, fiscal_year: int) -> list[SnapshotInfo]:
        with self.db.reading() as conn:
            rows = conn.execute("SELECT data FROM snapshots WHERE office = %s AND fiscal_year = %s ORDER BY number",
                                (self.office, fiscal_year)).fetchall()
        return [snapshot_from_record(r["data"]) for r in rows]

    def add_snapshot(self, fiscal_year: int, *, taken_at: datetime, taken_by: str, html: bytes,
                     pdf: bytes, number: int | None = None) -> SnapshotInfo:
        html, pdf = bytes(html), bytes(pdf)
        digest, pdf_digest = hashlib.sha256(html).hexdigest(), hashlib.sha256(pdf).hexdigest()
        snapshot_record(SnapshotInfo(fiscal_year, 1, taken_at, taken_by, digest), pdf_digest)  # refuses a naive time
        with self.db.transaction() as conn:
            # The year's snapshot lock (an advisory transaction lock named by office and year) serializes numbering:
            # two managers freezing at once get two numbers, and nothing else of the office waits for it.
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                         (f"{self.office}/snapshots/{fiscal_year}",))
            row = conn.execute("SELECT max(number) AS n FROM snapshots WHERE office = %s AND fiscal_year = %s",
                               (self.office, fiscal_year)).fetchone()
            highest = int(row["n"]) if row and row["n"] is not None else None
            info = SnapshotInfo(fiscal_year, next_snapshot_number(fiscal_year, highest, number), taken_at, taken_by,
                                digest)
            # The record and both files in one row of one transaction: listed only with both files kept.
            conn.execute("INSERT INTO snapshots (office, fiscal_year, number, data, html, pdf) "
                         "VALUES (%s, %s, %s, %s, %s, %s)",
                         (self.office, fiscal_year, info.number, Jsonb(snapshot_record(info, pdf_digest)), html, pdf))
        return info

    def snapshot_file(self, fiscal_year: int, number: int, kind: SnapshotFile) -> bytes | None:
        column = _COLUMNS.get(kind)
        if column is None:
            raise ValueError(f"a snapshot has no {kind!r} file")
        if not (snapshot_number(fiscal_year) and snapshot_number(number)):
            return None  # only whole numbers a row can hold name a snapshot (and, on TinyDB, its file's path)
        with self.db.reading() as conn:
            row = conn.execute(f"SELECT data, {column} AS content FROM snapshots WHERE office = %s "
                               "AND fiscal_year = %s AND number = %s", (self.office, fiscal_year, number)).fetchone()
        if row is None:
            return None
        data = bytes(row["content"])
        expected = row["data"].get("sha256" if kind == "html" else "pdf_sha256")
        if hashlib.sha256(data).hexdigest() != expected:
            raise DatabaseError(f"office {self.office!r}: snapshot {fiscal_year}/{number}.{kind} is damaged (checksum)")
        return data
