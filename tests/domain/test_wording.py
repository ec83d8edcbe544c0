"""Progress wording: one wording per meaning, whichever channel shows it."""

from __future__ import annotations

from ita_bot.domain.progress import STATUS_THAI
from ita_bot.domain.thai import THAI
from ita_bot.domain.wording import NEVER_REPORTED, NOT_THIS_CYCLE, status_counts, status_line, status_text, status_words


def test_never_reported_and_not_this_cycle_are_different_words() -> None:
    assert NEVER_REPORTED == "ยังไม่เคยรายงาน" and NOT_THIS_CYCLE == "ยังไม่ได้รายงานในรอบนี้"
    assert status_text(None) == status_words(None, None) == NEVER_REPORTED
    assert status_line(None, None) == f"⏳ {NEVER_REPORTED}"


def test_status_with_and_without_percent() -> None:
    assert status_words("doing", 50) == "กำลังดำเนินการ 50%"
    assert status_words("doing", None) == "กำลังดำเนินการ"  # no dash left dangling
    assert status_words("doing", 50, THAI) == "กำลังดำเนินการ ๕๐%"
    assert status_line("done", 100) == "🟢 เสร็จสิ้น 100%"
    assert status_line("blocked", None) == "🔴 ติดปัญหา"
    assert all(status_text(s) == STATUS_THAI[s] for s in STATUS_THAI)


def test_one_count_line_for_the_pages_and_chat() -> None:
    counts = {"done": 2, "doing": 3, "blocked": 1, "todo": 0, "none": 4, "pending": 5, "pairs": 10}
    assert status_counts(counts) == (
        "เสร็จสิ้น 2 · กำลังดำเนินการ 3 · ติดปัญหา 1 · ยังไม่เริ่ม 0 · ยังไม่เคยรายงาน 4")
    assert status_counts(counts, THAI, icons=True) == (
        "🟢 เสร็จสิ้น ๒ · 🟡 กำลังดำเนินการ ๓ · 🔴 ติดปัญหา ๑ · ⚪ ยังไม่เริ่ม ๐ · ⏳ ยังไม่เคยรายงาน ๔")
