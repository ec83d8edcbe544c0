"""The menu definitions: buttons from the command table, layouts LINE accepts, and committed images that match them."""

from __future__ import annotations

import struct

import pytest

from ita_bot.chat.commands.registry import COMMANDS, find
from ita_bot.chat.menus import CHAT_BAR_TEXT, IMAGE_DIR, MENUS, Menu, available, image_for, png_text
from ita_bot.line_standin.richmenus import MAX_IMAGE_BYTES, check_rich_menu


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def subsets(menu: Menu, n: int) -> Menu:
    return Menu(menu.key, menu.title, menu.colour, menu.buttons[:n])


def test_the_menus_name_the_commands_the_contract_lists() -> None:
    staff, managers = MENUS
    assert [b.text for b in staff.buttons] == ["/รายงาน", "/สถานะ", "/ค้าง", "/สรุป", "/ปฏิทิน", "/ช่วยเหลือ"]
    assert [b.text for b in managers.buttons] == ["/สถานะ", "/ค้าง", "/สรุป", "/ส่งออก", "/จัดการ", "/ช่วยเหลือ"]
    assert len(CHAT_BAR_TEXT) <= 14


def test_buttons_whose_command_is_missing_are_left_out() -> None:
    names = {c.name for c in COMMANDS}
    for menu in MENUS:
        shown = available(menu)
        assert [b.command for b in shown.buttons] == [b.command for b in menu.buttons if b.command in names]
        for button in shown.buttons:
            found = find(button.text)
            assert found is not None and found[0].name == button.command and found[1] == ""
    assert [b.command for b in available(MENUS[0], ["สถานะ", "ช่วยเหลือ"]).buttons] == ["สถานะ", "ช่วยเหลือ"]


@pytest.mark.parametrize(("count", "rows"), [(1, [1]), (2, [2]), (3, [3]), (4, [2, 2]), (5, [3, 2]), (6, [3, 3])])
def test_the_layout_follows_the_number_of_buttons_and_passes_lines_limits(count: int, rows: list[int]) -> None:
    for menu in MENUS:
        variant = subsets(menu, count)
        assert [len(r) for r in variant.rows] == rows
        assert variant.size == (2500, 843 * len(rows))
        assert check_rich_menu(variant.request("/2021-02-10T09:00:00")) == []
        # The tiles cover the whole menu exactly once.
        assert sum(w * h for _, (_, _, w, h) in variant.bounds()) == variant.size[0] * variant.size[1]


def test_the_committed_images_match_the_definitions() -> None:
    for menu in MENUS:
        for variant in (menu, available(menu)):
            path = image_for(variant)  # raises when missing or drawn from another definition
            data = path.read_bytes()
            assert png_size(data) == variant.size
            assert len(data) < MAX_IMAGE_BYTES
            assert png_text(data)["ita-bot-menu"] == variant.digest()


def test_every_committed_image_is_a_menu_variant() -> None:
    """No stray images: each file is the full menu or the menu without some of its buttons."""
    for path in sorted(IMAGE_DIR.glob("*.png")):
        key = path.stem.split("-")[0]
        menu = next(m for m in MENUS if m.key == key)
        left_out = path.stem.split("-without-")[1].split("-") if "-without-" in path.stem else []
        variant = Menu(menu.key, menu.title, menu.colour, tuple(b for b in menu.buttons if b.icon not in left_out))
        assert variant.image_name(menu) == path.name
        assert png_text(path.read_bytes())["ita-bot-menu"] == variant.digest(), path.name


def test_a_changed_definition_no_longer_finds_its_image() -> None:
    staff = MENUS[0]
    changed = Menu(staff.key, staff.title, (0, 0, 0), staff.buttons)
    with pytest.raises(FileNotFoundError, match="make_richmenu_images"):
        image_for(changed)
