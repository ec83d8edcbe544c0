"""The ITAS wording: it names only the menu path a link check saw, and says what is missing otherwise."""

from __future__ import annotations

from ita_bot.domain.itas import itas_answer

URL = "https://ita.example.go.th/reports/2564"
SITE = "https://www.nongmuang.go.th"


def test_a_found_path_is_named_link_by_link() -> None:
    answer = itas_answer(URL, SITE, path=("ITA", "O42 มาตรการ"), linked_url=URL, checked=True)
    assert answer.sentence == (f"เผยแพร่ที่ {URL} เข้าถึงได้จากหน้าแรกของเว็บไซต์หลักของหน่วยงาน {SITE} "
                               "โดยคลิก “ITA” › “O42 มาตรการ”")
    assert answer.advice == ""


def test_a_link_without_text_is_not_given_a_made_up_name() -> None:
    answer = itas_answer(URL, SITE, path=("",), linked_url=URL, checked=True)
    assert answer.sentence == f"เผยแพร่ที่ {URL} เข้าถึงได้จากหน้าแรกของเว็บไซต์หลักของหน่วยงาน {SITE}"
    assert "ชื่อเมนู" in answer.advice


def test_without_a_link_the_sentence_gives_the_address_and_the_advice_says_what_to_do() -> None:
    assert "ยังไม่ได้ตั้งที่อยู่เว็บไซต์หลัก" in itas_answer(URL, "").advice
    assert "ยังไม่ได้ตรวจลิงก์" in itas_answer(URL, SITE).advice
    missing = itas_answer(URL, SITE, checked=True)
    assert missing.sentence == f"เผยแพร่ที่ {URL}" and f"เพิ่มลิงก์ไปที่ {URL}" in missing.advice
    unreadable = itas_answer(URL, SITE, checked=True, problem="www.nongmuang.go.th ไม่ตอบภายใน 10 วินาที")
    assert "ไม่ตอบภายใน 10 วินาที" in unreadable.advice


def test_the_latest_snapshot_is_named_for_the_assessment() -> None:
    answer = itas_answer(URL, SITE, frozen=("1 มี.ค. 2564 10:00 น.", URL + "/snapshots/2"))
    assert answer.sentence.endswith(f"ตรึงไว้เมื่อ 1 มี.ค. 2564 10:00 น. อยู่ที่ {URL}/snapshots/2")
