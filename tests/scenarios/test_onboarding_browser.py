"""A new office joins the hosted service and starts its year, as real processes: gunicorn serving `bot:app` in
hosted mode, the LINE stand-in on 127.0.0.1, and the secretary in headless Chromium (the wizard, then the console).

The secretary opens the one-time link, pastes the channel's three values (a wrong secret first), reads the role
code off the page, claims it in LINE, sets the staff group, signs in to the console with /จัดการ, enters the last ITA
result and saves the first plan; a staff member's first report in the group is then accepted by the new channel.
Screenshots of the wizard and joined pages at 1280 and 390 px go to ITA_BOT_SCREENSHOTS when it is set.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.config import Config, load_config
from ita_bot.domain.thai import BANGKOK, fiscal_year_of
from ita_bot.line_standin import Channel, LineStandIn
from ita_bot.service import Service
from tests.conftest import GROUP, ROOT, SECRET, SECRETARY, STAFF_SP, TOKEN, write_config
from tests.processes import stop_process, wait_until_healthy
from tests.scenarios.console_stage import chromium_driver, missing_browser
from tests.scenarios.test_console_browser import fill, submit, text_of

pytestmark = [pytest.mark.skipif(missing_browser() is not None, reason=missing_browser() or ""),
              pytest.mark.backends("tinydb", "postgresql")]

GUNICORN = Path(sys.executable).with_name("gunicorn")
KEY = "onboarding-browser-service-key-0123456789"
NAME = "องค์การบริหารส่วนตำบลหนองเมือง"
BOT_NAME = "อบต.หนองเมือง"
WRONG_SECRET = "0123456789abcdef0123456789abcdef"
PHONE, DESK = 390, 1280
WAIT = 20.0  # seconds for the bot's reply to a webhook (its journal worker answers after the 200)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Hosted:
    """The running service: its URL, its config (read in this process too), and the stand-in it talks to."""

    url: str
    config: Config
    env: dict[str, str]
    standin: LineStandIn
    log: Path


@pytest.fixture
def standin() -> Iterator[LineStandIn]:
    """LINE with every channel's own token (a wrong token is refused), the secretary, a staff member, the group."""
    with LineStandIn(SECRET, access_token=TOKEN) as s:
        s.add_user(SECRETARY, "เลขาทดสอบ")
        s.add_user(STAFF_SP, "สมชาย สป")
        s.add_group(GROUP, "พนักงาน อบต.หนองเมือง", [SECRETARY, STAFF_SP])
        yield s


@pytest.fixture
def hosted(tmp_path: Path, standin: LineStandIn, storage_backend: dict[str, str]) -> Iterator[Hosted]:
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in this environment")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    folder = tmp_path / "service"
    folder.mkdir()
    # A hosted service's config names no plan and no channel: each office brings its own.
    config_path = write_config(folder, {"organization": {"plan": ""}, "web": {"base_url": url}})
    config_path.write_text(re.sub(r"\[line\][^\[]*", "", config_path.read_text(encoding="utf-8")), encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ITA_BOT_", "LINE_"))},
        "ITA_BOT_CONFIG": str(config_path),
        "ITA_BOT_HOSTED": "1",
        "ITA_BOT_SECRET_KEY": KEY,
        "ITA_BOT_DB": str(folder / "data" / "ita-bot.json"),
        "LINE_API_ENDPOINT": standin.url,
        "LINE_DATA_API_ENDPOINT": standin.url,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "PYTHONUNBUFFERED": "1",
        # PostgreSQL: the run's database (the registry and every office's rows); each office is its own slug.
        **{k: v for k, v in storage_backend.items() if k == "ITA_BOT_DATABASE_URL"},
    }
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "bot:app"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(url + "/healthz", proc, log, timeout=30)
        yield Hosted(url, load_config(config_path, env), env, standin, log)
    finally:
        stop_process(proc)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    driver = chromium_driver(tmp_path / "profile", width=DESK, height=1200)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, folder: Path, name: str) -> None:
    """The whole page at desk and phone width (the phone emulated, as Chromium opens no narrower window)."""
    for width in (DESK, PHONE):
        mobile = width == PHONE
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": mobile})
        height = int(driver.execute_script("return document.documentElement.scrollHeight"))
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        overflow = int(driver.execute_script("return document.documentElement.scrollWidth")) - width
        assert overflow <= 0, f"{name} is {overflow}px wider than {width}px"
        driver.save_screenshot(str(folder / f"onboarding-{name}-{width}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def say(hosted: Hosted, channel: Channel, event: dict[str, Any]) -> str:
    """Deliver one event to the channel's webhook (as LINE does) and wait for the bot's reply's texts."""
    standin = hosted.standin
    assert standin.deliver(None, [event], channel=channel, timeout=WAIT) == 200
    token = event.get("replyToken")

    def replied(s: LineStandIn) -> bool:
        return any(r["replyToken"] == token for r in s.replies(channel))

    assert standin.wait_for(replied, timeout=WAIT), hosted.log.read_text(errors="replace")[-3000:]
    return "\n".join(m.get("text") or m.get("altText") or "" for r in standin.replies(channel)
                     if r["replyToken"] == token for m in r["messages"])


def test_a_new_office_joins_in_the_browser_and_its_first_report_is_accepted(
        hosted: Hosted, standin: LineStandIn, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    shots = Path(os.environ.get("ITA_BOT_SCREENSHOTS") or tmp_path / "shots")
    if hosted.config.database_url:  # the pages are the same on both backends: one set of pictures
        shots = tmp_path / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    channel = standin.add_channel(name=BOT_NAME)
    service = Service(hosted.config, {"ITA_BOT_SECRET_KEY": KEY})

    # The operator registers the office on the host's command line and hands its secretary the one-time link.
    slug = f"nongmuang-{uuid.uuid4().hex[:6]}"
    added = subprocess.run([sys.executable, "bot.py", "office", "add", slug, "--name", NAME], cwd=ROOT,
                           env=hosted.env, capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    found = re.search(r"(https?://\S+/onboard/\S+)", added.stdout)
    assert found is not None, added.stdout
    link = found.group(1)
    token = link.rsplit("/", 1)[1]
    office_url = f"{hosted.url}/o/{slug}"

    # The wizard, in Thai; a secret from another channel is caught by LINE's webhook test.
    browser.get(link)
    assert f"เชื่อมบัญชี LINE ของ{NAME}" in text_of(browser) and f"{office_url}/callback" in text_of(browser)
    screenshot(browser, shots, "wizard")
    fill(browser, "channel_id", channel.channel_id)
    fill(browser, "channel_secret", WRONG_SECRET)
    fill(browser, "access_token", str(channel.access_token))
    submit(browser)
    error = browser.find_element(By.ID, "channel_secret-error").text
    assert "Channel secret" in error, text_of(browser)
    assert browser.find_element(By.NAME, "channel_id").get_attribute("value") == channel.channel_id
    screenshot(browser, shots, "wizard-error")
    assert not service.registry.get(slug).joined  # type: ignore[union-attr]

    fill(browser, "channel_secret", channel.channel_secret)
    fill(browser, "access_token", str(channel.access_token))
    submit(browser)
    page = text_of(browser)
    assert "เรียบร้อยแล้ว" in page, page
    code = browser.find_element(By.ID, "code").text.strip()
    assert re.fullmatch(r"[A-Z0-9]{6,}", code) and f"/รหัส {code}" in page
    screenshot(browser, shots, "joined")
    assert standin.webhook_endpoint(channel) == f"{office_url}/callback"
    record = service.registry.get(slug)
    assert record is not None and record.joined and channel.channel_secret not in record.sealed_secret
    browser.get(link)
    assert "ลิงก์เชื่อมบัญชีนี้ใช้ไม่ได้" in text_of(browser) and code not in text_of(browser)

    # In LINE: the secretary claims the role 1:1, adds the bot to the staff group and sets it.
    assert "เลขานุการ" in say(hosted, channel, standin.text_event(f"/รหัส {code}", user_id=SECRETARY))
    assert standin.deliver(None, [standin.join_event(group_id=GROUP)], channel=channel, timeout=WAIT) == 200
    set_group = say(hosted, channel, standin.text_event("/ตั้งกลุ่ม", user_id=SECRETARY, group_id=GROUP))
    assert "ตั้งกลุ่มนี้เป็นกลุ่มพนักงานแล้ว" in set_group

    # The console link from /จัดการ, in the browser.
    reply = say(hosted, channel, standin.text_event("/จัดการ", user_id=SECRETARY))
    found = re.search(re.escape(office_url) + r"/admin/login/[A-Za-z0-9_-]+", reply)
    assert found, reply
    browser.get(found.group(0))
    # Each next page is opened by its full address under /o/<office>: the walk must not depend on where the
    # console's redirects lead (its absolute /admin paths, until it honours its mount prefix).
    fy = fiscal_year_of(datetime.now(BANGKOK).date())
    browser.get(f"{office_url}/admin/results")
    assert "แผนฉบับแรกของหน่วยงาน" in text_of(browser), text_of(browser)
    fill(browser, "ita_year", str(fy - 1))
    fill(browser, "total", "86.00")
    i = 0
    while browser.find_elements(By.NAME, f"indicators-{i}-score"):
        if browser.find_element(By.NAME, f"indicators-{i}-instrument").get_attribute("value"):
            fill(browser, f"indicators-{i}-score", "90.00")
        i += 1
    submit(browser)
    assert browser.current_url.endswith(f"/admin/draft?fy={fy}"), text_of(browser)

    # The first plan: keep the first two starter measures for the office's own division, drop the rest.
    browser.get(f"{office_url}/admin/draft?fy={fy}")
    assert "แผนฉบับแรก" in text_of(browser)
    rows = sorted({int(m.group(1)) for e in browser.find_elements(By.CSS_SELECTOR, "input[name$='-choice']")
                   if (m := re.fullmatch(r"suggestions-(\d+)-choice", e.get_attribute("name") or ""))})
    assert len(rows) >= 2, text_of(browser)
    kept = rows[:2]
    for row in rows:
        if row in kept:
            browser.find_element(By.CSS_SELECTOR, f"input[name='suggestions-{row}-divisions'][value='sp']").click()
        else:
            browser.find_element(By.CSS_SELECTOR, f"input[name='suggestions-{row}-choice'][value='drop']").click()
    submit(browser)
    assert browser.current_url.endswith(f"/admin/plans/{fy}"), text_of(browser)
    office = service.office(slug)
    plan = office.plans.get(fy)
    assert plan is not None and len(plan.measures) == 2 and plan.measures[0].divisions == ("sp",)
    browser.get(f"{office_url}/admin/plans/{fy}")
    assert "แผนมาตรการ" in text_of(browser)

    # A staff member's first report in the group, answered by the new channel.
    registered = say(hosted, channel, standin.text_event("/ลงทะเบียน สป.", user_id=STAFF_SP, group_id=GROUP))
    assert "ขออภัย" not in registered, registered
    report = say(hosted, channel, standin.text_event("/รายงาน 1 กำลังทำ 30% ประชุมชี้แจงเจ้าหน้าที่แล้ว",
                                                     user_id=STAFF_SP, group_id=GROUP))
    assert "บันทึกรายงานแล้ว" in report, report
    assert [r.measure for r in office.reports.all(fy)] == [1]
    # Nothing of the default channel's, and no secret or link in the service's log.
    assert standin.replies(standin.default_channel) == []
    logged = hosted.log.read_text(errors="replace")
    for secret in (channel.channel_secret, str(channel.access_token), KEY, token, found.group(0).rsplit("/", 1)[1]):
        assert secret not in logged
