"""Saved plans over PostgreSQL: the ``plans`` and ``plan_changes`` rows of one office; deployed plans from disk."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar, cast

from psycopg.types.json import Jsonb

from ita_bot.domain.plan_book import Change, PlanFile, StoredPlan, VersionConflict, plan_version
from ita_bot.store.pg.database import Connection, Database
from ita_bot.store.plan_files import PlanFiles
from ita_bot.store.records import change_from_record, change_record

__all__ = ["PgPlans"]

_T = TypeVar("_T")




class PgPlans:
    """The PlanRepository of one office. A saved plan is a row (its text is the file TinyDB would keep, its
    version that text's hash); a change is a row whose ``data`` is the TinyDB change record, numbered 1, 2, …
    within the office as TinyDB's document ids are. ``saving()`` is one transaction under the office's plan-save
    advisory lock, so saves from every process run one at a time, and a save's version check and its write are
    one step. The deployment's own plan files are config on disk and are read as the TinyDB backend reads them."""

    def __init__(self, db: Database, office: str) -> None:
        self.db = db
        self.office = office
        self._files = PlanFiles()

    def source_of(self, fiscal_year: int) -> Path:
        # Not a file: how errors and messages name where the year's plan is kept ("postgresql:default/plans/
        # 2565.toml"). Its name is the year's, as the plan book checks a plan's source against its year.
        return Path(f"postgresql:{self.office}") / "plans" / f"{fiscal_year}.toml"

    def deployed(self, path: Path) -> PlanFile | None:
        return self._files.read(path)

    def _cached(self, what: object, read: Callable[[], _T]) -> _T:
        """``read()``, once per transaction: an event asks for the plan in force at every step, and only a save
        in this same transaction could change it meanwhile (``save`` drops what is kept)."""
        cache = self.db.transaction_cache()
        if cache is None:
            return read()
        key = ("plans", self.office, what)
        if key not in cache:
            cache[key] = read()
        return cast(_T, cache[key])

    def _forget(self) -> None:
        cache = self.db.transaction_cache()
        if cache is not None:
            for key in [k for k in cache if k[:2] == ("plans", self.office)]:
                del cache[key]

    def years(self) -> list[int]:
        def read() -> tuple[int, ...]:
            with self.db.reading() as conn:
                rows = conn.execute("SELECT fiscal_year FROM plans WHERE office = %s ORDER BY fiscal_year",
                                    (self.office,)).fetchall()
            return tuple(int(r["fiscal_year"]) for r in rows)

        return list(self._cached("years", read))

    def get(self, fiscal_year: int) -> StoredPlan | None:
        def read() -> StoredPlan | None:
            with self.db.reading() as conn:
                row = conn.execute("SELECT text, version FROM plans WHERE office = %s AND fiscal_year = %s",
                                   (self.office, fiscal_year)).fetchone()
            if row is None:
                return None
            return StoredPlan(fiscal_year, row["text"], row["version"], self.source_of(fiscal_year))

        return self._cached(fiscal_year, read)  # a StoredPlan is frozen: callers may share it

    def _lock(self, conn: Connection) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{self.office}/plans",))

    @contextlib.contextmanager
    def saving(self) -> Iterator[None]:
        with self.db.transaction() as conn:
            # Taken first: the version a save checks is then read after the last save committed.
            self._lock(conn)
            yield

    def save(self, text: str, change: Change) -> StoredPlan:
        fy = change.fiscal_year
        version = plan_version(text)
        data = change_record(change)
        self._forget()  # the conflict check below, and every read after the save, must see the table
        with self.db.transaction() as conn:
            self._lock(conn)  # held already inside saving(); an advisory lock is re-entrant
            # The stored plan moves only from the version the change was made from: a save that skipped the
            # lock and lost a race is refused here rather than undoing the other save. (A year whose plan is
            # still the deployment's has no row: the lock alone orders those saves.)
            saved = conn.execute(
                "INSERT INTO plans (office, fiscal_year, text, version) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (office, fiscal_year) DO UPDATE SET text = excluded.text, version = excluded.version"
                " WHERE plans.version = %s RETURNING version",
                (self.office, fy, text, version, change.version_before),
            ).fetchone()
            if saved is None:
                current = self.get(fy)
                raise VersionConflict(fy, change.version_before, current.version if current else "")
            conn.execute(
                "INSERT INTO plan_changes (office, id, fiscal_year, data) VALUES (%s,"
                " (SELECT coalesce(max(id), 0) + 1 FROM plan_changes WHERE office = %s), %s, %s)",
                (self.office, self.office, fy, Jsonb(data)),
            )
        self._forget()
        return StoredPlan(fy, text, version, self.source_of(fy))

    def changes(self, fiscal_year: int | None = None) -> list[Change]:
        with self.db.reading() as conn:
            if fiscal_year is None:
                rows = conn.execute("SELECT id, data FROM plan_changes WHERE office = %s ORDER BY id",
                                    (self.office,)).fetchall()
            else:
                rows = conn.execute(
                    "SELECT id, data FROM plan_changes WHERE office = %s AND fiscal_year = %s ORDER BY id",
                    (self.office, fiscal_year),
                ).fetchall()
        return [change_from_record(r["data"], int(r["id"])) for r in rows]

    def change(self, change_id: int) -> Change | None:
        with self.db.reading() as conn:
            row = conn.execute("SELECT id, data FROM plan_changes WHERE office = %s AND id = %s",
                               (self.office, change_id)).fetchone()
        return change_from_record(row["data"], int(row["id"])) if row is not None else None
