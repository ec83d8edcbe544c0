"""`plan check PATH` in process: a plan's summary names its OIT items (code, what they cover, year, title)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ita_bot import cli
from ita_bot.domain.plan_reader import load_plan, parse_plan_data
from ita_bot.domain.plan_writer import plan_to_data, plan_to_toml
from tests.conftest import ROOT

PLAN_2564 = ROOT / "storage" / "plans" / "2564.toml"


def test_plan_check_lists_the_oit_items(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["plan", "check", str(PLAN_2564)]) == 0
    out = capsys.readouterr().out
    assert "OIT items (2):" in out
    assert "  O42 (measures, fiscal year 2564): มาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน" in out
    assert "  O43 (report, fiscal year 2564): การดำเนินการตามมาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน" in out


def test_plan_check_says_when_a_plan_lists_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = plan_to_data(load_plan(PLAN_2564))
    del data["oit"]
    file = tmp_path / "2564.toml"
    file.write_text(plan_to_toml(parse_plan_data(data, file)), encoding="utf-8")
    assert cli.main(["plan", "check", str(file)]) == 0
    assert "OIT items: none listed ([[oit]])" in capsys.readouterr().out
