"""The rich menus as data: which command each button sends, the grid it sits in, and the LINE request built from it."""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CHAT_BAR_TEXT",
    "IMAGE_DIR",
    "MENUS",
    "NAME_PREFIX",
    "Button",
    "Menu",
    "available",
    "image_for",
    "png_text",
]

#: Every rich menu `python bot.py richmenu` makes is named with this prefix, so a rerun finds (and replaces)
#: exactly its own menus and never one made by hand in the LINE Official Account Manager.
NAME_PREFIX = "ita-bot/"
#: Shown on the bar under the chat that opens and closes the menu (LINE allows 14 characters).
CHAT_BAR_TEXT = "เมนูคำสั่ง"
#: The committed images, one per menu variant (see scripts/make_richmenu_images.py).
IMAGE_DIR = Path(__file__).resolve().parent.parent / "line" / "richmenu_images"
#: The PNG text chunk that carries the definition hash an image was drawn from.
HASH_KEY = "ita-bot-menu"
#: Bumped when the drawing changes, so images drawn by an older script no longer match.
RENDER_VERSION = 1

WIDTH = 2500
ROW_HEIGHT = 843  # LINE's half-height menu; two rows make the full 2500×1686


@dataclass(frozen=True)
class Button:
    """One tile: the command it sends (without "/"), its big label, a short caption and the icon drawn."""

    command: str
    label: str
    caption: str
    icon: str

    @property
    def text(self) -> str:
        """What the tap sends, so the chat history shows what was asked."""
        return f"/{self.command}"


@dataclass(frozen=True)
class Menu:
    """One rich menu: who it is for, its colour, and its buttons in reading order."""

    key: str  # "staff" | "managers"
    title: str  # Thai, for the demo and logs
    colour: tuple[int, int, int]
    buttons: tuple[Button, ...]

    @property
    def rows(self) -> list[list[Button]]:
        """Three to a row (two when there are four, so tiles stay square-ish); a short last row is widened."""
        per_row = 2 if len(self.buttons) in (2, 4) else 3
        return [list(self.buttons[i : i + per_row]) for i in range(0, len(self.buttons), per_row)]

    @property
    def size(self) -> tuple[int, int]:
        return WIDTH, ROW_HEIGHT * max(1, len(self.rows))

    def bounds(self) -> list[tuple[Button, tuple[int, int, int, int]]]:
        """Each button's (x, y, width, height); the tiles cover the whole image without gaps."""
        out = []
        for r, row in enumerate(self.rows):
            for c, button in enumerate(row):
                x0, x1 = WIDTH * c // len(row), WIDTH * (c + 1) // len(row)
                out.append((button, (x0, ROW_HEIGHT * r, x1 - x0, ROW_HEIGHT)))
        return out

    def digest(self) -> str:
        """A hash of everything drawn: the committed image for this menu must carry the same one."""
        data = {
            "v": RENDER_VERSION,
            "key": self.key,
            "colour": self.colour,
            "size": self.size,
            "buttons": [[b.command, b.label, b.caption, b.icon, list(xywh)] for b, xywh in self.bounds()],
        }
        return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()

    def image_name(self, full: Menu) -> str:
        """`staff.png` for the full menu, else e.g. `staff-without-calendar.png`."""
        left_out = [b.icon for b in full.buttons if b not in self.buttons]
        return f"{self.key}.png" if not left_out else f"{self.key}-without-{'-'.join(left_out)}.png"

    def request(self, name_suffix: str = "") -> dict[str, Any]:
        """The body of LINE's create-rich-menu request: one message action per tile."""
        width, height = self.size
        return {
            "size": {"width": width, "height": height},
            "selected": False,
            "name": f"{NAME_PREFIX}{self.key}{name_suffix}",
            "chatBarText": CHAT_BAR_TEXT,
            "areas": [
                {
                    "bounds": {"x": x, "y": y, "width": w, "height": h},
                    "action": {"type": "message", "label": b.label, "text": b.text},
                }
                for b, (x, y, w, h) in self.bounds()
            ],
        }


_STAFF = (0x0B, 0x7A, 0x4B)
_MANAGERS = (0x1F, 0x4E, 0x8C)

REPORT = Button("รายงาน", "รายงาน", "บันทึกความคืบหน้า", "report")
STATUS = Button("สถานะ", "สถานะ", "ทุกมาตรการ ทุกกอง", "status")
PENDING = Button("ค้าง", "งานค้าง", "ใครยังไม่รายงาน", "pending")
SUMMARY = Button("สรุป", "สรุป", "สรุปรอบประชุม", "summary")
CALENDAR = Button("ปฏิทิน", "ปฏิทิน", "กำหนดการประเมิน", "calendar")
HELP = Button("ช่วยเหลือ", "ช่วยเหลือ", "คำสั่งทั้งหมด", "help")
EXPORT = Button("ส่งออก", "ส่งออก", "รายงานการประชุม", "export")
CONSOLE = Button("จัดการ", "จัดการ", "เข้าหน้าจัดการ", "console")

#: The full menus. A button whose command the bot does not have is left out (see `available`).
MENUS: tuple[Menu, ...] = (
    Menu("staff", "เมนูเจ้าหน้าที่", _STAFF, (REPORT, STATUS, PENDING, SUMMARY, CALENDAR, HELP)),
    Menu("managers", "เมนูประธาน/เลขานุการ", _MANAGERS, (STATUS, PENDING, SUMMARY, EXPORT, CONSOLE, HELP)),
)


def available(menu: Menu, commands: Iterable[str] | None = None) -> Menu:
    """The menu with only the buttons whose command exists (by default: in the bot's command table)."""
    if commands is None:
        from ita_bot.chat.commands.registry import COMMANDS

        commands = [c.name for c in COMMANDS]
    known = set(commands)
    return Menu(menu.key, menu.title, menu.colour, tuple(b for b in menu.buttons if b.command in known))


def full(key: str) -> Menu:
    return next(m for m in MENUS if m.key == key)


def image_for(menu: Menu) -> Path:
    """The committed image of this menu variant (FileNotFoundError names the script to run)."""
    path = IMAGE_DIR / menu.image_name(full(menu.key))
    if not path.is_file() or png_text(path.read_bytes()).get(HASH_KEY) != menu.digest():
        raise FileNotFoundError(
            f"no image drawn for the {menu.key} menu as it is now ({path.name}); "
            "run: python scripts/make_richmenu_images.py"
        )
    return path


def png_text(data: bytes) -> dict[str, str]:
    """The tEXt/iTXt chunks of a PNG (standard library only, so production needs no Pillow)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    out: dict[str, str] = {}
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"tEXt":
            key, _, value = chunk.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = chunk.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            _, _, rest = rest.partition(b"\0")  # language tag
            _, _, text = rest.partition(b"\0")  # translated keyword
            out[key.decode("latin-1")] = (zlib.decompress(text) if compressed else text).decode("utf-8")
        elif kind == b"IEND":
            break
        pos += 12 + length
    return out
