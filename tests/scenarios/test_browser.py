"""A real browser renders the public pages: headless Chromium screenshots them, without console errors."""

from __future__ import annotations

import itertools
import os
import shutil
import struct
import subprocess
import threading
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from ita_bot.domain.config import Config
from ita_bot.domain.progress import Report
from ita_bot.domain.thai import BANGKOK
from ita_bot.web import create_app
from tests.conftest import STAFF_KLANG
from tests.plan_files import three_years
from tests.scenarios.console_stage import chromium_driver, missing_browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed here (CI installs Debian's `chromium` and `fonts-thai-tlwg`)",
)
WIDTH, HEIGHT = 1240, 1754  # A4 proportions at 150 dpi
SCALE = 0.5  # layout at 1240x1754 CSS px, screenshot at half size: decoding stays fast in pure Python
BELOW_TARGET = (0xFD, 0xEC, 0xEA)  # tr.below in base.html: indicators under 85 must stand out
# The score chart's indicator lines (chart.STYLES): colours found nowhere else on the page.
CHART_LINES = ((0x00, 0x83, 0x8F), (0x15, 0x65, 0xC0), (0x6A, 0x1B, 0x9A))


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BANGKOK)


class RecordingApp:
    """WSGI wrapper remembering each request's path and status, to catch failed page resources."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def recording_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            self.requests.append((environ.get("PATH_INFO", ""), status))
            return start_response(status, headers, exc_info)

        return self.app(environ, recording_start)


@pytest.fixture
def served(make_config: Callable[..., Config], tmp_path: Path) -> Iterator[tuple[str, RecordingApp]]:
    """The real app with a few reports and three years of ITA results, on a real 127.0.0.1 port."""
    app = create_app(make_config(organization={"plan": str(three_years(tmp_path / "plans"))}), start_worker=False)
    office = app.extensions["ita_bot"].office
    for measure, division, status, percent, details, when in [
        (4, "sp", "done", 100, "แต่งตั้งผู้ดูแลเว็บไซต์ 3 คน", at(2021, 1, 20, 9)),
        (1, "sp", "doing", 50, "ประชาสัมพันธ์ขั้นตอนการให้บริการทางเว็บไซต์แล้ว", at(2021, 2, 15, 10)),
        (4, "klang", "blocked", None, "ยังไม่มีงบประมาณจ้างพัฒนาระบบ E-service", at(2021, 2, 20, 9)),
        # One unbroken web address: it must wrap inside its card on a phone, not widen the page.
        (2, "sp", "doing", 40, "ลงประกาศที่ https://www.nongmuang.go.th/news/ita-2564/communication-channels-update",
         at(2021, 2, 22, 9)),
    ]:
        office.reports.add(
            Report(2564, measure, division, status, percent, details, when, when, reporter_id=STAFF_KLANG)
        )
    recorder = RecordingApp(app)
    server = make_server("127.0.0.1", 0, recorder, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", recorder
    finally:
        server.shutdown()
        thread.join(10)


def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, ...]]]:
    """Decode an 8-bit RGB/RGBA PNG (what Chromium writes) to its pixels, in pure Python."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    height = channels = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6), f"unexpected PNG format: depth {depth}, color type {color}"
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    prev = bytearray(stride)
    pixels: list[tuple[int, ...]] = []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 0xFF
            elif kind == 4:
                c = prev[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        pixels.extend(tuple(line[x : x + 3]) for x in range(0, stride, channels))
        prev = line
    return width, height, pixels


def screenshot(url: str, tmp_path: Path, height: int = HEIGHT) -> tuple[Path, str]:
    png = tmp_path / "page.png"
    profile = tmp_path / "profile"
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--hide-scrollbars", f"--user-data-dir={profile}", f"--force-device-scale-factor={SCALE}",
        "--enable-logging=stderr", "--v=0", f"--screenshot={png}", f"--window-size={WIDTH},{height}", url,
    ]  # fmt: skip
    env = {**os.environ, "HOME": str(tmp_path)}  # Chromium writes caches under HOME; keep them in tmp
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert png.is_file(), result.stderr[-3000:]
    return png, result.stderr


@pytest.mark.parametrize("path", ["/reports/2564", "/reports/2564/2021-02"])
def test_chromium_renders_the_page(served: tuple[str, RecordingApp], tmp_path: Path, path: str) -> None:
    base, recorder = served
    # The year page is shot two A4 pages tall, down to the score history's chart under the assessment.
    tall = HEIGHT * 2 if path == "/reports/2564" else HEIGHT
    png, log = screenshot(base + path, tmp_path, tall)

    # No console output at all: the pages have no scripts, so anything logged is an error.
    console = [line for line in log.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    assert console == []
    # Every resource the page asked for was served (a missing one would also be a console error).
    assert recorder.requests and all(status.startswith(("200", "304")) for _, status in recorder.requests), (
        recorder.requests
    )

    width, height, pixels = png_pixels(png.read_bytes())
    assert (width, height) == (int(WIDTH * SCALE), int(tall * SCALE))
    colors = set(pixels)
    assert len(colors) > 50, f"page looks blank ({len(colors)} colours)"
    ink = sum(1 for r, g, b in pixels if r + g + b < 3 * 110)
    assert ink > 0.01 * len(pixels), f"too little text on the page ({ink} dark pixels)"
    if path == "/reports/2564":
        assert BELOW_TARGET in colors, "the indicators under the target are not highlighted"
        near = sum(1 for p in pixels if any(all(abs(a - b) <= 12 for a, b in zip(p, c, strict=True))
                                            for c in CHART_LINES))
        assert near > 30, f"the score chart is not on screen ({near} pixels of its indicator lines)"
    # Keep the screenshot where a person can look at it when asked to (ITA_BOT_SCREENSHOTS=folder).
    if folder := os.environ.get("ITA_BOT_SCREENSHOTS"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(folder) / (path.strip("/").replace("/", "_") + ".png"))


PHONE = 390  # the chair opens the pages from the LINE digest on a phone


def keep_screenshot(driver: Any, name: str) -> None:
    """Save what the phone shows where a person can look at it when asked to (ITA_BOT_SCREENSHOTS=folder)."""
    if folder := os.environ.get("ITA_BOT_SCREENSHOTS"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))


def page_overflow(driver: Any) -> int:
    """How many CSS px the page is wider than the phone's screen (0 or less: nothing spills sideways).

    A phone zooms out a page that is too wide, which widens window.innerWidth with it: the screen's own
    width is the measure.
    """
    return int(driver.execute_script(
        "return Math.max(document.documentElement.scrollWidth, window.innerWidth) - arguments[0]", PHONE))


@pytest.fixture
def phone(tmp_path: Path) -> Iterator[Any]:
    if (why := missing_browser()) is not None:
        pytest.skip(why)
    driver = chromium_driver(tmp_path / "profile", width=PHONE, height=900)
    # Chromium will not open a window narrower than 500 px: emulate the phone's screen as DevTools does.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": PHONE, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    try:
        yield driver
    finally:
        driver.quit()


def test_the_cycle_report_reads_as_cards_on_a_phone_and_a_table_in_print(
    served: tuple[str, RecordingApp], phone: Any
) -> None:
    from selenium.webdriver.common.by import By

    base, _ = served
    phone.get(base + "/reports/2564/2021-02")
    keep_screenshot(phone, "phone_reports_2564_2021-02")
    assert page_overflow(phone) <= 0, f"the page is {page_overflow(phone)}px wider than the phone"
    # The paper's margins are gone: the text starts near the screen's edge.
    main = phone.find_element(By.CSS_SELECTOR, "main.paper")
    assert main.rect["x"] == 0 and int(phone.execute_script(
        "return parseFloat(getComputedStyle(arguments[0]).paddingLeft)", main)) <= 16
    # One card per measure; the table's header row is hidden and each value sits under its own heading,
    # so no two cells share a line (nothing runs together or overlaps).
    table = phone.find_element(By.CSS_SELECTOR, "table.agenda")
    assert not table.find_element(By.TAG_NAME, "thead").is_displayed()
    cards = table.find_elements(By.TAG_NAME, "tbody")
    assert len(cards) == 4
    for card in cards:
        cells = [c for c in card.find_elements(By.TAG_NAME, "td") if c.is_displayed()]
        assert cells[0].text.startswith("มาตรการที่ ")
        for upper, lower in itertools.pairwise(cells):
            assert lower.rect["y"] >= upper.rect["y"] + upper.rect["height"] - 1, (upper.text, lower.text)
        for cell in cells:
            assert cell.rect["x"] + cell.rect["width"] <= PHONE, cell.text
    labels = phone.execute_script(
        "return [...document.querySelectorAll('table.agenda td[data-label]')]"
        ".map(td => getComputedStyle(td, '::before').content)"
    )
    assert '"สถานะล่าสุด"' in labels and '"ผลการดำเนินการในรอบนี้"' in labels

    # Printed, the same page is the A4 table with its header row.
    phone.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert phone.execute_script("return getComputedStyle(document.querySelector('table.agenda thead')).display") \
        == "table-header-group"
    assert phone.execute_script("return getComputedStyle(document.querySelector('table.agenda tr')).display") \
        == "table-row"


def test_the_year_page_fits_a_phone_with_its_history_table_as_cards(
    served: tuple[str, RecordingApp], phone: Any
) -> None:
    from selenium.webdriver.common.by import By

    base, _ = served
    phone.get(base + "/reports/2564")
    keep_screenshot(phone, "phone_reports_2564")
    assert page_overflow(phone) <= 0, f"the page is {page_overflow(phone)}px wider than the phone"
    assert phone.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    # One card per indicator, each year's score under its own label; nothing scrolls sideways, not even a box.
    table = phone.find_element(By.CSS_SELECTOR, "table.history")
    assert not table.find_element(By.TAG_NAME, "thead").is_displayed()
    card = table.find_element(By.CSS_SELECTOR, "tbody tr")
    assert card.rect["x"] + card.rect["width"] <= PHONE
    cells = [c for c in card.find_elements(By.TAG_NAME, "td") if c.is_displayed()]
    for upper, lower in itertools.pairwise(cells):
        assert lower.rect["y"] >= upper.rect["y"] + upper.rect["height"] - 1, (upper.text, lower.text)
    labels = phone.execute_script("return [...arguments[0].querySelectorAll('td')]"
                                  ".map(td => getComputedStyle(td, '::before').content)", card)
    assert labels[0] == '"ITA 2562: "', labels
    chart = phone.find_element(By.CSS_SELECTOR, "figure.chart svg")
    assert chart.rect["x"] + chart.rect["width"] <= PHONE
