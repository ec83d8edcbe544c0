"""The demo runs on one clock (chat, console, public pages, /healthz, jobs), in Thai, and typed text is a message."""

from __future__ import annotations

import io
import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ita_bot.demo.session import Session
from ita_bot.demo.timeline import job_line_thai
from ita_bot.demo.world import World
from ita_bot.schedule.delivery import ALREADY, FAILED, SKIPPED
from ita_bot.schedule.jobs import NOTHING, UNREACHABLE, RecipientResult

PROMPT = re.compile(r"^\[\w+ @ [^\]]+\] > ")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[World, Session, io.StringIO]]:
    world = World(tmp_path / "db" / "ita-bot.json").start()
    out = io.StringIO()
    try:
        yield world, Session(world, out, echo=True), out
    finally:
        world.stop()


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode("utf-8")


def after(out: io.StringIO, typed: str) -> str:
    """What the demo printed after the (last) line typed as `typed`, up to the next prompt."""
    lines = out.getvalue().splitlines()
    start = max(i for i, line in enumerate(lines) if PROMPT.match(line) and line.endswith("> " + typed))
    rest = []
    for line in lines[start + 1 :]:
        if PROMPT.match(line):
            break
        rest.append(line)
    return "\n".join(rest)


def test_public_pages_and_healthz_read_the_demo_clock(demo: tuple[World, Session, io.StringIO]) -> None:
    world, session, _ = demo
    session.handle(":date 2021-03-10 10:00")
    year = get(world.base_url + "/reports/2564")
    assert "ข้อมูล ณ วันที่ 10 มี.ค. 2564 10:00 น." in year
    # The year is still running on the demo's clock: no after-the-year summary heading.
    assert "สรุปผลหลังสิ้นปีงบประมาณ" not in year
    cycle = get(world.base_url + "/reports/2564/2021-03")
    assert "ข้อมูล ณ วันที่ 10 มี.ค. 2564 10:00 น." in cycle
    health = json.loads(get(world.base_url + "/healthz"))
    assert health["plans_missing"] == [], health  # FY 2564 has its plan: nothing is missing on the demo's day


def test_a_typed_number_is_a_message_not_a_button(demo: tuple[World, Session, io.StringIO]) -> None:
    _, session, out = demo
    for line in (":dm", "/รายงาน"):
        session.handle(line)
    assert "[3] มาตรการที่ 3" in after(out, "/รายงาน") and "ยกเลิก" in after(out, "/รายงาน")
    session.handle("3")
    typed = after(out, "3")
    # As in LINE, "3" answers "พิมพ์เลขมาตรการ": measure 3 is chosen and no button was pressed.
    assert "กดปุ่ม" not in typed and "มาตรการที่ 3 การปรับปรุงระบบการทำงาน" in typed, typed
    assert "ยกเลิก" in typed  # the status buttons are offered, not a cancelled report
    session.handle(":3")
    assert "(กดปุ่ม “🟡 กำลังทำ 50%”" in after(out, ":3")
    session.handle(":9")
    assert "เลือกปุ่ม 1–2" in after(out, ":9")


def test_job_lines_in_a_year_without_a_plan_are_thai(demo: tuple[World, Session, io.StringIO]) -> None:
    _, session, out = demo
    session.handle(":date 2026-12-06 09:00")
    shown = after(out, ":date 2026-12-06 09:00")
    job_lines = [line.strip() for line in shown.splitlines() if line.startswith("     (")]
    assert job_lines, shown
    for line in job_lines:
        assert not LATIN_WORD.search(line), line
    assert "(ไม่สำเร็จ: ปีงบประมาณ 2570 ยังไม่มีแผนมาตรการในระบบ)" in job_lines


@pytest.mark.parametrize(
    ("line", "thai"),
    [
        (RecipientResult("—", FAILED, "no plan file for fiscal year 2570"),
         "ไม่สำเร็จ: ปีงบประมาณ 2570 ยังไม่มีแผนมาตรการในระบบ"),
        (RecipientResult("staff", NOTHING, "every responsible division has reported this cycle"),
         "พนักงาน — ไม่มีรายการค้าง ไม่ส่ง"),
        (RecipientResult("staff group (part 2)", ALREADY, "sent before"), "กลุ่มพนักงาน (ส่วนที่ 2) — เคยส่งแล้ว ไม่ส่งซ้ำ"),
        (RecipientResult("chair 1 (ประธาน)", UNREACHABLE, "profile lookup failed"),
         "ประธาน (ประธาน) — ส่งไม่ได้: ยังไม่ได้เป็นเพื่อนกับบอทหรือบล็อกไว้"),
        (RecipientResult("managers", NOTHING, "fiscal year 2565 has a plan"),
         "ผู้จัดการ — ไม่มีรายการค้าง ไม่ส่ง: ปีงบประมาณ 2565 มีแผนมาตรการแล้ว"),
        (RecipientResult("“ส่งรายชื่อ” (2021-03-05, 3 wd before) → staff group", FAILED, "no staff group: set x"),
         "“ส่งรายชื่อ” → กลุ่มพนักงาน — ไม่สำเร็จ: ยังไม่ได้ตั้งกลุ่มพนักงาน (พิมพ์ /ตั้งกลุ่ม ในกลุ่มพนักงาน)"),
        (RecipientResult("staff group", SKIPPED, "quota: needs 3, 1 of 200 left this month"),
         "กลุ่มพนักงาน — ข้าม เพราะโควตาข้อความไม่พอ: ต้องใช้ 3 ข้อความ เหลือ 1 จาก 200 ข้อความในเดือนนี้"),
    ],
)
def test_job_result_lines_read_in_thai(line: RecipientResult, thai: str) -> None:
    assert job_line_thai(line) == thai
