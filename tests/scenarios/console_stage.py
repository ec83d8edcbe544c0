"""The console's real-browser stage: the app on a 127.0.0.1 port with the LINE stand-in, and headless Chromium.

Shared by tests/scenarios/test_console_browser.py and scripts/console_screenshot.py, so the picture in
docs/ shows exactly what the browser test drives.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from ita_bot.console import CLOCK_KEY
from ita_bot.domain.config import load_config
from ita_bot.domain.thai import BANGKOK
from ita_bot.line_standin import LineStandIn
from ita_bot.web import create_app
from tests.conftest import GROUP, NAMES, SECRET, STRANGER, write_config

__all__ = ["CHROMEDRIVER", "CHROMIUM", "ConsoleStage", "chromium_driver", "missing_browser"]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
IDLE_TIMEOUT = 20.0


def missing_browser() -> str | None:
    """Why the browser test cannot run here, or None."""
    if CHROMIUM is None:
        return "headless Chromium is not installed here (CI installs Debian's `chromium`)"
    if CHROMEDRIVER is None:
        return "chromedriver is not installed here (CI installs Debian's `chromium-driver`)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -r requirements-dev.txt)"
    return None


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Request lines would bury the test output."""


class ConsoleStage:
    """The whole bot served on 127.0.0.1 (webhook, pages, console), the stand-in, and a settable clock."""

    def __init__(self, folder: Path, now: datetime) -> None:
        self.now = now
        folder.mkdir(parents=True, exist_ok=True)
        self.standin = LineStandIn(SECRET).start()
        for uid, name in NAMES.items():
            self.standin.add_user(uid, name)
        self.standin.add_group(GROUP, "พนักงาน อบต.หนองเมือง", [u for u in NAMES if u != STRANGER])
        self._app: Any = None

        def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            return self._app(environ, start_response)

        # Bound before the app exists, so the sign-in links name the real port.
        self.server = make_server("127.0.0.1", 0, dispatch, threaded=True, request_handler=_Quiet)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        config_path = write_config(folder, {"web": {"base_url": self.base_url}})
        env = {"ITA_BOT_DB": str(folder / "db" / "ita-bot.json"), "LINE_API_ENDPOINT": self.standin.url,
               "LINE_DATA_API_ENDPOINT": self.standin.url}
        self.config = load_config(config_path, env)
        self._app = create_app(self.config, start_worker=True)
        self._app.config[CLOCK_KEY] = lambda: self.now
        self.runtime = self._app.extensions["ita_bot"]
        self.office = self.runtime.office
        self._thread = threading.Thread(target=self.server.serve_forever, name="console-stage", daemon=True)
        self._thread.start()

    def send(self, text: str, *, user: str, group: bool = False, at: datetime | None = None) -> str:
        """A person sends a text over the signed webhook; the bot's reply texts, one per line."""
        if at is not None:
            self.now = at.replace(tzinfo=BANGKOK) if at.tzinfo is None else at
        event = self.standin.text_event(text, user_id=user, group_id=GROUP if group else None, timestamp=self.now)
        status = self.standin.deliver(self.base_url + "/callback", [event], timeout=IDLE_TIMEOUT)
        assert status == 200, status
        assert self.runtime.journal.wait_idle(IDLE_TIMEOUT), "the bot did not finish in time"
        token = event["replyToken"]
        return "\n".join(m.get("text") or m.get("altText") or "" for r in self.standin.replies()
                         if r.get("replyToken") == token for m in r["messages"])

    def close(self) -> None:
        self.runtime.close()
        self.server.shutdown()
        self._thread.join(10)
        self.server.server_close()
        self.standin.stop()


def chromium_driver(profile: Path, *, width: int = 1280, height: int = 1600) -> Any:
    """Headless Debian Chromium through Debian's chromedriver (no driver download: Selenium Manager stays off)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium fetch a browser or driver
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", f"--user-data-dir={profile}", f"--window-size={width},{height}", "--lang=th"):
        options.add_argument(arg)
    service = Service(executable_path=str(CHROMEDRIVER), env={**os.environ, "HOME": str(profile.parent)})
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    return driver
