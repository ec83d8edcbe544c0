"""Saved plans over files: ``plans/<fy>.toml`` in the data folder, and the change log in ``plan-changes.json``."""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
from collections.abc import Iterator
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from ita_bot.domain.plan import PlanError
from ita_bot.domain.plan_book import Change, StoredPlan
from ita_bot.domain.plan_reader import read_plan_bytes
from ita_bot.store.database import Store

__all__ = ["CHANGES_DB", "CHANGES_TABLE", "TinyPlans"]

#: The database and table holding one row per saved plan change. A database of its own: the rows carry whole
#: sections of plan text, and the main database is rewritten on every chat write. Its lock is also what
#: serializes plan saves across processes.
CHANGES_DB = "plan-changes"
CHANGES_TABLE = "changes"
_YEAR_FILE = re.compile(r"(\d{4})\.toml")
_CHANGE_FIELDS = tuple(f.name for f in fields(Change) if f.name != "id")


def _change(row: dict[str, Any], row_id: int) -> Change:
    return Change(**{k: row.get(k, "") for k in _CHANGE_FIELDS}, id=row_id)


class TinyPlans:
    """The PlanRepository: each saved plan a file of its own (written whole, atomically), the log a database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.folder = store.plans_dir
        # A file is re-read only when its (mtime, size, inode) changed: a save replaces it (new inode).
        self._cache: dict[int, tuple[tuple[int, int, int], StoredPlan]] = {}
        self._lock = threading.Lock()

    def source_of(self, fiscal_year: int) -> Path:
        return self.folder / f"{fiscal_year}.toml"

    def years(self) -> list[int]:
        if not self.folder.is_dir():
            return []
        return sorted(int(m.group(1)) for p in self.folder.iterdir() if (m := _YEAR_FILE.fullmatch(p.name)))

    def get(self, fiscal_year: int) -> StoredPlan | None:
        path = self.source_of(fiscal_year)
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise PlanError(path, "(file)", f"อ่านไฟล์ไม่ได้ (cannot read): {e.strerror or e}") from e
        sig = (st.st_mtime_ns, st.st_size, st.st_ino)
        with self._lock:
            hit = self._cache.get(fiscal_year)
        if hit is not None and hit[0] == sig:
            return hit[1]
        raw = read_plan_bytes(path, missing_ok=True)
        if raw is None:
            return None
        stored = StoredPlan(fiscal_year, raw.decode("utf-8"), hashlib.sha256(raw).hexdigest(), path)
        with self._lock:
            self._cache[fiscal_year] = (sig, stored)
        return stored

    @contextlib.contextmanager
    def saving(self) -> Iterator[None]:
        with self.store.write(CHANGES_DB):
            yield

    def save(self, text: str, change: Change) -> StoredPlan:
        with self.store.write(CHANGES_DB) as db:  # joins the saving() transaction of this thread
            self.store.write_file(self.source_of(change.fiscal_year), text.encode("utf-8"))
            row = {k: v for k, v in asdict(change).items() if k != "id"}
            if not row["note"]:
                del row["note"]  # as rows were always written: a note only when there is one
            db.table(CHANGES_TABLE).insert(row)
        stored = self.get(change.fiscal_year)
        assert stored is not None
        return stored

    def changes(self, fiscal_year: int | None = None) -> list[Change]:
        with self.store.read(CHANGES_DB) as db:
            changes = [_change(dict(r), r.doc_id) for r in db.table(CHANGES_TABLE).all()]
        return [c for c in changes if fiscal_year is None or c.fiscal_year == fiscal_year]

    def change(self, change_id: int) -> Change | None:
        with self.store.read(CHANGES_DB) as db:
            row = db.table(CHANGES_TABLE).get(doc_id=change_id)
            return _change(dict(row), row.doc_id) if row is not None else None
