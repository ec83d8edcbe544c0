"""`python bot.py demo --hosted`: two offices on one hosted service, each answered by its own bot (a subprocess)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.demo.test_demo import data_files_changed_since, run_demo

PROMPT = re.compile(r"^\[(?:([\w-]+): )?(\w+) @ ([^\]]+)\] > (.*)$")
NONGMUANG_BOT = "บอท อบต.หนองเมือง (ตัวอย่าง)"
BANNA_BOT = "บอท อบต.บ้านนา (ตัวอย่าง)"


def sections(out: str) -> list[tuple[str, str, str]]:
    """The transcript as (office in the prompt, typed line, everything printed until the next prompt), in order."""
    found: list[tuple[str, str, list[str]]] = []
    for line in out.splitlines():
        m = PROMPT.match(line)
        if m:
            found.append((m.group(1) or "", m.group(4), []))
        elif found:
            found[-1][2].append(line)
    return [(office, typed, "\n".join(lines)) for office, typed, lines in found]


@pytest.mark.slow  # a real process: `bot.py demo --hosted`
def test_each_office_answers_with_its_own_bot_and_keeps_its_own_reports(tmp_path: Path) -> None:
    t0 = time.time() - 1
    script = [
        ":as klang",
        "/รายงาน 4 กำลังทำ 50% อบรมการดูแลเว็บไซต์แล้ว",
        "/สถานะ 4",
        ":office banna",
        "/สถานะ 4",
        ":date 2021-02-22 09:00",
        ":office nowhere",
        ":office 1",
        "/สถานะ 4",
    ]
    out = run_demo(tmp_path, "\n".join(script) + "\n", "--hosted").stdout
    s = sections(out)
    assert [office for office, _, _ in s] == ["nongmuang"] * 4 + ["banna"] * 4 + ["nongmuang"]
    _, _, reported = s[1]
    assert f"🤖 {NONGMUANG_BOT} ↩ ตอบในกลุ่มพนักงาน หนองเมือง" in reported and "บันทึกรายงานแล้ว" in reported
    _, _, status_a = s[2]
    assert "กำลังดำเนินการ 50%" in status_a and BANNA_BOT not in status_a
    _, _, switched = s[3]
    assert "ตอนนี้คุยกับบอทของอบต.บ้านนา (ตัวอย่าง) ในกลุ่มพนักงาน บ้านนา" in switched
    # The other office's bot answers from its own data: its staff group, no report of the first office.
    _, _, status_b = s[4]
    assert f"🤖 {BANNA_BOT} ↩ ตอบในกลุ่มพนักงาน บ้านนา" in status_b
    assert "กำลังดำเนินการ 50%" not in status_b and NONGMUANG_BOT not in status_b
    # The office's own clock: its reminder goes to its own group through its own channel, and only that one.
    _, _, reminder = s[5]
    assert f"📣 {BANNA_BOT} → ส่งถึงกลุ่มพนักงาน บ้านนา (push)" in reminder
    assert NONGMUANG_BOT not in reminder and "หนองเมือง" not in reminder
    _, _, unknown = s[6]
    assert "ไม่พบหน่วยงาน “nowhere”" in unknown and "nongmuang" in unknown and "banna" in unknown
    _, _, back = s[8]
    assert f"🤖 {NONGMUANG_BOT} ↩" in back and "กำลังดำเนินการ 50%" in back
    assert out.rstrip().endswith("จบการสาธิต (demo ended)")
    assert data_files_changed_since(t0) == []
    assert not list(tmp_path.glob("ita-bot-demo-*"))  # the service's data went away with the demo


@pytest.mark.slow  # a real process: `bot.py demo`
def test_the_one_office_demo_has_no_offices_to_switch(tmp_path: Path) -> None:
    out = run_demo(tmp_path, ":office banna\n/ช่วยเหลือ\n").stdout
    assert "เดโมนี้มีหน่วยงานเดียว" in out
    assert "[sp @ กลุ่มพนักงาน] > /ช่วยเหลือ" in out and "🤖 ITA Bot ↩ ตอบในกลุ่มพนักงาน" in out
