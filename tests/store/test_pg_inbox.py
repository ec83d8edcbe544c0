"""On PostgreSQL an event's changes and its "applied" mark commit in one transaction: a worker killed before its
checkpoint leaves no applied event pending, and an event whose application raised leaves neither."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ita_bot.domain.conversations import Draft
from ita_bot.domain.repositories import Repositories
from ita_bot.store.pg import Database, postgresql_repositories
from tests.postgres import new_office
from tests.repositories.test_inbox import AT, event


@pytest.fixture
def views(postgres_database: str) -> Iterator[tuple[Repositories, Repositories]]:
    office = new_office(postgres_database)
    pools = [Database(postgres_database, max_size=2) for _ in range(2)]
    try:
        yield postgresql_repositories(pools[0], office), postgresql_repositories(pools[1], office)
    finally:
        for db in pools:
            db.close()


def test_an_applied_event_is_marked_with_its_changes_before_any_checkpoint(
    views: tuple[Repositories, Repositories],
) -> None:
    worker, after_a_crash = views
    worker.inbox.accept([event(1), event(2)], AT)
    with worker.inbox.applying("EV00001"):
        worker.conversations.put(Draft("C1", "U1", "measure", AT, AT, id="d1"))
    # No checkpoint: the worker "dies" here. The next process finds the change and the mark, never a pending
    # entry to apply again.
    assert after_a_crash.inbox.is_applied("EV00001")
    assert after_a_crash.inbox.pending() == ["EV00002"]
    assert after_a_crash.conversations.get("C1", "U1") is not None


def test_an_event_whose_application_raised_keeps_neither_its_changes_nor_a_mark(
    views: tuple[Repositories, Repositories],
) -> None:
    worker, other = views
    worker.inbox.accept([event(1)], AT)
    with pytest.raises(RuntimeError), worker.inbox.applying("EV00001"):
        worker.conversations.put(Draft("C1", "U1", "measure", AT, AT, id="d1"))
        raise RuntimeError("the application failed half-way")
    assert other.inbox.pending() == ["EV00001"] and not other.inbox.is_applied("EV00001")
    assert other.conversations.get("C1", "U1") is None
    worker.inbox.checkpoint({"EV00001": "failed"})  # the journal gives it up: marked, nothing else kept
    assert other.inbox.is_applied("EV00001") and other.inbox.pending() == []
