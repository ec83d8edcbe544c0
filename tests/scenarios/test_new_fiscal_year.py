"""A new fiscal year end to end through the real command line: `plan new`, `plan check`, `job plan` as
subprocesses against the LINE stand-in, and a staff report accepted in FY 2570 once its plan exists."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.thai import BANGKOK
from tests.conftest import CHAIR, NAMES, SECRETARY, STAFF_KLANG, STAFF_SP

pytestmark = pytest.mark.backends("tinydb", "postgresql")

ROOT = Path(__file__).resolve().parents[2]
DEC_1 = datetime(2026, 12, 1, 10, 0, tzinfo=BANGKOK)  # fiscal year 2570


def cli(config: Any, standin: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "ITA_BOT_"))}
    env.update(ITA_BOT_CONFIG=str(config.path), ITA_BOT_DB=str(config.db_path),
               LINE_API_ENDPOINT=standin.url, LINE_DATA_API_ENDPOINT=standin.url)
    if config.database_url:  # the test's office on PostgreSQL (see conftest's storage_backend)
        env.update(ITA_BOT_DATABASE_URL=config.database_url, ITA_BOT_OFFICE=config.office)
    return subprocess.run([sys.executable, "bot.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def register(bot: Any) -> None:
    for uid, div in ((STAFF_SP, "sp"), (STAFF_KLANG, "klang")):
        bot.office.people.register(uid, NAMES[uid], div, approved=True, now=DEC_1)


def test_plan_new_makes_the_year_usable_in_chat_at_once(bot: Any, standin: Any) -> None:
    register(bot)
    refused = bot.send("/รายงาน 1 กำลังทำ 30% เริ่มประชาสัมพันธ์", user=STAFF_SP, at=DEC_1)
    assert "ยังไม่มีแผนมาตรการของปีงบประมาณ" in refused.text and bot.reports(2570) == []

    made = cli(bot.config, standin, "plan", "new", "2570")
    assert made.returncode == 0, made.stderr
    assert "plan 2570 drafted from plan 2564" in made.stdout and "carried over" in made.stdout
    target = bot.config.db_path.parent / "plans" / "2570.toml"
    on_files = not bot.config.database_url
    assert (str(target) in made.stdout and target.is_file()) if on_files else not target.exists()

    # The running app (another process from the command line's point of view) follows the new file at once.
    accepted = bot.send("/รายงาน 1 กำลังทำ 30% เริ่มประชาสัมพันธ์", user=STAFF_SP, at=DEC_1.replace(hour=11))
    assert "ยังไม่มีแผน" not in accepted.text
    [stored] = bot.reports(2570)
    assert (stored.measure, stored.division, stored.percent) == (1, "sp", 30)
    page = bot.client.get("/reports/2570.json")
    assert page.status_code == 200
    body = page.get_json()
    assert body["fiscal_year"] == 2570 and body["assessment"] is None
    assert [r["division"] for m in body["measures"] for r in m["reports"]] == ["สำนักงานปลัด"]
    html = bot.client.get("/reports/2570")
    assert html.status_code == 200 and "ยังไม่ได้บันทึกผลการประเมิน ITA" in html.get_data(as_text=True)
    assert bot.client.get("/reports/2564.json").get_json()["fiscal_year"] == 2564  # earlier years untouched

    # Never overwritten.
    before = bot.office.plans.version(2570)
    again = cli(bot.config, standin, "plan", "new", "2570", "--from", "2564")
    assert again.returncode == 1 and "already has a plan" in again.stderr
    assert bot.office.plans.version(2570) == before

    status, health = bot.healthz()
    assert status == 200 and 2570 in health["plans"]


@pytest.mark.backends("tinydb")  # checks a file; stores nothing
def test_plan_check_prints_the_plan_or_each_problem(config: Any, standin: Any, tmp_path: Path) -> None:
    good = cli(config, standin, "plan", "check", str(ROOT / "storage" / "plans" / "2564.toml"))
    assert good.returncode == 0, good.stderr
    assert "fiscal year 2564" in good.stdout and "measures (4):" in good.stdout and "divisions (4):" in good.stdout
    assert "4. ต้องมีการพัฒนาทักษะ" in good.stdout and "sp, klang, chang" in good.stdout

    text = (ROOT / "storage" / "plans" / "2564.toml").read_text(encoding="utf-8")
    bad = tmp_path / "2564.toml"
    bad.write_text(text.replace('divisions = ["sp", "klang", "chang"]', 'divisions = ["sp", "klung"]')
                   .replace('score = "81.80"', 'score = "81.8"'), encoding="utf-8")
    checked = cli(config, standin, "plan", "check", str(bad))
    assert checked.returncode == 1
    assert "2 problem(s)" in checked.stderr
    assert "measures[3].divisions[1]: ไม่รู้จักกอง 'klung'" in checked.stderr
    assert "assessment.indicators[6].score:" in checked.stderr

    broken = tmp_path / "broken.toml"
    broken.write_text("fiscal_year = \nstart = 2020-10-01\n", encoding="utf-8")
    syntax = cli(config, standin, "plan", "check", str(broken))
    assert syntax.returncode == 1 and "line 1" in syntax.stderr and "TOML" in syntax.stderr


def test_job_plan_tells_each_manager_once_and_stays_quiet_when_the_year_has_a_plan(
    config: Any, standin: Any
) -> None:
    # Tue 1 Sep 2026, the first working day of September: the coming year 2570 has no plan.
    first = cli(config, standin, "job", "plan", "--now", "2026-09-01T09:00")
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("sent") == 2
    for uid in (CHAIR, SECRETARY):
        [text] = standin.sent_texts(uid)
        # What a manager can do in the console; never a command line sent to a person.
        assert "ปีงบประมาณ 2570" in text and "/จัดการ" in text and "python bot.py" not in text
        assert "https://ita.example.go.th/admin" in text
    again = cli(config, standin, "job", "plan", "--now", "2026-09-01T09:30")
    assert again.returncode == 0 and "already sent" in again.stdout
    assert len(standin.pushes()) == 2

    made = cli(config, standin, "plan", "new", "2570")
    assert made.returncode == 0, made.stderr
    # Thu 1 Oct 2026: the current year 2570 now has its plan, so nobody is told anything.
    october = cli(config, standin, "job", "plan", "--now", "2026-10-01T09:00")
    assert october.returncode == 0, october.stderr
    assert "nothing" in october.stdout and len(standin.pushes()) == 2


@pytest.mark.backends("tinydb")  # the shipped plan only
def test_check_says_which_year_has_no_plan(office: Any) -> None:
    from ita_bot.cli import plan_status_lines, preflight_problems

    lines = "\n".join(plan_status_lines(office, date(2026, 12, 1)))
    assert "plan:   2564" in lines
    assert "2571" not in lines  # the coming year is mentioned from August only
    # The current year without a plan is a problem: `check` exits 1 on it.
    [problem] = [p for p in preflight_problems(office, date(2026, 12, 1)) if p.startswith("fiscal year")]
    assert "fiscal year 2570 (now) has no plan" in problem and "plan new 2570" in problem
    assert not [p for p in preflight_problems(office, date(2021, 8, 20)) if p.startswith("fiscal year")]
    lines = "\n".join(plan_status_lines(office, date(2021, 8, 20)))
    assert "(now) has no plan" not in lines and "coming fiscal year 2565" in lines
    assert office.missing_plans(date(2021, 7, 31)) == [] and office.missing_plans(date(2021, 9, 30)) == [2565]
    assert office.missing_plans(date(2021, 10, 1)) == [2565] and office.missing_plans(date(2026, 12, 1)) == [2570]
