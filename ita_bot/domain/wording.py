"""How progress is worded for people, one wording per meaning for chat, pushes, pages, the console and documents.

Two different facts are never worded alike:

- ``NEVER_REPORTED`` ("ยังไม่เคยรายงาน"): a measure–division pair has no report at all (up to the day shown);
- ``NOT_THIS_CYCLE`` ("ยังไม่ได้รายงานในรอบนี้"): it owes this cycle's report, whatever it reported before.
"""

from __future__ import annotations

from collections.abc import Mapping

from ita_bot.domain.guidance import CONSOLE
from ita_bot.domain.progress import STATUS_ICON, STATUS_THAI
from ita_bot.domain.thai import ARABIC, ThaiFormat

__all__ = ["ALL_REPORTED", "COUNT_ORDER", "FIRST_PLAN_STEPS", "NEVER_REPORTED", "NOTHING_OWED", "NOT_THIS_CYCLE",
           "PENDING_HEADING", "no_plan_yet", "status_counts", "status_line", "status_text", "status_words"]

NEVER_REPORTED = "ยังไม่เคยรายงาน"
NOT_THIS_CYCLE = "ยังไม่ได้รายงานในรอบนี้"

# The cycle's record (its public page and the meeting memo) says these alike; chat keeps its shorter, warmer lines.
#: A pair that reported nothing this cycle and owes nothing (its measure is done).
NOTHING_OWED = "ไม่มีรายงานในรอบนี้ (ดำเนินการเสร็จสิ้นแล้ว)"
#: The heading over the divisions still owing this cycle's reports.
PENDING_HEADING = "หน่วยงานที่ยังไม่ได้รายงานผลในรอบนี้"
#: In place of that list when nobody owes anything.
ALL_REPORTED = "ทุกหน่วยงานรายงานผลในรอบนี้ครบถ้วนแล้ว"


def status_text(status: str | None) -> str:
    """A status in Thai ("กำลังดำเนินการ"), or NEVER_REPORTED when there is none."""
    return STATUS_THAI.get(status, NEVER_REPORTED) if status else NEVER_REPORTED


def status_words(status: str | None, percent: int | None, fmt: ThaiFormat = ARABIC, *, formal: bool = False) -> str:
    """"กำลังดำเนินการ 50%", or the status alone when no percentage was given (no dash left dangling);
    ``formal`` (the meeting memo, an official letter): "กำลังดำเนินการ ร้อยละ 50"."""
    words = status_text(status)
    if status is None or percent is None:
        return words
    return f"{words} ร้อยละ {fmt.num(percent)}" if formal else f"{words} {fmt.percent(percent)}"


def status_line(status: str | None, percent: int | None, fmt: ThaiFormat = ARABIC) -> str:
    """The status words after their icon: "🟡 กำลังดำเนินการ 50%", "⏳ ยังไม่เคยรายงาน"."""
    return f"{STATUS_ICON[status]} {status_words(status, percent, fmt)}"


#: The order statuses are counted in, everywhere a count line is shown: done first, never reported last.
COUNT_ORDER: tuple[str | None, ...] = ("done", "doing", "blocked", "todo", None)


def status_counts(counts: Mapping[str, int], fmt: ThaiFormat = ARABIC, *, icons: bool = False) -> str:
    """"เสร็จสิ้น 2 · กำลังดำเนินการ 3 · ติดปัญหา 1 · ยังไม่เริ่ม 0 · ยังไม่เคยรายงาน 4" (``counts`` keyed by status,
    "none" for never reported); ``icons`` puts each status's icon before it, as chat does."""
    parts = []
    for status in COUNT_ORDER:
        words = f"{STATUS_ICON[status]} {status_text(status)}" if icons else status_text(status)
        parts.append(f"{words} {fmt.num(counts.get(status or 'none', 0))}")
    return " · ".join(parts)


#: How the managers make an office's first plan (an office with no plan at all), for chat and the console.
FIRST_PLAN_STEPS = ("กรอกผลการประเมิน ITA ครั้งล่าสุดของหน่วยงานที่เมนู “ผลประเมิน ITA” ระบบจะร่างแผนฉบับแรกให้ "
                    "พร้อมมาตรการตั้งต้นให้เลือกใช้ แก้ไข หรือตัดออก")


def no_plan_yet(organization: str, *, manager: bool) -> str:
    """The answer, while an office has no plan of any year yet, to whatever needs one: managers are told how to
    make the first plan; everyone else that reporting opens once the committee sets it."""
    office = f"ของ{organization}" if organization else "ของหน่วยงาน"
    if manager:
        return f"ยังไม่มีแผน{office}ในระบบ ขั้นแรก กรุณา{FIRST_PLAN_STEPS} ได้ที่{CONSOLE}"
    return (f"ขออภัย ยังไม่มีแผนมาตรการ{office}ในระบบ จึงยังดูหรือรายงานผลไม่ได้ "
            "เมื่อคณะกรรมการกำหนดแผนแล้ว จะรายงานผลได้ทันที")
