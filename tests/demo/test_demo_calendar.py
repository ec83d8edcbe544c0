"""The demo shows the assessment calendar: example milestones (its own, not the plan file's) in /ปฏิทิน and a reminder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ita_bot.domain.plan_reader import load_plan
from tests.conftest import PLAN_2564
from tests.demo.test_demo import run_demo


@pytest.mark.slow  # a real process: `bot.py demo`
def test_the_demo_lists_example_milestones_and_reminds_on_a_reminder_day(tmp_path: Path) -> None:
    out = run_demo(tmp_path, "/ปฏิทิน\n:date 2021-02-25 09:00\n").stdout
    calendar = out[out.index("ปฏิทินการประเมิน ITA ปีงบประมาณ 2564"):]
    assert "⏱ 5 ม.ค. 2564 · ผ่านมาแล้ว" in calendar  # a past date, not a done one
    assert "👉 5 มี.ค. 2564 · อีก 8 วันทำการ (ถัดไป)" in calendar
    assert "(ตัวอย่าง) ส่งรายชื่อผู้มีส่วนได้ส่วนเสียภายนอก (EIT) ให้ ป.ป.ช." in calendar
    # Thu 25 Feb is 5 working days before Fri 5 Mar (Fri 26 Feb is Makha Bucha): the group is reminded.
    reminder = out[out.index("งาน milestone"):]
    assert "📅 แจ้งเตือนกำหนดการประเมิน ITA: (ตัวอย่าง) ส่งรายชื่อ" in reminder
    assert "@เจ้าหน้าที่ สป." in reminder and "@เจ้าหน้าที่ คลัง" in reminder
    assert load_plan(PLAN_2564).milestones == ()  # the examples never reach the shipped plan
