"""The three jobs run as of a moment against the LINE stand-in: what is sent, to whom, once."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest

from ita_bot.cli import cmd_job
from ita_bot.domain.config import Config
from ita_bot.domain.office import Office
from ita_bot.domain.progress import Report
from ita_bot.domain.summary import cycle_summary
from ita_bot.line.client import LineClient
from ita_bot.schedule.delivery import Delivery
from ita_bot.schedule.jobs import cycle_for, days_before_of, run_job
from ita_bot.store import open_office
from tests.conftest import (
    CHAIR,
    GROUP,
    MEMBER,
    NAMES,
    SECRETARY,
    STAFF_CHANG,
    STAFF_KLANG,
    STAFF_SP,
    STAFF_SP2,
    TOKEN,
    give_role,
)
from tests.processes import at
from tests.tiny import tiny_store

pytestmark = pytest.mark.backends("tinydb", "postgresql")

MON_22 = at("2021-02-22T09:00")  # 3 working days before Thu 25 Feb 2564 (Fri 26 is Makha Bucha)


def register_staff(office: Office) -> None:
    for uid, div in ((STAFF_SP, "sp"), (STAFF_SP2, "sp"), (STAFF_KLANG, "klang"), (STAFF_CHANG, "chang")):
        office.people.register(uid, NAMES[uid], div, approved=True, now=at("2021-01-10T10:00"))


def report(office: Office, measure: int, division: str, when: str, status: str = "doing", percent: int | None = 50,
           details: str = "ดำเนินการแล้ว") -> None:
    moment = at(when)
    office.reports.add(Report(2564, measure, division, status, percent, details, moment, moment,
                              reporter_name="ผู้รายงาน"))


@pytest.fixture
def line(standin: Any) -> LineClient:
    return LineClient(TOKEN, standin.url, standin.url)


def job(office: Office, line: LineClient, name: str, now: datetime, **kw: Any) -> Any:
    return run_job(office, line, name, now, delivery=Delivery(office, line, sleep=lambda s: None), **kw)


def mentioned(message: dict[str, Any]) -> list[str]:
    return [s["mentionee"]["userId"] for s in (message.get("substitution") or {}).values()]


def test_the_fy2564_calendar_and_working_days_before(office: Office) -> None:
    cal = office.calendar()
    feb = cycle_for(cal, date(2021, 2, 22))
    assert (feb.id, feb.meeting) == ("2021-02", date(2021, 2, 25))
    assert cycle_for(cal, date(2021, 2, 25)).id == "2021-02"  # meeting day belongs to its meeting
    assert cycle_for(cal, date(2021, 2, 26)).id == "2021-03"
    assert cycle_for(cal, date(2021, 9, 29)).id == "2021-10"  # after September's meeting: next year's first
    # A report made that day still counts for the year's last meeting: cycles never cross a fiscal year.
    assert office.cycle_at(date(2021, 9, 29)).id == "2021-09"
    meeting = date(2021, 2, 25)
    assert [days_before_of(cal, meeting, date(2021, 2, d)) for d in (25, 24, 23, 22, 20, 19)] == [0, 1, 2, 3, 4, 4]


def test_reminder_names_pending_divisions_and_mentions_their_staff(
    config: Config, office: Office, standin: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    register_staff(office)
    office.people.set_in_group(STAFF_SP2, False)  # left the group: not mentioned
    report(office, 1, "sp", "2021-02-15T10:00")
    report(office, 4, "klang", "2021-02-16T10:00")
    assert cmd_job(config, "reminder", MON_22) == 0
    [push] = standin.pushes()
    assert push["to"] == GROUP
    [message] = push["messages"]
    assert message["type"] == "textV2"
    text = message["text"]
    assert "25 ก.พ. 2564" in text and "วันพฤหัสบดี" in text and "อีก 3 วันทำการ" in text
    assert "สำนักงานปลัด — มาตรการที่ 2, 3, 4" in text
    assert "กองช่าง — มาตรการที่ 4" in text
    assert "กองคลัง" not in text  # reported this cycle
    assert mentioned(message) == [STAFF_SP, STAFF_CHANG]
    out = capsys.readouterr().out
    assert "cycle 2021-02" in out and "sent" in out and "U" + "1" * 32 not in out
    # A rerun is a no-op; a manual run on another day is its own send.
    assert cmd_job(config, "reminder", at("2021-02-22T15:00")) == 0
    assert "already sent" in capsys.readouterr().out
    assert len(standin.pushes()) == 1
    assert cmd_job(config, "reminder", at("2021-02-23T09:00")) == 0
    assert len(standin.pushes()) == 2
    assert "อีก 2 วันทำการ" in standin.pushes()[1]["messages"][0]["text"]


def test_a_managers_override_moves_the_meeting_the_reminder_names(
    office: Office, line: LineClient, standin: Any
) -> None:
    register_staff(office)
    office.set_meeting("2021-02", date(2021, 2, 19), SECRETARY, at("2021-02-01T10:00"))
    result = job(office, line, "reminder", at("2021-02-16T09:00"))
    assert (result.cycle.meeting, result.days_before) == (date(2021, 2, 19), 3)
    text = standin.pushes()[0]["messages"][0]["text"]
    assert "19 ก.พ. 2564" in text and "วันศุกร์" in text
    # After the moved meeting, the next one is March's.
    assert job(office, line, "reminder", at("2021-02-22T09:00")).cycle.id == "2021-03"


def test_nothing_pending_sends_nothing(config: Config, office: Office, standin: Any,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    register_staff(office)
    for measure, div in office.plan.pairs():
        report(office, measure, div, "2021-02-10T10:00")
    assert cmd_job(config, "reminder", MON_22) == 0
    assert standin.pushes() == []
    assert "nothing pending" in capsys.readouterr().out


def test_a_division_whose_latest_report_is_done_is_not_pending(office: Office, line: LineClient, standin: Any) -> None:
    register_staff(office)
    report(office, 4, "chang", "2021-01-20T10:00", "done", 100)  # done in January's cycle
    job(office, line, "reminder", MON_22)
    assert "กองช่าง" not in standin.pushes()[0]["messages"][0]["text"]


def test_mentions_beyond_20_are_split_across_messages(office: Office, line: LineClient, standin: Any) -> None:
    many = [f"U{i:032x}" for i in range(1, 46)]
    for i, uid in enumerate(many):
        standin.add_user(uid, f"พนักงาน {i}")
        office.people.register(uid, f"พนักงาน {i}", "sp", approved=True, now=at("2021-01-10T10:00"))
    office.people.register(STAFF_KLANG, NAMES[STAFF_KLANG], "klang", approved=True, now=at("2021-01-10T10:00"))
    standin.add_group(GROUP, "พนักงาน", [*many, STAFF_KLANG])
    result = job(office, line, "reminder", MON_22)
    assert result.ok and result.sent == 1
    [push] = standin.pushes()  # accepted by the stand-in, which checks LINE's 20-mention limit
    messages = push["messages"]
    assert len(messages) == 3
    assert all(len(mentioned(m)) <= 20 for m in messages)
    assert [u for m in messages for u in mentioned(m)] == [*many, STAFF_KLANG]
    assert "25 ก.พ. 2564" in messages[0]["text"] and "/รายงาน" in messages[-1]["text"]


def test_more_than_five_messages_go_in_several_requests_each_sent_once(
    office: Office, line: LineClient, standin: Any
) -> None:
    many = [f"U{i:032x}" for i in range(1, 122)]
    for i, uid in enumerate(many):
        standin.add_user(uid, f"พนักงาน {i}")
        office.people.register(uid, f"พนักงาน {i}", "sp", approved=True, now=at("2021-01-10T10:00"))
    result = job(office, line, "reminder", MON_22)
    assert result.ok and result.sent == 2
    requests = standin.pushes()
    assert [len(r["messages"]) for r in requests] == [5, 2]
    assert [u for r in requests for m in r["messages"] for u in mentioned(m)] == many
    assert job(office, line, "reminder", MON_22).sent == 0
    assert len(standin.pushes()) == 2


def test_direct_reminders_go_one_to_one_to_pending_staff(
    make_config: Callable[..., Config], standin: Any, line: LineClient
) -> None:
    office = open_office(make_config(schedule={"reminder_to": "direct"}))
    register_staff(office)
    report(office, 4, "klang", "2021-02-16T10:00")
    result = job(office, line, "reminder", MON_22)
    assert result.ok
    assert sorted(p["to"] for p in standin.pushes()) == sorted([STAFF_SP, STAFF_SP2, STAFF_CHANG])
    texts = {p["to"]: p["messages"][0]["text"] for p in standin.pushes()}
    assert "มาตรการที่ 1, 2, 3, 4" in texts[STAFF_SP] and "คุณสมชาย สป" in texts[STAFF_SP]
    assert "กองช่าง" in texts[STAFF_CHANG] and "25 ก.พ. 2564" in texts[STAFF_CHANG]
    assert job(office, line, "reminder", MON_22).sent == 0  # each recipient its own key, all done


def test_thai_numerals_follow_the_config(make_config: Callable[..., Config], standin: Any, line: LineClient) -> None:
    office = open_office(make_config(display={"numerals": "thai"}))
    register_staff(office)
    job(office, line, "reminder", MON_22)
    text = standin.pushes()[0]["messages"][0]["text"]
    assert "๒๕ ก.พ. ๒๕๖๔" in text and "มาตรการที่ ๑, ๒, ๓, ๔" in text


def flex_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [node["text"]] if node.get("type") == "text" else []
        return out + [t for v in node.values() for t in flex_texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in flex_texts(v)]
    return []


def flex_uris(node: Any) -> list[str]:
    return [t for t in json.dumps(node, ensure_ascii=False).split('"') if t.startswith("https://")]


def test_digest_goes_to_every_chair_with_status_reports_pending_and_the_link(
    office: Office, line: LineClient, standin: Any
) -> None:
    register_staff(office)
    report(office, 1, "sp", "2021-01-20T10:00", "doing", 20, "เริ่มแล้ว")  # January's cycle
    report(office, 1, "sp", "2021-02-15T10:00", "doing", 60, "ปรับปรุงคู่มือการให้บริการแล้ว")
    report(office, 4, "klang", "2021-02-16T10:00", "blocked", 30, "รองบประมาณอบรม")
    give_role(office, MEMBER, "chair")  # a second chair, by code
    result = job(office, line, "digest", at("2021-02-24T16:00"))
    assert result.ok and result.days_before == 1
    assert sorted(p["to"] for p in standin.pushes()) == sorted([CHAIR, MEMBER])
    message = standin.pushes()[0]["messages"][0]
    assert message["type"] == "flex" and message["contents"]["type"] == "carousel"
    assert len(message["contents"]["contents"]) == 1 + len(office.plan.measures)
    texts = "\n".join(flex_texts(message["contents"]))
    assert "15 ก.พ. 2564" in texts and "ปรับปรุงคู่มือการให้บริการแล้ว" in texts
    assert "ติดปัญหา 30%" in texts and "กำลังดำเนินการ 60%" in texts
    assert "เริ่มแล้ว" not in texts  # January's report is not this cycle's
    assert "กองช่าง: มาตรการที่ 4" in texts  # pending
    assert "รายงานแล้วในรอบนี้ 2 จาก 6 รายการ" in texts
    assert flex_uris(message["contents"]) == ["https://ita.example.go.th/reports/2564/2021-02"]
    assert "ค้างรายงาน" in message["altText"] and len(message["altText"]) <= 1500


def test_an_unreachable_chair_is_reported_to_the_managers(
    config: Config, office: Office, standin: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    office.people.touch(CHAIR, NAMES[CHAIR])
    give_role(office, MEMBER, "chair")
    standin.set_friend(CHAIR, False)
    assert cmd_job(config, "digest", at("2021-02-24T16:00")) == 1
    assert [p["to"] for p in standin.pushes()] == [MEMBER]  # the other chair still gets it
    captured = capsys.readouterr()
    assert "unreachable" in captured.out and "error" in captured.err
    [notice] = office.notices.active()
    assert notice.kind == "unreachable_chair" and NAMES[CHAIR] in notice.text and CHAIR not in notice.text
    # The managers are told once, however often the job is rerun.
    cmd_job(config, "digest", at("2021-02-24T17:00"))
    assert len(office.notices.active()) == 1
    # Once the chair adds the bot, a rerun delivers.
    standin.set_friend(CHAIR, True)
    assert cmd_job(config, "digest", at("2021-02-24T18:00")) == 0
    assert sorted(p["to"] for p in standin.pushes()) == sorted([MEMBER, CHAIR])


def test_summary_goes_to_the_staff_group_on_meeting_day(office: Office, line: LineClient, standin: Any) -> None:
    register_staff(office)
    report(office, 2, "sp", "2021-02-18T10:00", "done", 100, "ประชาสัมพันธ์ทางเว็บไซต์ครบแล้ว")
    result = job(office, line, "summary", at("2021-02-25T08:00"))
    assert result.ok and result.days_before == 0
    [push] = standin.pushes()
    assert push["to"] == GROUP
    message = push["messages"][0]
    texts = "\n".join(flex_texts(message["contents"]))
    assert "ประจำเดือนกุมภาพันธ์ 2564" in message["altText"]
    assert "แจ้งเวียนให้พนักงาน" in texts  # section ๕: reported at the meeting and circulated to staff
    assert "ประชาสัมพันธ์ทางเว็บไซต์ครบแล้ว" in texts and "ผู้รายงาน" not in texts  # no personal names
    assert flex_uris(message["contents"]) == ["https://ita.example.go.th/reports/2564/2021-02"]


def test_summary_is_sent_even_when_nothing_is_pending(office: Office, line: LineClient, standin: Any) -> None:
    for measure, div in office.plan.pairs():
        report(office, measure, div, "2021-02-10T10:00")
    job(office, line, "summary", at("2021-02-25T08:00"))
    assert "ทุกกองรายงานครบแล้ว" in "\n".join(flex_texts(standin.pushes()[0]["messages"][0]))


def test_no_staff_group_is_a_clear_failure(make_config: Callable[..., Config], standin: Any,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    config = make_config(line={"group_id": ""})
    office = open_office(config)
    register_staff(office)
    assert cmd_job(config, "reminder", MON_22) == 1
    assert "no staff group" in capsys.readouterr().out
    assert [n.kind for n in office.notices.active()] == ["failed_send"]
    # /ตั้งกลุ่ม's setting is used when config has none.
    office.set_setting("group_id", GROUP)
    assert cmd_job(config, "reminder", MON_22) == 0
    assert standin.pushes()[0]["to"] == GROUP


def test_missing_credentials_exit_non_zero_with_a_message(
    make_config: Callable[..., Config], capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(line={"channel_access_token": "CHANGE-ME"})
    assert cmd_job(config, "summary", MON_22) == 2
    assert "channel_access_token" in capsys.readouterr().err


def test_line_down_exits_non_zero(config: Config, office: Office, standin: Any,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    standin.fail("/v2/bot/message/push", 400, body={"message": "The request body has 1 error(s)"})
    assert cmd_job(config, "summary", at("2021-02-25T08:00")) == 1
    captured = capsys.readouterr()
    assert "failed" in captured.out and "The request body has 1 error(s)" in captured.out


@pytest.mark.backends("tinydb")  # README figures about LINE, not storage
def test_message_cost_per_cycle_group_vs_direct(
    make_config: Callable[..., Config], standin: Any, line: LineClient
) -> None:
    """README figures: a 20-person group, 3 pending divisions with 2 registered staff each."""
    staff = {div: [f"U{div_n}{i:031x}" for i in range(2)] for div_n, div in enumerate(("sp", "klang", "chang"), 1)}
    others = [f"U9{i:031x}" for i in range(20 - 6)]
    for uid in [*(u for us in staff.values() for u in us), *others]:
        standin.add_user(uid, "พนักงาน")
    standin.add_group(GROUP, "พนักงาน", [*(u for us in staff.values() for u in us), *others])
    costs = {}
    for mode in ("group", "direct"):
        office = open_office(make_config(schedule={"reminder_to": mode}))
        for div, uids in staff.items():
            for uid in uids:
                office.people.register(uid, "พนักงาน", div, approved=True, now=at("2021-01-10T10:00"))
        before = standin.consumption
        for name, moment in (("reminder", "2021-02-22T09:00"), ("reminder", "2021-02-24T09:00"),
                             ("digest", "2021-02-24T16:00"), ("summary", "2021-02-25T08:00")):
            assert job(office, line, name, at(moment)).ok
        costs[mode] = standin.consumption - before
        with tiny_store(office).write("sent-log") as db:  # the next mode starts with a clean sent-log
            db.drop_tables()
    # group: 2 reminders × 20 + summary × 20 + 1 digest; direct: 2 × 6 staff + 20 + 1.
    assert costs == {"group": 61, "direct": 33}
    print(f"\nmessages per cycle (20-person group, 3 pending divisions × 2 staff): {costs}")


def test_a_digest_with_a_flood_of_long_reports_stays_within_lines_limits(
    office: Office, line: LineClient, standin: Any
) -> None:
    for measure, div in office.plan.pairs():
        for day in range(1, 21):
            report(office, measure, div, f"2021-02-{day:02d}T10:00", "doing", day, "รายละเอียดยาวมาก " * 40)
    for name, moment in (("digest", "2021-02-24T16:00"), ("summary", "2021-02-25T08:00")):
        result = job(office, line, name, at(moment))
        assert result.ok, result.lines  # the stand-in refuses bubbles over 30 KB and carousels over 50 KB
    assert len(standin.pushes()) == 2


@pytest.mark.slow  # a real process: `bot.py job`
def test_the_job_command_line(config: Config, office: Office, standin: Any,
                              storage_backend: dict[str, str]) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    register_staff(office)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "ITA_BOT_"))}
    env.update(ITA_BOT_CONFIG=str(config.path), ITA_BOT_DB=str(config.db_path),
               LINE_API_ENDPOINT=standin.url, LINE_DATA_API_ENDPOINT=standin.url, **storage_backend)
    root = Path(__file__).resolve().parents[2]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "bot.py", "job", *args], cwd=root, env=env, capture_output=True,
                              text=True, timeout=60)

    first = run("reminder", "--now", "2021-02-22T09:00")
    assert first.returncode == 0, first.stderr
    assert "sent" in first.stdout and len(standin.pushes()) == 1
    again = run("reminder", "--now", "2021-02-22T10:30")
    assert again.returncode == 0 and "already sent" in again.stdout
    assert len(standin.pushes()) == 1
    standin.fail("/v2/bot/message/push", 400, body={"message": "The request body has 1 error(s)"})
    failed = run("summary", "--now", "2021-02-25T08:00")
    assert failed.returncode == 1
    assert "The request body has 1 error(s)" in failed.stdout and "error: summary" in failed.stderr


def test_oversized_bubbles_fall_back_to_statuses(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    from ita_bot.line import cycle_summary as summary_flex
    from ita_bot.line_standin.validation import check_send_request
    from ita_bot.schedule import messages as job_messages

    monkeypatch.setattr(summary_flex, "REPORTS_PER_PAIR", 100)  # show every report: far over LINE's limits
    for measure, div in office.plan.pairs():
        for day in range(1, 21):
            report(office, measure, div, f"2021-02-{day:02d}T10:00", "doing", day, "รายละเอียดยาวมาก " * 40)
    view = office.view(office.calendar().cycle("2021-02"))
    message = job_messages.digest_message(cycle_summary(office.plan, view), "https://ita.example.go.th/reports/2564/2021-02")
    body = {"to": CHAIR, "messages": [message]}
    assert check_send_request("push", body) == []
    texts = "\n".join(flex_texts(message["contents"]))
    assert "กำลังดำเนินการ 20%" in texts  # the statuses survive


def test_a_report_without_a_percentage_leaves_no_dash_and_never_reported_is_said_once(
    office: Office, line: LineClient, standin: Any
) -> None:
    register_staff(office)
    report(office, 4, "chang", "2021-02-16T10:00", "blocked", None, "")  # blocked, no percentage, no details
    job(office, line, "digest", at("2021-02-24T16:00"))
    texts = flex_texts(standin.pushes()[0]["messages"][0]["contents"])
    assert "🔴 ติดปัญหา" in texts and not any(t.rstrip().endswith("–") for t in texts)
    # A pair never reported reads "ยังไม่เคยรายงาน" once, not again as "ยังไม่ได้รายงานในรอบนี้" under it.
    never = texts.index("⏳ ยังไม่เคยรายงาน")
    assert texts[never + 1] != "ยังไม่ได้รายงานในรอบนี้"
