"""clean_text: what XML cannot hold is dropped, everything else is kept as typed."""

from __future__ import annotations

from ita_bot.domain.text import clean_text


def test_xml_illegal_characters_go_and_line_breaks_stay() -> None:
    assert clean_text("a\x00b\x07c\x1bd\x1fe") == "abcde"
    assert clean_text("one\x0btwo\x0cthree") == "one\ntwo\nthree"
    assert clean_text("x\ud800y\udfffz\ufffe\uffff") == "xyz"
    assert clean_text("ไทย ๑๒ 😀\tแท็บ\r\nบรรทัด") == "ไทย ๑๒ 😀\tแท็บ\r\nบรรทัด"
