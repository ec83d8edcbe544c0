"""Every page a member of the public can open without signing in meets WCAG 2.1 AA as axe-core checks it in
headless Chromium, at desktop and phone widths: the report pages, the console's sign-in help and what a used,
expired or unknown link shows, the hosted service's onboarding wizard and its not-found pages; so does the
console's OIT page signed in (managers use it on phones). On a phone the year and cycle pages, the sign-in help
and the OIT page never scroll sideways.

axe-core comes from npm, pinned in tests/browser/package.json (``npm ci`` there; .ci/run does it).
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from ita_bot.console import CLOCK_KEY
from ita_bot.domain.config import Config
from ita_bot.domain.links import report_url, snapshot_url
from ita_bot.domain.publication import SnapshotInfo
from ita_bot.domain.signin import LINK_TTL, SignIn
from ita_bot.line_standin import LineStandIn
from ita_bot.publish.oit_page import render_year_page
from tests.conftest import SECRETARY
from tests.publish.oit_site import OitSite, at
from tests.scenarios.console_stage import chromium_driver, missing_browser
from tests.service.onboarding_site import Site as ServiceSite

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
    # The console before signing in: its help page, and what a link shows once used, expired or mistyped.
    "login": "/admin/login",
    "login_used": "/admin/login/{used}",
    "login_expired": "/admin/login/{expired}",
    "login_unknown": "/admin/login/not-a-link",
    "signed_out": "/admin/signed-out",
    "hosted_login": HOSTED + "/admin/login",
}
#: The hosted service's own pages: the wizard's first page, a spent or unknown wizard link, and not-found pages.
SERVICE_PAGES = {
    "onboard": "/onboard/{token}",
    "onboard_gone": "/onboard/not-a-link",
    "service_not_found": "/nothing-here",
    "unknown_office": "/o/no-such-office/reports/2564",
}
NOW = at(2021, 3, 5, 14, 30)
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


class Served:
    """A site on 127.0.0.1: its address, the page addresses it was prepared for, and what signs a manager in."""

    def __init__(self, url: str, pages: dict[str, str], sign_in: Callable[[], str] | None = None) -> None:
        self.url = url
        self.pages = pages
        self.sign_in = sign_in

    def __getitem__(self, page: str) -> str:
        return self.url + self.pages[page]


def serve(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture
def served(make_config: Callable[..., Config], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """The year page with everything on it (OIT items, reports with evidence, approval, a snapshot) and the
    console, served on 127.0.0.1 both at the root and under a hosted office's prefix; sign-in links already used
    and expired."""
    # The console's session cookie is Secure only on an https address; this one is plain http on 127.0.0.1.
    site = OitSite(make_config, tmp_path, web={"public_evidence": True, "base_url": "http://127.0.0.1"})
    site.office.now = lambda: NOW
    site.app.config[CLOCK_KEY] = lambda: NOW
    site.seed()
    site.approve()
    taken_at = at(2021, 3, 3, 9)
    with site.app.test_request_context("/"):
        html = render_year_page(site.office, 2564, taken_at, root="",
                                snapshot=SnapshotInfo(2564, 1, taken_at, "เลขาทดสอบ", ""))
    site.office.publications.add_snapshot(2564, taken_at=taken_at, taken_by="เลขาทดสอบ", html=html.encode(),
                                          pdf=b"%PDF-1.7")
    signin = SignIn(site.office.repositories.signin)
    used = signin.issue(SECRETARY, NOW - timedelta(minutes=2))
    signin.redeem(used, NOW - timedelta(minutes=1))
    expired = signin.issue(SECRETARY, NOW - LINK_TTL - timedelta(minutes=1))
    pages = {name: path.format(used=used, expired=expired) for name, path in PAGES.items()}
    app = DispatcherMiddleware(site.app, {HOSTED: site.app})
    for url in serve(app):
        yield Served(url, pages, lambda: f"/admin/login/{signin.issue(SECRETARY, NOW)}")


@pytest.fixture
def service(tmp_path: Path, standin: LineStandIn, storage_backend: dict[str, str]) -> Iterator[Served]:
    """The hosted service with one office registered and not yet joined (its wizard link unused)."""
    site = ServiceSite(tmp_path / "service", standin, storage_backend)
    try:
        _, link = site.register()
        pages = {name: path.format(token=link.rsplit("/", 1)[1]) for name, path in SERVICE_PAGES.items()}
        yield Served(site.base_url, pages)
    finally:
        site.close()


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


def assert_accessible(browser: Any, name: str, width: int) -> None:
    """The page open in ``browser`` is in Thai, has no serious or critical axe-core violation, and its headings go
    down one level at a time from its one h1; its screenshot goes to ITA_BOT_SCREENSHOTS when that is set."""
    assert browser.execute_script("return document.documentElement.lang") == "th"
    violations = axe_violations(browser)
    serious = [v for v in violations if v.get("impact") in ("serious", "critical")]
    assert serious == [], json.dumps(
        [{"id": v["id"], "help": v.get("help"), "nodes": [n.get("target") for n in v.get("nodes", [])][:5]}
         for v in serious], ensure_ascii=False, indent=1)
    levels = browser.execute_script(
        "return [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1])")
    assert levels and levels[0] == 1 and levels.count(1) == 1
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels
    if folder := os.environ.get("ITA_BOT_SCREENSHOTS"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        # The whole page, top to bottom (a phone's too: what follows the first screen is read there as well).
        height = int(browser.execute_script("return document.documentElement.scrollHeight"))
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": width, "height": min(height, 6000), "deviceScaleFactor": 1,
                                 "mobile": width == PHONE})
        browser.save_screenshot(str(Path(folder) / f"a11y_{name}_{width}.png"))


def assert_no_sideways_scroll(browser: Any) -> None:
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


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("page", list(PAGES))
def test_public_pages_have_no_serious_accessibility_violations(served: Served, browser: Any, page: str,
                                                               width: int) -> None:
    show(browser, width)
    browser.get(served[page])
    assert_accessible(browser, page, width)


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("page", list(SERVICE_PAGES))
def test_the_hosted_services_own_pages_have_no_serious_accessibility_violations(service: Served, browser: Any,
                                                                                 page: str, width: int) -> None:
    show(browser, width)
    browser.get(service[page])
    assert_accessible(browser, page, width)
    if width == PHONE:
        assert_no_sideways_scroll(browser)


#: Console pages managers open on phones: the OIT page (the ITAS sentence, the approval form, freezing, the link
#: check), hosted too, and the year's status table with its coloured badges.
CONSOLE_PAGES = {
    "console_oit": "/admin/oit/2564",
    "console_oit_hosted": HOSTED + "/admin/oit/2564",
    "console_year": "/admin/year/2564",
}


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("page", list(CONSOLE_PAGES))
def test_console_pages_signed_in_have_no_serious_accessibility_violations(served: Served, browser: Any,
                                                                          page: str, width: int) -> None:
    assert served.sign_in is not None
    path = CONSOLE_PAGES[page]
    mount = HOSTED if path.startswith(HOSTED) else ""
    show(browser, width)
    browser.get(served.url + mount + served.sign_in())
    assert browser.current_url.endswith(mount + "/admin"), browser.current_url
    browser.get(served.url + path)
    assert browser.current_url.endswith(path), browser.current_url
    assert_accessible(browser, page, width)
    if width == PHONE and page != "console_year":  # the year table scrolls inside its own box
        assert_no_sideways_scroll(browser)
    if page == "console_year":
        # axe leaves the legend's badges unjudged beside the chart; every status colour is checked here itself.
        low = browser.execute_script(CONTRAST_JS, ".legend span[class^='s-'], td.cell[class*=' s-']")
        assert low == [], low


#: The WCAG contrast ratio of each matching element's text on its own background, those below 4.5:1 listed.
CONTRAST_JS = """
const lum = c => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(v => +v / 255)
  .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
return [...document.querySelectorAll(arguments[0])].map(e => {
  const s = getComputedStyle(e), [a, b] = [lum(s.color), lum(s.backgroundColor)];
  return [e.className, e.textContent.trim(), (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
}).filter(([, , ratio]) => ratio < 4.5);
"""


@pytest.mark.parametrize("page", ["year", "cycle", "hosted_year", "login", "login_used"])
def test_phone_pages_never_scroll_sideways(served: Served, browser: Any, page: str) -> None:
    show(browser, PHONE)
    browser.get(served[page])
    assert_no_sideways_scroll(browser)


def test_the_check_itself_catches_a_violation(browser: Any) -> None:
    """axe really runs: an image without a text alternative and a page without a title are reported."""
    browser.get("data:text/html;charset=utf-8," + '<html lang="th"><body><main><h1>ทดสอบ</h1><img src="data:,">'
                '</main></body></html>')
    found = {v["id"] for v in axe_violations(browser) if v.get("impact") in ("serious", "critical")}
    assert {"image-alt", "document-title"} <= found, found
