"""On PostgreSQL an event costs few round trips: the webhook's accept is one statement (no BEGIN/COMMIT), and
an event's application is one transaction with no savepoints. Counted from what psycopg sends (never timed)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

import psycopg
import pytest

from benchmarks.pg_spy import StatementSpy
from ita_bot.domain.conversations import Draft
from ita_bot.domain.progress import Report
from ita_bot.domain.repositories import Repositories
from ita_bot.store.pg import Database, postgresql_repositories
from tests.postgres import new_office
from tests.repositories.test_inbox import AT, event

AT_TIME = datetime.fromisoformat(AT)


@pytest.fixture
def pg(postgres_database: str) -> Iterator[tuple[Repositories, Database]]:
    db = Database(postgres_database, max_size=2)
    try:
        yield postgresql_repositories(db, new_office(postgres_database)), db
    finally:
        db.close()


def report(event_id: str) -> Report:
    return Report(2564, 4, "sp", "doing", 50, "มาตรการ 4", AT_TIME, AT_TIME, event_id=event_id)


def test_accepting_a_batch_is_one_statement_in_autocommit(pg: tuple[Repositories, Database]) -> None:
    repos, _ = pg
    with StatementSpy() as sent:
        assert repos.inbox.accept([event(1), event(2), event(3)], AT) == [True, True, True]
    assert len(sent.statements) == 1 and sent.round_trips == 1 and not sent.transaction_commands()


def test_applying_an_event_is_one_transaction_without_savepoints(pg: tuple[Repositories, Database]) -> None:
    repos, _ = pg
    repos.inbox.accept([event(1)], AT)
    with StatementSpy() as sent:
        assert not repos.inbox.is_applied("EV00001")
        assert repos.inbox.event("EV00001") == event(1)[1]
        with repos.inbox.applying("EV00001"):
            with repos.people.read() as people:
                people.get("U" + "1" * 32)
            repos.reports.add(report("EV00001"))
            repos.conversations.remove("C1", "U1")
            repos.conversations.put(Draft("C1", "U1", "measure", AT, AT, id="d1"))
        repos.inbox.checkpoint({"EV00001": "ok"})
    tx = sent.transaction_commands()
    assert tx["BEGIN"] == 1 and tx["COMMIT"] == 1 and not tx["SAVEPOINT"] and not tx["RELEASE"], sent.statements
    # is_applied reads the event too; the application's lock, read, insert, delete, upsert; the mark; checkpoint.
    assert sent.round_trips == len(sent.statements) <= 11, sent.statements
    assert repos.inbox.is_applied("EV00001") and len(repos.reports.of_year(2564)) == 1


def test_a_transaction_whose_failed_statement_was_caught_is_not_committed(pg: tuple[Repositories, Database]) -> None:
    repos, db = pg
    repos.inbox.accept([event(1)], AT)
    with pytest.raises(psycopg.errors.InFailedSqlTransaction), repos.inbox.applying("EV00001"):
        repos.conversations.put(Draft("C1", "U1", "measure", AT, AT, id="d1"))
        # Joins without a savepoint, so its failure aborts the whole transaction; its caller goes on regardless,
        # and the commit must not pretend the draft was kept.
        with db.writing() as conn, contextlib.suppress(psycopg.errors.DivisionByZero):
            conn.execute("SELECT 1 / 0")
    assert not repos.inbox.is_applied("EV00001")
    assert repos.conversations.get("C1", "U1") is None
