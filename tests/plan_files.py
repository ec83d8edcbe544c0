"""Test helpers that write plan files into a temporary plans folder: milestones added, other years' results."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from tests.conftest import PLAN_2564

__all__ = ["EXAMPLE_MILESTONES", "plan_text", "three_years", "write_plans"]

#: Two milestones of FY 2564: one for divisions (the staff group), one for the committee (1:1).
EXAMPLE_MILESTONES = """
[[milestones]]
date = 2021-04-08
title = "ส่งข้อมูล OIT ให้ ป.ป.ช."
who = ["sp", "klang"]
notes = "ตรวจลิงก์ทุกข้อก่อนส่ง"

[[milestones]]
date = 2021-06-30
title = "สรุปผลการประเมินรอบครึ่งปี"
who = "committee"
remind_days_before = [1]
"""


def plan_text(
    fiscal_year: int = 2564,
    *,
    milestones: str = "",
    total: str | None = None,
    level: str | None = None,
    scores: Mapping[tuple[str, int], str] | None = None,
) -> str:
    """The 2564 plan's text moved to another fiscal year (its assessment is of the year before),
    with other assessment figures and extra `[[milestones]]` tables when given."""
    text = PLAN_2564.read_text(encoding="utf-8")
    ce = fiscal_year - 543
    text = re.sub(r"(?m)^fiscal_year = 2564", f"fiscal_year = {fiscal_year}", text, count=1)
    text = re.sub(r"(?m)^start = 2020-10-01", f"start = {ce - 1}-10-01", text, count=1)
    text = re.sub(r"(?m)^end = 2021-09-30", f"end = {ce}-09-30", text, count=1)
    text = text.replace("[assessment]\nfiscal_year = 2563", f"[assessment]\nfiscal_year = {fiscal_year - 1}", 1)
    # The OIT items (the file's last tables) cover the plan's own year: they move with it.
    head, oit, items = text.partition("[[oit]]")
    text = head + oit + items.replace("fiscal_year = 2564", f"fiscal_year = {fiscal_year}")
    if total is not None:
        text = text.replace('total = "92.65"', f'total = "{total}"', 1)
    if level is not None:
        text = text.replace('level = "A"\n# Section ๔', f'level = "{level}"\n# Section ๔', 1)
    for (instrument, number), score in (scores or {}).items():
        pattern = (rf'(instrument = "{instrument}"\nnumber = {number}\nname = "[^"]*"\nscore = )"[0-9.]+"')
        text, n = re.subn(pattern, rf'\g<1>"{score}"', text, count=1)
        assert n == 1, (instrument, number)
    return text + milestones


def write_plans(folder: Path, plans: Mapping[int, str]) -> Path:
    """Write `<fy>.toml` for each text into `folder`; returns the path of the latest year's (the config's plan)."""
    folder.mkdir(parents=True, exist_ok=True)
    for fy, text in plans.items():
        (folder / f"{fy}.toml").write_text(text, encoding="utf-8")
    return folder / f"{max(plans)}.toml"


def three_years(folder: Path, milestones: str = EXAMPLE_MILESTONES) -> Path:
    """Plans 2563–2565 (ITA 2562–2564 results) in `folder`; returns the 2564 plan's path for the config."""
    write_plans(folder, {
        2563: plan_text(2563, total="88.10", scores={("EIT", 2): "77.50", ("EIT", 3): "84.20", ("IIT", 4): "84.00"}),
        2564: plan_text(milestones=milestones),
        2565: plan_text(2565, total="95.20", level="AA", scores={("EIT", 2): "86.40", ("EIT", 3): "83.00"}),
    })
    return folder / "2564.toml"
