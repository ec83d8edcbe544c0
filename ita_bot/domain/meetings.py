"""The meeting calendar: monthly staff-meeting dates, cycles, working days and Thai public holidays."""

from __future__ import annotations

import calendar as _cal
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays

from ita_bot.domain.thai import fiscal_year_of, fiscal_year_range

__all__ = ["Cycle", "MeetingCalendar", "MeetingRule", "cycle_id", "parse_cycle_id"]

_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
_CYCLE_ID = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def cycle_id(year: int, month: int) -> str:
    """The id of the cycle whose meeting belongs to that CE month: "2021-02"."""
    return f"{year:04d}-{month:02d}"


def parse_cycle_id(text: str) -> tuple[int, int]:
    """"2021-02" → (2021, 2); ValueError for anything else."""
    m = _CYCLE_ID.match(text)
    if not m:
        raise ValueError(f"not a cycle id (YYYY-MM): {text!r}")
    return int(m[1]), int(m[2])


@dataclass(frozen=True)
class MeetingRule:
    """When the monthly staff meeting falls before the holiday shift: "last friday", "first monday" or "25"."""

    ordinal: int | None = None  # 1..4, or -1 for "last"
    weekday: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, text: str) -> MeetingRule:
        t = " ".join(str(text).lower().split())
        if t.isdecimal() and 1 <= int(t) <= 31:
            return cls(day=int(t))
        parts = t.split()
        if len(parts) == 2 and parts[0] in _ORDINALS and parts[1] in _WEEKDAYS:
            return cls(ordinal=_ORDINALS[parts[0]], weekday=_WEEKDAYS[parts[1]])
        raise ValueError(
            f'meeting rule must be like "last friday", "first monday" or a day of month "25"; got {text!r}'
        )

    def nominal_date(self, year: int, month: int) -> date:
        """The rule's date in that month, before any shift (a day past month end is its last day)."""
        last = _cal.monthrange(year, month)[1]
        if self.day is not None:
            return date(year, month, min(self.day, last))
        assert self.ordinal is not None and self.weekday is not None
        if self.ordinal == -1:
            d = date(year, month, last)
            return d - timedelta(days=(d.weekday() - self.weekday) % 7)
        d = date(year, month, 1)
        d += timedelta(days=(self.weekday - d.weekday()) % 7)
        return d + timedelta(weeks=self.ordinal - 1)

    def __str__(self) -> str:
        if self.day is not None:
            return str(self.day)
        names = {v: k for k, v in _ORDINALS.items()}
        days = {v: k for k, v in _WEEKDAYS.items()}
        return f"{names[self.ordinal or 0]} {days[self.weekday or 0]}"


@lru_cache(maxsize=64)
def _thai_holidays(year: int) -> holidays.HolidayBase:
    # The default (public) category already includes cabinet-declared special days off.
    return holidays.country_holidays("TH", years=year, language="th")


def holiday_name(d: date) -> str | None:
    """The Thai public holiday on that date (Thai name), if any."""
    return _thai_holidays(d.year).get(d)


@dataclass(frozen=True)
class Cycle:
    """The reports feeding one monthly staff meeting; id is the CE month the meeting belongs to."""

    id: str
    meeting: date
    fiscal_year: int
    overridden: bool = False

    @property
    def month(self) -> tuple[int, int]:
        return parse_cycle_id(self.id)


class MeetingCalendar:
    """Meeting dates per cycle from a rule, the Thai holiday shift and per-cycle overrides."""

    def __init__(self, rule: MeetingRule | str, overrides: Mapping[str, date] | None = None) -> None:
        self.rule = rule if isinstance(rule, MeetingRule) else MeetingRule.parse(rule)
        self.overrides: dict[str, date] = dict(overrides or {})
        # Cycles are asked for once per report when grouping a year's history: compute each year once.
        self._cycles: dict[int, list[Cycle]] = {}

    @staticmethod
    def is_working_day(d: date) -> bool:
        return d.weekday() < 5 and holiday_name(d) is None

    def previous_working_day(self, d: date) -> date:
        """d itself when it is a working day, else the closest working day before it."""
        while not self.is_working_day(d):
            d -= timedelta(days=1)
        return d

    def working_days_before(self, meeting: date, n: int) -> date:
        """Count back n working days from the meeting (Thu 25 Feb 2564: 1 → Wed 24, 3 → Mon 22)."""
        d = meeting
        for _ in range(n):
            d = self.previous_working_day(d - timedelta(days=1))
        return d

    def usual(self, cid: str) -> date:
        """The cycle's meeting date without any override: the rule's day, moved back off holidays and weekends."""
        year, month = parse_cycle_id(cid)
        return self.previous_working_day(self.rule.nominal_date(year, month))

    def cycle(self, cid: str) -> Cycle:
        """The cycle with that id and its meeting date."""
        year, month = parse_cycle_id(cid)
        if cid in self.overrides:
            meeting, overridden = self.overrides[cid], True
        else:
            meeting, overridden = self.usual(cid), False
        return Cycle(cid, meeting, fiscal_year_of(date(year, month, 1)), overridden)

    def cycles(self, fiscal_year: int) -> list[Cycle]:
        """The twelve cycles of a BE fiscal year, October to September."""
        if fiscal_year in self._cycles:
            return self._cycles[fiscal_year]
        start, _ = fiscal_year_range(fiscal_year)
        out = []
        for i in range(12):
            year, month = start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1
            out.append(self.cycle(cycle_id(year, month)))
        self._cycles[fiscal_year] = out
        return out

    def cycle_of(self, d: date) -> Cycle:
        """The cycle of the first meeting on or after d, within d's fiscal year.

        Reports after the year's last meeting (up to 30 Sep) belong to its last cycle, because
        cycles never cross a fiscal year.
        """
        cycles = self.cycles(fiscal_year_of(d))
        for c in cycles:
            if c.meeting >= d:
                return c
        return cycles[-1]

    def next_meetings(self, after: date, count: int = 3) -> list[Cycle]:
        """The next `count` cycles whose meeting is on or after the date, across fiscal years."""
        out: list[Cycle] = []
        fy = fiscal_year_of(after)
        while len(out) < count:
            out.extend(c for c in self.cycles(fy) if c.meeting >= after and c not in out)
            fy += 1
        return out[:count]
