"""Contract of the inbox: an event is accepted once, pending until a checkpoint marks it, and its id stays
taken while pending or applied; a chat is held by one process at a time."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ita_bot.domain.conversations import Draft
from ita_bot.domain.repositories import Repositories
from ita_bot.domain.thai import BANGKOK

AT = "2021-02-15T03:00:00+00:00"
STAMP = 1_613_358_000_000


def event(n: int, chat: str = "U" + "a" * 32) -> tuple[str, dict[str, Any]]:
    return f"EV{n:05d}", {"type": "message", "webhookEventId": f"EV{n:05d}", "timestamp": STAMP + n,
                          "source": {"type": "user", "userId": chat}}


def test_an_event_is_accepted_once(open_repositories: Callable[[], Repositories]) -> None:
    inbox = open_repositories().inbox
    assert inbox.accept([event(1), event(2)], AT) == [True, True]
    assert inbox.accept([event(2), event(3)], AT) == [False, True]
    other = open_repositories().inbox  # another process: the same ids are taken there too
    assert other.accept([event(1)], AT) == [False]
    assert sorted(other.pending()) == ["EV00001", "EV00002", "EV00003"] and other.count_pending() == 3
    assert other.event("EV00002") == event(2)[1]


def test_an_id_twice_in_one_batch_is_accepted_once(repositories: Repositories) -> None:
    inbox = repositories.inbox
    assert inbox.accept([event(1), event(2), event(1)], AT) == [True, True, False]
    assert sorted(inbox.pending()) == ["EV00001", "EV00002"]
    assert inbox.event("EV00001") == event(1)[1]


def test_a_pending_event_is_read_after_asking_whether_it_was_applied(repositories: Repositories) -> None:
    inbox = repositories.inbox
    inbox.accept([event(1), event(2)], AT)
    assert not inbox.is_applied("EV00001")
    assert inbox.event("EV00002") == event(2)[1]  # not the one asked about: read as it is
    assert inbox.event("EV00001") == event(1)[1]
    inbox.checkpoint({"EV00001": "ok"})
    assert inbox.is_applied("EV00001") and inbox.event("EV00001") is None


def test_a_checkpoint_marks_entries_applied_and_their_ids_stay_taken(
    open_repositories: Callable[[], Repositories],
) -> None:
    repos = open_repositories()
    inbox = repos.inbox
    inbox.accept([event(1), event(2)], AT)
    with inbox.applying("EV00001"):  # the event's change to another repository, covered by its entry
        repos.conversations.put(Draft("C1", "U1", "measure", AT, AT, id="d1"))
    inbox.checkpoint({"EV00001": "ok"})
    other = open_repositories()
    assert other.inbox.pending() == ["EV00002"] and other.inbox.count_pending() == 1
    assert other.inbox.is_applied("EV00001") and not other.inbox.is_applied("EV00002")
    assert other.inbox.event("EV00001") is None
    assert other.conversations.get("C1", "U1") is not None  # the change and its mark are both there
    assert other.inbox.accept([event(1)], AT) == [False]  # a redelivery of an applied event


def test_an_entry_marked_at_once_is_no_longer_pending(repositories: Repositories) -> None:
    inbox = repositories.inbox
    inbox.accept([event(1)], AT)
    inbox.mark("EV00001", "unreadable")
    assert inbox.pending() == [] and inbox.is_applied("EV00001")
    inbox.retire("EV00001")  # finishing it again changes nothing
    assert inbox.pending() == [] and inbox.accept([event(1)], AT) == [False]


def test_a_chat_is_held_by_one_process_at_a_time(open_repositories: Callable[[], Repositories]) -> None:
    first, second = open_repositories().inbox, open_repositories().inbox
    assert first.hold_chat("chat-a")
    assert not second.hold_chat("chat-a")
    assert second.hold_chat("chat-b")  # other chats are free
    first.release_chat("chat-a")
    assert second.hold_chat("chat-a")
    second.release_chat("chat-a")
    second.release_chat("chat-b")


def test_the_newest_mark_only_moves_forward(open_repositories: Callable[[], Repositories]) -> None:
    inbox = open_repositories().inbox
    assert inbox.newest() == 0
    assert inbox.advance_newest(STAMP) == STAMP
    assert inbox.advance_newest(STAMP - 3_600_000) == STAMP
    assert open_repositories().inbox.newest() == STAMP


def test_prune_frees_only_ids_of_old_stored_events_past_the_horizon(repositories: Repositories) -> None:
    inbox = repositories.inbox
    inbox.accept([event(1), event(2), event(3)], AT)
    inbox.checkpoint({"EV00001": "ok"})
    later = time.time() + 1  # everything was stored before this
    assert inbox.prune(later, horizon=STAMP + 1) == {}  # no event is older than the horizon
    assert inbox.prune(time.time() - 3600, horizon=STAMP + 100) == {}  # nothing was stored that long ago
    removed = inbox.prune(later, horizon=STAMP + 3)  # events 1 and 2 are past it, 3 is not
    assert removed == {"EV00001": False, "EV00002": True}  # 2 was still pending: dropped unapplied
    assert inbox.pending() == ["EV00003"]
    assert inbox.accept([event(1)], datetime(2021, 2, 23, tzinfo=BANGKOK).isoformat()) == [True]  # free again
