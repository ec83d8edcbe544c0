"""Score history and the assessment calendar on the public page, its JSON, and in /คะแนน."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from ita_bot.domain.config import Config
from ita_bot.web import create_app
from tests.conftest import STRANGER
from tests.plan_files import three_years

INDICATORS = [("IIT", 1), ("IIT", 2), ("IIT", 3), ("IIT", 4), ("IIT", 5), ("EIT", 1), ("EIT", 2), ("EIT", 3),
              ("OIT", 1), ("OIT", 2)]


@pytest.fixture
def history_config(make_config: Callable[..., Config], tmp_path: Path) -> Config:
    return make_config(organization={"plan": str(three_years(tmp_path / "plans"))})


@pytest.fixture
def client(history_config: Config) -> FlaskClient:
    return create_app(history_config, start_worker=False).test_client()


def test_the_json_has_the_score_history_oldest_first_in_the_contracts_shape(client: FlaskClient) -> None:
    data = json.loads(client.get("/reports/2564.json").get_data())
    history = data["score_history"]
    assert [(y["fiscal_year"], y["total"], y["level"]) for y in history] == [
        (2562, 88.1, "A"), (2563, 92.65, "A"), (2564, 95.2, "AA")]
    for year in history:
        assert set(year) == {"fiscal_year", "total", "level", "indicators"}
        assert [(i["instrument"], i["number"]) for i in year["indicators"]] == INDICATORS
        assert all(set(i) == {"instrument", "number", "score"} for i in year["indicators"])
    assert {"instrument": "EIT", "number": 2, "score": 81.8} in history[1]["indicators"]
    assert {"instrument": "EIT", "number": 2, "score": 77.5} in history[0]["indicators"]
    # Every year's page carries the same history.
    assert json.loads(client.get("/reports/2565.json").get_data())["score_history"] == history


def test_the_json_lists_the_years_milestones_with_who_by_name(client: FlaskClient) -> None:
    data = json.loads(client.get("/reports/2564.json").get_data())
    assert [(m["date"], m["title"], m["who"]) for m in data["milestones"]] == [
        ("2021-04-08", "ส่งข้อมูล OIT ให้ ป.ป.ช.", ["สำนักงานปลัด", "กองคลัง"]),
        ("2021-06-30", "สรุปผลการประเมินรอบครึ่งปี", ["คณะกรรมการ"]),
    ]
    assert json.loads(client.get("/reports/2563.json").get_data())["milestones"] == []


def test_the_page_shows_the_history_table_with_under_target_cells_and_an_svg_chart(client: FlaskClient) -> None:
    html = client.get("/reports/2564").get_data(as_text=True)
    assert "<script" not in html
    table = html[html.index('id="score-history"'):html.index('id="measures"')]
    assert [t for t in ("ITA 2562", "ITA 2563", "ITA 2564") if t in table] == ["ITA 2562", "ITA 2563", "ITA 2564"]
    assert re.search(r'class="num under"[^>]*>\s*77\.50 ▼', table)  # EIT 2 in 2562
    assert re.search(r'class="num"[^>]*>\s*86\.40</td>', table)  # EIT 2 in 2564: met the target
    svg = table[table.index("<svg"):table.index("</svg>")]
    assert "<polyline" in svg and "ITA 2562" in svg and "เป้าหมาย 85.00" in svg
    # The total and every indicator ever under the target are drawn, labelled for print.
    # Labelled with the NACC's numbers (1–10 across the instruments), the instrument beside.
    for label in ("คะแนนรวม", "7. ประสิทธิภาพการสื่อสาร (EIT)", "8. การปรับปรุงการทำงาน (EIT)", "4. การใช้ทรัพย์สิน"):
        assert label in svg
    assert "1. การปฏิบัติหน้าที่" not in svg  # never under the target: only in the table
    assert "ตัวชี้วัดที่ 7 ประสิทธิภาพการสื่อสาร (EIT)</th>" in table  # a row header and "EIT 2" not in table
    milestones = html[html.index('id="milestones"'):html.index('id="cycles"')]
    assert "ส่งข้อมูล OIT ให้ ป.ป.ช." in milestones and "สำนักงานปลัด, กองคลัง" in milestones


def test_one_year_known_still_draws_a_chart(make_config: Callable[..., Config]) -> None:
    html = create_app(make_config(), start_worker=False).test_client().get("/reports/2564").get_data(as_text=True)
    assert "ITA 2563" in html and "<svg" in html and "ยังไม่มีกำหนดการประเมิน" in html


def test_scores_name_the_indicators_that_moved_more_than_2_points(make_bot: Callable[..., Any],
                                                                  tmp_path: Path) -> None:
    bot = make_bot(organization={"plan": str(three_years(tmp_path / "plans"))})
    text = bot.send("/คะแนน", user=STRANGER, at=datetime(2021, 2, 15, 10, 0)).text
    assert "เทียบกับผลปี 2562:" in text
    assert "📈 เพิ่มขึ้น ตัวชี้วัดที่ 7 ประสิทธิภาพการสื่อสาร (EIT) 4.30 คะแนน (77.50 → 81.80)" in text
    assert "📉 ลดลง" in text and "ตัวชี้วัดที่ 4 การใช้ทรัพย์สินของราชการ (IIT) 4.51 คะแนน (84.00 → 88.51)" in text
    assert "ตัวชี้วัดที่ 8 การปรับปรุงการทำงาน (EIT)" in text.split("เทียบกับ")[1]  # 84.20 → 81.70 moved 2.50
    assert text.count(" → ") == 3


def test_scores_without_the_year_before_add_nothing(bot: Any) -> None:
    assert "เทียบกับ" not in bot.send("/คะแนน", user=STRANGER).text
