"""The plan book: every fiscal year's plan (shipped files and the data folder's), saved safely and audited."""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ita_bot.domain.plan import Plan, PlanProblems, Problem
from ita_bot.domain.plan_reader import check_file_name, parse_plan_data, parse_plan_text
from ita_bot.domain.plan_writer import data_to_toml, plan_to_data

if TYPE_CHECKING:
    from ita_bot.domain.notices import Notices
    from ita_bot.domain.progress import Report
    from ita_bot.domain.reports import ReportBook

__all__ = ["PLAN_FILE", "SECTION_TOP_KEYS", "WHOLE_PLAN", "Change", "PlanBook", "PlanFile", "PlanRepository",
           "StoredPlan", "VersionConflict"]

#: A plan file's name: its BE fiscal year ("2564.toml"), in a data folder, the deployment's and a backup alike.
PLAN_FILE = re.compile(r"(\d{4})\.toml")
#: Sections whose change is the whole plan file: a new plan and an uploaded file.
WHOLE_PLAN = ("all", "new")
#: Top-level plan keys edited with a section (the organization page sets the meeting that set the measures):
#: recorded with it, so the history shows them and an undo restores them.
SECTION_TOP_KEYS: dict[str, tuple[str, ...]] = {"organization": ("set_on", "set_at", "reporting_rule")}


class VersionConflict(ValueError):
    """The plan changed since the editor read it: saving would silently undo someone else's change."""

    def __init__(self, fiscal_year: int, expected: str, current: str) -> None:
        self.fiscal_year = fiscal_year
        self.expected = expected
        self.current = current
        super().__init__(
            f"แผนปีงบประมาณ {fiscal_year} ถูกแก้ไขไปแล้วระหว่างที่ท่านกำลังแก้ จึงยังไม่บันทึก "
            "กรุณาเปิดหน้าแผนใหม่เพื่อดูฉบับล่าสุด แล้วแก้ไขอีกครั้ง"
        )


@dataclass(frozen=True)
class Change:
    """One saved change of a plan, as the history lists it."""

    at: str  # ISO 8601, Asia/Bangkok
    who: str  # the manager's name (or "command line")
    fiscal_year: int
    section: str  # "organization", "measures", …, or "all" for a whole-file save
    before: str  # the section (TOML) before; "" for a new plan or a section the plan did not have
    after: str
    version_before: str
    version_after: str
    note: str = ""  # e.g. that this change undid an earlier one
    id: int = 0  # the change's row number: how the history names one change (an undo can repeat a version)


@dataclass(frozen=True)
class StoredPlan:
    """A plan saved after deployment, as kept: its text and the version (sha256 of its UTF-8 bytes)."""

    fiscal_year: int
    text: str
    version: str
    source: Path  # where it is kept, as errors about it name it ("…/plans/2565.toml")


@dataclass(frozen=True)
class PlanFile:
    """A plan file that came with the deployment (shipped or configured), as read: text, version, where."""

    text: str
    version: str  # sha256 of its bytes
    source: Path


class PlanRepository(Protocol):
    """Where plans saved after deployment and the log of every saved change are kept; and the reader of the
    deployment's own plan files, so that every file read is cached in one place, the backend's."""

    def deployed(self, path: Path) -> PlanFile | None:
        """A plan file of the deployment (config, read from disk on any backend), read again only when the file
        changed; None when there is none; PlanError when it cannot be read or is not UTF-8."""
        ...

    def years(self) -> list[int]:
        """Fiscal years with a saved plan."""
        ...

    def get(self, fiscal_year: int) -> StoredPlan | None:
        """The saved plan of a year (PlanError when it cannot be read), or None."""
        ...

    def source_of(self, fiscal_year: int) -> Path:
        """Where the year's plan is (or would be) kept, as errors name it."""
        ...

    def saving(self) -> AbstractContextManager[None]:
        """The plan-save transaction: held across a save's version check and its ``save``, so saves of any
        year, from any process, run one at a time."""
        ...

    def save(self, text: str, change: Change) -> StoredPlan:
        """Inside ``saving()``: replace plan ``change.fiscal_year`` with ``text`` and append ``change`` to the
        log (its ``id`` is given here)."""
        ...

    def changes(self, fiscal_year: int | None = None) -> list[Change]:
        """Logged changes (of one year when given), oldest first, each with its id."""
        ...

    def change(self, change_id: int) -> Change | None: ...


def plan_version(text: str) -> str:
    """A plan's version: sha256 of its file's bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Cached:
    version: str
    text: str
    plan: Plan


def _section_text(data: dict[str, Any] | None, section: str) -> str:
    if data is None:
        return ""
    if section in WHOLE_PLAN:
        return data_to_toml(data)
    part = {k: data[k] for k in SECTION_TOP_KEYS.get(section, ()) if k in data}
    if section in data:
        part[section] = data[section]
    if not part:
        return ""  # the plan had no such section (a calendar added for the first time)
    return data_to_toml(part).split("\n\n", 1)[-1]


class PlanBook:
    """All fiscal years' plans for one office.

    ``shipped_dir`` holds the plans that came with the deployment (``storage/plans``); ``repository`` keeps the
    plans saved after deployment (they win over a shipped plan of the same year) and the log of their changes.
    ``configured`` is the plan config names (it wins over the shipped folder for its year). An office with
    neither (``shipped_dir`` and ``configured`` None: a hosted office before its first plan) has only saved plans.
    Every read checks the plan's version (the repository re-reads a file only when it changed), so a save made by
    another process (a gunicorn worker, the clock) is seen at once, and no version of a plan is parsed twice.
    """

    def __init__(self, shipped_dir: Path | None, repository: PlanRepository, *, configured: Path | None = None,
                 reports: ReportBook, notices: Notices | None = None) -> None:
        self.shipped_dir = Path(shipped_dir) if shipped_dir is not None else None
        self.repository = repository
        self.configured = Path(configured).resolve() if configured else None
        self._reports = reports
        reports.guard = self.check_report
        self._notices = notices
        self._cache: dict[Path, _Cached] = {}
        self._lock = threading.Lock()  # guards _cache: held for a dict lookup or store, never for a parse
        self._parsing = threading.Lock()  # one parse at a time, so threads missing together parse a version once
        # The plans as this thread's event read them (see ``pinned``): fiscal year -> entry, and the years.
        self._pins = threading.local()

    # --- one event, one reading ---------------------------------------------------------------

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """Within it, this thread reads each year's plan (and the list of years) once: a chat event asks for its
        plan several times (parse, check, reply), and each ask would look at the file or the database again. A
        save in the scope drops what was read; the report check reads afresh (``check_report``). Re-entrant."""
        if getattr(self._pins, "entries", None) is not None:
            yield
            return
        self._pins.entries, self._pins.years = {}, None
        try:
            yield
        finally:
            self._pins.entries = self._pins.years = None

    def _unpin(self) -> None:
        """Forget this thread's pinned reading (a plan was saved, or is about to be read afresh)."""
        if getattr(self._pins, "entries", None) is not None:
            self._pins.entries, self._pins.years = {}, None

    # --- reading ------------------------------------------------------------------------------

    def _parsed(self, found: PlanFile | StoredPlan) -> _Cached:
        """The plan of one version of a file, parsed once: the parse is kept per file with its version."""
        with self._lock:
            hit = self._cache.get(found.source)
        if hit is not None and hit.version == found.version:
            return hit
        with self._parsing:
            with self._lock:
                hit = self._cache.get(found.source)
            if hit is not None and hit.version == found.version:
                return hit  # another thread parsed this version while we waited
            plan = parse_plan_text(found.text, found.source)
            if found.source != self.configured:
                check_file_name(found.source, plan)
            entry = _Cached(found.version, found.text, plan)
            with self._lock:
                self._cache[found.source] = entry
        return entry

    def _read(self, path: Path) -> _Cached | None:
        """A shipped or configured plan file."""
        found = self.repository.deployed(path)
        return self._parsed(found) if found is not None else None

    def _stored(self, fiscal_year: int) -> _Cached | None:
        """The year's saved plan."""
        stored = self.repository.get(fiscal_year)
        return self._parsed(stored) if stored is not None else None

    def configured_year(self) -> int | None:
        if self.configured is None:
            return None
        entry = self._read(self.configured)
        return entry.plan.fiscal_year if entry else None

    def _shipped(self, fiscal_year: int) -> Path | None:
        """The deployment's file of the year (configured, else shipped), or None."""
        if self.configured is not None and self.configured_year() == fiscal_year:
            return self.configured
        if self.shipped_dir is None:
            return None
        shipped = self.shipped_dir / f"{fiscal_year}.toml"
        return shipped if shipped.is_file() else None

    def path_of(self, fiscal_year: int) -> Path | None:
        """Where plan ``fiscal_year`` is read from (saved, configured, shipped), or None."""
        if (stored := self.repository.get(fiscal_year)) is not None:
            return stored.source
        return self._shipped(fiscal_year)

    def _entry(self, fiscal_year: int) -> _Cached | None:
        pins: dict[int, _Cached | None] | None = getattr(self._pins, "entries", None)
        if pins is not None and fiscal_year in pins:
            return pins[fiscal_year]
        entry = self._fresh_entry(fiscal_year)
        if pins is not None:
            pins[fiscal_year] = entry
        return entry

    def _fresh_entry(self, fiscal_year: int) -> _Cached | None:
        if (stored := self._stored(fiscal_year)) is not None:
            return stored
        if self.configured is not None:
            # The configured file read once, not once for its year and again for its plan (as _shipped would).
            configured = self._read(self.configured)
            if configured is not None and configured.plan.fiscal_year == fiscal_year:
                return configured
        path = self._shipped(fiscal_year)
        return self._read(path) if path else None

    def get(self, fiscal_year: int) -> Plan | None:
        """The plan of a fiscal year, or None; PlanError when its file is broken."""
        entry = self._entry(fiscal_year)
        return entry.plan if entry else None

    def years(self) -> list[int]:
        """Fiscal years with a plan, oldest first."""
        pinned = getattr(self._pins, "entries", None) is not None
        if pinned and self._pins.years is not None:
            return list(self._pins.years)
        found: set[int] = set(self.repository.years())
        if self.shipped_dir is not None and self.shipped_dir.is_dir():
            found.update(int(m.group(1)) for p in self.shipped_dir.iterdir() if (m := PLAN_FILE.fullmatch(p.name)))
        if (fy := self.configured_year()) is not None:
            found.add(fy)
        years = sorted(found)
        if pinned:
            self._pins.years = tuple(years)
        return years

    def all(self) -> list[Plan]:
        """Every year's plan, oldest first."""
        return [p for fy in self.years() if (p := self.get(fy)) is not None]

    def latest(self, before: int | None = None) -> Plan | None:
        """The newest plan (strictly before ``before`` when given)."""
        years = [fy for fy in self.years() if before is None or fy < before]
        return self.get(years[-1]) if years else None

    def version(self, fiscal_year: int) -> str:
        """sha256 of the plan file's bytes ("" when the year has no plan): what an editor saves against."""
        entry = self._entry(fiscal_year)
        return entry.version if entry else ""

    def text(self, fiscal_year: int) -> str:
        """The plan file's text ("" when none)."""
        entry = self._entry(fiscal_year)
        return entry.text if entry else ""

    def is_shipped(self, fiscal_year: int) -> bool:
        """Whether the year's plan came with the deployment rather than being saved after it."""
        stored = self.repository.get(fiscal_year)
        shipped = self._shipped(fiscal_year)
        if stored is None:
            return shipped is not None
        # With the default ITA_BOT_DB the data folder's plans/ is the shipped folder itself: a saved plan that
        # is the shipped file, never changed through a save (every save is recorded), came with the deployment.
        deployed = self._read(shipped) if shipped is not None else None
        return deployed is not None and deployed.version == stored.version and not self.history(1, fiscal_year)

    # --- saving -------------------------------------------------------------------------------

    def save_text(self, fiscal_year: int, text: str, *, expected_version: str, who: str, section: str = "all",
                  now: datetime) -> Plan:
        """Save uploaded/edited TOML text as plan ``fiscal_year`` (same checks as ``save_data``)."""
        plan = parse_plan_text(text, self.repository.source_of(fiscal_year))
        return self.save_data(fiscal_year, plan_to_data(plan), expected_version=expected_version, who=who,
                              section=section, now=now)

    def save_data(self, fiscal_year: int, data: dict[str, Any], *, expected_version: str, who: str,
                  section: str = "all", now: datetime, note: str = "") -> Plan:
        """Validate ``data`` (the file's shape) and save it as plan ``fiscal_year``.

        Refused with PlanProblems when invalid, for another year, or removing a measure or division that
        has reports; with VersionConflict when the plan is no longer at ``expected_version`` ("" = none yet).
        The plan is replaced while the plan-save transaction is held, and the change is logged with it.
        """
        target = self.repository.source_of(fiscal_year)
        plan = parse_plan_data(data, target)
        if plan.fiscal_year != fiscal_year:
            raise PlanProblems(target, [Problem("fiscal_year", f"แผนนี้เป็นของปีงบประมาณ {plan.fiscal_year} "
                                                               f"ไม่ใช่ปี {fiscal_year}")])
        new_data = plan_to_data(plan)
        text = data_to_toml(new_data)
        # The year's report transaction too (after the plan save's, the order every nested write uses): a report
        # stored while this save checks "no reports for what it removes" would belong to nothing once saved.
        with self.repository.saving(), self.report_book().hold(fiscal_year):
            current = self._fresh_entry(fiscal_year)  # under the save's lock, never a pinned reading
            current_version = current.version if current else ""
            if current_version != expected_version:
                raise VersionConflict(fiscal_year, expected_version, current_version)
            old_data = plan_to_data(current.plan) if current else None
            if current is not None:
                self._check_removals(current.plan, plan)
            change = Change(at=now.isoformat(), who=who, fiscal_year=fiscal_year, section=section,
                            before=_section_text(old_data, section), after=_section_text(new_data, section),
                            version_before=current_version, version_after=plan_version(text), note=note)
            self.repository.save(text, change)
            self._unpin()
            saved = self._stored(fiscal_year)
            assert saved is not None
        # A warning that this year has no plan is now out of date.
        if self._notices is not None:
            self._notices.settle_plans(lambda year: year == fiscal_year)
        return saved.plan

    def _check_removals(self, old: Plan, new: Plan) -> None:
        """Reports point at measure numbers and division ids: removing one that has reports would orphan them."""
        reports = self.report_book().all(old.fiscal_year)
        if not reports:
            return
        used_measures = {r.measure for r in reports}
        used_divisions = {r.division for r in reports}
        used_pairs = {(r.measure, r.division) for r in reports}
        problems: list[Problem] = []
        new_ids = {d.id for d in new.divisions}
        for div in old.divisions:
            if div.id in used_divisions and div.id not in new_ids:
                problems.append(Problem("divisions", f"ลบ{div.name} ({div.id}) ไม่ได้ เพราะมีรายงานผลของกองนี้แล้ว "
                                                     "หากต้องการเปลี่ยน ให้แก้ชื่อแทน"))
        for m in old.measures:
            if m.number not in used_measures:
                continue
            index = next((i for i, n in enumerate(new.measures) if n.number == m.number), None)
            if index is None:
                problems.append(Problem("measures", f"ลบมาตรการที่ {m.number} ไม่ได้ เพราะมีรายงานผลแล้ว "
                                                    "หากต้องการเปลี่ยน ให้แก้ชื่อหรือรายละเอียดแทน"))
                continue
            for div_id in m.divisions:
                if (m.number, div_id) in used_pairs and div_id not in new.measures[index].divisions:
                    problems.append(Problem(f"measures[{index}].divisions",
                                            f"นำกอง {div_id} ออกจากมาตรการที่ {m.number} ไม่ได้ เพราะกองนี้รายงานผล"
                                            "มาตรการนี้แล้ว"))
        if problems:
            raise PlanProblems(new.source, problems)

    def report_book(self) -> ReportBook:
        return self._reports

    def check_report(self, report: Report) -> None:
        """Refuse a report whose measure and division the year's plan, as saved now, does not pair (ReportRefused).

        Run by the report book inside the year's write lock, so a plan save that drops the division is either
        seen here or sees the report and is refused itself.
        """
        from ita_bot.domain.reports import ReportRefused

        # Read afresh, never from a pinned reading: the year's write lock is what orders this check against a save.
        # What is read replaces the pinned one, so the reply speaks of the plan the report was checked against.
        entry = self._fresh_entry(report.fiscal_year)
        pins: dict[int, _Cached | None] | None = getattr(self._pins, "entries", None)
        if pins is not None:
            pins[report.fiscal_year] = entry
        plan = entry.plan if entry else None
        if plan is not None and (report.measure, report.division) not in plan.pairs():
            raise ReportRefused(f"แผนมาตรการเพิ่งถูกแก้ไข มาตรการที่ {report.measure} ไม่มีกองนี้รับผิดชอบแล้ว "
                                "จึงยังไม่ได้บันทึกรายงาน กรุณาตรวจรายการมาตรการแล้วส่งใหม่")

    # --- history ------------------------------------------------------------------------------

    def history(self, limit: int = 200, fiscal_year: int | None = None) -> list[Change]:
        """Saved changes, newest first."""
        return list(reversed(self.repository.changes(fiscal_year)))[:limit]

    def change(self, change_id: int) -> Change | None:
        """One saved change by its id (None when unknown)."""
        return self.repository.change(change_id)
