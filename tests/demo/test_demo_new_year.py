"""The demo moves into a fiscal year without a plan: the bot says so, `:plan new` drafts it, and reports work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a real process: `bot.py demo`
def test_a_new_fiscal_year_in_the_demo(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "ITA_BOT_"))}
    env.update(TMPDIR=str(tmp_path), PYTHONIOENCODING="utf-8", LINE_API_ENDPOINT="http://127.0.0.1:9")
    script = "\n".join([
        ":date 2026-12-01 10:00",
        "/รายงาน 1 กำลังทำ 10% เริ่มแล้ว",
        ":as secretary",
        ":plan new",
        ":plan new 2570",
        ":as sp",
        "/รายงาน 1 กำลังทำ 10% เริ่มแล้ว",
        ":plan",
        ":quit",
    ]) + "\n"
    done = subprocess.run([sys.executable, "bot.py", "demo"], cwd=ROOT, input=script, capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=120)
    out = done.stdout
    assert done.returncode == 0 and "Traceback" not in out + done.stderr, out[-3000:] + done.stderr[-3000:]
    assert "ข้ามงานตามกำหนด" in out  # a jump of years runs only the last month's jobs
    assert "ปีงบประมาณ 2570 ยังไม่มีแผนมาตรการในระบบ" in out and ":plan new" in out
    assert "ยังไม่มีแผนมาตรการของปีงบประมาณ 2570" in out  # the staff report is refused politely
    assert "ร่างแผนปีงบประมาณ 2570 จากแผนปี 2564 แล้ว" in out
    assert "ปีงบประมาณ 2570 มีแผนอยู่แล้ว ไม่เขียนทับ" in out
    assert out.count("บันทึกรายงานแล้ว") == 1  # accepted once the plan exists
    assert "ปีงบประมาณ 2570: มาตรการ" in out and "ในโฟลเดอร์ข้อมูลของเดโม" in out
    assert not list((ROOT / "storage" / "plans").glob("2570.toml"))  # the demo's data stays in its temp folder
