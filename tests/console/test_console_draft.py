"""The draft page: what is typed is what is kept, observations stay observations, duplicates and owners are asked."""

from __future__ import annotations

from typing import Any

from tests.console.test_console_plans import OCT_2021, enter_2564_result
from tests.console_harness import Browser

DRAFT = "/admin/draft?fy=2565"
NOTE = "ประชาสัมพันธ์ช่องทางร้องเรียนให้ประชาชนทราบ"  # the NACC's observation typed with the EIT 2 score


def signed_in_after_result(bot: Any) -> Browser:
    bot.now = OCT_2021
    browser = Browser(bot)
    browser.sign_in()
    assert enter_2564_result(browser).status_code == 303
    return browser


def test_text_edited_without_touching_the_choice_is_what_is_saved(bot: Any) -> None:
    browser = signed_in_after_result(bot)
    saved = browser.submit(DRAFT, {"suggestions-0-title": "เปิดช่องทางรับฟังความเห็นประชาชน",
                                   "suggestions-0-methods": "จัดเวทีประชาคมทุกไตรมาส\nเปิดกล่องรับความเห็นหน้าสำนักงาน",
                                   "suggestions-0-divisions": ["sp"]})
    assert saved.status_code == 303, saved.get_data(as_text=True)[-1500:]
    added = bot.office.plans.get(2565).measures[-1]
    assert added.title == "เปิดช่องทางรับฟังความเห็นประชาชน"
    assert added.methods == ("จัดเวทีประชาคมทุกไตรมาส", "เปิดกล่องรับความเห็นหน้าสำนักงาน")


def test_the_observation_is_a_reference_beside_a_method_and_the_heading_names_the_indicator(bot: Any) -> None:
    browser = signed_in_after_result(bot)
    html = browser.html(DRAFT)
    assert "ข้อสังเกตจากผลประเมิน" in html and NOTE in html
    methods = html.split('name="suggestions-0-methods"', 1)[1].split("</textarea>", 1)[0]
    assert NOTE not in methods and "วิเคราะห์สาเหตุ" in methods  # a starter method, not the problem
    legend = html.split("<legend>", 1)[1].split("</legend>", 1)[0]
    assert "ประสิทธิภาพการสื่อสาร" in legend and "80.00" in legend


def test_a_suggestion_like_a_carried_measure_is_flagged(bot: Any) -> None:
    browser = signed_in_after_result(bot)
    html = browser.html(DRAFT)
    # EIT 2's "พัฒนาประสิทธิภาพการสื่อสาร" and the carried "เพิ่มประสิทธิภาพการสื่อสาร" are one topic.
    assert "อาจซ้ำกับมาตรการที่มีในแผนแล้ว" in html and "“เพิ่มประสิทธิภาพการสื่อสาร”" in html


def test_no_division_is_chosen_for_her_and_none_chosen_is_refused_at_the_field(bot: Any) -> None:
    browser = signed_in_after_result(bot)
    html = browser.html(DRAFT)
    boxes = html.split('name="suggestions-0-divisions"')[1:]
    assert boxes and not any(b.split(">", 1)[0].count("checked") for b in boxes)
    before = bot.office.plans.version(2565)
    refused = browser.submit(DRAFT)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "กรุณาเลือกกองที่รับผิดชอบอย่างน้อยหนึ่งกอง" in page
    assert bot.office.plans.version(2565) == before


def test_the_page_says_the_plan_is_already_live(bot: Any) -> None:
    browser = signed_in_after_result(bot)
    html = browser.html(DRAFT)
    assert "แผนปีงบประมาณ 2565 ใช้งานแล้ว" in html and "รายงานผลตามแผนนี้ใน LINE ได้ทันที" in html
