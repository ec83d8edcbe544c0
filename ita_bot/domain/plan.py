"""The yearly ITA plan (measures, divisions, committee, last assessment) loaded and validated from TOML."""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

from ita_bot.domain.milestones import Milestone, read_milestones
from ita_bot.domain.roles import COMMITTEE
from ita_bot.domain.thai import fiscal_year_range

__all__ = [
    "Assessment",
    "Committee",
    "CommitteeMember",
    "Division",
    "Duty",
    "Indicator",
    "Instrument",
    "Measure",
    "Memo",
    "Organization",
    "Plan",
    "PlanError",
    "SampleRule",
    "SampleSize",
    "ScoreBand",
    "load_plan",
    "load_plans",
    "normalize_division",
]

_SCORE_RE = re.compile(r"(?:0|[1-9]\d{0,2})\.\d{2}")
_ID_RE = re.compile(r"[a-z][a-z0-9_]*")
_TOML_POS_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_EOF_RE = re.compile(r"\s*\(at end of document\)\s*$")


class PlanError(ValueError):
    """A plan file that cannot be used: names the file, the field path and the problem (in English)."""

    def __init__(self, file: Path | str, field: str, problem: str) -> None:
        self.file = str(file)
        self.field = field
        self.problem = problem
        super().__init__(f"{self.file}: {field}: {problem}")


@dataclass(frozen=True)
class Organization:
    name: str
    short_name: str
    district: str
    province: str


@dataclass(frozen=True)
class Division:
    id: str
    name: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Indicator:
    instrument: str
    number: int
    name: str
    score: Decimal
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    other_names: tuple[str, ...] = ()
    english: str | None = None


@dataclass(frozen=True)
class Assessment:
    fiscal_year: int
    total: Decimal
    level: str
    target: Decimal
    instruments: tuple[Instrument, ...]
    indicators: tuple[Indicator, ...]

    def below_target(self) -> tuple[Indicator, ...]:
        """Indicators scoring under the target, in table order."""
        return tuple(i for i in self.indicators if i.score < self.target)

    def instrument(self, code: str) -> Instrument | None:
        return next((i for i in self.instruments if i.code == code), None)


@dataclass(frozen=True)
class ScoreBand:
    level: str
    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class SampleRule:
    instrument: str
    percent: int
    minimum: int
    all_when_fewer: bool
    large_over: int
    large_minimum: int
    population: str
    text: str = ""

    def size(self, stakeholders: int) -> SampleSize:
        """The minimum sample for `stakeholders` people under this rule."""
        n = stakeholders
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"stakeholders must be an int, not {type(n).__name__}")
        if n <= 0:
            raise ValueError(f"stakeholders must be positive, got {n}")
        if n > self.large_over:
            # The source replaces the percentage by a flat minimum for large organizations.
            return SampleSize(self.instrument, n, self.large_minimum, False, None)
        required = max(math.ceil(n * self.percent / 100), self.minimum)
        if n < self.minimum:
            if self.all_when_fewer:
                return SampleSize(self.instrument, n, n, True, None)
            # The source gives no rule for this case, so the minimum stands and we say so.
            note = (
                f"เกณฑ์ของแบบวัด {self.instrument} ไม่ได้กำหนดกรณีที่มีผู้มีส่วนได้ส่วนเสียน้อยกว่า "
                f"{self.minimum} คน จึงยังคงใช้ขั้นต่ำ {self.minimum} ตัวอย่าง "
                f"โปรดเก็บข้อมูลจากผู้มีส่วนได้ส่วนเสียทุกคนเท่าที่ติดต่อได้ ({n} คน)"
            )
            return SampleSize(self.instrument, n, required, False, note)
        return SampleSize(self.instrument, n, required, False, None)


@dataclass(frozen=True)
class SampleSize:
    instrument: str
    stakeholders: int
    required: int
    everyone: bool  # the rule says to ask all stakeholders (required == stakeholders)
    note: str | None  # Thai explanation when the rule does not cover this case


@dataclass(frozen=True)
class CommitteeMember:
    number: int
    name: str
    position: str
    role: str
    role_text: str


@dataclass(frozen=True)
class Duty:
    number: str
    text: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Committee:
    order: str
    title: str
    signed: date
    signer: str
    term_end: date
    members: tuple[CommitteeMember, ...]
    duties: tuple[Duty, ...]
    signer_position: str = ""
    issuer: str = ""

    def with_role(self, role: str) -> tuple[CommitteeMember, ...]:
        return tuple(m for m in self.members if m.role == role)


@dataclass(frozen=True)
class Memo:
    reference: str
    date: date
    subject: str
    office: str
    addressees: str
    intro: str = ""
    closing: str = ""
    signer: str = ""
    signer_position: str = ""


@dataclass(frozen=True)
class Measure:
    number: int
    title: str
    methods: tuple[str, ...]
    divisions: tuple[str, ...]
    period: str
    follow_up: str


def normalize_division(text: str) -> str:
    """The key a typed division name is matched by: no case, no whitespace, no trailing dots."""
    text = unicodedata.normalize("NFC", text).casefold()
    # Thai needs no spaces between words, so people type "กองการศึกษาฯและวัฒนธรรม" as often as
    # "กองการศึกษาฯ และวัฒนธรรม"; dropping all whitespace makes both match.
    return "".join(text.split()).rstrip(".")


@dataclass(frozen=True)
class Plan:
    source: Path
    fiscal_year: int
    start: date
    end: date
    organization: Organization
    assessment: Assessment
    score_bands: tuple[ScoreBand, ...]
    sample_rules: dict[str, SampleRule]
    divisions: tuple[Division, ...]
    committee: Committee
    memo: Memo
    measures: tuple[Measure, ...]
    reporting_rule: str
    set_on: date
    set_at: str = ""
    milestones: tuple[Milestone, ...] = ()  # the assessment calendar, in date order

    @cached_property
    def _lookup(self) -> Mapping[str, Division]:
        # cached_property writes the instance __dict__ directly, so it works on a frozen dataclass.
        keys: dict[str, Division] = {}
        for div in self.divisions:
            for text in (div.id, div.name, *div.aliases):
                keys.setdefault(normalize_division(text), div)
        return keys

    def measure(self, number: int) -> Measure | None:
        return next((m for m in self.measures if m.number == number), None)

    def division(self, text: str) -> Division | None:
        """The division a person means by `text` (id, name or alias, loosely matched)."""
        return self._lookup.get(normalize_division(text))

    def division_by_id(self, div_id: str) -> Division:
        for div in self.divisions:
            if div.id == div_id:
                return div
        raise KeyError(div_id)

    def division_name(self, div_id: str) -> str:
        """The division's name; the id itself for a division no longer in this plan (old reports keep theirs)."""
        return next((div.name for div in self.divisions if div.id == div_id), div_id)

    def measures_for(self, div_id: str) -> tuple[Measure, ...]:
        return tuple(m for m in self.measures if div_id in m.divisions)

    def pairs(self) -> tuple[tuple[int, str], ...]:
        """Every (measure number, division id) that owes reports, in plan order."""
        return tuple((m.number, d) for m in self.measures for d in m.divisions)

    def level_for(self, score: Decimal) -> str:
        """The score band level for `score` (0–100)."""
        score = Decimal(score)
        if not Decimal(0) <= score <= max(b.high for b in self.score_bands):
            raise ValueError(f"score out of range: {score}")
        # Bands are stored with two-decimal limits (A ends at 94.99, AA starts at 95.00); taking the
        # highest band whose lower limit is reached also places a score like 94.995 sensibly.
        for band in sorted(self.score_bands, key=lambda b: b.low, reverse=True):
            if score >= band.low:
                return band.level
        raise ValueError(f"no score band covers {score}")

    def sample_sizes(self, stakeholders: int) -> tuple[SampleSize, SampleSize]:
        """Minimum IIT and EIT samples for `stakeholders` people (ValueError when not positive)."""
        return self.sample_rules["IIT"].size(stakeholders), self.sample_rules["EIT"].size(stakeholders)


# --------------------------------------------------------------------------------------------- loading

T = TypeVar("T")


class _Reader:
    """Typed access to the raw TOML tables; every failure is a PlanError with the field path."""

    def __init__(self, file: Path) -> None:
        self.file = file

    def fail(self, path: str, problem: str) -> PlanError:
        return PlanError(self.file, path, problem)

    def table(self, raw: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(path, f"must be a table, not {_kind(raw)}")
        # Unknown keys are usually misspelt known ones; silently ignoring them would drop data.
        for key in raw:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                raise self.fail(where, f"unknown key (expected one of: {', '.join(allowed)})")
        return raw

    def _get(self, tbl: dict[str, Any], path: str, key: str, optional: bool) -> tuple[str, Any]:
        where = f"{path}.{key}" if path else key
        if key not in tbl:
            if optional:
                return where, None
            raise self.fail(where, "missing")
        return where, tbl[key]

    def text(self, tbl: dict[str, Any], path: str, key: str, optional: bool = False) -> str:
        where, value = self._get(tbl, path, key, optional)
        if value is None:
            return ""
        return self.text_value(value, where)

    def text_value(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"must be a string, not {_kind(value)}")
        if not value.strip():
            raise self.fail(where, "must not be empty")
        return value

    def integer(self, tbl: dict[str, Any], path: str, key: str, low: int | None = None) -> int:
        where, value = self._get(tbl, path, key, False)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"must be an integer, not {_kind(value)}")
        if low is not None and value < low:
            raise self.fail(where, f"must be at least {low}, got {value}")
        return value

    def boolean(self, tbl: dict[str, Any], path: str, key: str) -> bool:
        where, value = self._get(tbl, path, key, False)
        if not isinstance(value, bool):
            raise self.fail(where, f"must be true or false, not {_kind(value)}")
        return value

    def day(self, tbl: dict[str, Any], path: str, key: str) -> date:
        where, value = self._get(tbl, path, key, False)
        # tomllib gives datetime for 2021-01-05T00:00 and datetime is a date subclass: refuse it.
        if isinstance(value, datetime) or not isinstance(value, date):
            raise self.fail(where, f"must be a date like 2021-01-05 (no quotes, no time), not {_kind(value)}")
        return value

    def score(self, tbl: dict[str, Any], path: str, key: str) -> Decimal:
        where, value = self._get(tbl, path, key, False)
        if not isinstance(value, str):
            raise self.fail(
                where, f'must be a quoted number with two decimals like "96.60", not {_kind(value)}'
            )
        if not _SCORE_RE.fullmatch(value):
            raise self.fail(where, f'must be a number with two decimals like "96.60", got {value!r}')
        number = Decimal(value)
        if not Decimal(0) <= number <= Decimal(100):
            raise self.fail(where, f"must be between 0 and 100, got {value}")
        return number

    def texts(self, tbl: dict[str, Any], path: str, key: str, non_empty: bool = False) -> tuple[str, ...]:
        where, value = self._get(tbl, path, key, False)
        if not isinstance(value, list):
            raise self.fail(where, f"must be a list of strings, not {_kind(value)}")
        if non_empty and not value:
            raise self.fail(where, "must not be empty")
        return tuple(self.text_value(v, f"{where}[{i}]") for i, v in enumerate(value))

    def items(
        self, tbl: dict[str, Any], path: str, key: str, build: Callable[[Any, str], T]
    ) -> tuple[T, ...]:
        where, value = self._get(tbl, path, key, False)
        if not isinstance(value, list) or not value:
            raise self.fail(where, f"must be a non-empty array of tables ([[{where}]]), not {_kind(value)}")
        return tuple(build(v, f"{where}[{i}]") for i, v in enumerate(value))


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, datetime):
        return "a date-time"
    return {
        str: "a string",
        int: "an integer",
        float: "a float",
        dict: "a table",
        list: "an array",
        date: "a date",
    }.get(type(value), type(value).__name__)


def _parse(file: Path, raw: dict[str, Any]) -> Plan:
    r = _Reader(file)
    top = r.table(
        raw,
        "",
        (
            "fiscal_year", "start", "end", "set_on", "set_at", "reporting_rule", "organization",
            "assessment", "score_bands", "sample_rules", "divisions", "committee", "memo", "measures",
            "milestones",
        ),
    )
    fiscal_year = r.integer(top, "", "fiscal_year", low=2500)  # BE years only; CE 2021 is a mistake
    start, end = r.day(top, "", "start"), r.day(top, "", "end")
    want_start, want_end = fiscal_year_range(fiscal_year)
    if start != want_start:
        raise r.fail("start", f"fiscal year {fiscal_year} starts on {want_start.isoformat()}, not {start}")
    if end != want_end:
        raise r.fail("end", f"fiscal year {fiscal_year} ends on {want_end.isoformat()}, not {end}")

    org_raw = r.table(_required(r, top, "", "organization"), "organization",
                      ("name", "short_name", "district", "province"))
    organization = Organization(*(r.text(org_raw, "organization", k) for k in
                                  ("name", "short_name", "district", "province")))

    score_bands = _score_bands(r, top)
    assessment = _assessment(r, top, score_bands)
    sample_rules = _sample_rules(r, top)
    divisions = _divisions(r, top)
    committee = _committee(r, top)
    memo = _memo(r, top)
    measures = _measures(r, top, {d.id for d in divisions})

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
        reporting_rule=r.text(top, "", "reporting_rule"),
        set_on=r.day(top, "", "set_on"),
        set_at=r.text(top, "", "set_at", optional=True),
        milestones=read_milestones(r, top, divisions, start, end),
    )


def _required(r: _Reader, tbl: dict[str, Any], path: str, key: str) -> Any:
    if key not in tbl:
        raise r.fail(f"{path}.{key}" if path else key, "missing")
    return tbl[key]


def _score_bands(r: _Reader, top: dict[str, Any]) -> tuple[ScoreBand, ...]:
    def build(raw: Any, path: str) -> ScoreBand:
        t = r.table(raw, path, ("level", "low", "high"))
        band = ScoreBand(r.text(t, path, "level"), r.score(t, path, "low"), r.score(t, path, "high"))
        if band.low > band.high:
            raise r.fail(f"{path}.low", f"{band.low} is above high {band.high}")
        return band

    bands = r.items(top, "", "score_bands", build)
    seen: set[str] = set()
    for i, band in enumerate(bands):
        if band.level in seen:
            raise r.fail(f"score_bands[{i}].level", f"duplicate level {band.level!r}")
        seen.add(band.level)
    # The bands must tile 0.00–100.00 in steps of 0.01, or some score would have no level (or two).
    ordered = sorted(bands, key=lambda b: b.low)
    if ordered[0].low != 0 or ordered[-1].high != 100:
        raise r.fail("score_bands", "bands must cover 0.00 to 100.00")
    for lower, upper in pairwise(ordered):
        if upper.low != lower.high + Decimal("0.01"):
            raise r.fail(
                "score_bands", f"gap or overlap between {lower.level} (to {lower.high}) "
                f"and {upper.level} (from {upper.low})"
            )
    return bands


def _assessment(r: _Reader, top: dict[str, Any], bands: tuple[ScoreBand, ...]) -> Assessment:
    path = "assessment"
    t = r.table(_required(r, top, "", path), path,
                ("fiscal_year", "total", "level", "target", "instruments", "indicators"))

    def instrument(raw: Any, p: str) -> Instrument:
        i = r.table(raw, p, ("code", "name", "other_names", "english"))
        other = r.texts(i, p, "other_names") if "other_names" in i else ()
        return Instrument(r.text(i, p, "code"), r.text(i, p, "name"), other,
                          r.text(i, p, "english", optional=True) or None)

    instruments = r.items(t, path, "instruments", instrument)
    codes: set[str] = set()
    for n, ins in enumerate(instruments):
        if ins.code in codes:
            raise r.fail(f"{path}.instruments[{n}].code", f"duplicate instrument {ins.code!r}")
        codes.add(ins.code)

    def indicator(raw: Any, p: str) -> Indicator:
        i = r.table(raw, p, ("instrument", "number", "name", "score", "notes"))
        code = r.text(i, p, "instrument")
        if code not in codes:
            raise r.fail(f"{p}.instrument", f"unknown instrument {code!r} (declared: {', '.join(sorted(codes))})")
        return Indicator(code, r.integer(i, p, "number", low=1), r.text(i, p, "name"),
                         r.score(i, p, "score"), r.texts(i, p, "notes"))

    indicators = r.items(t, path, "indicators", indicator)
    seen: set[tuple[str, int]] = set()
    for n, ind in enumerate(indicators):
        if (ind.instrument, ind.number) in seen:
            raise r.fail(f"{path}.indicators[{n}].number", f"duplicate indicator {ind.instrument} {ind.number}")
        seen.add((ind.instrument, ind.number))

    total = r.score(t, path, "total")
    level = r.text(t, path, "level")
    levels = [b.level for b in bands]
    if level not in levels:
        raise r.fail(f"{path}.level", f"unknown level {level!r} (score_bands: {', '.join(levels)})")
    expected = next(b.level for b in sorted(bands, key=lambda b: b.low, reverse=True) if total >= b.low)
    if level != expected:
        raise r.fail(f"{path}.level", f"total {total} is level {expected} by score_bands, not {level}")
    return Assessment(r.integer(t, path, "fiscal_year", low=2500), total, level,
                      r.score(t, path, "target"), instruments, indicators)


def _sample_rules(r: _Reader, top: dict[str, Any]) -> dict[str, SampleRule]:
    t = r.table(_required(r, top, "", "sample_rules"), "sample_rules", ("IIT", "EIT"))
    rules = {}
    for code in ("IIT", "EIT"):
        path = f"sample_rules.{code}"
        s = r.table(_required(r, t, "sample_rules", code), path,
                    ("percent", "minimum", "all_when_fewer", "large_over", "large_minimum",
                     "population", "text"))
        rule = SampleRule(
            instrument=code,
            percent=r.integer(s, path, "percent", low=1),
            minimum=r.integer(s, path, "minimum", low=1),
            all_when_fewer=r.boolean(s, path, "all_when_fewer"),
            large_over=r.integer(s, path, "large_over", low=1),
            large_minimum=r.integer(s, path, "large_minimum", low=1),
            population=r.text(s, path, "population"),
            text=r.text(s, path, "text", optional=True),
        )
        if rule.percent > 100:
            raise r.fail(f"{path}.percent", f"must be at most 100, got {rule.percent}")
        if rule.large_over < rule.minimum:
            raise r.fail(f"{path}.large_over", f"must not be below minimum ({rule.minimum})")
        rules[code] = rule
    return rules


def _divisions(r: _Reader, top: dict[str, Any]) -> tuple[Division, ...]:
    def build(raw: Any, path: str) -> Division:
        d = r.table(raw, path, ("id", "name", "aliases"))
        div_id = r.text(d, path, "id")
        if not _ID_RE.fullmatch(div_id):
            raise r.fail(f"{path}.id", f"must be lower-case ASCII letters, digits or _, got {div_id!r}")
        return Division(div_id, r.text(d, path, "name"), r.texts(d, path, "aliases"))

    divisions = r.items(top, "", "divisions", build)
    ids: set[str] = set()
    owner: dict[str, tuple[int, str]] = {}
    for i, div in enumerate(divisions):
        if div.id in ids:
            raise r.fail(f"divisions[{i}].id", f"duplicate division id {div.id!r}")
        ids.add(div.id)
        forms = [("id", div.id), ("name", div.name)] + [(f"aliases[{k}]", a) for k, a in enumerate(div.aliases)]
        for where, text in forms:
            key = normalize_division(text)
            if not key:
                raise r.fail(f"divisions[{i}].{where}", f"{text!r} matches nothing once normalized")
            # Within one division, "สป." and "สป" normalize alike and that is fine; across two it
            # would make a typed name ambiguous.
            if key in owner and owner[key][0] != i:
                other_index, other_text = owner[key]
                raise r.fail(
                    f"divisions[{i}].{where}",
                    f"{text!r} is already used by division {divisions[other_index].id!r} ({other_text!r})",
                )
            owner.setdefault(key, (i, text))
    return divisions


def _committee(r: _Reader, top: dict[str, Any]) -> Committee:
    path = "committee"
    t = r.table(_required(r, top, "", path), path,
                ("issuer", "order", "title", "signed", "signer", "signer_position", "term_end",
                 "members", "duties"))

    def member(raw: Any, p: str) -> CommitteeMember:
        m = r.table(raw, p, ("number", "name", "position", "role", "role_text"))
        role = r.text(m, p, "role")
        if role not in COMMITTEE:
            raise r.fail(f"{p}.role", f"unknown role {role!r} (allowed: {', '.join(COMMITTEE)})")
        return CommitteeMember(r.integer(m, p, "number", low=1), r.text(m, p, "name"),
                               r.text(m, p, "position"), role, r.text(m, p, "role_text"))

    def duty(raw: Any, p: str) -> Duty:
        d = r.table(raw, p, ("number", "text", "items"))
        return Duty(r.text(d, p, "number"), r.text(d, p, "text"), r.texts(d, p, "items"))

    members = r.items(t, path, "members", member)
    numbers: set[int] = set()
    for i, m in enumerate(members):
        if m.number in numbers:
            raise r.fail(f"{path}.members[{i}].number", f"duplicate member number {m.number}")
        numbers.add(m.number)
    signed, term_end = r.day(t, path, "signed"), r.day(t, path, "term_end")
    if term_end < signed:
        raise r.fail(f"{path}.term_end", f"{term_end} is before the order was signed ({signed})")
    return Committee(
        order=r.text(t, path, "order"),
        title=r.text(t, path, "title"),
        signed=signed,
        signer=r.text(t, path, "signer"),
        term_end=term_end,
        members=members,
        duties=r.items(t, path, "duties", duty),
        signer_position=r.text(t, path, "signer_position", optional=True),
        issuer=r.text(t, path, "issuer", optional=True),
    )


def _memo(r: _Reader, top: dict[str, Any]) -> Memo:
    path = "memo"
    t = r.table(_required(r, top, "", path), path,
                ("reference", "date", "subject", "office", "addressees", "intro", "closing", "signer",
                 "signer_position"))
    return Memo(
        reference=r.text(t, path, "reference"),
        date=r.day(t, path, "date"),
        subject=r.text(t, path, "subject"),
        office=r.text(t, path, "office"),
        addressees=r.text(t, path, "addressees"),
        intro=r.text(t, path, "intro", optional=True),
        closing=r.text(t, path, "closing", optional=True),
        signer=r.text(t, path, "signer", optional=True),
        signer_position=r.text(t, path, "signer_position", optional=True),
    )


def _measures(r: _Reader, top: dict[str, Any], division_ids: set[str]) -> tuple[Measure, ...]:
    def build(raw: Any, path: str) -> Measure:
        m = r.table(raw, path, ("number", "title", "methods", "divisions", "period", "follow_up"))
        divisions = r.texts(m, path, "divisions", non_empty=True)
        for k, div in enumerate(divisions):
            if div not in division_ids:
                raise r.fail(
                    f"{path}.divisions[{k}]",
                    f"unknown division {div!r} (division ids: {', '.join(sorted(division_ids))})",
                )
            if div in divisions[:k]:
                raise r.fail(f"{path}.divisions[{k}]", f"division {div!r} listed twice")
        return Measure(
            number=r.integer(m, path, "number", low=1),
            title=r.text(m, path, "title"),
            methods=r.texts(m, path, "methods", non_empty=True),
            divisions=divisions,
            period=r.text(m, path, "period"),
            follow_up=r.text(m, path, "follow_up"),
        )

    measures = r.items(top, "", "measures", build)
    seen: set[int] = set()
    for i, measure in enumerate(measures):
        if measure.number in seen:
            raise r.fail(f"measures[{i}].number", f"duplicate measure number {measure.number}")
        seen.add(measure.number)
    return measures


def load_plan(path: Path | str) -> Plan:
    """Read and validate one plan file; any problem is a PlanError naming file, field and problem."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise PlanError(file, "(file)", f"cannot read: {exc.strerror or exc}") from exc
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PlanError(file, "(file)", f"not UTF-8 text (byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        if pos := _TOML_POS_RE.search(message):
            raise PlanError(
                file, f"line {pos.group(1)}", f"TOML syntax error: {message[: pos.start()]} (column {pos.group(2)})"
            ) from exc
        if _TOML_EOF_RE.search(message):
            raise PlanError(file, "end of file", f"TOML syntax error: {_TOML_EOF_RE.sub('', message)}") from exc
        raise PlanError(file, "(syntax)", f"TOML syntax error: {message}") from exc
    return _parse(file, raw)


def load_plans(folder: Path | str) -> dict[int, Plan]:
    """Every `<fiscal year>.toml` in `folder`, keyed by fiscal year (empty when there are none)."""
    base = Path(folder)
    if not base.is_dir():
        raise PlanError(base, "(folder)", "not a folder")
    plans: dict[int, Plan] = {}
    for file in sorted(base.glob("*.toml")):
        plan = load_plan(file)
        # One file per year, named after it, so the file a year lives in is never a guess.
        if file.stem != str(plan.fiscal_year):
            raise PlanError(file, "fiscal_year", f"{plan.fiscal_year} does not match the file name "
                            f"(expected {plan.fiscal_year}.toml)")
        plans[plan.fiscal_year] = plan
    return plans
