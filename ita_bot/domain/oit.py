"""OIT items: which of the NACC's open-data items (code and exact title, renumbered yearly) a year's page answers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from ita_bot.domain.thai import be_year, to_arabic_digits

__all__ = ["COVERS", "COVERS_THAI", "Covers", "OitItem", "code_problem", "covers_problem", "items_covering",
           "normalize_code", "year_problem"]

Covers = Literal["measures", "report"]
#: What an item asks for: the year's measures themselves, or the report of what was done under them.
COVERS: tuple[Covers, ...] = ("measures", "report")
COVERS_THAI: dict[str, str] = {"measures": "มาตรการ", "report": "รายงานผลการดำเนินการ"}

# "O42" as people type it: a lower-case o, spaces, Thai digits or leading zeros ("o ๔๒", "O042") are the same code.
_CODE = re.compile(r"[Oo]\s*0*([1-9][0-9]{0,2})")
CODE_EXAMPLE = "O42"


@dataclass(frozen=True)
class OitItem:
    """One OIT item as a plan's ``[[oit]]`` lists it: code ("O42"), exact title, what it covers and the fiscal year
    it covers (the plan's own, or for a report item the year before: the 2569 list's O26 reports on 2568)."""

    code: str
    title: str
    covers: Covers
    fiscal_year: int


class _WithOit(Protocol):
    """A plan as far as its OIT items go (the plan module imports this one)."""

    @property
    def fiscal_year(self) -> int: ...

    @property
    def oit(self) -> tuple[OitItem, ...]: ...


def items_covering(plans: Iterable[_WithOit], fiscal_year: int) -> tuple[OitItem, ...]:
    """Every OIT item, from any year's plan, that points at ``fiscal_year``'s page, in plan-year then file order
    (a later year's plan may name the page as the evidence of its report item)."""
    found: list[OitItem] = []
    for plan in sorted(plans, key=lambda p: p.fiscal_year):
        found.extend(item for item in plan.oit if item.fiscal_year == fiscal_year)
    return tuple(found)


def normalize_code(text: str) -> str | None:
    """The item code as the NACC writes it ("O42") from how it was typed; None when it is no item code at all."""
    m = _CODE.fullmatch(to_arabic_digits(text).strip())
    return f"O{m[1]}" if m else None


def code_problem(text: str) -> str:
    """Why a typed code is not an item code, in the words of the form (the letter O, not the digit zero)."""
    if to_arabic_digits(text).strip().startswith("0"):
        return (f"รหัสรายการขึ้นต้นด้วยตัวอักษร O (โอ) ไม่ใช่เลขศูนย์ ตามด้วยเลขข้อ เช่น {CODE_EXAMPLE} "
                f"(กรอกไว้ {text.strip()!r})")
    return f"รหัสรายการต้องเป็นตัวอักษร O ตามด้วยเลขข้อไม่เกิน 3 หลัก เช่น {CODE_EXAMPLE} (กรอกไว้ {text.strip()!r})"


def covers_problem(value: object) -> str:
    """What ``covers`` may be, each with what it means."""
    listed = " หรือ ".join(f'"{c}" ({COVERS_THAI[c]})' for c in COVERS)
    return f"ต้องเป็น {listed} (กรอกไว้ {value!r})"


def year_problem(year: int, plan_year: int) -> str | None:
    """Why an item cannot cover ``year`` in plan ``plan_year`` (None when it can): the plan's own year, or for a
    report of the year before (as the 2569 list's O26) that year."""
    if year in (plan_year, plan_year - 1):
        return None
    allowed = f"{plan_year} หรือ {plan_year - 1}"
    if be_year(year) in (plan_year, plan_year - 1):
        return f"ปี {year} เป็นปี ค.ศ. กรุณากรอกปีงบประมาณ พ.ศ. ({allowed})"
    return f"ต้องเป็นปีงบประมาณของแผนนี้หรือปีก่อนหน้า ({allowed}) กรอกไว้ {year}"
