"""The year page counts the plan's own measure–division pairs, as /สถานะ and the cycle pages do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ita_bot.publish.disclosure import year_report
from tests.conftest import PLAN_2564, STAFF_KLANG, STAFF_SP


def test_a_division_dropped_from_the_plan_file_keeps_its_reports_shown_but_not_counted(make_bot: Any,
                                                                                     tmp_path: Path) -> None:
    plan_file = tmp_path / "plans" / "2564.toml"
    plan_file.parent.mkdir()
    text = PLAN_2564.read_text(encoding="utf-8")
    plan_file.write_text(text, encoding="utf-8")
    bot = make_bot(organization={"plan": str(plan_file)})
    for user, division in ((STAFF_SP, "สป."), (STAFF_KLANG, "คลัง")):
        bot.send(f"/ลงทะเบียน {division}", user=user, group=True)
        bot.office.people.approve(user)
    assert "บันทึกรายงานแล้ว" in bot.send("/รายงาน 4 กำลังทำ 40% ตั้งผู้ดูแล", user=STAFF_KLANG, group=True).text
    # The deployed file is edited by hand: กองคลัง no longer shares measure 4.
    plan_file.write_text(text.replace('divisions = ["sp", "klang", "chang"]', 'divisions = ["sp", "chang"]', 1),
                         encoding="utf-8")
    plan = bot.office.plan_for(2564)
    assert (4, "klang") not in plan.pairs()

    year = year_report(bot.office, 2564, bot.now)
    assert sum(year.counts[s] for s in ("done", "doing", "blocked", "todo", "none")) == len(plan.pairs())
    measure4 = next(m for m in year.measures if m.number == 4)
    assert "กองคลัง" in [p.division for p in measure4.progress]  # its report stays on the public record
    view = bot.office.view(bot.office.cycle_at(bot.now)).counts()
    assert all(year.counts[s] == view[s] for s in ("done", "doing", "blocked", "todo", "none"))
