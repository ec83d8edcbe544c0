"""Publication records in PostgreSQL: tables "publications" (approval, link check) and "snapshots" (files in bytea)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from psycopg.types.json import Jsonb

from ita_bot.domain.publication import Approval, LinkCheck, SnapshotFile, SnapshotInfo
from ita_bot.store.pg.database import Database

__all__ = ["PgPublications"]


class PgPublications:
    """The PublicationRepository of one office."""

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
        if d is None:
            return None
        return Approval(d["name"], d["position"], date.fromisoformat(d["approved_on"]), d["recorded_by"],
                        datetime.fromisoformat(d["recorded_at"]))

    def set_approval(self, fiscal_year: int, approval: Approval | None) -> None:
        if approval is None:
            with self.db.transaction() as conn:
                conn.execute("DELETE FROM publications WHERE office = %s AND fiscal_year = %s AND kind = 'approval'",
                             (self.office, fiscal_year))
            return
        self._put(fiscal_year, "approval", {
            "name": approval.name, "position": approval.position, "approved_on": approval.approved_on.isoformat(),
            "recorded_by": approval.recorded_by, "recorded_at": approval.recorded_at.isoformat()})

    def snapshots(self, fiscal_year: int) -> list[SnapshotInfo]:
        with self.db.reading() as conn:
            rows = conn.execute("SELECT number, taken_at, taken_by, sha256 FROM snapshots WHERE office = %s AND "
                                "fiscal_year = %s ORDER BY number", (self.office, fiscal_year)).fetchall()
        return [SnapshotInfo(fiscal_year, r["number"], r["taken_at"], r["taken_by"], r["sha256"]) for r in rows]

    def add_snapshot(self, fiscal_year: int, *, taken_at: datetime, taken_by: str, html: bytes,
                     pdf: bytes) -> SnapshotInfo:
        digest = hashlib.sha256(html).hexdigest()
        with self.db.transaction() as conn:
            # The office's row lock serializes numbering: two managers freezing at once get two numbers.
            conn.execute("SELECT 1 FROM offices WHERE slug = %s FOR UPDATE", (self.office,))
            row = conn.execute("SELECT coalesce(max(number), 0) + 1 AS n FROM snapshots WHERE office = %s AND "
                               "fiscal_year = %s", (self.office, fiscal_year)).fetchone()
            number = int(row["n"]) if row else 1
            conn.execute("INSERT INTO snapshots (office, fiscal_year, number, taken_at, taken_by, sha256, html, pdf) "
                         "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                         (self.office, fiscal_year, number, taken_at, taken_by, digest, bytes(html), bytes(pdf)))
        return SnapshotInfo(fiscal_year, number, taken_at, taken_by, digest)

    def snapshot_file(self, fiscal_year: int, number: int, kind: SnapshotFile) -> bytes | None:
        column = {"html": "html", "pdf": "pdf"}[kind]  # never a caller's text in SQL
        with self.db.reading() as conn:
            row = conn.execute(f"SELECT {column} AS content FROM snapshots WHERE office = %s AND fiscal_year = %s "
                               "AND number = %s", (self.office, fiscal_year, number)).fetchone()
        return bytes(row["content"]) if row else None

    def link_check(self, fiscal_year: int) -> LinkCheck | None:
        d = self._data(fiscal_year, "link_check")
        if d is None:
            return None
        return LinkCheck(datetime.fromisoformat(d["checked_at"]), d["site"], d["target"], bool(d["found"]),
                         tuple(d["path"]), d["problem"])

    def set_link_check(self, fiscal_year: int, check: LinkCheck) -> None:
        self._put(fiscal_year, "link_check", {
            "checked_at": check.checked_at.isoformat(), "site": check.site, "target": check.target,
            "found": check.found, "path": list(check.path), "problem": check.problem})
