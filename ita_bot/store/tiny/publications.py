"""Publication records in the main database (tables "publications", "snapshots"); snapshot files in ``snapshots/``."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

from tinydb import Query

from ita_bot.domain.publication import (
    Approval,
    LinkCheck,
    SnapshotFile,
    SnapshotInfo,
    next_snapshot_number,
)
from ita_bot.store.database import Store, StoreError
from ita_bot.store.records import (
    approval_from_record,
    approval_record,
    link_check_from_record,
    link_check_record,
    publication_from_record,
    snapshot_from_record,
    snapshot_number,
    snapshot_record,
)

__all__ = ["PUBLICATIONS", "SNAPSHOTS", "TinyHealth", "TinyPublications", "snapshot_file_name"]

#: The approval and the last link check of each fiscal year: one row per (kind, fiscal_year).
PUBLICATIONS = "publications"
#: One row per snapshot (fiscal_year, number); its files are ``snapshots/<fiscal year>/<number>.html`` and ``.pdf``.
SNAPSHOTS = "snapshots"
_KINDS: tuple[SnapshotFile, ...] = ("html", "pdf")


def snapshot_file_name(fiscal_year: int, number: int, kind: SnapshotFile) -> str:
    """A snapshot file's name under the snapshots folder, made of whole numbers only (never a caller's text)."""
    if type(fiscal_year) is not int or type(number) is not int or kind not in _KINDS:
        raise ValueError(f"no snapshot file for {fiscal_year!r}/{number!r}.{kind!r}")
    return f"{fiscal_year}/{number}.{kind}"


class TinyPublications:
    """The PublicationRepository over one Store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _row(self, kind: str, fiscal_year: int) -> dict[str, Any] | None:
        q = Query()
        with self.store.read() as db:
            row = db.table(PUBLICATIONS).get((q.kind == kind) & (q.fiscal_year == fiscal_year))
        return dict(row) if isinstance(row, dict) else None

    def _put(self, kind: str, fiscal_year: int, record: dict[str, Any] | None) -> None:
        q = Query()
        where = (q.kind == kind) & (q.fiscal_year == fiscal_year)
        with self.store.write() as db:
            table = db.table(PUBLICATIONS)
            if record is None:
                table.remove(where)
            else:
                table.upsert(record, where)

    def approval(self, fiscal_year: int) -> Approval | None:
        row = self._row("approval", fiscal_year)
        return approval_from_record(row) if row is not None else None

    def set_approval(self, fiscal_year: int, approval: Approval | None) -> None:
        self._put("approval", fiscal_year, approval_record(fiscal_year, approval) if approval is not None else None)

    def link_check(self, fiscal_year: int) -> LinkCheck | None:
        row = self._row("link_check", fiscal_year)
        return link_check_from_record(row) if row is not None else None

    def set_link_check(self, fiscal_year: int, check: LinkCheck) -> None:
        self._put("link_check", fiscal_year, link_check_record(fiscal_year, check))

    def _records(self, fiscal_year: int) -> list[dict[str, Any]]:
        with self.store.read() as db:
            return [dict(r) for r in db.table(SNAPSHOTS).search(Query().fiscal_year == fiscal_year)]

    def snapshots(self, fiscal_year: int) -> list[SnapshotInfo]:
        return sorted((snapshot_from_record(r) for r in self._records(fiscal_year)), key=lambda s: s.number)

    def _path(self, fiscal_year: int, number: int, kind: SnapshotFile) -> Path:
        return self.store.snapshots_dir / snapshot_file_name(fiscal_year, number, kind)

    def add_snapshot(self, fiscal_year: int, *, taken_at: datetime, taken_by: str, html: bytes,
                     pdf: bytes, number: int | None = None) -> SnapshotInfo:
        html, pdf = bytes(html), bytes(pdf)
        pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        with self.store.write() as db:  # the main database's lock: choosing the number and keeping the row are one step
            table = db.table(SNAPSHOTS)
            taken = [int(r["number"]) for r in table.search(Query().fiscal_year == fiscal_year)]
            info = SnapshotInfo(fiscal_year, next_snapshot_number(fiscal_year, max(taken, default=None), number),
                                taken_at, taken_by, hashlib.sha256(html).hexdigest())
            record = snapshot_record(info, pdf_sha256)  # a naive time is refused before any file is written
            # The files first, durably, then the row at the block's commit: a row never names a missing file. Should
            # the commit fail, the files stay with no row naming them; nobody can have read them (snapshot_file asks
            # for the row) and the next snapshot of the year takes the same number and replaces them whole.
            self.store.write_file(self._path(fiscal_year, info.number, "html"), html)
            self.store.write_file(self._path(fiscal_year, info.number, "pdf"), pdf)
            table.insert(record)
        return info

    def snapshot_file(self, fiscal_year: int, number: int, kind: SnapshotFile) -> bytes | None:
        if kind not in _KINDS:
            raise ValueError(f"a snapshot has no {kind!r} file")
        if not (snapshot_number(fiscal_year) and snapshot_number(number)):
            return None  # only whole numbers a row can hold name a snapshot (and, on TinyDB, its file's path)
        record = next((r for r in self._records(fiscal_year) if r.get("number") == number), None)
        if record is None:
            return None
        path = self._path(fiscal_year, number, kind)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = None
        except OSError as e:
            raise StoreError(f"snapshot file {path} cannot be read: {e}") from e
        # A recorded snapshot whose file is gone or changed is damage to report, never a page to serve as it.
        expected = record["sha256"] if kind == "html" else record["pdf_sha256"]
        if data is None or hashlib.sha256(data).hexdigest() != expected:
            raise StoreError(f"snapshot file {path} is {'missing' if data is None else 'damaged'} (checksum)")
        return data

    def problems(self) -> list[str]:
        """Each publication record that does not read back, and each snapshot whose files are gone or changed."""
        out: list[str] = []
        with self.store.read() as db:
            records = [dict(r) for r in db.table(PUBLICATIONS).all()]
            snapshots = [dict(r) for r in db.table(SNAPSHOTS).all()]
        for record in records:
            try:
                publication_from_record(record)
            except (KeyError, ValueError, TypeError, AttributeError) as e:
                out.append(f"table {PUBLICATIONS}: unreadable record ({type(e).__name__}: {e})")
        for record in snapshots:
            try:
                info = snapshot_from_record(record)
                for kind in _KINDS:
                    self.snapshot_file(info.fiscal_year, info.number, kind)
            except (KeyError, ValueError, TypeError, AttributeError, StoreError) as e:
                out.append(f"table {SNAPSHOTS}: {type(e).__name__}: {e}")
        return out


class TinyHealth:
    """The StorageHealth of a data folder: every database file parsed afresh, then the publication records and the
    snapshot files their rows name."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def check(self) -> None:
        self.store.check()  # a database that does not parse says so first: nothing more can be read then
        problems = TinyPublications(self.store).problems()
        if problems:
            raise StoreError("\n".join(f"data folder {self.store.folder}: {p}" for p in problems))
