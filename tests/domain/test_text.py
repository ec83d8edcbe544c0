"""clean_text: what XML cannot hold is dropped, everything else is kept as typed."""

from __future__ import annotations

from ita_bot.domain.text import clean_text, strip_invisible


def test_xml_illegal_characters_go_and_line_breaks_stay() -> None:
    assert clean_text("a\x00b\x07c\x1bd\x1fe") == "abcde"
    assert clean_text("one\x0btwo\x0cthree") == "one\ntwo\nthree"
    assert clean_text("x\ud800y\udfffz\ufffe\uffff") == "xyz"
    assert clean_text("ไทย ๑๒ 😀\tแท็บ\r\nบรรทัด") == "ไทย ๑๒ 😀\tแท็บ\r\nบรรทัด"


def test_thai_typed_as_look_alikes_is_composed() -> None:
    """SARA AM typed as NIKHAHIT + SARA AA (a tone mark between them goes before it) and two SARA E read as
    the characters they look like, so status words and names match."""
    assert clean_text("ก\u0e4d\u0e32ลังท\u0e4d\u0e32") == "กำลังทำ"
    assert clean_text("ก\u0e4d\u0e48\u0e32") == clean_text("ก\u0e48\u0e4d\u0e32") == "ก่ำ"
    assert clean_text("เสร็จเเล้ว") == "เสร็จแล้ว"
    assert clean_text("e\u0301") == "\u00e9"  # NFC


def test_invisible_characters_are_dropped_only_where_they_could_hide_a_word() -> None:
    """A family emoji keeps its joiners; a joiner or zero-width space inside Thai or ASCII is dropped."""
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert strip_invisible(f"/ราย\u200dงาน 2\u200b {family}\ufeff") == f"/รายงาน 2 {family}"
    assert strip_invisible("\u0915\u094d\u200c\u0937") == "\u0915\u094d\u200c\u0937"  # Devanagari keeps its ZWNJ
    assert strip_invisible("\u200bdone\u200c") == "done"
