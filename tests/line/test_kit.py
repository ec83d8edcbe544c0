"""The LINE message kit: lengths in UTF-16 units as LINE counts them; cutting, splitting, packing within limits."""

from __future__ import annotations

import pytest

from ita_bot.domain import thai
from ita_bot.line import kit
from ita_bot.line_standin.validation import check_send_request
from tests.conftest import GROUP

EMOJI = "😀"  # outside the BMP: one code point, two UTF-16 units


def test_lengths_are_utf16_units() -> None:
    assert kit.line_length("กขค") == 3
    assert kit.line_length(EMOJI) == 2
    assert kit.line_length(f"a{EMOJI}b") == 4


@pytest.mark.parametrize("text", ["ก" * 6, EMOJI * 6, f"กก {EMOJI}" * 3])
def test_clip_keeps_within_the_limit_in_utf16_units(text: str) -> None:
    clipped = kit.clip(text, 5)
    assert kit.line_length(clipped) <= 5
    assert clipped.endswith("…")
    assert kit.clip("สั้น", 5) == "สั้น"  # short text is left alone


def test_split_text_breaks_at_lines_and_never_passes_the_limit() -> None:
    text = "\n".join([EMOJI * 3000, "บรรทัดสั้น", "ก" * 4000])
    parts = kit.split_text(text)
    assert all(kit.line_length(p) <= kit.MAX_TEXT for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    assert kit.split_text("   ") == ["-"]  # LINE refuses empty text


def test_alt_text_is_never_blank_and_fits_in_utf16_units() -> None:
    assert kit.alt("  ") == "-"
    long = kit.alt(EMOJI * 1000)  # 2,000 units
    assert kit.line_length(long) <= kit.MAX_ALT_TEXT


def test_flex_messages_pack_carousels_within_limits() -> None:
    bubbles = [kit.bubble(f"หัวข้อ {i}", "รอง", [kit.text("ข้อความ " * 200)]) for i in range(30)]
    messages = kit.flex_messages("สรุป", bubbles)
    assert sum(len(m["contents"].get("contents", [m["contents"]])) for m in messages) == 30
    for m in messages:
        assert m["altText"] == "สรุป"
        assert len(m["contents"].get("contents", [])) <= kit.MAX_CAROUSEL_BUBBLES
    for i in range(0, len(messages), kit.MAX_MESSAGES):
        assert check_send_request("push", {"to": GROUP, "messages": messages[i : i + kit.MAX_MESSAGES]}) == []


def test_paged_bubbles_split_rows_under_the_bubble_budget() -> None:
    rows = [kit.text("รายละเอียด " * 300) for _ in range(20)]
    pages = kit.paged_bubbles("มาตรการที่ 1", None, rows, digits=thai.THAI.digits)
    assert len(pages) > 1
    assert all(kit.size(b) <= kit.BUBBLE_BUDGET for b in pages)
    assert pages[0]["header"]["contents"][0]["text"] == f"มาตรการที่ 1 ({thai.THAI.digits(f'1/{len(pages)}')})"


def test_empty_components_show_a_dash() -> None:
    assert kit.text("")["text"] == "-"
    assert kit.box([])["contents"] == [kit.text("-")]


def test_fit_reply_keeps_five_and_says_where_the_rest_is() -> None:
    messages = kit.text_messages("\n".join("ข" * 4000 for _ in range(8)))
    fitted = kit.fit_reply(messages, "ดูต่อที่ลิงก์")
    assert len(fitted) == kit.MAX_MESSAGES and fitted[-1]["text"] == "ดูต่อที่ลิงก์"
