"""POST /callback and /healthz: signatures, body checks, the journal (duplicates, restart) and slow LINE."""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import random
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tinydb import Query
from werkzeug.serving import make_server

from ita_bot.chat.journal import Journal
from ita_bot.domain.thai import BANGKOK
from ita_bot.line.client import LineClient
from ita_bot.line_standin import as_redelivery
from ita_bot.line_standin.serving import Serving
from ita_bot.store.tiny.inbox import DONE_LOG, FileInbox
from ita_bot.store.tiny.segments import decode_lines
from tests.conftest import ROOT, SECRET, STAFF_KLANG, STAFF_SP, TOKEN
from tests.tiny import tiny_store

REPLY = "/v2/bot/message/reply"


def reply_calls(standin: Any) -> list[Any]:
    return [c for c in standin.calls if c.path == REPLY]


def processed_files(bot: Any) -> list[str]:
    """Entries the journal has processed and keeps (for dedupe) in its done-log, as ``<event id>.json``."""
    done = tiny_store(bot.office).journal_dir / DONE_LOG
    return sorted(f"{r['done']}.json" for r in decode_lines(done.read_bytes())) if done.is_file() else []


# -- signature and body checks ------------------------------------------------------------------------


def test_missing_or_bad_signature_is_400_and_nothing_is_stored(bot: Any) -> None:
    event = bot.text_event("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    body = bot.standin.webhook_body([event])
    assert bot.post(body, signature=None).status_code == 400
    assert bot.post(body, signature="bm90IHRoZSBzaWduYXR1cmU=").status_code == 400
    assert bot.post(body, signature="ไม่ใช่").status_code == 400
    # Signed for other bytes: the signature covers the raw body exactly.
    assert bot.post(body + b" ", signature=bot.standin.signature(body)).status_code == 400
    assert bot.journal_files() == []
    assert bot.office.people.get(STAFF_SP) is None
    assert bot.standin.calls == []


def test_verify_request_is_200(bot: Any) -> None:
    response = bot.post(json.dumps({"destination": bot.standin.bot_user_id, "events": []}).encode())
    assert response.status_code == 200
    assert bot.journal_files() == []


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"\xff\xfe", b"[]", b'"events"', b"5", b"null", b'{"destination": "x"}',
     b'{"events": "x"}', b'{"events": [1, 2]}', b'{"events": [{"type": "message"}, "x"]}'],
)
def test_malformed_or_unusable_bodies_are_400(bot: Any, body: bytes) -> None:
    response = bot.post(body)  # correctly signed: only the content is wrong
    assert response.status_code == 400
    assert bot.journal_files() == []


@pytest.mark.parametrize("encode", [
    lambda text: text.encode("utf-8", "backslashreplace").replace(b"\\ud800", b"\\uD800"),  # an escape (any case)
    lambda text: text.encode("utf-8", "surrogatepass"),  # written out in UTF-8 (json reads it with surrogatepass)
    lambda text: text.encode("utf-16", "surrogatepass"),  # a UTF-16 body (with its BOM)
    lambda text: text.encode("utf-16-le", "surrogatepass"),  # and without one: NULs up front tell json
])
def test_a_lone_surrogate_in_any_spelling_is_refused(bot: Any, encode: Any) -> None:
    event = bot.text_event("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    event["message"]["text"] = "/ลงทะเบียน \ud800"
    text = json.dumps({"destination": bot.standin.bot_user_id, "events": [event]}, ensure_ascii=False)
    response = bot.post(encode(text))
    assert response.status_code == 400
    assert "lone surrogate" in response.get_data(as_text=True)
    assert bot.journal_files() == []


def test_bodies_over_one_mib_are_413(bot: Any) -> None:
    big = b'{"events": [], "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = bot.post(big)
    assert response.status_code == 413
    assert bot.journal_files() == []


def test_chunked_body_over_one_mib_is_refused(bot: Any) -> None:
    big = b'{"events": [], "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'

    # No Content-Length (as with Transfer-Encoding: chunked): the size is only known while reading.
    response = bot.client.post(
        "/callback",
        input_stream=io.BytesIO(big),
        headers={"X-Line-Signature": bot.standin.signature(big), "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


# -- the journal -------------------------------------------------------------------------------------------


def test_redelivered_event_is_applied_once(bot: Any) -> None:
    event = bot.text_event("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    first = bot.deliver(event)
    assert first, "the registration is answered"
    again = bot.deliver(as_redelivery(event))
    assert again == first  # the same recorded reply, not a second one
    assert len(reply_calls(bot.standin)) == 1
    assert bot.journal_files() == []  # nothing pending
    assert processed_files(bot) == [event["webhookEventId"] + ".json"]
    with tiny_store(bot.office).read() as db:
        assert len(db.table("people").search(Query().user_id == STAFF_SP)) == 1


def test_one_webhook_with_several_events_processes_each(bot: Any) -> None:
    a = bot.text_event("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    b = bot.text_event("/ลงทะเบียน คลัง", user=STAFF_KLANG, group=True)
    bot.deliver(a, b)
    assert bot.replies_to(a) and bot.replies_to(b)
    assert bot.office.people.get(STAFF_SP).division == "sp"
    assert bot.office.people.get(STAFF_KLANG).division == "klang"


def test_standby_events_are_recorded_without_reply_or_effect(bot: Any) -> None:
    event = bot.text_event("/ลงทะเบียน สป.", user=STAFF_SP, group=True, mode="standby")
    assert bot.deliver(event) == []
    assert processed_files(bot) == [event["webhookEventId"] + ".json"]
    assert bot.office.people.get(STAFF_SP) is None
    assert reply_calls(bot.standin) == []


def test_events_accepted_before_a_restart_are_processed_by_the_next_app(make_bot: Any) -> None:
    first = make_bot(start_worker=False)
    event = first.text_event("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    first.post_events([event])
    assert first.journal.pending() == 1
    assert first.office.people.get(STAFF_SP) is None
    second = first.restart()  # a new process over the same folder
    second.wait_idle()
    assert second.office.people.get(STAFF_SP).division == "sp"
    assert second.replies_to(event)
    assert second.journal.pending() == 0


def test_events_of_one_chat_are_processed_in_timestamp_order(make_bot: Any) -> None:
    bot = make_bot(start_worker=False)
    early = bot.text_event("/ลงทะเบียน คลัง", user=STAFF_SP, group=True, at=datetime(2021, 2, 15, 9, 0))
    late = bot.text_event("/ลงทะเบียน สป.", user=STAFF_SP, group=True, at=datetime(2021, 2, 15, 9, 5))
    bot.post_events([late])  # LINE delivered them out of order
    bot.post_events([early])
    bot.runtime.ensure_worker()
    bot.wait_idle()
    assert bot.office.people.get(STAFF_SP).division == "sp"  # the later registration wins


def test_old_entries_are_pruned(bot: Any) -> None:
    event = bot.text_event("/ช่วยเหลือ", user=STAFF_SP)
    bot.deliver(event)
    assert processed_files(bot)
    bot.advance(days=8)
    later = bot.text_event("/ช่วยเหลือ", user=STAFF_SP)  # the office goes on: the first event is past the horizon
    bot.deliver(later)
    assert bot.journal.prune(now=time.time() + 6 * 86400) == 0
    assert bot.journal.prune(now=time.time() + 8 * 86400) == 1
    assert processed_files(bot) == [f"{later['webhookEventId']}.json"] and bot.journal_files() == []


def replies_to_token(bot: Any, token: str) -> int:
    """How many times the bot tried to answer with this reply token (LINE refuses all but the first)."""
    return sum(1 for c in bot.standin.calls if c.path == "/v2/bot/message/reply" and (c.json or {}).get(
        "replyToken") == token)


def test_a_request_replayed_in_a_quiet_office_a_week_later_is_not_applied_again(bot: Any) -> None:
    """With no newer message since, a captured signed request replayed once its week is over runs only once."""
    event = bot.text_event("/ช่วยเหลือ", user=STAFF_SP)
    captured = bot.standin.webhook_body([event])
    assert bot.post(captured).status_code == 200
    bot.wait_idle()
    assert replies_to_token(bot, event["replyToken"]) == 1
    # A week and a day on, the housekeeping runs; nobody has written to the bot since.
    bot.journal.prune(now=time.time() + 8 * 86400)
    response = bot.post(captured)
    assert response.status_code in (200, 400, 403, 409), response.status_code  # never 5xx: LINE would redeliver
    bot.wait_idle()
    assert replies_to_token(bot, event["replyToken"]) == 1
    # And still not once the office is busy again and the event is pruned after all.
    bot.advance(days=8)
    bot.send("/ช่วยเหลือ", user=STAFF_SP)
    assert bot.journal.prune(now=time.time() + 8 * 86400) == 1
    assert bot.post(captured).status_code == 200
    bot.wait_idle()
    assert replies_to_token(bot, event["replyToken"]) == 1


def test_storage_failure_is_5xx_and_logged_plainly(
    bot: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_space(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    event = bot.text_event("/ช่วยเหลือ", user=STAFF_SP)
    monkeypatch.setattr(os, "fsync", no_space)  # the disk is full
    monkeypatch.setattr(os, "fdatasync", no_space)
    with caplog.at_level(logging.INFO):
        response = bot.post_events([event], expect=None)
    monkeypatch.undo()
    assert response.status_code == 500  # LINE will redeliver
    assert bot.journal_files() == []  # nothing half-written
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "could not store 1 webhook event" in logged
    assert STAFF_SP not in logged and "ช่วยเหลือ" not in logged
    # The redelivery, once there is space again, is processed normally.
    assert bot.deliver(as_redelivery(event))


# -- a slow or failing LINE ------------------------------------------------------------------------------


class HeldLine(LineClient):
    """The bot's LINE client, whose replies wait until the test releases them: the webhook's answer and the
    end of the reply attempt are then ordered by the test, not by a clock."""

    def __init__(self, url: str, *, timeout: tuple[float, float] = (1.0, 5.0)) -> None:
        super().__init__(TOKEN, url, url, timeout=timeout)
        self.release = threading.Event()
        self.reply_over = threading.Event()

    def reply(self, reply_token: str, messages: Any) -> None:
        try:
            assert self.release.wait(30), "the test never released the reply"
            super().reply(reply_token, messages)
        finally:
            self.reply_over.set()


def test_reply_failure_keeps_the_stored_effect(make_bot: Any, standin: Any, caplog: pytest.LogCaptureFixture) -> None:
    line = HeldLine(standin.url)
    bot = make_bot(line=line)
    standin.fail(REPLY, 500)
    event = bot.text_event("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    with caplog.at_level(logging.INFO):
        bot.post_events([event])  # 200: LINE will not redeliver
        assert not line.reply_over.is_set()  # answered before the reply was even tried
        line.release.set()
        bot.wait_idle()
    assert bot.office.people.get(STAFF_SP).division == "sp"
    assert [c.status for c in reply_calls(bot.standin)] == [500]  # tried once, not re-run
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "LINE 500" in logged
    assert STAFF_SP not in logged


def test_reply_timeout_does_not_hold_the_webhook(make_bot: Any, standin: Any) -> None:
    line = HeldLine(standin.url, timeout=(1.0, 0.5))
    bot = make_bot(line=line)
    standin.delay(3.0, REPLY)  # past the client's read timeout
    event = bot.text_event("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    bot.post_events([event])
    assert not line.reply_over.is_set()  # the webhook answered before the reply attempt ended
    line.release.set()
    bot.wait_idle()
    assert line.reply_over.is_set()  # the reply timed out on our side and the event is done all the same
    assert bot.office.people.get(STAFF_SP).division == "sp"
    assert len(reply_calls(standin)) == 1


def test_webhook_answers_over_real_http_while_line_is_slow(make_bot: Any, standin: Any) -> None:
    line = HeldLine(standin.url)
    bot = make_bot(line=line)
    server = make_server("127.0.0.1", 0, bot.app, threaded=True)
    serving = Serving(server, "webhook").start()
    try:
        event = bot.text_event("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
        # LINE's own bound: it gives up on a webhook after a second.
        assert standin.deliver(f"http://127.0.0.1:{server.server_port}/callback", [event], timeout=1.0) == 200
        assert not line.reply_over.is_set()  # answered before the reply attempt ended
        line.release.set()
        bot.wait_idle()
        assert bot.office.people.get(STAFF_SP).division == "sp"
    finally:
        serving.stop()
        server.server_close()


# -- /healthz -------------------------------------------------------------------------------------------------


def test_healthz_reports_store_plan_clock_and_warnings(bot: Any) -> None:
    from ita_bot.console import CLOCK_KEY

    bot.app.config[CLOCK_KEY] = lambda: bot.now  # the app's clock: February 2564
    status, body = bot.healthz()
    assert status == 200
    assert body["status"] == "degraded" and body["store"] == "ok"  # no clock process has run yet
    assert body["fiscal_year"] == 2564 and body["has_plan"] is True
    assert body["clock"] == {"heartbeat_age_seconds": None, "late": True}
    assert body["journal"] == {"pending": 0}
    now = datetime.now(BANGKOK)
    with tiny_store(bot.office).write() as db:
        db.table("heartbeats").insert({"name": "clock", "at": now.isoformat()})
    bot.office.notices.add("quota", "โควตาข้อความเดือนนี้ไม่พอสำหรับการแจ้งเตือน", now)
    status, body = bot.healthz()
    assert status == 200 and body["status"] == "ok"
    assert 0 <= body["clock"]["heartbeat_age_seconds"] <= 5
    assert body["warnings"] == {"quota": 1}  # kinds and counts only: the text goes to managers in chat


def test_healthz_is_503_when_the_store_is_corrupt(bot: Any) -> None:
    tiny_store(bot.office).db_path.write_text("{ truncated")
    status, body = bot.healthz()
    assert status == 503
    assert body["status"] == "error" and body["store"] == "error" and body["reason"] == "store"


def test_healthz_is_503_when_the_plan_is_broken(make_bot: Any, tmp_path: Any) -> None:
    plan = tmp_path / "plans" / "2564.toml"
    plan.parent.mkdir()
    from tests.conftest import PLAN_2564

    plan.write_text(PLAN_2564.read_text(encoding="utf-8"), encoding="utf-8")
    bot = make_bot(organization={"plan": str(plan)})
    assert bot.healthz()[0] == 200
    plan.write_text("fiscal_year = ", encoding="utf-8")
    status, body = bot.healthz()
    assert status == 503 and body["status"] == "error"
    assert body["reason"] == "plan" and body["plan"] == "2564.toml"


def test_signature_uses_the_configured_secret(bot: Any) -> None:
    assert bot.config.line.channel_secret == SECRET


# -- the journal across processes ----------------------------------------------------------------------------

JOURNAL_PROCESS = """
import os, sys, time
from pathlib import Path
from ita_bot.chat.journal import Journal, chat_of
from ita_bot.store.tiny.inbox import FileInbox

folder, out, pause = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])

def process(event):
    with open(out, "a") as f:  # O_APPEND: each short line lands whole
        f.write(f"{os.getpid()} {event['webhookEventId']} {chat_of(event)} {event['timestamp']}\\n")
    time.sleep(pause)

# A checkpoint after every event: a killed process leaves at most the event in flight and the one
# just applied uncovered.
journal = Journal(FileInbox(folder), process, poll_seconds=0.02, checkpoint_events=1)
journal.start()
print("ready", flush=True)
sys.stdin.read()  # until the test closes our stdin
journal.stop()
"""


def _journal_process(folder: Path, out: Path, pause: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", JOURNAL_PROCESS, str(folder), str(out), str(pause)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _events(chats: int, per_chat: int) -> list[dict[str, Any]]:
    out = []
    for c in range(chats):
        for i in range(per_chat):
            out.append({"type": "message", "webhookEventId": f"EV{c:02d}{i:03d}", "timestamp": 1_613_358_000_000 + i,
                        "source": {"type": "group", "groupId": f"C{c:032x}", "userId": STAFF_SP}})
    random.Random(7).shuffle(out)  # accepted out of order: processing must still follow timestamps per chat
    return out


def _lines(out: Path) -> list[list[str]]:
    return [line.split() for line in out.read_text().splitlines()] if out.exists() else []


@pytest.mark.slow  # a real process: a second Python sharing the journal
def test_two_processes_share_the_journal_each_event_once_in_chat_order(tmp_path: Path) -> None:
    folder, out = tmp_path / "journal", tmp_path / "processed.txt"
    acceptor = Journal(FileInbox(folder), lambda e: None)  # never started: it only accepts, like a busy web worker
    events = _events(chats=6, per_chat=8)
    # Both wait before anything arrives; 6 slow chats exceed one process's 4 threads, so both get work.
    procs = [_journal_process(folder, out, 0.05) for _ in range(2)]
    # Arriving while they run, so in each chat's order (a later arrival cannot overtake what already ran).
    acceptor.accept(sorted(events, key=lambda e: e["timestamp"]))
    try:
        assert acceptor.wait_idle(timeout=30)
    finally:
        for p in procs:
            p.communicate("", timeout=10)
    lines = _lines(out)
    ids = [line[1] for line in lines]
    assert sorted(ids) == sorted(e["webhookEventId"] for e in events)  # each exactly once
    for chat in {line[2] for line in lines}:
        stamps = [int(line[3]) for line in lines if line[2] == chat]
        assert stamps == sorted(stamps)
    assert len({line[0] for line in lines}) == 2  # both processes did some of the work


@pytest.mark.slow  # a real process: a second Python, killed
def test_a_killed_process_leaves_its_chats_to_the_next(tmp_path: Path) -> None:
    folder, out = tmp_path / "journal", tmp_path / "processed.txt"
    acceptor = Journal(FileInbox(folder), lambda e: None)
    events = _events(chats=3, per_chat=20)
    acceptor.accept(events)
    first = _journal_process(folder, out, 0.05)
    deadline = time.monotonic() + 10
    while len(_lines(out)) < 5 and time.monotonic() < deadline:  # a subprocess has no event to wait on
        time.sleep(0.01)
    first.kill()  # SIGKILL mid-chat: its flocks die with it
    first.wait(timeout=5)
    second = _journal_process(folder, out, 0.0)
    try:
        assert acceptor.wait_idle(timeout=30)
    finally:
        second.communicate("", timeout=10)
    lines = _lines(out)
    ids = [line[1] for line in lines]
    assert set(ids) == {e["webhookEventId"] for e in events}
    # At most the events in flight when it died and those applied but not yet checkpointed (one each
    # per chat) ran twice.
    assert len(ids) - len(set(ids)) <= 6
    for chat in {line[2] for line in lines}:
        # Each process took the chat's events in order, and so did the chat as a whole: the second
        # process began again at the first event the first one left uncheckpointed.
        for pid in {line[0] for line in lines}:
            stamps = [int(line[3]) for line in lines if line[2] == chat and line[0] == pid]
            assert stamps == sorted(stamps)
        firsts = list(dict.fromkeys(int(line[3]) for line in lines if line[2] == chat))
        assert firsts == sorted(firsts)


def test_a_failing_event_is_logged_masked_and_does_not_block_its_chat(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def process(event: dict[str, Any]) -> None:
        if event["webhookEventId"] == "EV00000":
            raise ValueError(f"no such person {STAFF_SP}")
        seen.append(event["webhookEventId"])

    journal = Journal(FileInbox(tmp_path / "journal"), process)
    journal.accept(sorted(_events(chats=1, per_chat=3), key=lambda e: e["timestamp"]))
    journal.start()
    try:
        with caplog.at_level(logging.INFO):
            assert journal.wait_idle(timeout=10)
    finally:
        journal.stop()
    assert seen == ["EV00001", "EV00002"]
    done = decode_lines((tmp_path / "journal" / DONE_LOG).read_bytes())
    assert {r["done"]: r["o"] for r in done}["EV00000"] == "failed"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "EV00000 (message) failed" in logged and "ValueError" in logged
    assert STAFF_SP not in logged
