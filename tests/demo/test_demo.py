"""`python bot.py demo`: scripted conversations through a real subprocess, plus the bubble renderer and job slots."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from ita_bot.demo.render import bar, render_messages
from ita_bot.demo.timeline import due_slots
from ita_bot.demo.world import START, World
from ita_bot.domain.thai import BANGKOK

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 90


# What the team edits in the checkout (possibly while these tests run); anything else is data.
SOURCE_SUFFIXES = {".py", ".pyc", ".md", ".toml", ".txt", ".html", ".css", ".js", ".cfg", ".ini", ".yml", ".yaml"}
SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "node_modules"}


def data_files_changed_since(t0: float) -> list[str]:
    """Files in the checkout written since t0 that are not source: a database, journal entry,
    lock, evidence or backup would show here (checked by time, so others' edits don't interfere)."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in files:
            path = Path(folder) / name
            try:
                changed = max(path.stat().st_mtime, path.stat().st_ctime) >= t0
            except FileNotFoundError:
                continue
            if changed and (path.suffix not in SOURCE_SUFFIXES or "storage" in path.relative_to(ROOT).parts[:1]):
                found.append(str(path.relative_to(ROOT)))
    return found


def run_demo(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the demo with piped input; temp files go under tmp_path, and the LINE/DB environment that a
    real deployment would use points somewhere the demo must ignore."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "ITA_BOT_"))}
    env.update(
        {
            "TMPDIR": str(tmp_path),
            "PYTHONIOENCODING": "utf-8",
            "ITA_BOT_DB": str(tmp_path / "env-db" / "ita-bot.json"),
            "LINE_API_ENDPOINT": "http://127.0.0.1:9",  # nothing listens there: the demo must not use it
            "LINE_CHANNEL_SECRET": "not-for-the-demo",
        }
    )
    done = subprocess.run(
        [sys.executable, "bot.py", "demo", *args],
        cwd=ROOT,
        input=script,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.mark.slow  # a real process: `bot.py demo`
def test_help_and_scores_piped_write_nothing_into_the_checkout(tmp_path: Path) -> None:
    t0 = time.time() - 1  # coarse file-system timestamps
    done = run_demo(tmp_path, "/ช่วยเหลือ\n/คะแนน\n")
    out = done.stdout
    assert "/reports/2564" in out and "http://127.0.0.1:" in out  # the banner names the local report page
    assert "[sp @ กลุ่มพนักงาน] > /ช่วยเหลือ" in out  # typed lines are echoed into the transcript
    assert "/ลงทะเบียน" in out and "/รายงาน" in out  # the help answer
    assert "92.65" in out and "ต่ำกว่าเป้าหมาย" in out  # the scores answer
    assert out.rstrip().endswith("จบการสาธิต (demo ended)")
    assert data_files_changed_since(t0) == []
    # The temporary database went away with the demo, and ITA_BOT_DB was not used.
    assert not list(tmp_path.glob("ita-bot-demo-*"))
    assert not (tmp_path / "env-db").exists()


@pytest.mark.slow  # a real process: `bot.py demo`
def test_demo_commands_clock_and_bad_input_never_crash(tmp_path: Path) -> None:
    script = "\n".join(
        [":as chair", ":who", ":dm", ":as nobody", ":bogus", ":date not-a-date", ":time", ":urls", ":help",
         "สวัสดี", ":group", "สวัสดีทุกคน", ":quit", "/ช่วยเหลือ"]
    )
    out = run_demo(tmp_path, script + "\n").stdout
    assert "→ 2. chair" in out  # :who marks the current persona after :as chair
    assert "[chair @ แชต 1:1] > สวัสดี" in out
    assert "ไม่พบตัวละคร “nobody”" in out
    assert "ไม่รู้จักคำสั่ง :bogus" in out
    assert "รูปแบบ: :date YYYY-MM-DD" in out
    assert "ถัดไป: จ. 22 ก.พ. 2564 09:00  reminder" in out
    assert "/reports/2564/2021-02" in out
    assert "ในกลุ่ม บอทไม่ตอบข้อความทั่วไป" in out  # group chatter gets no reply, and the demo says why
    assert "[chair @ กลุ่มพนักงาน] > /ช่วยเหลือ" not in out  # :quit ended it before the last line


PROMPT = re.compile(r"^\[(\w+) @ ([^\]]+)\] > (.*)$")
LINE_USER_ID = re.compile(r"U[0-9a-f]{32}")


def sections(out: str) -> list[tuple[str, str]]:
    """The transcript as (typed line, everything printed after it until the next prompt)."""
    found: list[tuple[str, list[str]]] = []
    for line in out.splitlines():
        m = PROMPT.match(line)
        if m:
            found.append((m.group(3), []))
        elif found:
            found[-1][1].append(line)
    return [(typed, "\n".join(lines)) for typed, lines in found]


def answer(out: str, typed: str) -> str:
    matches = [text for line, text in sections(out) if line == typed]
    assert matches, f"{typed!r} was not typed in:\n{out[-3000:]}"
    return matches[0]


@pytest.mark.slow  # a real process: `bot.py demo`
def test_scripted_conversation_register_report_status_reminder_digest_summary(tmp_path: Path) -> None:
    script = [
        ":as new",
        "/ลงทะเบียน ช่าง",
        "/รายงาน 4 กำลังทำ 50% อบรมการดูแลเว็บไซต์แล้ว",
        ":photo",
        "/สถานะ",
        ":date 2021-02-22 09:00",
        ":as chair",
        ":dm",
        "/ค้าง",
        ":date 2021-02-24 16:00",
        ":date 2021-02-25 08:00",
        ":date 2021-02-25 08:00",
    ]
    out = run_demo(tmp_path, "\n".join(script) + "\n").stdout
    assert not LINE_USER_ID.search(out)  # PDPA: people show by name, never by LINE ID

    registered = answer(out, "/ลงทะเบียน ช่าง")
    assert "ตอบในกลุ่มพนักงาน" in registered and "กองช่าง" in registered
    reported = answer(out, "/รายงาน 4 กำลังทำ 50% อบรมการดูแลเว็บไซต์แล้ว")
    assert "บันทึกรายงานแล้ว" in reported and "50%" in reported
    assert "แนบ" in answer(out, ":photo")  # the image became evidence of that report
    status = answer(out, "/สถานะ")
    assert "┌ มาตรการที่ 1" in status  # Flex rendered as cards
    assert "กองช่าง  กำลังดำเนินการ 50%  ▓▓▓▓▓░░░░░" in status  # a row with its progress bar
    assert "กองคลัง  กำลังดำเนินการ 30%" in status  # seeded on 10 Feb

    reminder = answer(out, ":date 2021-02-22 09:00")
    assert "งาน reminder" in reminder
    assert "📣 ITA Bot → ส่งถึงกลุ่มพนักงาน (push)" in reminder
    assert "@เจ้าหน้าที่ สป." in reminder  # textV2 mention resolved to the display name
    assert "{" not in reminder  # no placeholder left unresolved
    assert "กองช่าง" not in reminder  # it reported this cycle: not named as pending

    pending = answer(out, "/ค้าง")
    assert "ตอบในแชต 1:1 ของประธาน" in pending and "สำนักงานปลัด" in pending

    digest_day = answer(out, ":date 2021-02-24 16:00")
    reminder2, _, digest = digest_day.partition("งาน digest")
    assert "งาน reminder" in reminder2 and "@เจ้าหน้าที่ สป." in reminder2  # the 1-day reminder at 09:00
    assert "📣 ITA Bot → ส่งถึงแชต 1:1 ของประธาน (push)" in digest
    assert "/reports/2564/2021-02" in digest and "กองช่าง" in digest

    summary = [text for line, text in sections(out) if line == ":date 2021-02-25 08:00"]
    assert "งาน summary" in summary[0] and "📣 ITA Bot → ส่งถึงกลุ่มพนักงาน (push)" in summary[0]
    # Going to the same moment again runs nothing: the clock's slots run once.
    assert "0 งานตามกำหนด" in summary[1] and "📣" not in summary[1]


@pytest.mark.slow  # a real process: `bot.py demo`
def test_quick_reply_choices_are_pressed_with_a_prompt_command(tmp_path: Path) -> None:
    script = ["/รายงาน", ":2", ":press ๓", "ปรับปรุงช่องทางรับเรื่องร้องเรียนออนไลน์", "/สถานะ 2"]
    out = run_demo(tmp_path, "\n".join(script) + "\n").stdout
    measures = answer(out, "/รายงาน")
    assert "[2] มาตรการที่ 2" in measures and "เช่น :1" in measures
    statuses = answer(out, ":2")
    assert "(กดปุ่ม “มาตรการที่ 2" in statuses  # the press sent the button's postback
    assert "[3] 🟡 กำลังทำ 50%" in statuses
    assert "(กดปุ่ม “🟡 กำลังทำ 50%”" in answer(out, ":press ๓")
    assert "บันทึกรายงานแล้ว" in answer(out, "ปรับปรุงช่องทางรับเรื่องร้องเรียนออนไลน์")
    assert "สำนักงานปลัด  กำลังดำเนินการ 50%" in answer(out, "/สถานะ 2")


@pytest.mark.slow  # a real process: `bot.py demo`
def test_db_option_keeps_the_data_for_the_next_run(tmp_path: Path) -> None:
    db = tmp_path / "kept" / "demo.json"
    first = run_demo(tmp_path, ":as klang\n/รายงาน 4 กำลังทำ 60% ประชุมทีมเว็บไซต์\n:date 2021-02-22 09:00\n",
                     "--db", str(db)).stdout
    assert "บันทึกรายงานแล้ว" in answer(first, "/รายงาน 4 กำลังทำ 60% ประชุมทีมเว็บไซต์")
    assert str(db) in first and "เก็บไว้ (kept)" in first
    assert db.exists()
    second = run_demo(tmp_path, "/สถานะ 4\n:date 2021-02-22 09:00\n", "--db", str(db)).stdout
    history = answer(second, "/สถานะ 4")
    assert "ประชุมทีมเว็บไซต์" in history and "กองคลัง  กำลังดำเนินการ 60%" in history
    assert "ทั้งหมด 2 รายงาน" in history  # the sample reports were made once, not again on the second run
    assert "📣" not in answer(second, ":date 2021-02-22 09:00")  # the reminder was already sent last time


# --- in-process parts: the renderer and the job slots --------------------------------------------


def test_text_v2_mentions_become_names() -> None:
    message = {
        "type": "textV2",
        "text": "{a} และ {b} ยังไม่ได้รายงาน {{ครบ}} {all}",
        "substitution": {
            "a": {"type": "mention", "mentionee": {"type": "user", "userId": "U1"}},
            "b": {"type": "mention", "mentionee": {"type": "user", "userId": "U2"}},
            "all": {"type": "mention", "mentionee": {"type": "all"}},
        },
    }
    names = {"U1": "เจ้าหน้าที่ สป.", "U2": "เจ้าหน้าที่ ช่าง"}
    out = render_messages([message], lambda uid: names[uid])
    assert out.lines == ["@เจ้าหน้าที่ สป. และ @เจ้าหน้าที่ ช่าง ยังไม่ได้รายงาน {ครบ} @All"]


def test_flex_card_rows_bars_buttons_and_quick_replies() -> None:
    bubble = {
        "type": "bubble",
        "header": {"type": "box", "layout": "vertical", "contents": [
            {"type": "text", "text": "สถานะมาตรการ"}, {"type": "text", "text": "รอบประชุม 25 ก.พ. 2564"}]},
        "body": {"type": "box", "layout": "vertical", "contents": [
            {"type": "box", "layout": "horizontal", "contents": [
                {"type": "text", "text": "มาตรการ 4"}, {"type": "text", "text": "กองคลัง"}]},
            {"type": "box", "layout": "vertical", "backgroundColor": "#EEEEEE", "contents": [
                {"type": "box", "layout": "vertical", "width": "30%", "height": "6px", "contents": []}]},
            {"type": "box", "layout": "horizontal", "contents": [
                {"type": "box", "layout": "vertical", "flex": 3, "contents": []},
                {"type": "box", "layout": "vertical", "flex": 1, "contents": []}]},
            {"type": "separator"},
            {"type": "text", "contents": [{"type": "span", "text": "ค้าง "}, {"type": "span", "text": "2"}]},
        ]},
        "footer": {"type": "box", "layout": "vertical", "contents": [
            {"type": "button", "action": {"type": "uri", "label": "หน้ารายงาน", "uri": "http://x/reports/2564"}},
            {"type": "button", "action": {"type": "postback", "label": "ดูค้าง", "data": "pending"}}]},
    }
    flex = {"type": "flex", "altText": "สถานะ", "contents": {"type": "carousel", "contents": [bubble]},
            "quickReply": {"items": [{"type": "action", "action": {"type": "message", "label": "มาตรการ 1",
                                                                    "text": "1"}}]}}
    out = render_messages([flex, {"type": "image"}], str)
    text = "\n".join(out.lines)
    assert out.lines[0] == "┌ สถานะมาตรการ"
    assert "│ รอบประชุม 25 ก.พ. 2564" in text
    assert "│ มาตรการ 4  กองคลัง" in text
    assert f"│ {bar(30)}" in text and "▓▓▓░░░░░░░ 30%" in text
    assert "▓▓▓▓▓▓▓▓░░ 75%" in text
    assert "│ ค้าง 2" in text
    assert "🔗 หน้ารายงาน: http://x/reports/2564" in text
    assert "│ [1] ดูค้าง" in text
    assert out.lines[-1] == "[รูปภาพ]"
    assert [c.label for c in out.all_choices] == ["ดูค้าง", "มาตรการ 1"]


def test_job_slots_of_the_february_meeting(office) -> None:
    slots = due_slots(office, START, datetime(2021, 2, 25, 8, 0, tzinfo=BANGKOK))
    assert [(s.at.strftime("%d %H:%M"), s.job, s.days_before) for s in slots] == [
        ("22 09:00", "reminder", 3),
        ("24 09:00", "reminder", 1),
        ("24 16:00", "digest", 1),
        ("25 08:00", "summary", 0),
    ]
    # Half-open: the start moment itself is not run again; nothing due going nowhere.
    assert due_slots(office, slots[0].at, slots[0].at) == []
    assert [s.job for s in due_slots(office, slots[0].at, slots[1].at)] == ["reminder"]


def test_the_printed_report_page_is_served_by_the_real_app(tmp_path: Path) -> None:
    world = World(tmp_path / "db" / "ita-bot.json").start()
    try:
        with urllib.request.urlopen(f"{world.base_url}/reports/2564.json", timeout=10) as r:
            data = json.loads(r.read())
        with urllib.request.urlopen(f"{world.base_url}/reports/2564", timeout=10) as r:
            page = r.read().decode("utf-8")
    finally:
        world.stop()
    assert "หนองเมือง" in page
    seeded = [(m["number"], rep["percent"]) for m in data["measures"] for rep in m["reports"]]
    assert sorted(seeded) == [(1, 100), (2, 40), (4, 30)]
    assert not LINE_USER_ID.search(page + json.dumps(data))


@pytest.mark.parametrize("n", [0, 37, 100])
def test_bar_width_is_fixed(n: int) -> None:
    assert len(bar(n).split()[0]) == 10
