"""A fiscal year without a plan, through signed webhooks: who is told to do what, no dead links, and a warning
about the missing plan that goes away once the plan exists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ita_bot.domain.draft import draft_plan, save_draft
from ita_bot.domain.thai import BANGKOK
from ita_bot.line.client import LineClient
from ita_bot.schedule.delivery import Delivery
from ita_bot.schedule.jobs import run_job
from tests.conftest import CHAIR, SECRETARY, STAFF_SP, TOKEN

OCT_2021 = datetime(2021, 10, 5, 10, 0, tzinfo=BANGKOK)  # fiscal year 2565: only 2564 has a plan


def test_managers_are_told_where_to_make_the_plan_and_staff_whom_to_ask(bot: Any) -> None:
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    for user in (SECRETARY, CHAIR):
        text = bot.send("/ค้าง", user=user, at=OCT_2021).text
        assert "ยังไม่มีแผนมาตรการของปีงบประมาณ 2565" in text
        assert "แจ้งเลขานุการ" not in text, user  # the secretary is not told to tell the secretary
        assert "หน้าจัดการ" in text and "“ร่างแผนปีถัดไป”" in text
    staff = bot.send("/สถานะ", user=STAFF_SP, group=True, at=OCT_2021).text
    assert "กรุณาแจ้งเลขานุการให้จัดทำแผนของปีงบประมาณ 2565" in staff
    assert "ปีนี้" not in staff and "/จัดการ" not in staff


def test_export_in_a_year_without_a_plan_gives_no_dead_links(bot: Any) -> None:
    text = bot.send("/ส่งออก", user=SECRETARY, at=OCT_2021).text
    assert "ยังไม่มีแผนมาตรการของปีงบประมาณ 2565 จึงยังไม่มีรายงานของรอบ ต.ค. 2564" in text
    assert "http" not in text
    for path in ("/reports/2565/2021-10", "/reports/2565"):
        assert bot.client.get(path).status_code == 404  # what the links would have been
    assert "/reports/2564/2021-02" in bot.send("/ส่งออก", user=SECRETARY, at=datetime(2021, 2, 16, 10, 0)).text


def test_the_no_plan_warning_goes_away_once_the_plan_exists(bot: Any) -> None:
    line = LineClient(TOKEN, bot.standin.url, bot.standin.url)
    delivery = Delivery(bot.office, line, sleep=lambda s: None)
    result = run_job(bot.office, line, "reminder", OCT_2021, delivery=delivery)
    assert not result.ok
    first = bot.send("/ฉัน", user=CHAIR, at=OCT_2021).text
    assert "ไม่มีแผนมาตรการของปีงบประมาณ 2565" in first
    assert "python" not in first and "bot.py" not in first
    # The notice is about 2565: once the secretary saves a plan for it, nobody is warned any more.
    save_draft(bot.office.plans, draft_plan(bot.office.plans, bot.office.reports, 2565), [], who="เลขานุการ",
               now=OCT_2021)
    later = bot.send("/ฉัน", user=SECRETARY, at=datetime(2021, 10, 5, 11, 0)).text
    assert "ไม่มีแผน" not in later
    assert [n for n in bot.office.notices.active() if n.plan_year == 2565] == []


def test_a_no_plan_notice_not_yet_shown_is_dropped_when_its_year_has_a_plan_by_then(bot: Any) -> None:
    """The plan can also appear without a save in the console (a restored backup, a file put in place)."""
    bot.office.notices.add("failed_send", "ไม่มีแผนมาตรการของปีงบประมาณ 2564", OCT_2021, key="x",
                                  plan_year=2564)  # 2564 has its plan
    assert "ไม่มีแผน" not in bot.send("/ฉัน", user=CHAIR).text
    assert bot.office.notices.active() == []
