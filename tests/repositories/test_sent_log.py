"""Contract of the sent-log and the clock's slots: a key's claim is won once, in one transaction with its entry."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from ita_bot.domain.repositories import Repositories


def kinds(repositories: Repositories) -> dict[str, Any]:
    return {"sent_log": repositories.sent_log, "slots": repositories.slots}


@pytest.mark.parametrize("kind", ["sent_log", "slots"])
def test_a_claim_is_won_once_among_racing_processes(open_repositories: Callable[[], Repositories], kind: str) -> None:
    views = [kinds(open_repositories())[kind] for _ in range(6)]
    barrier = threading.Barrier(len(views))
    won: list[int] = []

    def claim(n: int) -> None:
        barrier.wait()
        with views[n].hold("reminder/2021-02/3") as held:
            if held.row is None:
                held.put({"state": "sending", "owner": n})
                won.append(n)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(len(views))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
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
