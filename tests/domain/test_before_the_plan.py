"""Months whose staff meeting came before the year's measures were set owe nothing, wherever that is shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ita_bot.domain.thai import BANGKOK
from ita_bot.line.client import LineClient
from ita_bot.schedule.delivery import Delivery
from ita_bot.schedule.jobs import run_job
from tests.conftest import CHAIR, TOKEN

# The 2564 plan's measures were set on 5 Jan 2564; December 2563's meeting came before that.
DECEMBER = datetime(2020, 12, 20, 10, 0, tzinfo=BANGKOK)


def test_a_month_before_the_plan_was_set_is_not_overdue_in_chat_pages_or_reminders(bot: Any, standin: Any) -> None:
    december = bot.office.cycle_at(DECEMBER)
    assert bot.office.plan.before_set(december) and not bot.office.plan.before_set(bot.office.cycle_at(bot.now))
    assert bot.office.view(december).pending == []
    assert bot.office.view(bot.office.cycle_at(bot.now)).pending  # February's are owed, as before

    pending = bot.send("/ค้าง", user=CHAIR, group=True, at=DECEMBER.replace(tzinfo=None)).text
    assert "ไม่มีรายการค้าง" in pending

    bot.office.now = lambda: DECEMBER
    page = bot.client.get(f"/reports/2564/{december.id}").get_data(as_text=True)
    assert "ทุกหน่วยงานรายงานผลในรอบนี้ครบถ้วนแล้ว" in page and "ค้างรายงานในรอบนี้ 0" in page

    line = LineClient(TOKEN, standin.url, standin.url)
    reminder_day = datetime.combine(december.meeting, datetime.min.time(), BANGKOK).replace(hour=9)
    result = run_job(bot.office, line, "reminder", reminder_day, delivery=Delivery(bot.office, line))
    assert standin.pushes() == [] and result.ok
