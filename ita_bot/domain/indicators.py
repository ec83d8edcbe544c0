"""Indicator numbers as the NACC's reports and the ITAS system give them, and the one label every output uses.

The NACC numbers the ten ITA indicators 1–10 across the instruments (IIT 1–5, EIT 6–8, OIT 9–10: ประสิทธิภาพ
การสื่อสาร is ตัวชี้วัดที่ 7). A plan file numbers them within each instrument (EIT 2), as the organization's own
document does; that number stays the key across years, and people are shown the NACC's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ita_bot.domain.thai import ARABIC, ThaiFormat

__all__ = ["IndicatorKey", "indicator_label", "nacc_numbers"]

IndicatorKey = tuple[str, int]  # (instrument code, number within the instrument), as plan files keep it


def nacc_numbers(keys: Iterable[IndicatorKey], instruments: Sequence[str] = ()) -> dict[IndicatorKey, int]:
    """1, 2, … across the instruments: in the order ``instruments`` lists them (then as first met), each
    instrument's indicators by their own number."""
    unique = list(dict.fromkeys(keys))
    order = list(dict.fromkeys([*instruments, *(code for code, _ in unique)]))
    ranked = sorted(unique, key=lambda k: (order.index(k[0]), k[1]))
    return {key: n for n, key in enumerate(ranked, start=1)}


def indicator_label(number: int | None, name: str, instrument: str, fmt: ThaiFormat = ARABIC, *,
                    short: bool = False) -> str:
    """"ตัวชี้วัดที่ 7 ประสิทธิภาพการสื่อสาร (EIT)"; without a number (an indicator the year did not have),
    "ตัวชี้วัด ประสิทธิภาพการสื่อสาร (EIT)"; ``short`` (where room is tight, a chart's line label):
    "7. ประสิทธิภาพการสื่อสาร (EIT)"."""
    if short:
        head = f"{fmt.num(number)}." if number else ""
        return f"{head} {name} ({instrument})".strip()
    head = f"ตัวชี้วัดที่ {fmt.num(number)}" if number else "ตัวชี้วัด"
    return f"{head} {name} ({instrument})" if name else f"{head} ({instrument})"
