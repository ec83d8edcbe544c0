"""`python bot.py richmenu` and the managers' menu following roles, against the LINE stand-in."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ita_bot.chat.menus import NAME_PREFIX
from ita_bot.chat.richmenus import install
from ita_bot.domain.config import load_config
from ita_bot.domain.thai import BANGKOK
from ita_bot.line.client import LineApiError, LineClient
from ita_bot.store import open_office
from tests.conftest import ASSISTANT, CHAIR, ROOT, SECRETARY, STAFF_KLANG, STAFF_SP, TOKEN

pytestmark = pytest.mark.backends("tinydb", "postgresql")

NOW = datetime(2021, 2, 10, 9, 0, tzinfo=BANGKOK)
USER_ID = re.compile(r"U[0-9a-f]{32}")


def eventually(predicate: Any, timeout: float = 10.0) -> bool:
    """Poll a condition on the database (a background sync writes it); bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


def client(standin: Any) -> LineClient:
    return LineClient(TOKEN, standin.url, standin.url)


def ours(standin: Any) -> list[dict[str, Any]]:
    return [m for m in standin.rich_menus() if m["name"].startswith(NAME_PREFIX)]


def by_key(standin: Any) -> dict[str, dict[str, Any]]:
    return {m["name"][len(NAME_PREFIX):].split("/")[0]: m for m in ours(standin)}


def hand_made(standin: Any) -> str:
    """A menu made in the LINE console: any name without our prefix."""
    body = {
        "size": {"width": 2500, "height": 843}, "selected": False, "name": "โปรโมชัน", "chatBarText": "เมนู",
        "areas": [{"bounds": {"x": 0, "y": 0, "width": 2500, "height": 843},
                   "action": {"type": "message", "text": "hi"}}],
    }
    return client(standin).create_rich_menu(body)


def assert_installed(standin: Any, managers: list[str]) -> dict[str, dict[str, Any]]:
    menus = by_key(standin)
    assert set(menus) == {"staff", "managers"}, [m["name"] for m in ours(standin)]
    assert all(m["hasImage"] for m in menus.values())
    assert standin.default_rich_menu == menus["staff"]["richMenuId"]
    links = standin.rich_menu_links()
    for uid in managers:
        assert links.get(uid) == menus["managers"]["richMenuId"]
    assert not {u for u, m in links.items() if m == menus["managers"]["richMenuId"]} - set(managers)
    return menus


def test_install_makes_the_staff_default_and_links_the_managers(bot: Any, standin: Any) -> None:
    done = install(bot.office, client(standin), NOW)
    menus = assert_installed(standin, [CHAIR, SECRETARY])
    assert done.linked == 2 and done.deleted == 0
    staff_texts = [a["action"]["text"] for a in menus["staff"]["areas"]]
    manager_texts = [a["action"]["text"] for a in menus["managers"]["areas"]]
    assert staff_texts[:4] == ["/รายงาน", "/สถานะ", "/ค้าง", "/สรุป"] and staff_texts[-1] == "/ช่วยเหลือ"
    assert manager_texts[:4] == ["/สถานะ", "/ค้าง", "/สรุป", "/ส่งออก"] and manager_texts[-1] == "/ช่วยเหลือ"
    assert menus["staff"]["chatBarText"] == "เมนูคำสั่ง"
    # The image LINE holds is the committed one and has the menu's size.
    image = standin.rich_menu_image(menus["staff"]["richMenuId"])
    assert image is not None and image[:8] == b"\x89PNG\r\n\x1a\n" and len(image) < 1_000_000
    assert bot.office.repositories.menus.get().linked == (CHAIR, SECRETARY)


def test_a_rerun_replaces_its_own_menus_and_leaves_hand_made_ones(bot: Any, standin: Any) -> None:
    manual = hand_made(standin)
    install(bot.office, client(standin), NOW)
    first = {m["richMenuId"] for m in ours(standin)}
    done = install(bot.office, client(standin), NOW)
    assert done.deleted == 2
    second = {m["richMenuId"] for m in ours(standin)}
    assert len(second) == 2 and not first & second
    assert_installed(standin, [CHAIR, SECRETARY])
    assert manual in {m["richMenuId"] for m in standin.rich_menus()}


@pytest.mark.parametrize(
    ("prefix", "status"),
    [
        ("/v2/bot/richmenu/richmenu-", 400),  # the first image upload: a menu without an image is left
        ("/v2/bot/user/all/richmenu/", 400),  # setting the default: two new menus are left unused
        ("/v2/bot/richmenu/bulk/link", 403),  # linking the managers
    ],
)
def test_a_failed_run_leaves_no_orphans_and_the_menus_in_use_stay(bot: Any, standin: Any, prefix: str,
                                                                   status: int) -> None:
    """A run LINE fails half-way deletes the menus it made and puts back the default and the managers' links."""
    manual = hand_made(standin)
    install(bot.office, client(standin), NOW)
    before = {m["richMenuId"] for m in ours(standin)}
    for _ in range(3):  # failed runs do not pile up menus either
        standin.fail(prefix, status)
        with pytest.raises(LineApiError):
            install(bot.office, client(standin), NOW)
        assert {m["richMenuId"] for m in ours(standin)} == before
        assert_installed(standin, [CHAIR, SECRETARY])
    install(bot.office, client(standin), NOW)
    assert len(ours(standin)) == 2 and not {m["richMenuId"] for m in ours(standin)} & before
    assert_installed(standin, [CHAIR, SECRETARY])
    assert manual in {m["richMenuId"] for m in standin.rich_menus()}


def test_a_first_run_that_fails_at_linking_leaves_no_menu(bot: Any, standin: Any) -> None:
    """Nothing installed yet, and LINE refuses the managers' link: both menus the run made are gone again."""
    standin.fail("/v2/bot/richmenu/bulk/link", 403)
    with pytest.raises(LineApiError):
        install(bot.office, client(standin), NOW)
    assert ours(standin) == [] and standin.default_rich_menu is None and standin.rich_menu_links() == {}
    assert bot.office.repositories.menus.get() is None


def test_server_errors_and_rate_limits_are_retried(bot: Any, standin: Any) -> None:
    standin.fail("/v2/bot/richmenu/validate", 500)
    standin.fail("/v2/bot/richmenu/bulk/link", 429, headers={"Retry-After": "0"})
    install(bot.office, client(standin), NOW)
    assert_installed(standin, [CHAIR, SECRETARY])


def test_a_menu_left_out_of_a_run_is_refused_by_limits_not_silently(standin: Any) -> None:
    body = {"size": {"width": 2500, "height": 1686}, "selected": False, "name": "ita-bot/x",
            "chatBarText": "เมนูคำสั่งของเจ้าหน้าที่", "areas": []}
    with pytest.raises(LineApiError) as e:
        client(standin).create_rich_menu(body)
    assert e.value.status == 400
    assert standin.rich_menus() == []


# --- every button is a command the bot answers ---------------------------------------------------


def pressed(bot: Any, user: str, text: str) -> str:
    return bot.send(text, user=user).all_text


def test_every_button_gets_an_answer_for_staff_and_managers(bot: Any, standin: Any) -> None:
    install(bot.office, client(standin), NOW)
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    for user in (STAFF_SP, SECRETARY):
        menu = standin.rich_menu_shown_to(user)
        assert menu is not None
        assert menu["name"].startswith(NAME_PREFIX + ("managers" if user == SECRETARY else "staff"))
        for area in menu["areas"]:
            text = area["action"]["text"]
            answer = pressed(bot, user, text)
            assert answer, text
            assert "ไม่รู้จักคำสั่ง" not in answer and "ใช้ได้เฉพาะ" not in answer, (text, answer)
        if user == STAFF_SP:
            bot.send("/ยกเลิก", user=user)  # leave the guided report the รายงาน button opened


# --- the managers' menu follows roles ------------------------------------------------------------


def test_claiming_a_manager_role_links_and_removing_unlinks(bot: Any, standin: Any) -> None:
    install(bot.office, client(standin), NOW)
    managers_menu = by_key(standin)["managers"]["richMenuId"]
    code = bot.office.people.issue_code("assistant_secretary", None, bot.now)[0]
    reply = bot.send(f"/รหัส {code}", user=STAFF_KLANG).all_text
    assert "ผู้ช่วยเลขานุการ" in reply
    assert standin.wait_for(lambda s: s.linked_rich_menu(STAFF_KLANG) == managers_menu)
    bot.send("/ลบสมาชิก มานี คลัง", user=SECRETARY)
    assert standin.wait_for(lambda s: s.linked_rich_menu(STAFF_KLANG) is None)
    assert standin.rich_menu_shown_to(STAFF_KLANG)["name"].startswith(NAME_PREFIX + "staff")
    assert eventually(lambda: STAFF_KLANG not in bot.office.repositories.menus.get().linked)


def test_a_failed_relink_is_logged_without_ids_and_told_to_the_managers(
    bot: Any, standin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    install(bot.office, client(standin), NOW)
    standin.fail(f"/v2/bot/user/{STAFF_KLANG}/richmenu", 400)
    code = bot.office.people.issue_code("assistant_secretary", None, bot.now)[0]
    with caplog.at_level(logging.INFO):
        reply = bot.send(f"/รหัส {code}", user=STAFF_KLANG).all_text
        assert "ผู้ช่วยเลขานุการ" in reply  # the command itself is answered as usual
        assert eventually(lambda: any(n.kind == "richmenu" for n in _notices(bot)))
    assert not USER_ID.search(caplog.text)
    told = bot.send("/สถานะ", user=SECRETARY).all_text
    assert "แจ้งเพื่อทราบ" in told and "เมนูคำสั่ง" in told and not USER_ID.search(told)
    # The next sync (here: a restart) puts it right and retires the notice.
    bot = bot.restart()
    managers_menu = by_key(standin)["managers"]["richMenuId"]
    assert standin.wait_for(lambda s: s.linked_rich_menu(STAFF_KLANG) == managers_menu)
    assert eventually(lambda: not any(n.kind == "richmenu" for n in _notices(bot)))


def _notices(bot: Any) -> list[Any]:

    return bot.office.notices.active()


def test_a_config_change_is_followed_at_start_up(make_bot: Any, standin: Any) -> None:
    first = make_bot()
    install(first.office, client(standin), NOW)
    first.close()
    make_bot(roles={"chair": [CHAIR], "secretary": [], "assistant_secretary": [ASSISTANT]})
    managers_menu = by_key(standin)["managers"]["richMenuId"]
    assert standin.wait_for(lambda s: s.linked_rich_menu(ASSISTANT) == managers_menu)
    assert standin.wait_for(lambda s: s.linked_rich_menu(SECRETARY) is None)
    assert standin.linked_rich_menu(CHAIR) == managers_menu


# --- the command line ----------------------------------------------------------------------------


@pytest.mark.slow  # a real process: `bot.py richmenu`
def test_the_richmenu_command_replaces_an_earlier_run_and_fails_clearly(tmp_path: Path, standin: Any) -> None:
    from tests.conftest import write_config

    config = write_config(tmp_path, {})
    env = {
        **os.environ,
        "ITA_BOT_CONFIG": str(config),
        "ITA_BOT_DB": str(tmp_path / "db" / "ita-bot.json"),
        "LINE_API_ENDPOINT": standin.url,
        "LINE_DATA_API_ENDPOINT": standin.url,
    }
    install(open_office(load_config(config, env)), client(standin), NOW)  # an earlier run, replaced below
    result = subprocess.run([sys.executable, "bot.py", "richmenu"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "/สถานะ" in result.stdout and "2 manager(s)" in result.stdout and "2 earlier menu(s)" in result.stdout
    assert not USER_ID.search(result.stdout + result.stderr)
    assert_installed(standin, [CHAIR, SECRETARY])
    standin.fail("/v2/bot/richmenu/list", 401)
    result = subprocess.run([sys.executable, "bot.py", "richmenu"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 1 and "run `python bot.py richmenu` again" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # a real process: `bot.py clock`
def test_the_clock_process_follows_a_config_change_at_start_up(make_config: Any, standin: Any, tmp_path: Path) -> None:
    from tests.processes import stop_process
    from tests.schedule.test_clock import clock_env, start_clock

    before = make_config()
    install(open_office(before), client(standin), NOW)
    after = make_config(roles={"chair": [CHAIR], "secretary": [], "assistant_secretary": [ASSISTANT]})
    proc = start_clock(clock_env(after, standin, "2021-02-10T09:00:00", tick="5"), tmp_path / "clock.log")
    try:
        managers_menu = by_key(standin)["managers"]["richMenuId"]
        assert standin.wait_for(lambda s: s.linked_rich_menu(ASSISTANT) == managers_menu, timeout=60), (
            (tmp_path / "clock.log").read_text())
        assert standin.wait_for(lambda s: s.linked_rich_menu(SECRETARY) is None, timeout=10)
    finally:
        assert stop_process(proc) == 0
    assert not USER_ID.search((tmp_path / "clock.log").read_text())
