"""The journal's folder layout and worker: done/ keeps the pending listing short, accepts never wait for the worker."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ita_bot.chat.journal import Accepted, Journal, RetryLater
from ita_bot.store.tiny.inbox import DONE_LOG, FileInbox
from ita_bot.store.tiny.segments import decode_lines

USER = "U" + "a" * 32


def event(n: int, *, chat: str = USER) -> dict[str, Any]:
    return {"type": "message", "webhookEventId": f"EV{n:05d}", "timestamp": 1_613_358_000_000 + n,
            "source": {"type": "user", "userId": chat}}


class Recorder:
    """A processor that records the event ids it was given, in order."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, e: dict[str, Any]) -> None:
        with self.lock:
            self.seen.append(e["webhookEventId"])


def names(folder: Path) -> set[str]:
    return set(os.listdir(folder)) if folder.is_dir() else set()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "journal"


def run(journal: Journal, timeout: float = 10) -> None:
    journal.start()
    try:
        assert journal.wait_idle(timeout)
    finally:
        journal.stop()


def outcomes(folder: Path) -> dict[str, str]:
    """The done-log: event id -> outcome of each applied entry."""
    path = folder / DONE_LOG
    return {r["done"]: r["o"] for r in decode_lines(path.read_bytes())} if path.is_file() else {}


def legacy_entry(folder: Path, n: int, marker: str | None = None, *, beside: bool = False) -> None:
    """An entry as the earlier layout kept it: ``<id>.json``, its marker in done/ (or ``beside`` it, older)."""
    folder.mkdir(parents=True, exist_ok=True)
    body = {"received_at": "2021-02-15T03:00:00+00:00", "event": event(n)}
    (folder / f"EV{n:05d}.json").write_text(json.dumps(body))
    if marker is not None:
        (folder if beside else folder / "done").mkdir(exist_ok=True)
        (folder if beside else folder / "done").joinpath(f"EV{n:05d}.done").write_text(marker)


def test_processed_entries_are_done_lines_and_stay_duplicates_after_a_restart(folder: Path) -> None:
    seen = Recorder()
    first = Journal(FileInbox(folder), seen)
    assert first.accept([event(1), event(2), event(3)]) == Accepted(3, 0)
    run(first)
    assert seen.seen == ["EV00001", "EV00002", "EV00003"]
    assert outcomes(folder) == {"EV00001": "ok", "EV00002": "ok", "EV00003": "ok"}
    # No file per event: one segment for this process (the newest mark: the event time ages are measured against).
    assert {n for n in names(folder) if not n.startswith("seg-")} == {"done.log", "locks", "newest"}

    second = Journal(FileInbox(folder), seen)  # a restarted process: nothing in memory
    assert second.accept([event(2), event(4)]) == Accepted(1, 1)  # EV00002 is done: a redelivery
    assert second.pending() == 1
    run(second)
    assert seen.seen == ["EV00001", "EV00002", "EV00003", "EV00004"]
    assert second.pending() == 0


def test_an_earlier_layouts_folder_is_drained_and_its_applied_ids_stay_taken(folder: Path) -> None:
    # An upgrade: pending entries, one applied with its move cut short, one moved, one marked beside it.
    legacy_entry(folder, 1, "ok")
    legacy_entry(folder, 2)
    legacy_entry(folder, 3, "failed")
    (folder / "EV00003.json").rename(folder / "done" / "EV00003.json")
    legacy_entry(folder, 4, "ok", beside=True)
    legacy_entry(folder, 5)
    assert Journal(FileInbox(folder), lambda e: None).pending() == 2
    seen = Recorder()
    journal = Journal(FileInbox(folder), seen)
    run(journal)
    assert sorted(seen.seen) == ["EV00002", "EV00005"]
    assert not list(folder.glob("*.json")) and not (folder / "done").exists()
    assert outcomes(folder) == {"EV00001": "ok", "EV00002": "ok", "EV00003": "failed", "EV00004": "ok",
                                "EV00005": "ok"}
    assert journal.accept([event(n) for n in range(1, 6)]) == Accepted(0, 5)


def test_an_accept_never_waits_for_the_worker_reading_the_folder(folder: Path) -> None:
    seen = Recorder()
    journal = Journal(FileInbox(folder), seen, poll_seconds=0.02)
    journal.start()
    try:
        assert journal.wait_idle(5)
        reading, release = threading.Event(), threading.Event()
        read_entry = journal._read_entry

        def slow_disk(stem: str) -> Any:
            if stem == "EV00001":
                reading.set()
                release.wait(10)  # the worker is stuck in I/O on the poll (a slow disk, a huge folder)
            return read_entry(stem)

        journal._read_entry = slow_disk  # type: ignore[method-assign]
        Journal(FileInbox(folder), lambda e: None).accept([event(1)])  # another process's entry: found by the poll
        assert reading.wait(5)
        done = threading.Event()
        answer: list[Accepted] = []

        def accept() -> None:
            answer.append(journal.accept([event(2, chat="U" + "b" * 32)]))
            done.set()

        threading.Thread(target=accept, daemon=True).start()
        try:
            assert done.wait(2), "accept waited for the worker's folder read"
        finally:
            release.set()
        assert answer == [Accepted(1, 0)]
        assert journal.wait_idle(5)
    finally:
        journal.stop()
    assert sorted(seen.seen) == ["EV00001", "EV00002"]


def test_own_entries_reach_the_worker_without_waiting_for_the_poll(folder: Path) -> None:
    seen = Recorder()
    journal = Journal(FileInbox(folder), seen, poll_seconds=60)
    journal.start()
    try:
        assert journal.wait_idle(5)  # the first poll (restart recovery) is done; the next is a minute away
        journal.accept([event(1)])
        assert journal.wait_idle(5)  # processed long before that poll: accept() handed it over
    finally:
        journal.stop()
    assert seen.seen == ["EV00001"]


def test_a_chat_another_process_is_draining_is_taken_once_free_without_spinning(folder: Path) -> None:
    seen = Recorder()
    journal = Journal(FileInbox(folder), seen, poll_seconds=0.05)
    listings = 0
    list_pending = journal._list_pending

    def counting(known: Any) -> Any:
        nonlocal listings
        listings += 1
        return list_pending(known)

    journal._list_pending = counting  # type: ignore[method-assign]
    key = hashlib.sha256(USER.encode()).hexdigest()[:24]
    (folder / "locks").mkdir(parents=True)
    fd = os.open(folder / "locks" / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # "another process" holds the chat (a second descriptor conflicts)
        journal.start()
        journal.accept([event(1)])
        assert not journal.wait_idle(0.5)
        assert seen.seen == []
        assert listings < 40, f"{listings} folder listings in 0.5 s while the chat was busy"
        fcntl.flock(fd, fcntl.LOCK_UN)
        assert journal.wait_idle(5)
    finally:
        os.close(fd)
        journal.stop()
    assert seen.seen == ["EV00001"]


def test_a_transient_failure_is_retried_later_keeping_the_chats_order(folder: Path) -> None:
    seen = Recorder()
    failed: list[float] = []  # when the first try failed

    def process(e: dict[str, Any]) -> None:
        if e["webhookEventId"] == "EV00001" and not failed:
            failed.append(time.monotonic())
            raise RetryLater("store busy")
        seen(e)

    class Scheduled(dict[str, float]):
        """The journal's retry times, each recorded as it is set."""

        def __setitem__(self, chat: str, until: float) -> None:
            retries.append(until)
            super().__setitem__(chat, until)

    retries: list[float] = []
    journal = Journal(FileInbox(folder), process, poll_seconds=0.05)
    journal._retry_at = Scheduled()
    journal.accept([event(2), event(1)])
    run(journal)
    assert seen.seen == ["EV00001", "EV00002"]
    # One retry, scheduled a backoff (0.5 s × 2 for a first failure) after the failure, not at the next poll.
    assert len(retries) == 1 and retries[0] - failed[0] >= 1.0, (retries, failed)


WEEK_AND_A_DAY_MS = 8 * 86400 * 1000


def test_prune_drops_old_entries_done_lines_and_leftovers(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    journal = Journal(FileInbox(folder), lambda e: None)
    journal.accept([event(1), event(2)])
    run(journal)
    journal.accept([event(3)])  # never processed
    (folder / ".seg-killed.log.1234.tmp").write_bytes(b"{")  # a process killed while compacting
    old = time.time() - 8 * 86400
    os.utime(folder / ".seg-killed.log.1234.tmp", (old, old))
    journal.accept([{**event(4), "timestamp": event(4)["timestamp"] + WEEK_AND_A_DAY_MS}])  # new: kept
    with caplog.at_level(logging.INFO):
        assert journal.prune(now=time.time() + 8 * 86400) == 3  # as if a week and a day went by
    assert outcomes(folder) == {} and journal.inbox.pending() == ["EV00004"]
    segments = [n for n in names(folder) if n.startswith("seg-")]
    assert {n for n in names(folder)} - set(segments) == {"done.log", "locks", "newest"}
    assert len(segments) == 1  # rewritten with the one entry kept
    assert "EV00003 dropped unprocessed" in caplog.text


def test_an_id_is_pruned_only_once_a_replay_of_it_would_be_refused(folder: Path) -> None:
    """A quiet office: entries old on disk stay while no newer event makes them too old to accept again."""
    seen = Recorder()
    journal = Journal(FileInbox(folder), seen)
    journal.accept([event(1)])
    run(journal)
    later = time.time() + 8 * 86400
    assert journal.prune(now=later) == 0  # no newer event: a replay would still be fresh, so the id stays
    assert journal.accept([event(1)]) == Accepted(0, 1)
    journal.accept([{**event(2), "timestamp": event(1)["timestamp"] + WEEK_AND_A_DAY_MS}])
    assert journal.prune(now=later) == 1
    assert journal.accept([event(1)]) == Accepted(0, 0, 1)  # pruned, and refused as too old
    run(journal)
    assert seen.seen == ["EV00001", "EV00002"]



def test_ids_and_types_a_sender_chose_are_masked_in_the_log(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    def process(e: dict[str, Any]) -> None:
        raise RetryLater(f"no answer for {USER}") if e["webhookEventId"] == USER else ValueError(USER)

    journal = Journal(FileInbox(folder), process, poll_seconds=0.05)
    # A forged (or mutated) event may carry a LINE user ID as its id or type; the id must stay its file name.
    other_chat = "U" + "b" * 32
    journal.accept([{**event(1), "webhookEventId": USER, "type": USER}, {**event(2, chat=other_chat), "type": USER}])
    with caplog.at_level(logging.INFO):
        journal.start()
        try:
            deadline = time.monotonic() + 5
            while "will be retried" not in caplog.text or "failed" not in caplog.text:
                assert time.monotonic() < deadline, caplog.text
                time.sleep(0.01)
        finally:
            journal.stop()
    assert "U…" in caplog.text and USER not in caplog.text


def test_an_event_that_meets_an_unreadable_plan_waits_for_it_and_a_bad_event_fails_once(folder: Path) -> None:
    """A report that arrives while the year's plan file cannot be loaded (a bad restore) is stored once the plan
    is put right, never dropped; an event that fails by itself is marked failed at once."""
    from ita_bot.domain.plan_reader import load_plan

    plan_file = folder.parent / "2564.toml"
    good = (Path(__file__).resolve().parents[2] / "storage" / "plans" / "2564.toml").read_bytes()
    plan_file.write_bytes(b"[organization\n")
    seen = Recorder()
    tries: list[str] = []

    def process(e: dict[str, Any]) -> None:
        tries.append(e["webhookEventId"])
        if e["webhookEventId"] == "EV00002":
            raise ValueError("a bug or a malformed event")
        load_plan(plan_file)  # what applying a report reads first
        seen(e)

    journal = Journal(FileInbox(folder), process, poll_seconds=0.05)
    journal.accept([event(1), event(2, chat="U" + "b" * 32)])
    journal.start()
    try:
        deadline = time.monotonic() + 10
        while tries.count("EV00001") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tries.count("EV00001") >= 2 and seen.seen == []  # tried again, still waiting
        plan_file.write_bytes(good)  # the plan is put right
        assert journal.wait_idle(20)
    finally:
        journal.stop()
    assert seen.seen == ["EV00001"]
    assert outcomes(folder) == {"EV00001": "ok", "EV00002": "failed"} and tries.count("EV00002") == 1
