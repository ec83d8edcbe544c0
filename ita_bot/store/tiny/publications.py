"""Publication records in the main database (table "publications"); snapshot files under ``snapshots/<fy>/``."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from tinydb import Query

from ita_bot.domain.publication import Approval, LinkCheck, SnapshotFile, SnapshotInfo
from ita_bot.store.database import Store

__all__ = ["SNAPSHOT_DIR", "TinyPublications"]

TABLE = "publications"
#: The snapshots' folder in the data folder: ``snapshots/<fiscal year>/<number>.html`` and ``.pdf``.
SNAPSHOT_DIR = "snapshots"


class TinyPublications:
    """The PublicationRepository over one Store: one row per (kind, fiscal year[, number])."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _row(self, kind: str, fiscal_year: int) -> dict[str, object] | None:
        q = Query()
        with self.store.read() as db:
            row = db.table(TABLE).get((q.kind == kind) & (q.fiscal_year == fiscal_year))
        return dict(row) if row else None

    def approval(self, fiscal_year: int) -> Approval | None:
        row = self._row("approval", fiscal_year)
        if row is None:
            return None
        return Approval(str(row["name"]), str(row["position"]), date.fromisoformat(str(row["approved_on"])),
                        str(row["recorded_by"]), datetime.fromisoformat(str(row["recorded_at"])))

    def set_approval(self, fiscal_year: int, approval: Approval | None) -> None:
        q = Query()
        where = (q.kind == "approval") & (q.fiscal_year == fiscal_year)
        with self.store.write() as db:
            table = db.table(TABLE)
            if approval is None:
                table.remove(where)
                return
            table.upsert({"kind": "approval", "fiscal_year": fiscal_year, "name": approval.name,
                          "position": approval.position, "approved_on": approval.approved_on.isoformat(),
                          "recorded_by": approval.recorded_by, "recorded_at": approval.recorded_at.isoformat()},
                         where)

    def snapshots(self, fiscal_year: int) -> list[SnapshotInfo]:
        q = Query()
        with self.store.read() as db:
            rows = db.table(TABLE).search((q.kind == "snapshot") & (q.fiscal_year == fiscal_year))
        return sorted((_snapshot(r) for r in rows), key=lambda s: s.number)

    def _path(self, fiscal_year: int, number: int, kind: SnapshotFile) -> str:
        return f"{SNAPSHOT_DIR}/{fiscal_year}/{number}.{kind}"

    def add_snapshot(self, fiscal_year: int, *, taken_at: datetime, taken_by: str, html: bytes,
                     pdf: bytes) -> SnapshotInfo:
        q = Query()
        with self.store.write() as db:  # the write lock makes choosing the number and keeping the row one step
            table = db.table(TABLE)
            taken = [int(r["number"]) for r in table.search((q.kind == "snapshot") & (q.fiscal_year == fiscal_year))]
            info = SnapshotInfo(fiscal_year, max(taken, default=0) + 1, taken_at, taken_by,
                                hashlib.sha256(html).hexdigest())
            # The files first: a row is only ever written for a snapshot whose files are both on disk.
            self.store.write_file(self.store.folder / self._path(fiscal_year, info.number, "html"), html)
            self.store.write_file(self.store.folder / self._path(fiscal_year, info.number, "pdf"), pdf)
            table.insert({"kind": "snapshot", "fiscal_year": fiscal_year, "number": info.number,
                          "taken_at": taken_at.isoformat(), "taken_by": taken_by, "sha256": info.sha256})
        return info

    def snapshot_file(self, fiscal_year: int, number: int, kind: SnapshotFile) -> bytes | None:
        if not any(s.number == number for s in self.snapshots(fiscal_year)):
            return None
        try:
            return (self.store.folder / self._path(fiscal_year, number, kind)).read_bytes()
        except FileNotFoundError:
            return None

    def link_check(self, fiscal_year: int) -> LinkCheck | None:
        row = self._row("link_check", fiscal_year)
        if row is None:
            return None
        return LinkCheck(datetime.fromisoformat(str(row["checked_at"])), str(row["site"]), str(row["target"]),
                         bool(row["found"]), tuple(str(p) for p in row["path"]),  # type: ignore[attr-defined]
                         str(row["problem"]))

    def set_link_check(self, fiscal_year: int, check: LinkCheck) -> None:
        q = Query()
        with self.store.write() as db:
            db.table(TABLE).upsert(
                {"kind": "link_check", "fiscal_year": fiscal_year, "checked_at": check.checked_at.isoformat(),
                 "site": check.site, "target": check.target, "found": check.found, "path": list(check.path),
                 "problem": check.problem},
                (q.kind == "link_check") & (q.fiscal_year == fiscal_year))


def _snapshot(r: dict[str, object]) -> SnapshotInfo:
    return SnapshotInfo(int(str(r["fiscal_year"])), int(str(r["number"])), datetime.fromisoformat(str(r["taken_at"])),
                        str(r["taken_by"]), str(r["sha256"]))
