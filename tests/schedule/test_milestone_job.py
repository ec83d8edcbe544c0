"""Job `milestone` as an operator and the clock run it: `bot.py job milestone --now T` against the LINE stand-in."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.config import Config
from ita_bot.domain.office import Office
from ita_bot.line.client import LineClient
from ita_bot.schedule.clock import Clock
from ita_bot.schedule.delivery import Delivery
from ita_bot.schedule.jobs import run_job
from ita_bot.store import open_office
from tests.chat.test_messages import assert_line_json
from tests.conftest import (
    CHAIR,
    GROUP,
    MEMBER,
    NAMES,
    ROOT,
    SECRETARY,
    STAFF_CHANG,
    STAFF_KLANG,
    STAFF_SP,
    STAFF_SP2,
    TOKEN,
    give_role,
)
from tests.console_harness import Browser, form_fields
from tests.plan_files import EXAMPLE_MILESTONES, plan_text, write_plans
from tests.processes import at

NOT_A_FRIEND = "U" + "f" * 32




@pytest.fixture
def config(make_config: Callable[..., Config], tmp_path: Path) -> Config:
    plan = write_plans(tmp_path / "plans", {2564: plan_text(milestones=EXAMPLE_MILESTONES)})
    return make_config(organization={"plan": str(plan)}, roles={"member": [MEMBER]})


@pytest.fixture
def office(config: Config) -> Office:
    office = open_office(config)
    for uid, div in ((STAFF_SP, "sp"), (STAFF_SP2, "sp"), (STAFF_KLANG, "klang"), (STAFF_CHANG, "chang")):
        office.people.register(uid, NAMES[uid], div, approved=True, now=at("2021-01-10T10:00"))
    office.people.set_in_group(STAFF_SP2, False)  # left the group: not mentioned
    return office


def job(config: Config, standin: Any, now: str) -> subprocess.CompletedProcess[str]:
    """`python bot.py job milestone --now T` as a separate process, as an operator types it."""
    env = {
        **os.environ,
        "ITA_BOT_CONFIG": str(config.path),
        "ITA_BOT_DB": str(config.db_path),
        "LINE_API_ENDPOINT": standin.url,
        "LINE_DATA_API_ENDPOINT": standin.url,
    }
    return subprocess.run([sys.executable, "bot.py", "job", "milestone", "--now", now], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def mentioned(message: dict[str, Any]) -> list[str]:
    return [s["mentionee"]["userId"] for s in (message.get("substitution") or {}).values()]


@pytest.mark.slow  # a real process: `bot.py job milestone`
def test_a_division_milestone_reminds_the_staff_group_mentioning_its_staff_once_per_day(
    config: Config, office: Office, standin: Any
) -> None:
    # ส่งข้อมูล OIT, Thu 8 Apr 2564, for สป. and กองคลัง; 5 working days before is Wed 31 Mar (6 Apr is Chakri Day).
    first = job(config, standin, "2021-03-31T09:00")
    assert first.returncode == 0, first.stderr
    assert "sent" in first.stdout and "U" + "1" * 32 not in first.stdout + first.stderr
    [push] = standin.pushes()
    assert push["to"] == GROUP
    [message] = push["messages"]
    assert message["type"] == "textV2"
    text = message["text"]
    assert "ส่งข้อมูล OIT ให้ ป.ป.ช." in text and "วันพฤหัสบดีที่ 8 เม.ย. 2564" in text and "อีก 5 วันทำการ" in text
    assert "สำนักงานปลัด, กองคลัง" in text and "ตรวจลิงก์ทุกข้อก่อนส่ง" in text and "/ปฏิทิน" in text
    assert mentioned(message) == [STAFF_SP, STAFF_KLANG]  # กองช่าง is not responsible; STAFF_SP2 left

    # A rerun, and a run before the next reminder day, are no-ops (the same (milestone, day, recipient)).
    for again in ("2021-03-31T15:00", "2021-04-02T09:00"):
        result = job(config, standin, again)
        assert result.returncode == 0 and "already sent" in result.stdout
    assert len(standin.pushes()) == 1

    assert job(config, standin, "2021-04-07T09:00").returncode == 0  # 1 working day before
    assert len(standin.pushes()) == 2
    assert "อีก 1 วันทำการ" in standin.pushes()[1]["messages"][0]["text"]

    # Once the date has passed, never reminded late.
    late = job(config, standin, "2021-04-09T09:00")
    assert late.returncode == 0 and "nothing pending" in late.stdout
    assert len(standin.pushes()) == 2


@pytest.mark.slow  # a real process: `bot.py job milestone`
def test_a_committee_milestone_goes_1_to_1_to_each_role_holder(
    config: Config, office: Office, standin: Any
) -> None:
    standin.add_user(NOT_A_FRIEND, "กรรมการไม่เป็นเพื่อน", friend=False)
    give_role(office, NOT_A_FRIEND, "member")
    # สรุปผลการประเมินรอบครึ่งปี, Wed 30 Jun 2564, committee, 1 working day before: Tue 29 Jun.
    result = job(config, standin, "2021-06-29T09:00")
    pushes = standin.pushes()
    assert sorted(p["to"] for p in pushes) == sorted([CHAIR, SECRETARY, MEMBER])
    for p in pushes:
        [message] = p["messages"]
        assert message["type"] == "text"
        assert "สรุปผลการประเมินรอบครึ่งปี" in message["text"] and "ผู้รับผิดชอบ: คณะกรรมการ" in message["text"]
    assert f"เรียน คุณ{NAMES[CHAIR]}" in next(p for p in pushes if p["to"] == CHAIR)["messages"][0]["text"]
    assert_line_json(pushes[0]["messages"])
    # The member who never added the bot cannot be reached: the run says so and the managers are told.
    assert result.returncode == 1 and "unreachable" in result.stdout
    assert any("ยังไม่ได้เพิ่มบอทเป็นเพื่อน" in n.text for n in office.notices.active())
    assert job(config, standin, "2021-06-29T10:00").returncode == 1
    assert len(standin.pushes()) == 3  # the three who were reached are not pushed again


@pytest.mark.slow  # a real process: `bot.py job milestone`
def test_a_reminder_that_would_not_fit_the_quota_is_skipped_and_the_managers_told(
    config: Config, office: Office, standin: Any
) -> None:
    standin.set_quota(300)
    standin.consumption = 295  # a push to the 9-person staff group costs 9
    result = job(config, standin, "2021-03-31T09:00")
    assert result.returncode == 1
    assert "skipped (quota)" in result.stdout
    assert standin.pushes() == []
    [notice] = [n for n in office.notices.active() if n.kind == "quota"]
    assert "ส่งข้อมูล OIT ให้ ป.ป.ช." in notice.text


def test_more_than_20_staff_are_mentioned_across_messages(config: Config, office: Office, standin: Any) -> None:
    many = [f"U{i:032x}" for i in range(1, 31)]
    for i, uid in enumerate(many):
        standin.add_user(uid, f"พนักงาน {i}")
        office.people.register(uid, f"พนักงาน {i}", "klang", approved=True, now=at("2021-01-10T10:00"))
    line = LineClient(TOKEN, standin.url, standin.url)
    run_job(office, line, "milestone", at("2021-03-31T09:00"), delivery=Delivery(office, line))
    [push] = standin.pushes()
    messages = push["messages"]
    assert len(messages) > 1 and all(len(mentioned(m)) <= 20 for m in messages)
    assert [u for m in messages for u in mentioned(m)] == [STAFF_SP, STAFF_KLANG, *many]
    assert_line_json(messages)


def test_the_clock_runs_each_reminder_once_and_catches_up_only_the_latest(
    office: Office, standin: Any
) -> None:
    line = LineClient(TOKEN, standin.url, standin.url)
    now = [at("2021-04-06T10:00")]  # down over Wed 31 Mar's slot, back on Tue 6 Apr (a holiday)
    clock = Clock(office, line, now=lambda: now[0],
                  delivery=Delivery(office, line, sleep=lambda s: None, wall=lambda: now[0]))
    assert [s.id.split("/")[0] for s in clock.due(now[0])] == ["milestone"]
    clock.tick()
    assert len(standin.pushes()) == 1 and "อีก 2 วันทำการ" in standin.pushes()[0]["messages"][0]["text"]
    clock.tick()
    assert len(standin.pushes()) == 1
    assert clock.next_runs(now[0])["milestone"].at == at("2021-04-07T09:00")
    now[0] = at("2021-04-07T09:00")
    clock.tick()
    assert len(standin.pushes()) == 2
    now[0] = at("2021-04-09T09:00")
    assert [s for s in clock.due(now[0]) if s.job == "milestone"] == []


def test_correcting_a_milestone_title_does_not_send_its_reminder_again(make_bot: Any, tmp_path: Path,
                                                                       standin: Any) -> None:
    """A title corrected in the console (or in the plan file) after its reminder went is the same milestone:
    the reminder is not sent a second time that day, and the history shows the title's change."""
    plan = write_plans(tmp_path / "plans", {2564: plan_text(milestones=EXAMPLE_MILESTONES)})
    bot = make_bot(organization={"plan": str(plan)})
    bot.now = at("2021-03-31T08:30")
    line = LineClient(TOKEN, standin.url, standin.url)
    now = at("2021-03-31T09:00")
    run_job(bot.office, line, "milestone", now, delivery=Delivery(bot.office, line))
    assert len(standin.pushes()) == 1

    browser = Browser(bot)
    browser.sign_in()
    page = "/admin/plans/2564/milestones"
    fields = form_fields(browser.html(page))
    row = next(i for i in range(10) if fields.get(f"rows-{i}-title") == "ส่งข้อมูล OIT ให้ ป.ป.ช.")
    saved = browser.submit(page, {f"rows-{row}-title": "ส่งข้อมูล OIT ให้สำนักงาน ป.ป.ช."})
    assert saved.status_code == 303, saved.get_data(as_text=True)[-1500:]
    assert bot.office.plans.get(2564).milestones[0].title == "ส่งข้อมูล OIT ให้สำนักงาน ป.ป.ช."
    run_job(bot.office, line, "milestone", at("2021-03-31T15:00"), delivery=Delivery(bot.office, line))
    assert len(standin.pushes()) == 1

    # The same through the plan file: the downloaded text keeps each milestone's id, a title edited in it too.
    text = bot.office.plans.text(2564).replace("ส่งข้อมูล OIT ให้สำนักงาน ป.ป.ช.", "ส่งข้อมูล OIT (แบบ ITA)")
    bot.office.plans.save_text(2564, text, expected_version=bot.office.plans.version(2564), who="test",
                               now=now)
    run_job(bot.office, line, "milestone", at("2021-03-31T16:00"), delivery=Delivery(bot.office, line))
    assert len(standin.pushes()) == 1
    history = browser.html("/admin/history")
    assert "ส่งข้อมูล OIT ให้ ป.ป.ช." in history and "ส่งข้อมูล OIT ให้สำนักงาน ป.ป.ช." in history
    # The next reminder day still sends, under the corrected title.
    run_job(bot.office, line, "milestone", at("2021-04-07T09:00"), delivery=Delivery(bot.office, line))
    assert len(standin.pushes()) == 2 and "ส่งข้อมูล OIT (แบบ ITA)" in standin.pushes()[1]["messages"][0]["text"]


SATURDAY = """
[[milestones]]
date = 2021-05-15
title = "ส่งรายชื่อผู้มีส่วนได้ส่วนเสียภายนอก"
who = ["sp"]
remind_days_before = [1]
"""


def test_a_weekend_milestone_reminded_on_the_friday_is_not_said_to_be_today(
    make_bot: Any, tmp_path: Path, standin: Any
) -> None:
    """Sat 15 May 2564 with 1 working day before is reminded on Fri 14 May: the push, /ปฏิทิน and the year page
    all say no working day is left, never "today" (the reminder said "(วันนี้)" and the page "อีก 0 วันทำการ")."""
    plan = write_plans(tmp_path / "plans", {2564: plan_text(milestones=SATURDAY)})
    bot = make_bot(organization={"plan": str(plan)})
    bot.office.people.register(STAFF_SP, NAMES[STAFF_SP], "sp", approved=True, now=at("2021-01-10T10:00"))
    friday = at("2021-05-14T09:00")
    line = LineClient(TOKEN, standin.url, standin.url)
    run_job(bot.office, line, "milestone", friday, delivery=Delivery(bot.office, line))
    [push] = standin.pushes()
    text = push["messages"][0]["text"]
    assert "กำหนดวันเสาร์ที่ 15 พ.ค. 2564 (ไม่มีวันทำการเหลือ)" in text and "วันนี้" not in text

    [reply] = bot.send("/ปฏิทิน", user=STAFF_SP, at=friday)
    assert "15 พ.ค. 2564 · ไม่มีวันทำการเหลือ (ถัดไป)" in reply["altText"]

    bot.office.now = lambda: friday
    page = bot.client.get("/reports/2564").get_data(as_text=True)
    assert "ไม่มีวันทำการเหลือ" in page and "อีก 0 วันทำการ" not in page
