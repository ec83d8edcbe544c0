"""Races on the exactly-once repositories: several views (processes' worth of pools and stores) at once, each on
its own thread, must still accept an event once, send once and hold a chat once; a dead holder frees its chat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from ita_bot.chat.journal import Journal
from ita_bot.domain.inbox import Inbox
from ita_bot.domain.repositories import Repositories
from ita_bot.store.pg.inbox import PgInbox
from ita_bot.store.tiny.inbox import FileInbox
from tests.races import at_once
from tests.repositories.test_inbox import AT, event

ROOT = Path(__file__).resolve().parents[2]
VIEWS = 6


def race(views: list[Any], action: Callable[[int, Any], None]) -> None:
    """Run ``action(n, view)`` for every view on its own thread, all released at once; re-raise a failure."""
    at_once(*(partial(action, n, view) for n, view in enumerate(views)))


def close(inbox: Inbox) -> None:
    """End a view's hold on its chats as its process's death would (both backends have ``close``)."""
    assert isinstance(inbox, PgInbox | FileInbox)
    inbox.close()


def test_racing_views_accept_an_event_once(open_repositories: Callable[[], Repositories]) -> None:
    views = [open_repositories().inbox for _ in range(VIEWS)]
    answers: dict[int, list[bool]] = {}

    def accept(n: int, inbox: Inbox) -> None:
        answers[n] = inbox.accept([event(1), event(100 + n)], AT)  # one id shared by all, one each

    race(views, accept)
    assert sum(a[0] for a in answers.values()) == 1
    assert all(a[1] for a in answers.values())
    assert sorted(views[0].pending()) == ["EV00001", *(f"EV{100 + n:05d}" for n in range(VIEWS))]
    assert [v.accept([event(1)], AT) for v in views] == [[False]] * VIEWS


@pytest.mark.parametrize("kind", ["sent_log", "slots"])
def test_racing_holders_send_once(open_repositories: Callable[[], Repositories], kind: str) -> None:
    views = [getattr(open_repositories(), kind) for _ in range(VIEWS)]
    keys = [f"reminder/2021-02/3/C{k}/0" for k in range(4)]
    sends: dict[str, int] = dict.fromkeys(keys, 0)
    count = threading.Lock()

    def hold(n: int, log: Any) -> None:
        for key in keys[n % 2:] + keys[:n % 2]:  # two orders, so holders meet on every key
            with log.hold(key) as held:
                if held.row is None or held.row["state"] != "sent":
                    with count:
                        sends[key] += 1
                    time.sleep(0.01)  # the "push": a second holder, were it let in, would find no "sent"
                    held.put({"state": "sent", "by": n})

    race(views, hold)
    assert sends == dict.fromkeys(keys, 1)
    entries = views[0].all()
    assert sorted(e[{"sent_log": "key", "slots": "slot"}[kind]] for e in entries) == keys
    assert all(e["state"] == "sent" for e in entries)


def test_a_chat_is_held_by_one_racing_view_until_its_holder_is_gone(
    open_repositories: Callable[[], Repositories],
) -> None:
    views = [open_repositories().inbox for _ in range(VIEWS)]
    taken: dict[int, bool] = {}

    def hold(n: int, inbox: Inbox) -> None:
        taken[n] = inbox.hold_chat("chat-a")

    race(views, hold)
    winners = [n for n, ok in taken.items() if ok]
    assert len(winners) == 1
    holder, others = views[winners[0]], [v for n, v in enumerate(views) if n != winners[0]]
    assert not others[0].hold_chat("chat-a")
    close(holder)  # its process ends: the chat is free at once
    assert others[0].hold_chat("chat-a")
    assert not others[1].hold_chat("chat-a")
    for view in views:
        close(view)


CHILD = """
import sys, time
from pathlib import Path
if sys.argv[1] == "tinydb":
    from ita_bot.store.tiny.inbox import FileInbox
    inbox = FileInbox(Path(sys.argv[2]))
else:
    from ita_bot.store.pg import Database
    from ita_bot.store.pg.inbox import PgInbox
    inbox = PgInbox(Database(sys.argv[2], max_size=1), sys.argv[3])
print("held" if inbox.hold_chat("chat-k") else "busy", flush=True)
time.sleep(120)
"""


@pytest.mark.slow
def test_a_chat_held_by_a_killed_process_is_free_again(open_repositories: Callable[[], Repositories]) -> None:
    inbox = open_repositories().inbox
    if isinstance(inbox, PgInbox):
        where = ["postgresql", inbox.db.url, inbox.office]
    else:
        assert isinstance(inbox, FileInbox)
        where = ["tinydb", str(inbox.folder)]
    with subprocess.Popen([sys.executable, "-c", CHILD, *where], cwd=ROOT, stdout=subprocess.PIPE,
                          text=True) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "held"
            assert not inbox.hold_chat("chat-k")
            os.kill(child.pid, signal.SIGKILL)  # no cleanup of any kind runs in the child
            child.wait(10)
            # The kernel drops a flock at once; PostgreSQL ends the session when it reads the closed socket.
            deadline = time.monotonic() + 10
            while not inbox.hold_chat("chat-k"):
                assert time.monotonic() < deadline, "the dead process's chat was never freed"
                time.sleep(0.05)
        finally:
            if child.poll() is None:
                child.kill()
            close(inbox)


def test_two_journals_on_two_views_apply_each_event_once_in_chat_order(
    open_repositories: Callable[[], Repositories],
) -> None:
    applied: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def process(ev: dict[str, Any]) -> None:
        with lock:
            applied.append((ev["source"]["userId"], ev["timestamp"], ev["webhookEventId"]))
        time.sleep(0.001)

    journals = [Journal(open_repositories().inbox, process, poll_seconds=0.02) for _ in range(2)]
    chats = ["U" + c * 32 for c in "abcd"]
    events = [event(n, chats[n % len(chats)])[1] for n in range(1, 61)]
    for journal in journals:
        journal.start()
    try:
        for n in range(0, len(events), 5):  # both processes take webhook requests, some of them twice
            journals[(n // 5) % 2].accept(events[n:n + 5])
            journals[(n // 5 + 1) % 2].accept(events[n:n + 2])
        assert all(journal.wait_idle(30) for journal in journals)
    finally:
        for journal in journals:
            journal.stop()
    assert sorted(e for _, _, e in applied) == sorted(ev["webhookEventId"] for ev in events)
    for chat in chats:
        stamps = [ts for c, ts, _ in applied if c == chat]
        assert stamps == sorted(stamps)
