"""An indicator's number in the NACC's report is the same wherever it is shown, whatever order the file lists it in."""

from __future__ import annotations

import tomllib
from pathlib import Path

import tomli_w

from ita_bot.domain.history import score_history
from ita_bot.domain.plan_reader import load_plan
from tests.conftest import PLAN_2564


def test_the_history_numbers_indicators_in_the_instruments_order_as_the_results_table_does(tmp_path: Path) -> None:
    # The file lists the EIT and OIT indicators before the IIT ones; the instruments stay IIT, EIT, OIT.
    data = tomllib.loads(PLAN_2564.read_text(encoding="utf-8"))
    indicators = data["assessment"]["indicators"]
    data["assessment"]["indicators"] = [i for i in indicators if i["instrument"] != "IIT"] + [
        i for i in indicators if i["instrument"] == "IIT"]
    path = tmp_path / "2564.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    plan = load_plan(path)
    assert plan.assessment is not None
    [year] = score_history([plan])
    for indicator in plan.assessment.indicators:
        key = (indicator.instrument, indicator.number)
        assert year.label(key, indicator.name) == plan.assessment.label(indicator)
    first_iit = next(i for i in plan.assessment.indicators if i.instrument == "IIT" and i.number == 1)
    assert plan.assessment.nacc_number(first_iit) == 1
    assert year.label(("IIT", 1), first_iit.name).startswith("ตัวชี้วัดที่ 1 ")
