"""Every public page meets WCAG 2.1 AA as axe-core checks it in headless Chromium, at desktop and phone widths;
on a phone the year and cycle pages never scroll sideways.

axe-core comes from npm, pinned in tests/browser/package.json (``npm ci`` there; .ci/run does it).
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from ita_bot.domain.config import Config
from ita_bot.domain.links import report_url, snapshot_url
from ita_bot.domain.publication import SnapshotInfo
from ita_bot.publish.oit_page import render_year_page
from tests.publish.oit_site import OitSite, at
from tests.scenarios.console_stage import chromium_driver, missing_browser

pytestmark = pytest.mark.slow  # starts Chromium
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
PHONE, DESKTOP = 390, 1280
HOSTED = "/o/nongmuang"  # the hosted service mounts each office's pages under its prefix
PAGES = {
    "year": report_url("", 2564),
    "cycle": report_url("", 2564, "2021-02"),
    "snapshot": snapshot_url("", 2564, 1),
    "not_found": report_url("", 2570),
    "hosted_year": report_url(HOSTED, 2564),
}
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def served(make_config: Callable[..., Config], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The year page with everything on it (OIT items, reports with evidence, approval, a snapshot), served on
    127.0.0.1 both at the root and under a hosted office's prefix."""
    site = OitSite(make_config, tmp_path, web={"public_evidence": True})
    site.office.now = lambda: at(2021, 3, 5, 14, 30)
    site.seed()
    site.approve()
    taken_at = at(2021, 3, 3, 9)
    with site.app.test_request_context("/"):
        html = render_year_page(site.office, 2564, taken_at, root="",
                                snapshot=SnapshotInfo(2564, 1, taken_at, "เลขาทดสอบ", ""))
    site.office.publications.add_snapshot(2564, taken_at=taken_at, taken_by="เลขาทดสอบ", html=html.encode(),
                                          pdf=b"%PDF-1.7")
    app = DispatcherMiddleware(site.app, {HOSTED: site.app})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if (why := missing_browser()) is not None:
        pytest.skip(why)
    if not AXE.is_file():
        pytest.skip("axe-core is not installed: run `npm ci` in tests/browser (needs Node.js and npm)")
    driver = chromium_driver(tmp_path / "profile", width=DESKTOP, height=1000)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def show(driver: Any, width: int) -> None:
    """Lay the page out as a screen of ``width`` CSS px (a phone below Chromium's 500 px window minimum)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 844 if width == PHONE else 1000,
                            "deviceScaleFactor": 2 if width == PHONE else 1, "mobile": width == PHONE})


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result: list[dict[str, Any]] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations),"
        "      e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));",
        WCAG_AA)
    return result


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("page", list(PAGES))
def test_public_pages_have_no_serious_accessibility_violations(served: str, browser: Any, page: str,
                                                               width: int) -> None:
    show(browser, width)
    browser.get(served + PAGES[page])
    assert browser.execute_script("return document.documentElement.lang") == "th"
    violations = axe_violations(browser)
    serious = [v for v in violations if v.get("impact") in ("serious", "critical")]
    assert serious == [], json.dumps(
        [{"id": v["id"], "help": v.get("help"), "nodes": [n.get("target") for n in v.get("nodes", [])][:5]}
         for v in serious], ensure_ascii=False, indent=1)
    # Headings go down one level at a time from the page's one h1.
    levels = browser.execute_script(
        "return [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1])")
    assert levels and levels[0] == 1 and levels.count(1) == 1
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels
    if folder := os.environ.get("ITA_BOT_SCREENSHOTS"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        if width == PHONE:
            browser.save_screenshot(str(Path(folder) / f"a11y_{page}_{width}.png"))
        else:  # the whole page, top to bottom
            height = int(browser.execute_script("return document.documentElement.scrollHeight"))
            browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": width, "height": min(height, 6000), "deviceScaleFactor": 1,
                                     "mobile": False})
            browser.save_screenshot(str(Path(folder) / f"a11y_{page}_{width}.png"))


@pytest.mark.parametrize("page", ["year", "cycle", "hosted_year"])
def test_phone_pages_never_scroll_sideways(served: str, browser: Any, page: str) -> None:
    show(browser, PHONE)
    browser.get(served + PAGES[page])
    sizes = browser.execute_script(
        "const d = document.documentElement; return [d.scrollWidth, d.clientWidth, window.innerWidth]")
    assert sizes[0] <= sizes[1] == PHONE, f"the page is {sizes[0]}px wide on a {PHONE}px phone"
    # Nothing inside scrolls sideways either: every element fits the screen.
    wide = browser.execute_script(
        "return [...document.querySelectorAll('body *')].filter(e => e.getClientRects().length"
        " && (e.getBoundingClientRect().right > arguments[0] + 0.5 || e.scrollWidth > e.clientWidth + 1"
        " && getComputedStyle(e).overflowX !== 'visible')).map(e => e.tagName + '.' + e.className).slice(0, 5)",
        PHONE)
    assert wide == []


def test_the_check_itself_catches_a_violation(browser: Any) -> None:
    """axe really runs: an image without a text alternative and a page without a title are reported."""
    browser.get("data:text/html;charset=utf-8," + '<html lang="th"><body><main><h1>ทดสอบ</h1><img src="data:,">'
                '</main></body></html>')
    found = {v["id"] for v in axe_violations(browser) if v.get("impact") in ("serious", "critical")}
    assert {"image-alt", "document-title"} <= found, found
