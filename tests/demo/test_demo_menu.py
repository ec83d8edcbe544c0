"""`:menu` in `python bot.py demo`: each persona's rich menu as its buttons, and pressing one sends its command."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.demo.test_demo import answer, run_demo, sections


@pytest.mark.slow  # a real process: `bot.py demo`
def test_menu_shows_the_personas_buttons_and_a_press_is_answered(tmp_path: Path) -> None:
    script = ":menu\n:menu 2\n:as secretary\n:menu\n:menu 4\n:menu 9\n"
    out = run_demo(tmp_path, script).stdout
    staff = answer(out, ":menu")
    assert "[1] รายงาน → /รายงาน" in staff and "[2] สถานะ → /สถานะ" in staff and "/ช่วยเหลือ" in staff
    pressed = answer(out, ":menu 2")
    assert "ส่งข้อความ /สถานะ" in pressed and "ตอบในแชต 1:1" in pressed and "มาตรการที่ 1" in pressed
    managers = [text for line, text in sections(out) if line == ":menu"][1]
    assert "/ส่งออก" in managers and "/รายงาน" not in managers
    assert "/reports/2564/2021-02" in answer(out, ":menu 4")
    assert "เลือกปุ่ม 1–" in answer(out, ":menu 9")

