"""The yearly ITA plan as typed, frozen objects (reading and checking: plan_reader; writing: plan_writer)."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path

from ita_bot.domain.indicators import IndicatorKey, indicator_label, nacc_numbers
from ita_bot.domain.meetings import Cycle
from ita_bot.domain.milestones import Milestone
from ita_bot.domain.oit import OitItem
from ita_bot.domain.thai import ARABIC, ThaiFormat

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
    "PlanProblems",
    "Problem",
    "SampleRule",
    "SampleSize",
    "ScoreBand",
    "band_level",
    "normalize_division",
]

@dataclass(frozen=True)
class Problem:
    """One thing wrong with a plan: the field path (``measures[1].divisions``) and a Thai message.

    ``message`` speaks of the field as a form shows it ("กรุณากรอกคะแนน (เช่น 96.60)"); ``file_message``, when
    given, says the same in the plan file's terms (quotes, TOML dates) for whoever edits the file: ``in_file``.
    """

    field: str
    message: str
    file_message: str = ""

    @property
    def in_file(self) -> str:
        """The message for a plan file's reader (an upload, ``plan check``)."""
        return self.file_message or self.message


class PlanError(ValueError):
    """A plan that cannot be used: names the file, the field path and the problem (in Thai)."""

    def __init__(self, file: Path | str, field: str, problem: str) -> None:
        self.file = str(file)
        self.field = field
        self.problem = problem
        super().__init__(f"{self.file}: {field}: {problem}")


class PlanProblems(PlanError):
    """Every problem found in a plan at once (a form or an upload shows them all, not one per try).

    ``field``/``problem`` are the first problem's, so code written for PlanError still reads well.
    """

    def __init__(self, file: Path | str, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("PlanProblems needs at least one problem")
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(file, first.field, first.in_file)  # the exception names a file: its terms
        if len(self.problems) > 1:
            self.args = ("\n".join(f"{self.file}: {p.field}: {p.in_file}" for p in self.problems),)


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
    #: The NACC announced a level other than the score bands give (the file says `level_override = true`).
    level_override: bool = False

    def is_below(self, indicator: Indicator) -> bool:
        """Whether the indicator scored under the target (the rule every page, reply and draft flags by)."""
        return indicator.score < self.target

    def below_target(self) -> tuple[Indicator, ...]:
        """Indicators scoring under the target, in table order."""
        return tuple(i for i in self.indicators if self.is_below(i))

    def instrument(self, code: str) -> Instrument | None:
        return next((i for i in self.instruments if i.code == code), None)

    @cached_property
    def _nacc(self) -> dict[IndicatorKey, int]:
        return nacc_numbers(((i.instrument, i.number) for i in self.indicators), [i.code for i in self.instruments])

    def nacc_number(self, indicator: Indicator | IndicatorKey) -> int | None:
        """The indicator's number in the NACC's report (1–10), where the plan file numbers per instrument."""
        return self._nacc.get(_key(indicator))

    def label(self, indicator: Indicator | IndicatorKey, fmt: ThaiFormat = ARABIC) -> str:
        """"ตัวชี้วัดที่ 7 ประสิทธิภาพการสื่อสาร (EIT)": how every page and reply names an indicator."""
        key = _key(indicator)
        found = indicator if isinstance(indicator, Indicator) else next(
            (i for i in self.indicators if (i.instrument, i.number) == key), None)
        return indicator_label(self._nacc.get(key), found.name if found else "", key[0], fmt)


def _key(indicator: Indicator | IndicatorKey) -> IndicatorKey:
    """(instrument, number within it): how plan files key an indicator across years."""
    if isinstance(indicator, Indicator):
        return indicator.instrument, indicator.number
    instrument, number = indicator
    return instrument, number


@dataclass(frozen=True)
class ScoreBand:
    level: str
    low: Decimal
    high: Decimal


def band_level(bands: Iterable[ScoreBand], score: Decimal) -> str | None:
    """The level of the highest band whose lower limit `score` reaches; None below every band.

    Bands are stored with two-decimal limits (A ends at 94.99, AA starts at 95.00); taking the highest band
    whose lower limit is reached also places a score like 94.995 sensibly.
    """
    return next((b.level for b in sorted(bands, key=lambda b: b.low, reverse=True) if score >= b.low), None)


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

    def summary(self, fmt: ThaiFormat = ARABIC) -> str:
        """The rule in one line, from its figures: "ร้อยละ 10 ปัดขึ้น ขั้นต่ำ 30 ตัวอย่าง; มากกว่า 1,000 คน …"."""
        return (f"ร้อยละ {fmt.num(self.percent)} ปัดขึ้น ขั้นต่ำ {fmt.num(f'{self.minimum:,}')} ตัวอย่าง; "
                f"มากกว่า {fmt.num(f'{self.large_over:,}')} คน ใช้ขั้นต่ำ {fmt.num(f'{self.large_minimum:,}')} ตัวอย่าง")

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
    #: The fiscal year this measure was carried over from, unfinished (None: set this year).
    carried_from: int | None = None


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
    #: The official ITA result of the year before (None until a manager enters it).
    assessment: Assessment | None
    score_bands: tuple[ScoreBand, ...]
    sample_rules: dict[str, SampleRule]
    divisions: tuple[Division, ...]
    committee: Committee
    memo: Memo
    measures: tuple[Measure, ...]
    reporting_rule: str
    set_on: date
    set_at: str = ""
    #: Field paths a drafted plan could not know (a new order number, a signing date) for a manager to fill in.
    to_fill: tuple[str, ...] = ()
    milestones: tuple[Milestone, ...] = ()  # the assessment calendar, in date order
    #: The NACC's OIT items this plan's pages answer (``[[oit]]``), in file order.
    oit: tuple[OitItem, ...] = ()

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

    def division_name(self, div_id: str) -> str:
        """The division's name; the id itself for a division no longer in this plan (old reports keep theirs)."""
        return next((div.name for div in self.divisions if div.id == div_id), div_id)

    def division_by_id(self, div_id: str) -> Division:
        for div in self.divisions:
            if div.id == div_id:
                return div
        raise KeyError(div_id)

    def measures_for(self, div_id: str) -> tuple[Measure, ...]:
        return tuple(m for m in self.measures if div_id in m.divisions)

    def pairs(self) -> tuple[tuple[int, str], ...]:
        """Every (measure number, division id) that owes reports, in plan order."""
        return tuple((m.number, d) for m in self.measures for d in m.divisions)

    def before_set(self, cycle: Cycle) -> bool:
        """Whether the cycle's meeting came before the measures were set (``set_on``): such a month owed nothing."""
        return cycle.meeting < self.set_on

    def sample_sizes(self, stakeholders: int) -> tuple[SampleSize, SampleSize]:
        """Minimum IIT and EIT samples for `stakeholders` people (ValueError when not positive)."""
        return self.sample_rules["IIT"].size(stakeholders), self.sample_rules["EIT"].size(stakeholders)
