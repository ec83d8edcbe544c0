"""How progress is worded for people, one wording per meaning for chat, pushes, pages, the console and documents.

Two different facts are never worded alike:

- ``NEVER_REPORTED`` ("ยังไม่เคยรายงาน"): a measure–division pair has no report at all (up to the day shown);
- ``NOT_THIS_CYCLE`` ("ยังไม่ได้รายงานในรอบนี้"): it owes this cycle's report, whatever it reported before.
"""

from __future__ import annotations

from ita_bot.domain.progress import STATUS_ICON, STATUS_THAI
from ita_bot.domain.thai import ARABIC, ThaiFormat

__all__ = ["NEVER_REPORTED", "NOT_THIS_CYCLE", "status_line", "status_text", "status_words"]

NEVER_REPORTED = "ยังไม่เคยรายงาน"
NOT_THIS_CYCLE = "ยังไม่ได้รายงานในรอบนี้"


def status_text(status: str | None) -> str:
    """A status in Thai ("กำลังดำเนินการ"), or NEVER_REPORTED when there is none."""
    return STATUS_THAI.get(status, NEVER_REPORTED) if status else NEVER_REPORTED


def status_words(status: str | None, percent: int | None, fmt: ThaiFormat = ARABIC) -> str:
    """"กำลังดำเนินการ 50%", or the status alone when no percentage was given (no dash left dangling)."""
    words = status_text(status)
    return words if status is None or percent is None else f"{words} {fmt.percent(percent)}"


def status_line(status: str | None, percent: int | None, fmt: ThaiFormat = ARABIC) -> str:
    """The status words after their icon: "🟡 กำลังดำเนินการ 50%", "⏳ ยังไม่เคยรายงาน"."""
    return f"{STATUS_ICON[status]} {status_words(status, percent, fmt)}"
