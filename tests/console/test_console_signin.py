"""Signing in to the managers' console from LINE: the link's rules, the session cookie, logout, losing the role."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from ita_bot.console import SECRET_NAME, secret_key
from ita_bot.domain.signin import MAX_LINKS_PER_HOUR
from ita_bot.store.tiny.secret_keys import TinySecretKeys
from tests.conftest import CHAIR, GROUP, SECRETARY, STAFF_SP, STRANGER, give_role
from tests.console_harness import Browser, link_in

pytestmark = pytest.mark.backends("tinydb", "postgresql")


def test_manager_gets_a_link_that_signs_in_once(bot: Any) -> None:
    browser = Browser(bot)
    link = browser.ask_link(SECRETARY)
    token = link.rsplit("/", 1)[1]
    assert link.startswith("https://ita.example.go.th/admin/login/")
    assert len(token) >= 43  # token_urlsafe(32): 256 random bits

    first = browser.open(link)
    assert first.status_code == 303 and first.headers["Location"].endswith("/admin")
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie and "Path=/admin" in cookie
    home = browser.get("/admin")
    assert home.status_code == 200
    assert "ภาพรวมปีงบประมาณ" in home.get_data(as_text=True)

    again = Browser(bot).open(link)  # another browser with the same (now used) link
    assert again.status_code == 410
    body = again.get_data(as_text=True)
    assert "ใช้ไปแล้ว" in body and "/จัดการ" in body


def test_only_the_hash_of_a_link_is_stored(bot: Any) -> None:
    browser = Browser(bot)
    token = browser.ask_link().rsplit("/", 1)[1]
    raw = bot.stored_text()
    assert hashlib.sha256(token.encode()).hexdigest() in raw and token not in raw


def test_expired_and_unknown_links_say_how_to_get_a_new_one(bot: Any) -> None:
    browser = Browser(bot)
    link = browser.ask_link()
    bot.advance(minutes=10, seconds=1)
    expired = browser.open(link)
    assert expired.status_code == 410 and "หมดอายุ" in expired.get_data(as_text=True)
    unknown = browser.get("/admin/login/not-a-real-token")
    assert unknown.status_code == 404 and "/จัดการ" in unknown.get_data(as_text=True)
    assert browser.get("/admin").status_code == 303


def test_pages_without_a_session_redirect_to_a_login_page_with_no_data(bot: Any) -> None:
    browser = Browser(bot)
    for path in ("/admin", "/admin/members", "/admin/meetings", "/admin/history", "/admin/year/2564"):
        response = browser.get(path)
        assert response.status_code == 303 and response.headers["Location"].endswith("/admin/login"), path
    login = browser.html("/admin/login")
    assert "/จัดการ" in login
    assert "สมชาย" not in login and "มาตรการที่" not in login


def test_staff_and_groups_are_refused_politely(bot: Any) -> None:
    assert "/จัดการ" in bot.send("/ช่วยเหลือ", user=SECRETARY).text  # managers see it in their help
    assert "/จัดการ" not in bot.send("/ช่วยเหลือ", user=STAFF_SP).text
    staff = bot.send("/จัดการ", user=STAFF_SP)
    assert link_in(staff.text) is None
    assert "ประธาน เลขานุการ และผู้ช่วยเลขานุการ" in staff.text and "แชตส่วนตัว" in staff.text
    in_group = bot.send("/จัดการ", user=SECRETARY, group=GROUP)
    assert link_in(in_group.text) is None and "แชตส่วนตัว" in in_group.text
    stranger = bot.send("/admin", user=STRANGER)
    assert link_in(stranger.text) is None


def test_a_few_links_per_hour_at_most(bot: Any) -> None:
    browser = Browser(bot)
    for _ in range(MAX_LINKS_PER_HOUR):
        browser.ask_link(CHAIR)
    refused = bot.send("/จัดการ", user=CHAIR)
    assert link_in(refused.text) is None and "ต่อชั่วโมง" in refused.text
    bot.advance(hours=1, minutes=1)
    assert browser.ask_link(CHAIR)


def test_logout_ends_the_session(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    out = browser.post("/admin/logout", page="/admin")
    assert out.status_code == 303 and "ออกจากระบบแล้ว" in browser.html("/admin/signed-out")
    assert browser.get("/admin").status_code == 303


def test_a_stolen_cookie_stops_working_after_logout(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    cookie = browser.client.get_cookie("ita_console", domain="ita.example.go.th", path="/admin")
    assert cookie is not None
    browser.post("/admin/logout", page="/admin")
    thief = Browser(bot)
    thief.client.set_cookie("ita_console", cookie.value, domain="ita.example.go.th", path="/admin")
    assert thief.get("/admin").status_code == 303


def test_sessions_last_eight_hours(bot: Any) -> None:
    browser = Browser(bot)
    browser.sign_in()
    bot.advance(hours=7, minutes=59)
    assert browser.get("/admin").status_code == 200
    bot.advance(minutes=2)
    assert browser.get("/admin").status_code == 303


def test_losing_the_manager_role_ends_the_session(make_bot: Any) -> None:
    bot = make_bot(roles={"chair": [CHAIR], "secretary": []})
    browser = Browser(bot)
    # The secretary role comes from a one-time code here, so removing the person takes it away.
    code = bot.office.people.issue_code("secretary", CHAIR, bot.now)[0]
    assert "เลขานุการ" in bot.send(f"/รหัส {code}", user=SECRETARY).text
    browser.sign_in(SECRETARY)
    assert browser.get("/admin").status_code == 200
    bot.office.people.remove(SECRETARY)
    assert browser.get("/admin").status_code == 303
    # Even with the role back, that old session is gone: a new link is needed.
    give_role(bot.office, SECRETARY, "secretary", bot.now)
    assert browser.get("/admin").status_code == 303


def test_the_session_key_is_generated_once_with_owner_only_permissions(tmp_path: Path) -> None:
    first = secret_key(TinySecretKeys(tmp_path), env={})
    assert len(first) >= 40
    mode = stat.S_IMODE(os.stat(tmp_path / SECRET_NAME).st_mode)
    assert mode == 0o600
    assert secret_key(TinySecretKeys(tmp_path), env={}) == first
    assert secret_key(TinySecretKeys(tmp_path), env={"ITA_BOT_SECRET_KEY": "from-env"}) == "from-env"


def test_webhook_needs_no_csrf_token(bot: Any) -> None:
    # Signed LINE requests pass the app-wide CSRF protection: a command still gets its answer.
    assert "/ช่วยเหลือ" in bot.send("/help", user=STAFF_SP).text


def test_link_valid_until_ten_minutes(bot: Any) -> None:
    browser = Browser(bot)
    link = browser.ask_link()
    bot.advance(minutes=9, seconds=50)
    assert browser.open(link).status_code == 303


def test_lines_link_preview_does_not_use_up_the_link(bot: Any) -> None:
    browser = Browser(bot)
    link = browser.ask_link()
    path = link.split("ita.example.go.th", 1)[1]
    for agent in ("facebookexternalhit/1.1;line-poker/1.0", "Line/1.0 (compatible; Line-Crawler; +https://help.line.me/)"):
        preview = browser.client.get(path, base_url=browser.base, headers={"User-Agent": agent})
        assert preview.status_code == 200 and "Set-Cookie" not in preview.headers
        assert "/จัดการ" in preview.get_data(as_text=True)
    assert browser.open(link).status_code == 303  # the manager's own tap still signs in


def test_a_head_request_neither_spends_the_link_nor_signs_in(bot: Any) -> None:
    """A HEAD on a sign-in link (a link checker or proxy) sets no cookie and leaves the link for the manager's tap."""
    browser = Browser(bot)
    link = browser.ask_link()
    path = link.split("ita.example.go.th", 1)[1]
    head = browser.client.head(path, base_url=browser.base)
    assert head.status_code == 200 and "Set-Cookie" not in head.headers
    assert browser.client.get_cookie("ita_console", domain="ita.example.go.th", path="/admin") is None
    assert browser.get("/admin").status_code in (302, 303)  # not signed in
    first = browser.open(link)
    assert first.status_code == 303 and first.headers["Location"].endswith("/admin")
    assert "ita_console=" in first.headers["Set-Cookie"]
    assert browser.get("/admin").status_code == 200


def test_workers_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: secret_key(TinySecretKeys(tmp_path), env={}), range(16)))
    assert len(keys) == 1
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_NAME]  # no temp file left behind
