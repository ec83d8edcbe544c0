"""Draw the rich-menu images from the menu definitions (ita_bot/chat/menus.py) into ita_bot/line/richmenu_images/.

Run after changing a menu, its labels or the commands the bot has:

    python scripts/make_richmenu_images.py

It draws every menu in full and, for each command a menu names that the bot does not have yet, the
variant without it, so the images in the repository fit the bot whichever of its commands are present.
Needs Pillow (requirements-dev.txt) and the Thai TLWG fonts (Debian/Ubuntu: apt-get install fonts-thai-tlwg;
Garuda is GPL with the font exception, so drawing with it puts no licence on the images). Production needs
neither: it uploads the committed PNGs. Each PNG carries the hash of the definition it was drawn from
(a text chunk), which the tests compare with the definitions.
"""

from __future__ import annotations

import argparse
import io
import sys
from itertools import combinations
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ita_bot.chat.menus import HASH_KEY, IMAGE_DIR, MENUS, Button, Menu, available

FONT_DIRS = (Path("/usr/share/fonts/truetype/tlwg"), Path("/usr/share/fonts/opentype/tlwg"))
LABEL_FONT = "Garuda-Bold"
CAPTION_FONT = "Garuda"
WHITE = (255, 255, 255)
INK = (0x1E, 0x29, 0x33)
GREY = (0x52, 0x5F, 0x6B)
MAX_BYTES = 1_000_000


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    for folder in FONT_DIRS:
        for ext in (".ttf", ".otf"):
            path = folder / f"{name}{ext}"
            if path.is_file():
                return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)
    raise SystemExit(f"font {name} not found; install the Thai TLWG fonts (apt-get install fonts-thai-tlwg)")


def tint(colour: tuple[int, int, int], amount: float) -> tuple[int, int, int]:
    """The colour mixed with white (amount 1 = white)."""
    return tuple(round(c + (255 - c) * amount) for c in colour)  # type: ignore[return-value]


# --- icons: white strokes inside a square of side s centred on (cx, cy) -------------------------


def icon(draw: ImageDraw.ImageDraw, kind: str, cx: int, cy: int, s: int, colour: tuple[int, int, int]) -> None:
    w = max(8, s // 14)  # stroke width
    h = s // 2

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        return (round(cx + x0 * h), round(cy + y0 * h), round(cx + x1 * h), round(cy + y1 * h))

    def line(points: list[tuple[float, float]], width: int = w) -> None:
        draw.line([(cx + x * h, cy + y * h) for x, y in points], fill=WHITE, width=width, joint="curve")
        for x, y in (points[0], points[-1]):  # round caps
            r = width / 2
            draw.ellipse((cx + x * h - r, cy + y * h - r, cx + x * h + r, cy + y * h + r), fill=WHITE)

    if kind == "report":  # a sheet with lines and a pencil
        draw.rounded_rectangle(box(-0.62, -0.75, 0.38, 0.75), radius=s // 20, outline=WHITE, width=w)
        for y in (-0.4, -0.1, 0.2):
            line([(-0.42, y), (0.15, y)])
        line([(0.72, -0.35), (0.05, 0.55)], width=w * 2)
        draw.polygon([(cx + 0.05 * h - w, cy + 0.55 * h - w * 0.3), (cx + 0.05 * h + w * 0.5, cy + 0.55 * h + w),
                      (cx - 0.05 * h, cy + 0.72 * h)], fill=WHITE)
    elif kind == "status":  # a bar chart
        line([(-0.75, 0.7), (0.75, 0.7)])
        for x, top in ((-0.55, 0.2), (-0.12, -0.2), (0.31, -0.65)):
            draw.rectangle(box(x, top, x + 0.3, 0.62), fill=WHITE)
    elif kind == "pending":  # a clock
        draw.ellipse(box(-0.72, -0.72, 0.72, 0.72), outline=WHITE, width=w)
        line([(0, 0), (0, -0.45)])
        line([(0, 0), (0.32, 0.2)])
        draw.ellipse(box(-0.08, -0.08, 0.08, 0.08), fill=WHITE)
    elif kind == "summary":  # a clipboard with ticks
        draw.rounded_rectangle(box(-0.6, -0.7, 0.6, 0.78), radius=s // 20, outline=WHITE, width=w)
        draw.rounded_rectangle(box(-0.25, -0.85, 0.25, -0.6), radius=s // 40, fill=WHITE)
        for y in (-0.3, 0.05, 0.4):
            line([(-0.4, y), (-0.3, y + 0.1), (-0.15, y - 0.08)], width=max(6, w * 3 // 4))
            line([(0.0, y), (0.4, y)], width=max(6, w * 3 // 4))
    elif kind == "calendar":  # a page with rings and a grid of days
        draw.rounded_rectangle(box(-0.72, -0.55, 0.72, 0.75), radius=s // 20, outline=WHITE, width=w)
        draw.rectangle(box(-0.72, -0.55, 0.72, -0.25), fill=WHITE)
        for x in (-0.38, 0.38):
            line([(x, -0.75), (x, -0.45)])
        for r, y in enumerate((-0.05, 0.25, 0.52)):
            for x in (-0.45, -0.15, 0.15, 0.45)[: 4 if r < 2 else 2]:
                draw.rectangle(box(x - 0.09, y - 0.08, x + 0.09, y + 0.08), fill=WHITE)
    elif kind == "help":  # a question mark in a ring
        draw.ellipse(box(-0.72, -0.72, 0.72, 0.72), outline=WHITE, width=w)
        q = font(LABEL_FONT, round(s * 0.8))
        draw.text((cx, cy + s * 0.02), "?", font=q, fill=WHITE, anchor="mm")
    elif kind == "export":  # a tray with a down arrow
        line([(-0.7, 0.2), (-0.7, 0.7), (0.7, 0.7), (0.7, 0.2)])
        line([(0, -0.75), (0, 0.35)])
        line([(-0.35, 0.0), (0, 0.35), (0.35, 0.0)])
    elif kind == "console":  # a gear
        import math

        teeth = 8
        outer, inner = 0.75 * h, 0.55 * h
        points = []
        for i in range(teeth * 4):
            angle = 2 * math.pi * i / (teeth * 4)
            r = outer if i % 4 in (1, 2) else inner
            points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
        draw.polygon(points, fill=WHITE)
        draw.ellipse(box(-0.22, -0.22, 0.22, 0.22), fill=colour)
    else:
        raise ValueError(f"no icon drawn for {kind!r}")


def fit(draw: ImageDraw.ImageDraw, text: str, name: str, size: int, max_width: int) -> ImageFont.FreeTypeFont:
    """The font at `size`, or smaller until the text fits the tile."""
    while True:
        f = font(name, size)
        if draw.textlength(text, font=f) <= max_width or size <= 40:
            return f
        size -= 4


def tile(draw: ImageDraw.ImageDraw, menu: Menu, button: Button, xywh: tuple[int, int, int, int]) -> None:
    x, y, w, h = xywh
    pad = 18
    draw.rounded_rectangle((x + pad, y + pad, x + w - pad, y + h - pad), radius=48, fill=WHITE)
    cx = x + w // 2
    disc = 300
    top = y + 90
    draw.ellipse((cx - disc // 2, top, cx + disc // 2, top + disc), fill=menu.colour)
    icon(draw, button.icon, cx, top + disc // 2, 190, menu.colour)
    label = fit(draw, button.label, LABEL_FONT, 150, w - 120)
    draw.text((cx, y + 540), button.label, font=label, fill=INK, anchor="mm")
    caption = fit(draw, button.caption, CAPTION_FONT, 76, w - 120)
    draw.text((cx, y + 700), button.caption, font=caption, fill=GREY, anchor="mm")


def render(menu: Menu) -> bytes:
    image = Image.new("RGB", menu.size, tint(menu.colour, 0.55))
    draw = ImageDraw.Draw(image)
    for button, xywh in menu.bounds():
        tile(draw, menu, button, xywh)
    info = PngInfo()
    info.add_text(HASH_KEY, menu.digest())
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True, pnginfo=info)
    data = out.getvalue()
    if len(data) >= MAX_BYTES:
        raise SystemExit(f"{menu.key}: {len(data)} bytes, over LINE's 1 MB")
    return data


def variants(menu: Menu) -> list[Menu]:
    """The full menu and every variant without some of the commands the bot does not have (yet)."""
    missing = [b for b in menu.buttons if b not in available(menu).buttons]
    out = []
    for n in range(len(missing) + 1):
        for left_out in combinations(missing, n):
            out.append(Menu(menu.key, menu.title, menu.colour, tuple(b for b in menu.buttons if b not in left_out)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMAGE_DIR, help=f"folder to write into (default {IMAGE_DIR})")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    wanted = {}
    for menu in MENUS:
        for variant in variants(menu):
            wanted[variant.image_name(menu)] = variant
    for stale in args.out.glob("*.png"):
        if stale.name not in wanted:
            stale.unlink()
            print(f"removed {stale.name} (no longer a menu variant)")
    for name, variant in sorted(wanted.items()):
        data = render(variant)
        (args.out / name).write_bytes(data)
        print(f"{name}: {variant.size[0]}x{variant.size[1]}, {len(variant.buttons)} buttons, {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
