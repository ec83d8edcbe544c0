"""Saved plans over files: ``plans/<fy>.toml`` in the data folder, and the change log in ``plan-changes.json``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from ita_bot.domain.plan_book import PLAN_FILE, Change, PlanFile, StoredPlan
from ita_bot.store.database import Store
from ita_bot.store.plan_files import PlanFiles
from ita_bot.store.records import change_from_record, change_record

__all__ = ["CHANGES_DB", "CHANGES_TABLE", "TinyPlans"]

#: The database and table holding one row per saved plan change. A database of its own: the rows carry whole
#: sections of plan text, and the main database is rewritten on every chat write. Its lock is also what
#: serializes plan saves across processes.
CHANGES_DB = "plan-changes"
CHANGES_TABLE = "changes"


class TinyPlans:
    """The PlanRepository: each saved plan a file of its own (written whole, atomically), the log a database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.folder = store.plans_dir
        # Saved and deployed plan files alike are re-read only when their (mtime, size, inode) changed: a save
        # replaces the file (new inode).
        self._files = PlanFiles()

    def source_of(self, fiscal_year: int) -> Path:
        return self.folder / f"{fiscal_year}.toml"

    def years(self) -> list[int]:
        if not self.folder.is_dir():
            return []
        return sorted(int(m.group(1)) for p in self.folder.iterdir() if (m := PLAN_FILE.fullmatch(p.name)))

    def _read(self, path: Path) -> PlanFile | None:
        return self._files.read(path)

    def deployed(self, path: Path) -> PlanFile | None:
        return self._read(path)

    def get(self, fiscal_year: int) -> StoredPlan | None:
        found = self._read(self.source_of(fiscal_year))
        return StoredPlan(fiscal_year, found.text, found.version, found.source) if found is not None else None

    @contextlib.contextmanager
    def saving(self) -> Iterator[None]:
        with self.store.write(CHANGES_DB):
            yield

    def save(self, text: str, change: Change) -> StoredPlan:
        with self.store.write(CHANGES_DB) as db:  # joins the saving() transaction of this thread
            self.store.write_file(self.source_of(change.fiscal_year), text.encode("utf-8"))
            db.table(CHANGES_TABLE).insert(change_record(change))
        stored = self.get(change.fiscal_year)
        assert stored is not None
        return stored

    def changes(self, fiscal_year: int | None = None) -> list[Change]:
        with self.store.read(CHANGES_DB) as db:
            changes = [change_from_record(dict(r), r.doc_id) for r in db.table(CHANGES_TABLE).all()]
        return [c for c in changes if fiscal_year is None or c.fiscal_year == fiscal_year]

    def change(self, change_id: int) -> Change | None:
        with self.store.read(CHANGES_DB) as db:
            row = db.table(CHANGES_TABLE).get(doc_id=change_id)
            return change_from_record(dict(row), row.doc_id) if row is not None else None
