"""Contract of the sent-log and the clock's slots: a key's claim is won once, in one transaction with its entry;
an interrupted send is held by one resumer at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
from typing import Any

import pytest
from psycopg import sql

from ita_bot.domain.repositories import Repositories
from ita_bot.domain.thai import BANGKOK
from ita_bot.store.pg.sent_log import PgSentLog, PgSlots
from tests.races import at_once


def kinds(repositories: Repositories) -> dict[str, Any]:
    return {"sent_log": repositories.sent_log, "slots": repositories.slots}


@pytest.mark.parametrize("kind", ["sent_log", "slots"])
def test_a_claim_is_won_once_among_racing_processes(open_repositories: Callable[[], Repositories], kind: str) -> None:
    views = [kinds(open_repositories())[kind] for _ in range(6)]
    won: list[int] = []

    def claim(n: int) -> None:
        with views[n].hold("reminder/2021-02/3") as held:
            if held.row is None:
                held.put({"state": "sending", "owner": n})
                won.append(n)

    at_once(*(partial(claim, n) for n in range(len(views))))
    assert len(won) == 1
    rows = views[0].all()
    assert len(rows) == 1 and rows[0]["owner"] == won[0]


@pytest.mark.parametrize("kind", ["sent_log", "slots"])
def test_put_creates_then_changes_one_entry_per_key(repositories: Repositories, kind: str) -> None:
    log = kinds(repositories)[kind]
    with log.hold("k1") as held:
        assert held.row is None
        held.put({"state": "sending", "attempts": 0})
        assert held.row is not None and held.row["state"] == "sending"  # the transaction's own change
    with log.hold("k1") as held:
        assert held.row is not None and held.row["attempts"] == 0
        held.put({"state": "done", "attempts": 1})
    with log.hold("k2") as held:
        held.put({"state": "failed"})
    rows = sorted(log.all(), key=lambda r: r["state"])
    assert [(r["state"], r.get("attempts")) for r in rows] == [("done", 1), ("failed", None)]


@pytest.mark.parametrize("kind", ["sent_log", "slots"])
def test_an_exception_inside_a_hold_discards_its_changes(open_repositories: Callable[[], Repositories],
                                                         kind: str) -> None:
    log = kinds(open_repositories())[kind]
    with pytest.raises(RuntimeError), log.hold("k1") as held:
        held.put({"state": "sending"})
        raise RuntimeError("the process stops half-way")
    assert log.all() == [] and kinds(open_repositories())[kind].all() == []


def test_a_sent_log_entry_is_read_by_its_key(open_repositories: Callable[[], Repositories]) -> None:
    log = open_repositories().sent_log
    with log.hold("reminder/2021-02/3/C1/0") as held:
        held.put({"state": "sending", "retry_key": "r-1", "messages": [{"type": "text", "text": "ก"}]})
    other = open_repositories().sent_log
    entry = other.entry("reminder/2021-02/3/C1/0")
    assert entry is not None and entry["retry_key"] == "r-1" and entry["messages"] == [{"type": "text", "text": "ก"}]
    assert other.entry("reminder/2021-02/3/C2/0") is None
    assert [e["retry_key"] for e in other.entries()] == ["r-1"]


def test_count_sent_counts_the_pushes_done_within_the_window(open_repositories: Callable[[], Repositories]) -> None:
    log = open_repositories().sent_log
    entries = {
        "a": {"state": "done", "updated_at": "2026-11-30T23:59:59+07:00"},  # last month
        "b": {"state": "done", "updated_at": "2026-12-01T00:00:00+07:00"},
        "c": {"state": "done", "updated_at": "2026-12-15T02:00:00+00:00"},  # another offset, same instant rules
        "d": {"state": "failed", "updated_at": "2026-12-02T09:00:00+07:00"},
        "e": {"state": "sending", "updated_at": "2026-12-02T09:00:00+07:00"},
        "f": {"state": "done", "updated_at": "2027-01-01T00:00:00+07:00"},  # next month
    }
    for key, values in entries.items():
        with log.hold(key) as held:
            held.put(values)
    since, until = datetime(2026, 12, 1, tzinfo=BANGKOK), datetime(2027, 1, 1, tzinfo=BANGKOK)
    assert open_repositories().sent_log.count_sent(since, until) == 2
    assert log.count_sent(until, datetime(2027, 2, 1, tzinfo=BANGKOK)) == 1
    assert log.count_sent(datetime(2026, 11, 1, tzinfo=BANGKOK), since) == 1


# --- resumes: the interrupted entries, each to one holder at a time --------------------------------------------

NOW = datetime(2021, 2, 22, 10, 0, tzinfo=BANGKOK)


def at(minutes: int, tz: tzinfo = BANGKOK) -> str:
    """ISO text of NOW + minutes, as the sent-log stores it (in ``tz``: the same instant, another offset)."""
    return (NOW + timedelta(minutes=minutes)).astimezone(tz).isoformat()


def put(log: Any, key: str, **values: Any) -> None:
    with log.hold(key) as held:
        held.put({"key": key, "retry_key": f"r-{key}", **values})


def interrupted(log: Any, key: str) -> None:
    put(log, key, state="sending", lease_until=at(-1), next_attempt_at=None)


def test_hold_interrupted_takes_only_sending_entries_whose_lease_and_pause_are_over(
    open_repositories: Callable[[], Repositories],
) -> None:
    log = open_repositories().sent_log
    put(log, "done", state="done", lease_until=at(-60))
    put(log, "failed", state="failed", lease_until=None)
    put(log, "leased", state="sending", lease_until=at(5), next_attempt_at=None)
    # The same instant with another offset: 03:30 UTC is 10:30 in Bangkok, still leased (text order says over).
    put(log, "leased-utc", state="sending", lease_until=at(30, UTC), next_attempt_at=None)
    put(log, "pausing", state="sending", lease_until=at(-5), next_attempt_at=at(3))
    put(log, "ready-now", state="sending", lease_until=at(0), next_attempt_at=at(0))  # due at this instant
    put(log, "crashed", state="sending", lease_until=at(-10, UTC), next_attempt_at=None)
    put(log, "no-lease", state="sending", lease_until=None, next_attempt_at="")
    other = open_repositories().sent_log
    taken: list[str] = []
    while True:
        with other.hold_interrupted(NOW, skip=taken) as held:
            if held is None:
                break
            assert held.row is not None
            taken.append(held.row["key"])
    assert taken == ["ready-now", "crashed", "no-lease"]  # oldest first
    with other.hold_interrupted(NOW + timedelta(minutes=31)) as held:  # every lease and pause over
        assert held is not None and held.row is not None and held.row["key"] == "leased"


def test_a_held_interrupted_entry_is_changed_and_committed_like_a_hold(
    open_repositories: Callable[[], Repositories],
) -> None:
    log = open_repositories().sent_log
    interrupted(log, "k1")
    with log.hold_interrupted(NOW) as held:
        assert held is not None and held.row is not None and held.row["retry_key"] == "r-k1"
        held.put({"lease_until": at(10)})  # re-leased: no longer interrupted
    other = open_repositories().sent_log
    assert other.entry("k1") == {"key": "k1", "retry_key": "r-k1", "state": "sending", "lease_until": at(10),
                                 "next_attempt_at": None}
    with other.hold_interrupted(NOW) as held:
        assert held is None
    with pytest.raises(RuntimeError), other.hold_interrupted(NOW + timedelta(minutes=11)) as held:
        assert held is not None
        held.put({"state": "done"})
        raise RuntimeError("the clock stops half-way")
    assert other.entry("k1")["state"] == "sending"  # type: ignore[index]


def test_two_views_never_hold_the_same_interrupted_entry_at_once(
    open_repositories: Callable[[], Repositories],
) -> None:
    first, second = open_repositories().sent_log, open_repositories().sent_log
    interrupted(first, "k1")
    interrupted(first, "k2")
    a_in, b_done = threading.Event(), threading.Event()
    got: dict[str, tuple[str | None, bool]] = {}
    errors: list[BaseException] = []
    a_holding = threading.Event()  # set only inside a's hold: cleared before the hold ends

    def a() -> None:
        try:
            with first.hold_interrupted(NOW) as held:
                got["a"] = (held.row["key"] if held and held.row else None, True)
                a_holding.set()
                a_in.set()
                # Leaves the entry as it was (no re-lease): only the hold itself keeps b off it.
                b_done.wait(1.5)  # on TinyDB b waits for this hold (its file lock): the wait runs out
                a_holding.clear()
        except BaseException as e:
            errors.append(e)

    def b() -> None:
        try:
            a_in.wait(10)
            with second.hold_interrupted(NOW) as held:
                got["b"] = (held.row["key"] if held and held.row else None, a_holding.is_set())
            b_done.set()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    (key_a, _), (key_b, a_still_holding) = got["a"], got["b"]
    assert key_a == "k1" and key_b is not None
    if a_still_holding:  # held at once: never the same entry
        assert key_b == "k2"
    if isinstance(first, PgSentLog):  # a held row is passed over (SKIP LOCKED), not waited for
        assert a_still_holding and key_b == "k2"


def test_racing_resumers_take_each_interrupted_entry_once(open_repositories: Callable[[], Repositories]) -> None:
    views = [open_repositories().sent_log for _ in range(6)]
    keys = [f"reminder/2021-02/3/C{k}/0" for k in range(12)]
    for key in keys:
        interrupted(views[0], key)
    taken: list[str] = []

    def resume(n: int) -> None:
        while True:
            with views[n].hold_interrupted(NOW) as held:
                if held is None:
                    return
                assert held.row is not None
                taken.append(held.row["key"])
                time.sleep(0.005)  # the re-lease's work; another resumer, were it let in, would take it too
                held.put({"lease_until": at(10), "by": n})

    at_once(*(partial(resume, n) for n in range(len(views))))
    assert sorted(taken) == sorted(keys)  # each once
    assert all(e["lease_until"] == at(10) for e in views[0].entries())


@pytest.mark.parametrize("kind", ["sent_log", "slots"])
def test_a_hold_that_never_puts_leaves_no_entry(open_repositories: Callable[[], Repositories], kind: str) -> None:
    repos = open_repositories()
    log, other = kinds(repos)[kind], kinds(open_repositories())[kind]
    put(log, "k0", state="sending", lease_until=at(-1))
    with log.hold("k1") as held:
        assert held.row is None
        # Not an entry, even to this transaction's own reads nor to another view.
        assert [e.get("key") for e in log.all()] == ["k0"] and [e.get("key") for e in other.all()] == ["k0"]
        if kind == "sent_log":
            assert log.entry("k1") is None and [e["key"] for e in log.entries()] == ["k0"]
            assert other.entry("k1") is None and [e["key"] for e in other.entries()] == ["k0"]
            with log.hold_interrupted(NOW, skip=["k0"]) as inner:
                assert inner is None
    assert [e.get("key") for e in log.all()] == ["k0"] and [e.get("key") for e in other.all()] == ["k0"]
    if isinstance(log, PgSentLog | PgSlots):  # not even a hidden placeholder row was committed
        with log.db.transaction() as conn:
            row = conn.execute(sql.SQL("SELECT count(*) AS n FROM {} WHERE office = %s").format(
                sql.Identifier(log.table)), (log.office,)).fetchone()
        assert row is not None and row["n"] == 1
    with other.hold("k1") as held:
        assert held.row is None
        held.put({"state": "done"})
    assert sorted(e[{"sent_log": "key", "slots": "slot"}[kind]] for e in other.all()) == ["k0", "k1"]


@pytest.mark.parametrize("kind", ["sent_log", "slots"])
def test_a_holder_waiting_on_a_key_that_was_never_put_then_claims_it(
    open_repositories: Callable[[], Repositories], kind: str,
) -> None:
    first, second = kinds(open_repositories())[kind], kinds(open_repositories())[kind]
    holding, seen = threading.Event(), []

    def wait_then_claim() -> None:
        holding.wait(10)
        with second.hold("k1") as held:  # waits for the first hold to end
            seen.append(held.row)
            held.put({"state": "sending", "by": "second"})

    thread = threading.Thread(target=wait_then_claim)
    thread.start()
    with first.hold("k1") as held:
        assert held.row is None
        holding.set()
        time.sleep(0.3)  # the second holder is waiting now; this one decides not to claim
    thread.join(30)
    assert seen == [None]
    assert [e["by"] for e in first.all()] == ["second"]
