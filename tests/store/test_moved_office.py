"""A moved office runs: filled through chat and the console on TinyDB, moved by `bot.py migrate --from --to` (a real
process), then served by the bot on PostgreSQL with the same progress, evidence bytes, plan history and roles."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.config import load_config
from ita_bot.domain.thai import BANGKOK
from ita_bot.line_standin import TINY_JPEG
from ita_bot.store.pg.database import Database
from tests.chat_harness import ChatBot
from tests.conftest import CHAIR, MEMBER, SECRETARY, STAFF_CHANG, STAFF_KLANG, STAFF_SP
from tests.console.test_console_dates import typed
from tests.console_harness import Browser
from tests.postgres import new_office

ROOT = Path(__file__).resolve().parents[2]
ORG = "/admin/plans/2564/organization"
MEETINGS = "/admin/meetings?fy=2564"
PHOTO = TINY_JPEG + b"moved-office"  # bytes of its own, so the served file is this one


def fill(bot: ChatBot, browser: Browser) -> tuple[str, int]:
    """An office in use: staff report (one with a photo, one withdrawn), people take roles by code, a plan edit
    and a moved meeting in the console; the photo's report id and the number of the code revoked last."""
    for user, division in ((STAFF_SP, "สป."), (STAFF_KLANG, "คลัง"), (STAFF_CHANG, "ช่าง")):
        bot.send(f"/ลงทะเบียน {division}", user=user, group=True)
    assert "บันทึกรายงานแล้ว" in bot.send("/รายงาน 1 กำลังทำ 40% จัดประชุมแล้ว", user=STAFF_SP).text
    bot.send_image(user=STAFF_SP, data=PHOTO)
    assert "บันทึกรายงานแล้ว" in bot.send("/รายงาน 4 เสร็จแล้ว 100% เผยแพร่ครบ", user=STAFF_KLANG).text
    assert "บันทึกรายงานแล้ว" in bot.send("/รายงาน 4 กำลังทำ 10% พิมพ์ผิด", user=STAFF_CHANG).text
    assert "ถอน" in bot.send("/ถอนรายงาน", user=STAFF_CHANG).text
    member_code = bot.send("/เชิญ กรรมการ", user=SECRETARY).texts[-1].split()[-1]
    assistant_code = bot.send("/เชิญ ผู้ช่วยเลขานุการ", user=CHAIR).texts[-1].split()[-1]
    bot.send(f"/รหัส {member_code}", user=MEMBER)
    bot.send(f"/รหัส {assistant_code}", user=STAFF_KLANG)
    bot.send("/เชิญ กรรมการ", user=SECRETARY)  # the newest code, revoked: its number is never given again
    with bot.office.repositories.people.read() as people:
        newest = max(c.number for c in people.codes())
    bot.office.people.revoke_code(newest, bot.now)

    browser.sign_in()
    assert browser.submit(ORG, {"short_name": "อบต.หนองเมืองใหม่"}).status_code == 303
    assert browser.submit(MEETINGS, {"cycle": "2021-03", **typed("day", "25", "3", "2564")}).status_code == 303
    [photo] = [r for r in bot.reports() if r.evidence]
    return str(photo.id), newest


def seen(bot: ChatBot, browser: Browser, report_id: str, at: datetime) -> dict[str, Any]:
    """What staff and managers see of the office."""
    evidence = browser.get(f"/admin/evidence/2564/{report_id}/1")
    assert evidence.status_code == 200, evidence.status_code
    with bot.office.repositories.people.read() as people:
        roles = {p.user_id: sorted(p.roles) for p in people.all() if p.roles}
        codes = [(c.number, c.role, c.used_by) for c in people.codes()]
    history = browser.html("/admin/history")
    return {
        "status": bot.send("/สถานะ", user=STAFF_SP, at=at).all_text,
        "pending": bot.send("/ค้าง", user=SECRETARY).all_text,
        "evidence": (evidence.data, evidence.mimetype),
        "roles": roles,
        "codes": codes,
        "plan": bot.office.plans.get(2564).organization.short_name,  # type: ignore[union-attr]
        "changes": [(c.section, c.who) for c in bot.office.plans.history()],
        "history": "อบต.หนองเมืองใหม่" in history and "ชื่อย่อ" in history,
        "meeting": bot.office.calendar().cycle("2021-03").meeting,
    }


@pytest.mark.slow  # a real process: `bot.py migrate`
def test_an_office_moved_to_postgresql_runs_as_it_did(bot: ChatBot, postgres_database: str, tmp_path: Path) -> None:
    browser = Browser(bot)
    report_id, revoked = fill(bot, browser)
    moment = datetime(2021, 2, 16, 9, 0, tzinfo=BANGKOK)  # after every event above, for both runs
    assert bot.now < moment
    before = seen(bot, browser, report_id, moment)
    assert before["history"] and before["plan"] == "อบต.หนองเมืองใหม่" and before["meeting"] == date(2021, 3, 25)
    assert before["roles"][MEMBER] == ["member"] and before["roles"][STAFF_KLANG] == ["assistant_secretary"]
    assert before["evidence"] == (PHOTO, "image/jpeg")
    status = before["status"]
    assert "ม.1 สำนักงานปลัด: กำลังดำเนินการ 40%" in status and "ม.4 กองคลัง: เสร็จสิ้น 100%" in status
    assert "ม.4 กองช่าง: ยังไม่เคยรายงาน" in status  # its report was withdrawn
    folder = Path(bot.config.db_path).parent
    bot.close()

    office = new_office(postgres_database)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "ITA_BOT_"))}
    moved = subprocess.run([sys.executable, "bot.py", "migrate", "--from", str(folder), "--to", postgres_database,
                            "--office", office], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert moved.returncode == 0, moved.stdout + moved.stderr

    # The bot on PostgreSQL, its TinyDB folder a new, empty one: everything it shows comes from the database.
    config = load_config(bot.config.path, {
        "ITA_BOT_DB": str(tmp_path / "elsewhere" / "ita-bot.json"),
        "LINE_API_ENDPOINT": bot.config.line.api_endpoint,
        "LINE_DATA_API_ENDPOINT": bot.config.line.data_api_endpoint,
        "ITA_BOT_DATABASE_URL": postgres_database,
        "ITA_BOT_OFFICE": office,
    })
    moved_bot = ChatBot(bot.standin, config)
    try:
        assert type(moved_bot.office.repositories.people).__name__ == "PgPeople"
        moved_bot.now = bot.now
        moved_browser = Browser(moved_bot)  # sign-in state does not move: the secretary signs in again
        moved_browser.sign_in()
        after = seen(moved_bot, moved_browser, report_id, moment)
        assert after == before
        assert "มานี คลัง" in moved_browser.html("/admin/members")
        # Numbers grow on from where the TinyDB office left them: the revoked newest one's is not given again.
        assert revoked not in [n for n, _, _ in before["codes"]]
        moved_bot.send("/เชิญ กรรมการ", user=SECRETARY)
        with moved_bot.office.repositories.people.read() as people:
            assert max(c.number for c in people.codes()) == revoked + 1
        assert not list((tmp_path / "elsewhere").glob("*.json"))  # nothing fell back to TinyDB files
    finally:
        moved_bot.close()
        Database.shared(postgres_database).close()
