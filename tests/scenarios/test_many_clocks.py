"""Any number of clocks at once on PostgreSQL: three `bot.py clock` processes and two gunicorn masters (two workers
each) on one office in one database, one LINE stand-in, over February 2564's slots (two reminders, the digest, the
summary), while staff send reports to both masters.

Every push reaches LINE exactly once (by X-Line-Retry-Key and by recipient and content), and the pushes are exactly
those one clock alone sends for the same slots on TinyDB; every acknowledged report is stored once.

The clocks cannot run faster than real time, so each slot is a round: the three clocks start together a moment
before it (``ITA_BOT_CLOCK_START``), race for it, and are stopped once it is done.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.config import Config, load_config
from ita_bot.domain.office import Office
from ita_bot.domain.thai import BANGKOK
from ita_bot.line.client import LineClient
from ita_bot.line_standin import LineStandIn, as_redelivery
from ita_bot.schedule.clock import Clock
from ita_bot.schedule.delivery import Delivery
from ita_bot.schedule.slots import Slot, job_slots
from ita_bot.store import open_office
from tests.conftest import (
    GROUP,
    NAMES,
    ROOT,
    SECRET,
    STAFF_CHANG,
    STAFF_KLANG,
    STAFF_SP,
    STAFF_SP2,
    STAFF_SUKSA,
    STRANGER,
    TOKEN,
    write_config,
)
from tests.processes import FakeTime, stop_process, wait_until, wait_until_healthy
from tests.scenarios.backends import postgresql_env
from tests.scenarios.test_gunicorn import GUNICORN, free_port

PUSH = "/v2/bot/message/push"
USER_ID = re.compile(r"U[0-9a-f]{32}")
STAFF = {STAFF_SP: "sp", STAFF_SP2: "sp", STAFF_KLANG: "klang", STAFF_CHANG: "chang", STAFF_SUKSA: "suksa"}
# Direct reminders: one push per pending division's staff member, so three clocks race for many claims per slot.
SECTIONS = {"schedule": {"reminder_to": "direct"}}
# The reports are dated in the next cycle (March 2564): what the February jobs send does not depend on when a
# report happens to be stored during the run, so the pushes can be compared with a lone clock's exactly.
REPORTS_FROM = datetime(2021, 3, 1, 10, 0, tzinfo=BANGKOK)
REPORTS_PER_MASTER = 40


def populate(standin: LineStandIn) -> LineStandIn:
    """The test world's people and staff group (as conftest's stand-in has them)."""
    for uid, name in NAMES.items():
        standin.add_user(uid, name)
    standin.add_group(GROUP, "พนักงาน อบต.หนองเมือง", [u for u in NAMES if u != STRANGER])
    return standin


def register(office: Office) -> None:
    for uid, division in STAFF.items():
        office.people.register(uid, NAMES[uid], division, approved=True, now=datetime(2021, 1, 10, 10, 0,
                                                                                        tzinfo=BANGKOK))


def february_slots(office: Office) -> list[Slot]:
    return job_slots(office, office.calendar(), date(2021, 2, 1), date(2021, 2, 28))


def content(push: dict[str, Any]) -> tuple[str, str]:
    return push["to"], json.dumps(push["messages"], ensure_ascii=False, sort_keys=True)


def lone_clock_on_tinydb(folder: Path) -> Counter[tuple[str, str]]:
    """What one clock alone pushes for February's slots, on TinyDB, ticking at each slot: the reference."""
    folder.mkdir()
    with populate(LineStandIn(SECRET)) as line:
        config = load_config(write_config(folder, SECTIONS), {"ITA_BOT_DB": str(folder / "db" / "ita-bot.json")})
        office = open_office(config)
        register(office)
        client = LineClient(TOKEN, line.url, line.url)
        now = FakeTime("2021-02-01T00:00")
        clock = Clock(office, client, now=now, delivery=Delivery(office, client, sleep=lambda s: None, wall=now))
        for slot in february_slots(office):
            now.at = slot.at + timedelta(seconds=1)
            clock.tick()
        return Counter(content(p) for p in line.pushes())


def process_env(config: Config, standin: LineStandIn, storage: dict[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "ITA_BOT_"))}
    env.update(ITA_BOT_CONFIG=str(config.path), ITA_BOT_DB=str(config.db_path), LINE_API_ENDPOINT=standin.url,
               LINE_DATA_API_ENDPOINT=standin.url, PYTHONUNBUFFERED="1", **storage, **extra)
    return env


@pytest.fixture
def masters(tmp_path: Path, standin: LineStandIn, postgres_database: str) -> Iterator[tuple[dict[str, str], list[str]]]:
    """Two gunicorn masters with two workers each on one new PostgreSQL office: (their environment, base URLs)."""
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in this environment")
    config = load_config(write_config(tmp_path, SECTIONS), {"ITA_BOT_DB": str(tmp_path / "db" / "ita-bot.json")})
    env = process_env(config, standin, postgresql_env(postgres_database))
    procs: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for i in range(2):
            port, log = free_port(), tmp_path / f"gunicorn{i}.log"
            with open(log, "wb") as out:
                proc = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "bot:app"], cwd=ROOT,
                                        env={**env, "PORT": str(port), "WEB_CONCURRENCY": "2"},
                                        stdout=out, stderr=subprocess.STDOUT)
            procs.append(proc)
            urls.append(f"http://127.0.0.1:{port}")
        for i, (proc, url) in enumerate(zip(procs, urls, strict=True)):
            wait_until_healthy(url + "/healthz", proc, tmp_path / f"gunicorn{i}.log", timeout=30)
        yield env, urls
    finally:
        codes = [stop_process(p) for p in procs]
    assert codes == [0, 0]


@pytest.mark.timeout(120)
def test_three_clocks_and_two_masters_on_one_database_push_each_message_once(
    tmp_path: Path, standin: LineStandIn, masters: tuple[dict[str, str], list[str]]
) -> None:
    env, urls = masters
    office = open_office(load_config(env["ITA_BOT_CONFIG"], env))
    assert office.config.database_url and office.config.office.startswith("t-")
    register(office)
    slots = february_slots(office)
    assert [s.id for s in slots] == ["reminder/2021-02/3", "reminder/2021-02/1", "digest/2021-02/1",
                                     "summary/2021-02/0"]
    reference = lone_clock_on_tinydb(tmp_path / "reference")
    assert sum(reference.values()) >= 2 * 4 + 2  # four staff reminded twice, the chair's digest, the summary

    # Staff report to both masters all along: reports are stored while the clocks race.
    senders_failed: list[BaseException] = []
    events: list[dict[str, Any]] = []
    at = iter(REPORTS_FROM + timedelta(seconds=i) for i in range(10_000))
    reporters = [STAFF_SP, STAFF_SP2, STAFF_KLANG, STAFF_CHANG]
    for i in range(2 * REPORTS_PER_MASTER):
        events.append(standin.text_event(f"/รายงาน 4 กำลังทำ {1 + i % 98}% งานที่ {i:03d}",
                                         user_id=reporters[i % 4], group_id=GROUP if i % 3 == 0 else None,
                                         timestamp=next(at)))

    def send(master: int) -> None:
        try:
            for event in events[master::2]:
                for attempt in range(1, 21):
                    body = event if attempt == 1 else as_redelivery(event)
                    try:
                        status: object = standin.deliver(urls[master] + "/callback", [body], timeout=5)
                    except OSError as e:
                        status = type(e).__name__
                    if status == 200:
                        break
                    time.sleep(0.1 * attempt)
                else:
                    pytest.fail(f"a report got no 200 from master {master} in 20 attempts")
                time.sleep(0.15)
        except BaseException as e:
            senders_failed.append(e)

    senders = [threading.Thread(target=send, args=(m,), name=f"sender-{m}", daemon=True) for m in range(2)]
    for t in senders:
        t.start()

    # LINE answers pushes slowly: the clock that claimed a slot is still sending when the others tick.
    standin.delay(0.4, PUSH)
    logs: list[Path] = []
    started = time.monotonic()
    for n, slot in enumerate(slots):
        start = (slot.at - timedelta(seconds=2.5)).astimezone(BANGKOK).replace(tzinfo=None).isoformat()
        clock_env = {**env, "ITA_BOT_CLOCK_START": start, "ITA_BOT_CLOCK_TICK": "0.3"}
        procs = []
        for c in range(3):
            log = tmp_path / f"clock-{n}-{c}.log"
            logs.append(log)
            with open(log, "wb") as out:
                procs.append(subprocess.Popen([sys.executable, "bot.py", "clock"], cwd=ROOT, env=clock_env,
                                              stdout=out, stderr=subprocess.STDOUT))
        try:
            def slot_done(slot: Slot = slot) -> bool:
                rows = {r["slot"]: r for r in office.repositories.slots.all()}
                entries = office.repositories.sent_log.entries()
                return rows.get(slot.id, {}).get("state") == "done" and all(e["state"] == "done" for e in entries)

            wait_until(slot_done, 30, f"the clocks to run {slot.id}",)
            before = len(standin.calls)
            time.sleep(1.0)  # three more ticks of every clock: nothing more may go out
            assert [c.path for c in standin.calls[before:] if c.path == PUSH] == []
        finally:
            codes = [stop_process(p) for p in procs]
        assert codes == [0, 0, 0], [log.read_text() for log in logs[-3:]]
    print(f"\nfour slots raced by three clocks each: {time.monotonic() - started:.1f} s")

    for t in senders:
        t.join(60)
    assert not senders_failed, senders_failed
    assert not any(t.is_alive() for t in senders)

    # Every push exactly once, and exactly what a lone clock sends.
    calls = [c for c in standin.calls if c.path == PUSH]
    keys = [c.headers["x-line-retry-key"] for c in calls]
    assert len(keys) == len(set(keys)), "a push was sent twice with one retry key"
    assert all(c.status == 200 for c in calls)
    pushed = Counter(content(p) for p in standin.pushes())
    assert set(pushed.values()) == {1}, "one message pushed twice to one recipient"
    assert pushed == reference, "the racing clocks sent something else than a lone clock does"
    # The slot and sent-log records agree with what LINE got.
    rows = {r["slot"]: r for r in office.repositories.slots.all()}
    assert all(rows[s.id]["state"] == "done" and rows[s.id]["error"] is None for s in slots)
    entries = office.repositories.sent_log.entries()
    assert {e["retry_key"] for e in entries} == set(keys) and all(e["state"] == "done" for e in entries)
    texts = [log.read_text(errors="replace") for log in logs]
    assert all("clock started" in t and "clock stopped" in t for t in texts)
    assert any("handled by another clock" in t for t in texts), "the clocks never raced for a slot"
    assert not any(USER_ID.search(t) for t in texts)

    # Every acknowledged report stored once.
    wanted = {e["webhookEventId"] for e in events}

    def processed() -> bool:
        mine = [r for r in office.reports.all(2564) if r.event_id in wanted]
        return office.repositories.inbox.count_pending() == 0 and len(mine) >= len(wanted)

    wait_until(processed, 30, "both masters to process every report")
    reports = [r for r in office.reports.all(2564, include_withdrawn=True) if r.event_id in wanted]
    per_event = Counter(r.event_id for r in reports)
    assert set(per_event) == wanted and set(per_event.values()) == {1}, "a report stored twice or lost"
    assert sorted(r.details for r in reports) == [f"งานที่ {i:03d}" for i in range(len(events))]
    tokens = Counter(r["replyToken"] for r in standin.replies())
    assert all(tokens[e["replyToken"]] == 1 for e in events), "a report answered twice or not at all"
