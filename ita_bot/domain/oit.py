"""OIT items: which of the NACC's open-data items (code and exact title, renumbered yearly) a year's page answers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = ["COVERS", "COVERS_THAI", "Covers", "OitItem", "items_covering"]

Covers = Literal["measures", "report"]
#: What an item asks for: the year's measures themselves, or the report of what was done under them.
COVERS: tuple[Covers, ...] = ("measures", "report")
COVERS_THAI: dict[str, str] = {"measures": "มาตรการ", "report": "รายงานผลการดำเนินการ"}


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
