"""Reading and checking a plan: TOML text or a plain dict in the file's shape → Plan, with every problem named."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

from ita_bot.domain.milestones import COMMITTEE as WHO_COMMITTEE
from ita_bot.domain.milestones import DEFAULT_REMIND_DAYS, MAX_REMIND_DAYS, Milestone, title_id
from ita_bot.domain.milestones import MANAGERS as WHO_MANAGERS
from ita_bot.domain.oit import COVERS, OitItem, code_problem, covers_problem, normalize_code, year_problem
from ita_bot.domain.plan import (
    Assessment,
    Committee,
    CommitteeMember,
    Division,
    Duty,
    Indicator,
    Instrument,
    Measure,
    Memo,
    Organization,
    Plan,
    PlanError,
    PlanProblems,
    Problem,
    SampleRule,
    ScoreBand,
    band_level,
    normalize_division,
)
from ita_bot.domain.progress import MEASURE_DIGITS
from ita_bot.domain.roles import COMMITTEE
from ita_bot.domain.text import clean_text
from ita_bot.domain.thai import (
    BE_YEAR_MAX,
    BE_YEAR_MIN,
    CE_YEAR_MAX,
    ce_year,
    fiscal_year_range,
    format_date,
    to_arabic_digits,
)

__all__ = [
    "TOP_KEYS", "load_plan", "load_plans", "parse_plan_data", "parse_plan_text", "read_plan_bytes", "read_strictly",
]

#: Problems listed at most for one plan: a real plan has a handful; a crafted one with thousands would
#: otherwise make a page (and the work of building it) as large as the file allows.
MAX_PROBLEMS = 50
#: The largest plan file read (a real one is a few tens of KB).
MAX_PLAN_SIZE = 512 * 1024
#: Brackets and braces nested deeper than this are refused before the TOML is parsed: a plan nests a few
#: levels, and the TOML parser recurses once per level.
MAX_NESTING = 20
#: A dotted key with more parts than this is refused before parsing (the parser's work grows with their square).
MAX_KEY_PARTS = 20
_SCORE_RE = re.compile(r"(?:0|[1-9]\d{0,2})\.\d{2}")
_ID_RE = re.compile(r"[a-z][a-z0-9_]*")
_MILESTONE_ID_RE = re.compile(r"[0-9A-Za-z_-]{1,32}")
_TOML_POS_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_EOF_RE = re.compile(r"\s*\(at end of document\)\s*$")

TOP_KEYS = (
    "fiscal_year", "start", "end", "set_on", "set_at", "reporting_rule", "to_fill", "organization",
    "assessment", "score_bands", "sample_rules", "divisions", "committee", "memo", "measures", "milestones", "oit",
)

T = TypeVar("T")


class _Reader:
    """Typed access to the raw tables. A bad value is recorded as a Problem and replaced by a harmless
    stand-in, so reading goes on and one pass names everything wrong (a form shows all its errors)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self._seen: set[str] = set()
        self.unlisted = 0  # problems found beyond MAX_PROBLEMS: counted, not listed

    def fail(self, path: str, message: str, in_file: str = "") -> None:
        # One message per field: a bad value must not also trip every check built on it, and a missing
        # table is one problem, not one per field inside it. Only the path's own ancestors are looked up,
        # so a crafted file naming thousands of problems costs time in proportion to them, not their square.
        if path in self._seen or any(path[:i] in self._seen for i, ch in enumerate(path) if ch in ".[" and i):
            return
        self._seen.add(path)
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(path, message, in_file))
        else:
            self.unlisted += 1

    def mark(self) -> int:
        return len(self.problems) + self.unlisted

    def clean_since(self, mark: int) -> bool:
        return self.mark() == mark

    def listed(self) -> list[Problem]:
        """The problems to show: the first MAX_PROBLEMS, then one line saying how many more there are."""
        more = [Problem("", f"…และพบปัญหาอีก {self.unlisted:,} รายการ (แก้รายการข้างต้นแล้วตรวจอีกครั้ง)")]
        more = more if self.unlisted else []
        return self.problems + more

    def table(self, raw: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            self.fail(path, f"ต้องเป็นตาราง ไม่ใช่{_kind(raw)}")
            return {}
        # Unknown keys are usually misspelt known ones; silently ignoring them would drop data.
        for key in raw:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                self.fail(where, f"ไม่รู้จักช่องชื่อ {key!r} (ช่องที่ใช้ได้: {', '.join(allowed)})")
        return raw

    def _get(self, tbl: dict[str, Any], path: str, key: str, optional: bool) -> tuple[str, Any, bool]:
        where = f"{path}.{key}" if path else key
        if key not in tbl:
            if not optional:
                self.fail(where, "ยังไม่ได้กรอก (ต้องมี)")
            return where, None, False
        return where, tbl[key], True

    def text(self, tbl: dict[str, Any], path: str, key: str, optional: bool = False) -> str:
        where, value, found = self._get(tbl, path, key, optional)
        if not found:
            return ""
        return self.text_value(value, where)

    def text_value(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            self.fail(where, f"ต้องเป็นข้อความ ไม่ใช่{_kind(value)}")
            return ""
        # Every door into a plan (console forms, uploads, `plan new`, a restored archive) reads through here,
        # so this one cleaning keeps characters a memo cannot hold out of every stored plan.
        value = clean_text(value)
        if not value.strip():
            self.fail(where, "ต้องไม่เว้นว่าง")
            return ""
        return value

    def integer(self, tbl: dict[str, Any], path: str, key: str, low: int | None = None,
                optional: bool = False, high: int | None = None) -> int | None:
        where, value, found = self._get(tbl, path, key, optional)
        if not found:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, "กรุณากรอกเป็นตัวเลขจำนวนเต็ม", f"ต้องเป็นจำนวนเต็ม ไม่ใช่{_kind(value)}")
            return None
        if low is not None and value < low:
            self.fail(where, f"ต้องไม่น้อยกว่า {low} (กรอกไว้ {_short(value)})")
            return None
        if high is not None and value > high:
            self.fail(where, f"ต้องไม่เกิน {high} (กรอกไว้ {_short(value)})")
            return None
        return value

    def fiscal_year(self, tbl: dict[str, Any], path: str, key: str, optional: bool = False) -> int | None:
        """A BE fiscal year within BE_YEAR_MIN–BE_YEAR_MAX (CE 2021 is a mistake; 99999 no year at all)."""
        return self.integer(tbl, path, key, low=BE_YEAR_MIN, high=BE_YEAR_MAX, optional=optional)

    def boolean(self, tbl: dict[str, Any], path: str, key: str) -> bool:
        where, value, found = self._get(tbl, path, key, False)
        if found and not isinstance(value, bool):
            self.fail(where, f"ต้องเป็น true หรือ false ไม่ใช่{_kind(value)}")
            return False
        return bool(value)

    def day(self, tbl: dict[str, Any], path: str, key: str) -> date | None:
        where, value, found = self._get(tbl, path, key, False)
        if not found:
            return None
        # tomllib gives datetime for 2021-01-05T00:00 and datetime is a date subclass: refuse it.
        if isinstance(value, datetime) or not isinstance(value, date):
            self.fail(where, "กรุณากรอกวันที่", f"ต้องเป็นวันที่แบบ 2021-01-05 (ไม่มีเครื่องหมายคำพูด ไม่มีเวลา) ไม่ใช่{_kind(value)}")
            return None
        if value.year > CE_YEAR_MAX:  # a พ.ศ. year typed where ค.ศ. is meant
            # A พ.ศ. year in a ค.ศ. date (2564-01-05): never kept as the year 2564 CE.
            ce = f"{ce_year(value.year)}-{value.month:02d}-{value.day:02d}"
            self.fail(where, f"ปีไม่ถูกต้อง กรุณากรอกปี พ.ศ. (เช่น {value.year})",
                      f"ปี {value.year} เป็นปี พ.ศ. วันที่ในไฟล์แผนใช้ปี ค.ศ. (เช่น {ce})")
            return None
        return value

    def score(self, tbl: dict[str, Any], path: str, key: str) -> Decimal | None:
        where, value, found = self._get(tbl, path, key, False)
        if not found:
            return None
        if not isinstance(value, str) or not _SCORE_RE.fullmatch(value):
            shown = _kind(value) if not isinstance(value, str) else repr(value)
            self.fail(where, _score_words(value),
                      f'ต้องเป็นตัวเลขทศนิยมสองตำแหน่งในเครื่องหมายคำพูด เช่น "96.60" (กรอกไว้ {shown})')
            return None
        number = Decimal(value)
        if not Decimal(0) <= number <= Decimal(100):
            self.fail(where, SCORE_RANGE, f"ต้องอยู่ระหว่าง 0 ถึง 100 (กรอกไว้ {value})")
            return None
        return number

    def texts(self, tbl: dict[str, Any], path: str, key: str, non_empty: bool = False,
              optional: bool = False) -> tuple[str, ...]:
        where, value, found = self._get(tbl, path, key, optional)
        if not found:
            return ()
        if not isinstance(value, list):
            self.fail(where, f"ต้องเป็นรายการข้อความ ไม่ใช่{_kind(value)}")
            return ()
        if non_empty and not value:
            self.fail(where, "ต้องมีอย่างน้อยหนึ่งรายการ ห้ามเว้นว่าง")
            return ()
        return tuple(self.text_value(v, f"{where}[{i}]") for i, v in enumerate(value))

    def items(self, tbl: dict[str, Any], path: str, key: str, build: Callable[[Any, str], T],
              non_empty: bool = True) -> tuple[T, ...]:
        where, value, found = self._get(tbl, path, key, False)
        if not found:
            return ()
        if not isinstance(value, list) or (non_empty and not value):
            self.fail(where, f"ต้องเป็นรายการตาราง ([[{where}]]) อย่างน้อยหนึ่งรายการ ไม่ใช่{_kind(value)}")
            return ()
        return tuple(build(v, f"{where}[{i}]") for i, v in enumerate(value))


SCORE_RANGE = "คะแนนต้องอยู่ระหว่าง 0 ถึง 100"


def _score_words(value: Any) -> str:
    """A wrong score in the words of a form's field: what to type, not how the file quotes it."""
    text = to_arabic_digits(value).strip() if isinstance(value, str) else ""
    if value is None or (isinstance(value, str) and not text):
        return "กรุณากรอกคะแนน (เช่น 96.60)"
    try:
        number = Decimal(text if isinstance(value, str) else str(value))
    except (InvalidOperation, ValueError):
        return "กรุณากรอกคะแนนเป็นตัวเลข (เช่น 96.60)"
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(100):
        return SCORE_RANGE
    return "กรุณากรอกคะแนนเป็นตัวเลขทศนิยมสองตำแหน่ง (เช่น 96.60)"


class _Stop(Exception):
    """Ends a section read by stop-at-first-problem code (the problem itself is already recorded)."""


class _StrictReader:
    """The reader for a section written in the stop-at-first-problem style (``raise r.fail(...)``, values used
    unchecked): every accessor raises once it records a problem, and ``fail`` returns the exception to raise."""

    def __init__(self, reader: _Reader) -> None:
        self._reader = reader

    def fail(self, path: str, message: str) -> _Stop:
        self._reader.fail(path, message)
        return _Stop()

    def _checked(self, read: Callable[[], T]) -> T:
        mark = self._reader.mark()
        value = read()
        if not self._reader.clean_since(mark):
            raise _Stop()
        return value

    def table(self, raw: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        return self._checked(lambda: self._reader.table(raw, path, allowed))

    def text(self, tbl: dict[str, Any], path: str, key: str, optional: bool = False) -> str:
        return self._checked(lambda: self._reader.text(tbl, path, key, optional))

    def texts(self, tbl: dict[str, Any], path: str, key: str, non_empty: bool = False) -> tuple[str, ...]:
        return self._checked(lambda: self._reader.texts(tbl, path, key, non_empty))

    def day(self, tbl: dict[str, Any], path: str, key: str) -> date:
        value = self._checked(lambda: self._reader.day(tbl, path, key))
        if value is None:  # a missing date is a problem, already recorded for this field or a table above it
            raise _Stop()
        return value


def read_strictly(r: _Reader, read: Callable[..., T], default: T, *args: Any) -> T:
    """Run ``read(reader, *args)`` for a section that stops at its first problem; that problem joins the others
    and ``default`` stands in, so the rest of the plan is still checked."""
    try:
        return read(_StrictReader(r), *args)
    except _Stop:
        return default


def _short(value: int) -> str:
    """An integer as typed, unless it is too long to be any count or year (a crafted file's huge number)."""
    return str(value) if abs(value) < 10**30 else "ตัวเลขที่ยาวเกินไป"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "ค่าจริง/เท็จ"
    if isinstance(value, datetime):
        return "วันที่พร้อมเวลา"
    return {
        str: "ข้อความ",
        int: "จำนวนเต็ม",
        float: "ทศนิยม",
        dict: "ตาราง",
        list: "รายการ",
        date: "วันที่",
    }.get(type(value), type(value).__name__)


def parse_plan_data(data: dict[str, Any], source: str | Path) -> Plan:
    """Validate a plan given as a dict in the file's shape (as tomllib reads it) and build the Plan.

    Every problem is collected; any at all raises PlanProblems (fields and Thai messages) naming ``source``.
    The same check serves the loader, uploads, ``plan check`` and the managers' forms.
    """
    r = _Reader()
    plan = _parse(r, Path(source), data)
    if r.problems or plan is None:
        raise PlanProblems(source, r.listed() or [Problem("", "อ่านแผนไม่ได้")])
    return plan


def _parse(r: _Reader, file: Path, raw: Any) -> Plan | None:
    top = r.table(raw, "", TOP_KEYS)
    if not top and not isinstance(raw, dict):
        return None
    fiscal_year = r.fiscal_year(top, "", "fiscal_year")
    start, end = r.day(top, "", "start"), r.day(top, "", "end")
    if fiscal_year is not None:
        want_start, want_end = fiscal_year_range(fiscal_year)
        if start is not None and start != want_start:
            r.fail("start", f"ปีงบประมาณ {fiscal_year} เริ่มวันที่ {want_start.isoformat()} ไม่ใช่ {start}")
        if end is not None and end != want_end:
            r.fail("end", f"ปีงบประมาณ {fiscal_year} สิ้นสุดวันที่ {want_end.isoformat()} ไม่ใช่ {end}")

    org_raw = r.table(_required(r, top, "", "organization"), "organization",
                      ("name", "short_name", "district", "province"))
    organization = Organization(*(r.text(org_raw, "organization", k) for k in
                                  ("name", "short_name", "district", "province")))

    score_bands = _score_bands(r, top)
    assessment = _assessment(r, top, score_bands) if "assessment" in top else None
    sample_rules = _sample_rules(r, top)
    divisions = _divisions(r, top)
    committee = _committee(r, top)
    memo = _memo(r, top)
    measures = _measures(r, top, {d.id for d in divisions}, fiscal_year)
    reporting_rule = r.text(top, "", "reporting_rule")
    set_on = r.day(top, "", "set_on")
    set_at = r.text(top, "", "set_at", optional=True)
    to_fill = r.texts(top, "", "to_fill", optional=True)
    no_milestones: tuple[Milestone, ...] = ()
    milestones = read_strictly(r, read_milestones, no_milestones, top, divisions, start, end) if start and end else ()
    oit = _oit(r, top, fiscal_year)
    if r.problems:
        return None
    assert fiscal_year is not None and start and end and set_on and committee and memo  # no problems: all read
    return Plan(
        source=file,
        fiscal_year=fiscal_year,
        start=start,
        end=end,
        organization=organization,
        assessment=assessment,
        score_bands=score_bands,
        sample_rules=sample_rules,
        divisions=divisions,
        committee=committee,
        memo=memo,
        measures=measures,
        reporting_rule=reporting_rule,
        set_on=set_on,
        set_at=set_at,
        to_fill=to_fill,
        milestones=milestones,
        oit=oit,
    )


def _required(r: _Reader, tbl: dict[str, Any], path: str, key: str) -> Any:
    if key not in tbl:
        r.fail(f"{path}.{key}" if path else key, "ยังไม่ได้กรอก (ต้องมี)")
        return {}
    return tbl[key]


def _score_bands(r: _Reader, top: dict[str, Any]) -> tuple[ScoreBand, ...]:
    mark = r.mark()

    def build(raw: Any, path: str) -> ScoreBand:
        t = r.table(raw, path, ("level", "low", "high"))
        low, high = r.score(t, path, "low"), r.score(t, path, "high")
        band = ScoreBand(r.text(t, path, "level"), low or Decimal(0), high or Decimal(0))
        if low is not None and high is not None and low > high:
            r.fail(f"{path}.low", f"คะแนนต่ำสุด {low} สูงกว่าคะแนนสูงสุด {high}")
        return band

    bands = r.items(top, "", "score_bands", build)
    seen: set[str] = set()
    for i, band in enumerate(bands):
        if band.level and band.level in seen:
            r.fail(f"score_bands[{i}].level", f"ระดับ {band.level!r} ซ้ำ")
        seen.add(band.level)
    if not bands or not r.clean_since(mark):
        return bands
    # The bands must tile 0.00–100.00 in steps of 0.01, or some score would have no level (or two).
    ordered = sorted(bands, key=lambda b: b.low)
    if ordered[0].low != 0 or ordered[-1].high != 100:
        r.fail("score_bands", "ช่วงคะแนนต้องครอบคลุมตั้งแต่ 0.00 ถึง 100.00")
    for lower, upper in pairwise(ordered):
        if upper.low != lower.high + Decimal("0.01"):
            r.fail("score_bands", f"ช่วงคะแนนเว้นช่องหรือซ้อนกัน ระหว่างระดับ {lower.level} (ถึง {lower.high}) "
                   f"และระดับ {upper.level} (ตั้งแต่ {upper.low})")
    return bands


def _assessment(r: _Reader, top: dict[str, Any], bands: tuple[ScoreBand, ...]) -> Assessment | None:
    path = "assessment"
    bands_ok = r.mark()
    t = r.table(top[path], path,
                ("fiscal_year", "total", "level", "target", "level_override", "instruments", "indicators"))

    def instrument(raw: Any, p: str) -> Instrument:
        i = r.table(raw, p, ("code", "name", "other_names", "english"))
        other = r.texts(i, p, "other_names", optional=True)
        return Instrument(r.text(i, p, "code"), r.text(i, p, "name"), other,
                          r.text(i, p, "english", optional=True) or None)

    instruments = r.items(t, path, "instruments", instrument)
    codes: set[str] = set()
    for n, ins in enumerate(instruments):
        if ins.code and ins.code in codes:
            r.fail(f"{path}.instruments[{n}].code", f"แบบวัด {ins.code!r} ซ้ำ")
        codes.add(ins.code)

    def indicator(raw: Any, p: str) -> Indicator:
        i = r.table(raw, p, ("instrument", "number", "name", "score", "notes"))
        code = r.text(i, p, "instrument")
        if code and code not in codes:
            r.fail(f"{p}.instrument", f"ไม่รู้จักแบบวัด {code!r} (แบบวัดที่มี: {', '.join(sorted(codes))})")
        return Indicator(code, r.integer(i, p, "number", low=1) or 0, r.text(i, p, "name"),
                         r.score(i, p, "score") or Decimal(0), r.texts(i, p, "notes", optional=True))

    indicators = r.items(t, path, "indicators", indicator)
    seen: set[tuple[str, int]] = set()
    for n, ind in enumerate(indicators):
        if ind.number and (ind.instrument, ind.number) in seen:
            r.fail(f"{path}.indicators[{n}].number", f"ตัวชี้วัด {ind.instrument} {ind.number} ซ้ำ")
        seen.add((ind.instrument, ind.number))

    total = r.score(t, path, "total")
    level = r.text(t, path, "level")
    override = r.boolean(t, path, "level_override") if "level_override" in t else False
    levels = [b.level for b in bands]
    if level and bands and level not in levels:
        r.fail(f"{path}.level", f"ไม่รู้จักระดับ {level!r} (ระดับตามช่วงคะแนน: {', '.join(levels)})")
    elif level and total is not None and bands and r.clean_since(bands_ok) and not override:
        expected = band_level(bands, total)
        if expected and level != expected:
            r.fail(f"{path}.level", f"คะแนนรวม {total} อยู่ในระดับ {expected} ตามช่วงคะแนน ไม่ใช่ {level} "
                   "(หากสำนักงาน ป.ป.ช. ประกาศระดับอื่น ให้ระบุว่ากำหนดระดับเอง: level_override = true)")
    fiscal_year = r.fiscal_year(t, path, "fiscal_year")
    target = r.score(t, path, "target")
    return Assessment(fiscal_year or 0, total or Decimal(0), level, target or Decimal(0), instruments, indicators,
                      level_override=override)


def _sample_rules(r: _Reader, top: dict[str, Any]) -> dict[str, SampleRule]:
    t = r.table(_required(r, top, "", "sample_rules"), "sample_rules", ("IIT", "EIT"))
    rules = {}
    for code in ("IIT", "EIT"):
        path = f"sample_rules.{code}"
        if "sample_rules" in top and code not in t:
            r.fail(path, "ยังไม่ได้กรอก (ต้องมี)")
            continue
        s = r.table(t.get(code, {}), path,
                    ("percent", "minimum", "all_when_fewer", "large_over", "large_minimum", "population", "text"))
        rule = SampleRule(
            instrument=code,
            percent=r.integer(s, path, "percent", low=1) or 0,
            minimum=r.integer(s, path, "minimum", low=1) or 0,
            all_when_fewer=r.boolean(s, path, "all_when_fewer"),
            large_over=r.integer(s, path, "large_over", low=1) or 0,
            large_minimum=r.integer(s, path, "large_minimum", low=1) or 0,
            population=r.text(s, path, "population"),
            text=r.text(s, path, "text", optional=True),
        )
        if rule.percent > 100:
            r.fail(f"{path}.percent", f"ต้องไม่เกิน 100 (กรอกไว้ {rule.percent})")
        if rule.large_over and rule.minimum and rule.large_over < rule.minimum:
            r.fail(f"{path}.large_over", f"ต้องไม่น้อยกว่าขั้นต่ำ ({rule.minimum})")
        rules[code] = rule
    return rules


def _divisions(r: _Reader, top: dict[str, Any]) -> tuple[Division, ...]:
    def build(raw: Any, path: str) -> Division:
        d = r.table(raw, path, ("id", "name", "aliases"))
        div_id = r.text(d, path, "id")
        if div_id and not _ID_RE.fullmatch(div_id):
            r.fail(f"{path}.id", f"รหัสกองต้องเป็นอักษรภาษาอังกฤษตัวเล็ก (ASCII) ตัวเลข หรือ _ เท่านั้น (กรอกไว้ {div_id!r})")
        return Division(div_id, r.text(d, path, "name"), r.texts(d, path, "aliases"))

    divisions = r.items(top, "", "divisions", build)
    ids: set[str] = set()
    owner: dict[str, tuple[int, str]] = {}
    for i, div in enumerate(divisions):
        if div.id and div.id in ids:
            r.fail(f"divisions[{i}].id", f"รหัสกอง {div.id!r} ซ้ำกับกองอื่น")
        ids.add(div.id)
        forms = [("id", div.id), ("name", div.name)] + [(f"aliases[{k}]", a) for k, a in enumerate(div.aliases)]
        for where, text in forms:
            if not text:
                continue  # already named as empty or missing
            key = normalize_division(text)
            if not key:
                r.fail(f"divisions[{i}].{where}", f"{text!r} ไม่เหลืออักษรใดให้จับคู่ได้")
                continue
            # Within one division, "สป." and "สป" normalize alike and that is fine; across two it
            # would make a typed name ambiguous.
            if key in owner and owner[key][0] != i:
                other_index, other_text = owner[key]
                r.fail(f"divisions[{i}].{where}",
                       f"{text!r} ซ้ำกับชื่อที่กอง {divisions[other_index].id!r} ใช้อยู่แล้ว ({other_text!r})")
            owner.setdefault(key, (i, text))
    return divisions


def _committee(r: _Reader, top: dict[str, Any]) -> Committee | None:
    path = "committee"
    t = r.table(_required(r, top, "", path), path,
                ("issuer", "order", "title", "signed", "signer", "signer_position", "term_end", "members", "duties"))

    def member(raw: Any, p: str) -> CommitteeMember:
        m = r.table(raw, p, ("number", "name", "position", "role", "role_text"))
        role = r.text(m, p, "role")
        if role and role not in COMMITTEE:
            r.fail(f"{p}.role", f"ไม่รู้จักบทบาท {role!r} (ใช้ได้: {', '.join(COMMITTEE)})")
        return CommitteeMember(r.integer(m, p, "number", low=1) or 0, r.text(m, p, "name"),
                               r.text(m, p, "position"), role, r.text(m, p, "role_text"))

    def duty(raw: Any, p: str) -> Duty:
        d = r.table(raw, p, ("number", "text", "items"))
        return Duty(r.text(d, p, "number"), r.text(d, p, "text"), r.texts(d, p, "items", optional=True))

    members = r.items(t, path, "members", member)
    numbers: set[int] = set()
    for i, m in enumerate(members):
        if m.number and m.number in numbers:
            r.fail(f"{path}.members[{i}].number", f"ลำดับกรรมการ {m.number} ซ้ำ")
        numbers.add(m.number)
    signed, term_end = r.day(t, path, "signed"), r.day(t, path, "term_end")
    if signed and term_end and term_end < signed:
        r.fail(f"{path}.term_end",
               f"วันสิ้นสุดวาระ ({format_date(term_end)}) อยู่ก่อนวันลงนามคำสั่ง ({format_date(signed)})")
    committee = Committee(
        order=r.text(t, path, "order"),
        title=r.text(t, path, "title"),
        signed=signed or date.min,
        signer=r.text(t, path, "signer"),
        term_end=term_end or date.min,
        members=members,
        duties=r.items(t, path, "duties", duty),
        signer_position=r.text(t, path, "signer_position", optional=True),
        issuer=r.text(t, path, "issuer", optional=True),
    )
    return committee if t else None


def _memo(r: _Reader, top: dict[str, Any]) -> Memo | None:
    path = "memo"
    t = r.table(_required(r, top, "", path), path,
                ("reference", "date", "subject", "office", "addressees", "intro", "closing", "signer",
                 "signer_position"))
    memo = Memo(
        reference=r.text(t, path, "reference"),
        date=r.day(t, path, "date") or date.min,
        subject=r.text(t, path, "subject"),
        office=r.text(t, path, "office"),
        addressees=r.text(t, path, "addressees"),
        intro=r.text(t, path, "intro", optional=True),
        closing=r.text(t, path, "closing", optional=True),
        signer=r.text(t, path, "signer", optional=True),
        signer_position=r.text(t, path, "signer_position", optional=True),
    )
    return memo if t else None


def _measures(r: _Reader, top: dict[str, Any], division_ids: set[str], fiscal_year: int | None) -> tuple[Measure, ...]:
    known = ", ".join(sorted(d for d in division_ids if d))

    def build(raw: Any, path: str) -> Measure:
        m = r.table(raw, path, ("number", "title", "methods", "divisions", "period", "follow_up", "carried_from"))
        divisions = r.texts(m, path, "divisions", non_empty=True)
        named: set[str] = set()
        for k, div in enumerate(divisions):
            if div and div not in division_ids:
                r.fail(f"{path}.divisions[{k}]", f"ไม่รู้จักกอง {div!r} (รหัสกองที่มี: {known})")
            elif div and div in named:
                r.fail(f"{path}.divisions[{k}]", f"ระบุกอง {div!r} ซ้ำสองครั้ง")
            named.add(div)
        carried = r.fiscal_year(m, path, "carried_from", optional=True)
        if carried is not None and fiscal_year is not None and carried >= fiscal_year:
            r.fail(f"{path}.carried_from", f"ต้องเป็นปีงบประมาณก่อน {fiscal_year} (กรอกไว้ {carried})")
        return Measure(
            # Staff type a measure's number in chat; one the chat cannot read would be a dead measure.
            number=r.integer(m, path, "number", low=1, high=10**MEASURE_DIGITS - 1) or 0,
            title=r.text(m, path, "title"),
            methods=r.texts(m, path, "methods", non_empty=True),
            divisions=divisions,
            period=r.text(m, path, "period"),
            follow_up=r.text(m, path, "follow_up"),
            carried_from=carried,
        )

    # A drafted year may start with no measure (everything finished last year, nothing flagged):
    # it is still a valid plan that managers then fill in.
    measures = r.items(top, "", "measures", build, non_empty=False) if "measures" in top else ()
    seen: set[int] = set()
    for i, measure in enumerate(measures):
        if measure.number and measure.number in seen:
            r.fail(f"measures[{i}].number", f"เลขที่มาตรการ {measure.number} ซ้ำ")
        seen.add(measure.number)
    return measures


def _oit(r: _Reader, top: dict[str, Any], fiscal_year: int | None) -> tuple[OitItem, ...]:
    """The optional ``[[oit]]`` list (a plan written before it has none): the NACC's items the year's page answers."""

    def build(raw: Any, path: str) -> OitItem:
        t = r.table(raw, path, ("code", "title", "covers", "fiscal_year"))
        typed = r.text(t, path, "code")
        code = normalize_code(typed) if typed else ""
        if code is None:
            r.fail(f"{path}.code", code_problem(typed))
        covers = t.get("covers")
        if "covers" not in t:
            r.fail(f"{path}.covers", "ยังไม่ได้กรอก (ต้องมี)")
        elif covers not in COVERS:
            r.fail(f"{path}.covers", covers_problem(covers))
        year = r.integer(t, path, "fiscal_year")
        if year is not None and fiscal_year is not None and (wrong := year_problem(year, fiscal_year)):
            r.fail(f"{path}.fiscal_year", wrong)
        # The title is the NACC's, kept as written (only made canonical, as every text is).
        return OitItem(code or "", r.text(t, path, "title"), covers if covers in COVERS else "measures", year or 0)

    items = r.items(top, "", "oit", build, non_empty=False) if "oit" in top else ()
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.code and item.code in seen:
            r.fail(f"oit[{i}].code", f"รหัสรายการ {item.code} ซ้ำกับรายการที่ {seen[item.code] + 1}")
        seen.setdefault(item.code, i)
    return items


def read_milestones(
    r: _StrictReader, top: dict[str, Any], divisions: Sequence[Division], start: date, end: date
) -> tuple[Milestone, ...]:
    """The plan's optional `[[milestones]]`, validated; each problem names the field (milestones[i].who[k])."""
    raw = top.get("milestones")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise r.fail("milestones", "ต้องเป็นรายการตาราง ([[milestones]])")
    division_ids = [d.id for d in divisions]
    known = set(division_ids)
    allowed_who = f'"{WHO_COMMITTEE}", "{WHO_MANAGERS}" หรือรหัสกอง: {", ".join(division_ids)}'

    def build(item: Any, path: str) -> Milestone:
        t = r.table(item, path, ("id", "date", "title", "who", "remind_days_before", "notes"))
        day = r.day(t, path, "date")
        if not start <= day <= end:
            raise r.fail(f"{path}.date", f"{day.isoformat()} อยู่นอกปีงบประมาณ "
                         f"({start.isoformat()} ถึง {end.isoformat()})")
        title = r.text(t, path, "title")
        if "who" not in t:
            raise r.fail(f"{path}.who", f"ยังไม่ได้กรอก (ใช้ {allowed_who})")
        who_raw = t["who"]
        who = (who_raw,) if isinstance(who_raw, str) else r.texts(t, path, "who", non_empty=True)
        named: set[str] = set()  # sets, not slices: a crafted list of thousands costs no more than its length
        for k, w in enumerate(who):
            where = f"{path}.who" if isinstance(who_raw, str) else f"{path}.who[{k}]"
            if w not in (WHO_COMMITTEE, WHO_MANAGERS) and w not in known:
                raise r.fail(where, f"ไม่รู้จักกอง {w!r} (ใช้ {allowed_who})")
            if w in named:
                raise r.fail(where, f"{w!r} ซ้ำกัน")
            named.add(w)
        given = t.get("id", "")
        if not isinstance(given, str) or (given and not _MILESTONE_ID_RE.fullmatch(given)):
            raise r.fail(f"{path}.id", "รหัสกำหนดการต้องเป็นอักษรอังกฤษ ตัวเลข _ หรือ - ไม่เกิน 32 ตัว "
                                       "(ลบบรรทัด id ออกได้ ระบบจะตั้งให้ใหม่)")
        return Milestone(day, title, tuple(who), _remind_days(r, t, path), r.text(t, path, "notes", optional=True),
                         id=given)

    milestones = [build(item, f"milestones[{i}]") for i, item in enumerate(raw)]
    # Ids are kept from the plan; one without (new, or a plan written before ids) gets its title's hash,
    # or the next free one when a milestone kept that id on the same day (a title corrected, then the
    # old title added again as a new row).
    taken: set[str] = set()
    for i, m in enumerate(milestones):
        if m.id and m.key in taken:  # a row copied in the file, id and all
            raise r.fail(f"milestones[{i}].id", f"รหัสกำหนดการ {m.id!r} วันที่ {m.date.isoformat()} ซ้ำกับกำหนดการอื่น")
        if m.id:
            taken.add(m.key)
    seen: set[str] = set()
    for i, m in enumerate(milestones):
        if m.id:
            continue
        if m.key in seen:
            raise r.fail(f"milestones[{i}].title", f"กำหนดการ {m.title!r} วันที่ {m.date.isoformat()} ซ้ำกัน")
        seen.add(m.key)
        attempt = 1
        while (m := replace(m, id=title_id(m.title, attempt))).key in taken:
            attempt += 1
        taken.add(m.key)
        milestones[i] = m
    return tuple(sorted(milestones, key=lambda m: (m.date, m.title)))


def _remind_days(r: _StrictReader, t: dict[str, Any], path: str) -> tuple[int, ...]:
    where = f"{path}.remind_days_before"
    if "remind_days_before" not in t:
        return DEFAULT_REMIND_DAYS
    value = t["remind_days_before"]
    items = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(items, list):
        raise r.fail(where, "ต้องเป็นรายการจำนวนวันทำการ เช่น [5, 1]")
    for k, n in enumerate(items):
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_REMIND_DAYS:
            raise r.fail(f"{where}[{k}]", f"ต้องเป็นจำนวนวันทำการเต็มตั้งแต่ 0 ถึง {MAX_REMIND_DAYS} "
                         f"(กรอกไว้ {n!r})")
    if len(set(items)) != len(items):
        raise r.fail(where, f"มีจำนวนวันซ้ำกัน: {items}")
    return tuple(sorted(items, reverse=True))


def parse_plan_text(text: str, source: str | Path) -> Plan:
    """Validate plan TOML text (an upload, a file) and build the Plan; PlanProblems when wrong (a syntax error
    is one problem at ``line N``)."""
    return _parse_plan_text(text, source)


# A Plan is immutable and depends on nothing but the text and its source, so the same text is parsed once per
# process: every Office (each gunicorn worker's, the clock's, /healthz's check, each test's) reads the same
# few plans, and parsing one takes ~10 ms. A wrong text raises each time (exceptions are not cached).
@functools.lru_cache(maxsize=32)
def _parse_plan_text(text: str, source: str | Path) -> Plan:
    if problem := _too_much(text):
        raise PlanProblems(source, [problem])
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        if pos := _TOML_POS_RE.search(message):
            problem = Problem(f"line {pos.group(1)}", f"รูปแบบ TOML ผิด (TOML syntax error): {message[: pos.start()]} "
                                                      f"(column {pos.group(2)})")
        elif _TOML_EOF_RE.search(message):
            problem = Problem("end of file", f"รูปแบบ TOML ผิด (TOML syntax error): {_TOML_EOF_RE.sub('', message)}")
        else:
            problem = Problem("(syntax)", f"รูปแบบ TOML ผิด (TOML syntax error): {message}")
        raise PlanProblems(source, [problem]) from exc
    except (RecursionError, ValueError) as exc:
        # What the pre-scan cannot see still gets an answer: a number with thousands of digits (ValueError
        # from int()), or nesting built some other way.
        raise PlanProblems(source, [Problem("(syntax)", "อ่านไฟล์แผนไม่ได้: มีตัวเลขยาวเกินไปหรือซ้อนกันลึกเกินไป")]) from exc
    return parse_plan_data(raw, source)


# Strings and comments, whose brackets and dots are text: the pre-scan looks at what is left. An unterminated
# string runs to the end of its line (or of the file), so every scan goes over the text once, never back.
_TOML_TEXT = re.compile(r'"""[\s\S]*?(?:"""|\Z)|\'\'\'[\s\S]*?(?:\'\'\'|\Z)'
                        r'|"(?:[^"\\\n]|\\.?)*+(?:"|$)|\'[^\'\n]*+(?:\'|$)|#[^\n]*+', re.MULTILINE)
_DOTTED_KEY = re.compile(r"[^\s.=\[\]{},]++(?:[ \t]*+\.[ \t]*+[^\s.=\[\]{},]++)*+")


def _too_much(text: str) -> Problem | None:
    """A file a plan would never be, refused before the TOML parser spends time or stack on it: too large,
    nested too deep, or a dotted key with too many parts."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_PLAN_SIZE:
        return Problem("(file)", f"ไฟล์แผนใหญ่เกินไป (ไม่เกิน {MAX_PLAN_SIZE // 1024} KB ไฟล์แผนปกติมีขนาดไม่กี่สิบ KB)")
    bare = _TOML_TEXT.sub("s", text)
    depth = 0
    for bracket in re.findall(r"[\[\]{}]", bare):
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        if depth > MAX_NESTING:
            return Problem("(syntax)", f"วงเล็บ [ ] หรือ {{ }} ซ้อนกันลึกเกิน {MAX_NESTING} ชั้น ไฟล์แผนปกติซ้อนกันไม่กี่ชั้น")
    if any(key.count(".") >= MAX_KEY_PARTS for key in _DOTTED_KEY.findall(bare)):
        return Problem("(syntax)", f"ชื่อช่องที่คั่นด้วยจุดมีเกิน {MAX_KEY_PARTS} ส่วน ไฟล์แผนปกติใช้ไม่กี่ส่วน")
    return None


def read_plan_bytes(file: Path, *, missing_ok: bool = False) -> bytes | None:
    """A plan file's bytes, checked to be UTF-8 text; PlanError naming the file when it cannot be read.

    With ``missing_ok`` a file that does not exist is None (a year without a plan), not an error.
    """
    try:
        data = file.read_bytes()
    except FileNotFoundError as exc:
        if missing_ok:
            return None
        raise PlanError(file, "(file)", f"อ่านไฟล์ไม่ได้ (cannot read): {exc.strerror or exc}") from exc
    except OSError as exc:
        raise PlanError(file, "(file)", f"อ่านไฟล์ไม่ได้ (cannot read): {exc.strerror or exc}") from exc
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanError(file, "(file)", f"ไฟล์ไม่ใช่ข้อความ UTF-8 (ไบต์ที่ {exc.start})") from exc
    return data


def load_plan(path: Path | str) -> Plan:
    """Read and validate one plan file; any problem is a PlanError naming file, field and problem."""
    file = Path(path)
    data = read_plan_bytes(file)
    assert data is not None  # missing_ok is off: a missing file raised
    return parse_plan_text(data.decode("utf-8"), file)


def load_plans(folder: Path | str) -> dict[int, Plan]:
    """Every `<fiscal year>.toml` in `folder`, keyed by fiscal year (empty when there are none)."""
    base = Path(folder)
    if not base.is_dir():
        raise PlanError(base, "(folder)", "ไม่ใช่โฟลเดอร์")
    plans: dict[int, Plan] = {}
    for file in sorted(base.glob("*.toml")):
        plan = load_plan(file)
        check_file_name(file, plan)
        plans[plan.fiscal_year] = plan
    return plans


def check_file_name(file: Path, plan: Plan) -> None:
    """One file per year, named after it, so the file a year lives in is never a guess."""
    if file.stem != str(plan.fiscal_year):
        raise PlanError(file, "fiscal_year",
                        f"ปี {plan.fiscal_year} ไม่ตรงกับชื่อไฟล์ (ควรชื่อ {plan.fiscal_year}.toml)")
