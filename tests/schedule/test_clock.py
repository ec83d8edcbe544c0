"""The clock: slots from the live calendar, catch-up after downtime, racing clocks, and the real process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tinydb import Query

from ita_bot.domain.config import Config
from ita_bot.domain.office import Office
from ita_bot.domain.thai import BANGKOK
from ita_bot.line.client import LineClient
from ita_bot.schedule.clock import Clock, slots_of
from ita_bot.schedule.delivery import Delivery
from tests.conftest import CHAIR, GROUP, NAMES, SECRETARY, STAFF_KLANG, STAFF_SP, TOKEN
from tests.processes import FakeTime, at, stop_process
from tests.tiny import tiny_store

ROOT = Path(__file__).resolve().parents[2]




@pytest.fixture
def line(standin: Any) -> LineClient:
    return LineClient(TOKEN, standin.url, standin.url)


def make_clock(office: Office, line: LineClient, time: FakeTime) -> Clock:
    return Clock(office, line, now=time, delivery=Delivery(office, line, sleep=lambda s: None, wall=time))


def register_staff(office: Office) -> None:
    for uid, div in ((STAFF_SP, "sp"), (STAFF_KLANG, "klang")):
        office.people.register(uid, NAMES[uid], div, approved=True, now=at("2021-01-10T10:00"))


def sent(standin: Any, office: Office) -> list[tuple[str, str]]:
    """(recipient, job) of every push, in order; a reminder shows its slot ("reminder 3": 3 working days before)."""
    by_key = {e["retry_key"]: e for e in Delivery(office, None).entries()}  # type: ignore[arg-type]
    out = []
    for call in standin.calls:
        if call.path == "/v2/bot/message/push" and call.status == 200:
            entry = by_key[call.headers["x-line-retry-key"]]
            what = f"reminder {entry['days_before']}" if entry["job"] == "reminder" else entry["job"]
            out.append(("group" if entry["recipient"] == GROUP else "chair" if entry["recipient"] == CHAIR else "?",
                        what))
    return out


def test_slots_of_the_feb_2564_cycle(office: Office) -> None:
    cal = office.calendar()
    slots = slots_of(cal, cal.cycle("2021-02"), office.config.schedule)
    assert [(s.job, s.at.isoformat(), s.days_before) for s in slots] == [
        ("reminder", "2021-02-22T09:00:00+07:00", 3),
        ("reminder", "2021-02-24T09:00:00+07:00", 1),
        ("digest", "2021-02-24T16:00:00+07:00", 1),
        ("summary", "2021-02-25T08:00:00+07:00", 0),
    ]


def test_each_job_runs_once_at_its_slot(office: Office, line: LineClient, standin: Any) -> None:
    register_staff(office)
    time = FakeTime("2021-02-22T08:59")
    clock = make_clock(office, line, time)
    steps = [
        ("2021-02-22T08:59", []),
        ("2021-02-22T09:00", [("group", "reminder 3")]),
        ("2021-02-22T09:01", []),
        ("2021-02-23T09:00", []),
        ("2021-02-24T09:00", [("group", "reminder 1")]),
        ("2021-02-24T15:59", []),
        ("2021-02-24T16:00", [("chair", "digest")]),
        ("2021-02-25T08:00", [("group", "summary")]),
        ("2021-02-25T09:00", []),
        ("2021-02-26T09:00", []),
    ]
    seen = 0
    for moment, expected in steps:
        time.set(moment)
        clock.tick()
        assert sent(standin, office)[seen:] == expected, moment
        seen = len(sent(standin, office))


def test_the_next_runs_are_known_at_start(office: Office, line: LineClient, caplog: pytest.LogCaptureFixture) -> None:
    time = FakeTime("2021-02-23T12:00")
    clock = make_clock(office, line, time)
    # Down since before Monday's reminder: it is due at once (the first tick catches it up).
    nxt = clock.next_runs(time())
    assert nxt["reminder"] is not None and nxt["reminder"].at == at("2021-02-22T09:00")
    with caplog.at_level("INFO", logger="ita_bot.schedule.clock"):
        clock.log_next_runs()
    assert "next reminder: reminder at 2021-02-22 09:00" in caplog.text and "catching up now" in caplog.text
    clock.tick()
    nxt = clock.next_runs(time())
    assert nxt["reminder"] is not None and nxt["reminder"].at == at("2021-02-24T09:00")
    assert nxt["digest"] is not None and nxt["digest"].at == at("2021-02-24T16:00")
    assert nxt["summary"] is not None and nxt["summary"].at == at("2021-02-25T08:00")


def test_a_clock_restarted_after_missed_slots_catches_up_once(
    office: Office, line: LineClient, standin: Any
) -> None:
    register_staff(office)
    time = FakeTime("2021-02-21T10:00")
    make_clock(office, line, time).tick()
    # Down over both reminder slots and the digest; back on meeting day before the summary.
    time.set("2021-02-25T07:30")
    clock = make_clock(office, line, time)
    clock.tick()
    assert sent(standin, office) == [("group", "reminder 1"), ("chair", "digest")]  # only the latest missed reminder
    [reminder] = standin.pushes()[:1]
    assert "วันพฤหัสบดีที่ 25 ก.พ. 2564 (วันนี้)" in reminder["messages"][0]["text"]
    clock.tick()
    make_clock(office, line, time).tick()  # another restart
    assert len(standin.pushes()) == 2
    time.set("2021-02-25T08:00")
    clock.tick()
    assert sent(standin, office)[2:] == [("group", "summary")]


def test_a_catch_up_between_reminder_slots_sends_the_earlier_one(
    office: Office, line: LineClient, standin: Any
) -> None:
    register_staff(office)
    time = FakeTime("2021-02-23T11:00")  # down at Mon 09:00, back on Tue
    clock = make_clock(office, line, time)
    clock.tick()
    assert sent(standin, office) == [("group", "reminder 3")]
    time.set("2021-02-24T09:00")
    clock.tick()
    assert sent(standin, office) == [("group", "reminder 3"), ("group", "reminder 1")]


def test_no_catch_up_once_the_meeting_day_has_passed(office: Office, line: LineClient, standin: Any) -> None:
    register_staff(office)
    time = FakeTime("2021-02-26T09:00")  # down from before the 22nd to the day after the meeting
    make_clock(office, line, time).tick()
    assert standin.pushes() == []


def test_a_changed_meeting_moves_the_slots_without_a_restart(
    office: Office, line: LineClient, standin: Any
) -> None:
    register_staff(office)
    time = FakeTime("2021-02-16T09:00")
    clock = make_clock(office, line, time)
    clock.tick()
    assert standin.pushes() == []
    # A manager moves February's meeting to Fri 19 Feb (/ประชุม in the web process).
    office.set_meeting("2021-02", date(2021, 2, 19), SECRETARY, time())
    time.set("2021-02-16T09:01")
    clock.tick()
    assert sent(standin, office) == [("group", "reminder 3")]
    assert "19 ก.พ. 2564" in standin.pushes()[0]["messages"][0]["text"]


def test_a_slot_with_nothing_pending_is_handled_and_not_rechecked(
    office: Office, line: LineClient, standin: Any
) -> None:
    from ita_bot.domain.progress import Report

    register_staff(office)
    for measure, div in office.plan.pairs():
        moment = at("2021-02-10T10:00")
        office.reports.add(Report(2564, measure, div, "doing", 50, "", moment, moment))
    time = FakeTime("2021-02-22T09:00")
    clock = make_clock(office, line, time)
    clock.tick()
    assert standin.pushes() == []
    assert [s.id for s in clock.due(time())] == []


def test_each_tick_writes_the_heartbeat(office: Office, line: LineClient) -> None:
    time = FakeTime("2021-02-22T08:00")
    make_clock(office, line, time).tick()
    with tiny_store(office).read() as db:
        beat = db.table("heartbeats").get(Query().name == "clock")
    assert beat is not None
    assert abs(datetime.now(BANGKOK) - datetime.fromisoformat(beat["at"])) < timedelta(seconds=30)  # real time
    assert beat["as_of"] == time().isoformat()
    from ita_bot.web import create_app

    app = create_app(office.config, office=office, line=line, start_worker=False)
    assert app.test_client().get("/healthz").get_json()["clock"]["heartbeat_age_seconds"] <= 30


# --- real processes -------------------------------------------------------------------------------


def clock_env(config: Config, standin: Any, start: str, tick: str = "0.5") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "ITA_BOT_"))}
    env.update(
        ITA_BOT_CONFIG=str(config.path),
        ITA_BOT_DB=str(config.db_path),
        LINE_API_ENDPOINT=standin.url,
        LINE_DATA_API_ENDPOINT=standin.url,
        ITA_BOT_CLOCK_TICK=tick,
        ITA_BOT_CLOCK_START=start,
        PYTHONUNBUFFERED="1",
    )
    if config.database_url:  # the config's office on PostgreSQL (a test marked for both backends)
        env.update(ITA_BOT_DATABASE_URL=config.database_url, ITA_BOT_OFFICE=config.office)
    return env


def start_clock(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "bot.py", "clock"], cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )




@pytest.mark.slow  # a real process: `bot.py clock`
def test_the_clock_process_pushes_at_its_slot_and_stops_on_sigterm(
    config: Config, office: Office, standin: Any, tmp_path: Path
) -> None:
    register_staff(office)
    # The process pretends it starts two seconds before the reminder slot, then runs in real time.
    proc = start_clock(clock_env(config, standin, "2021-02-22T08:59:58"), tmp_path / "clock.log")
    try:
        assert standin.wait_for(lambda s: len(s.pushes()) >= 1, timeout=60), (tmp_path / "clock.log").read_text()
        push = standin.pushes()[0]
        assert push["to"] == GROUP and "25 ก.พ. 2564" in push["messages"][0]["text"]
        call = next(c for c in standin.calls if c.path == "/v2/bot/message/push")
        assert call.headers["x-line-retry-key"]
    finally:
        code = stop_process(proc)
    log = (tmp_path / "clock.log").read_text()
    assert code == 0, log
    assert "next reminder: reminder at 2021-02-22 09:00" in log and "clock stopped" in log
    from tests.test_deploy import LOG_LINE

    # The web's lines have the same shape (tests/test_deploy.py): one journal, one way to read it.
    assert all(re.match(LOG_LINE, ln) for ln in log.splitlines() if ln[:1].isdigit()), log
    assert STAFF_SP not in log and GROUP not in log  # no LINE IDs in logs
    with tiny_store(office).read() as db:
        assert db.table("heartbeats").get(Query().name == "clock") is not None
    assert len(standin.pushes()) == 1


@pytest.mark.slow  # a real process: two `bot.py clock`
def test_two_clocks_started_together_push_each_message_once(
    config: Config, office: Office, standin: Any, tmp_path: Path
) -> None:
    register_staff(office)
    # LINE answers pushes slowly, so whichever clock starts first is still sending when the other ticks.
    standin.delay(1.0, "/v2/bot/message/push")
    # Both start after the day-1 reminder and the digest were due: both try to catch them up at once.
    env = clock_env(config, standin, "2021-02-24T16:00:30", tick="0.3")
    procs = [start_clock(env, tmp_path / f"clock{i}.log") for i in range(2)]
    try:
        assert standin.wait_for(lambda s: len(s.pushes()) >= 2, timeout=60), [
            (tmp_path / f"clock{i}.log").read_text() for i in range(2)
        ]
        # Let both run several more ticks: nothing more may go out.
        standin.wait_for(lambda s: len(s.pushes()) > 2, timeout=1.5)
    finally:
        codes = [stop_process(p) for p in procs]
    logs = [(tmp_path / f"clock{i}.log").read_text() for i in range(2)]
    assert codes == [0, 0], logs
    assert sorted(sent(standin, office)) == [("chair", "digest"), ("group", "reminder 1")]
    assert all("clock started" in log for log in logs)
    assert any("handled by another clock" in log for log in logs), logs
