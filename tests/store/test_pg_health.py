"""The PostgreSQL pre-flight check names each damaged table of the office, and a schema that is not this program's."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from ita_bot.domain.inbox import StorageError
from ita_bot.store.pg import Database
from ita_bot.store.pg.database import DatabaseError
from ita_bot.store.pg.health import PgHealth
from ita_bot.store.pg.schema import LATEST, migrate
from tests.postgres import new_office


def test_damaged_records_are_listed_by_table_and_other_offices_are_not_looked_at(
        postgres_office: tuple[str, str]) -> None:
    url, office = postgres_office
    other = new_office(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO drafts (office, chat_id, user_id, data) VALUES (%s, 'C1', 'Usecret', %s)",
                     (office, Jsonb({"chat_id": "C1", "user_id": "Usecret", "step": "measure"})))
        conn.execute("INSERT INTO heartbeats (office, name, data) VALUES (%s, 'clock', %s)",
                     (office, Jsonb(["not", "a", "beat"])))
        conn.execute("INSERT INTO notices (office, key, data) VALUES (%s, 'k', %s)", (office, Jsonb("text")))
        conn.execute("INSERT INTO drafts (office, chat_id, user_id, data) VALUES (%s, 'C1', 'U1', %s)",
                     (other, Jsonb({})))
    db = Database(url, max_size=2)
    try:
        with pytest.raises(StorageError) as raised:
            PgHealth(db, office).check()
        lines = str(raised.value).splitlines()
        assert len(lines) == 3, lines
        assert "drafts: 1 unreadable record(s)" in lines[0] and "heartbeats: 1 unreadable" in lines[1]
        assert "notices: 1 record(s) not a JSON object" in lines[2]
        assert "Usecret" not in str(raised.value)  # a row's key (a LINE user id) is never shown
        with pytest.raises(StorageError, match="drafts: 1 unreadable"):
            PgHealth(db, other).check()
        PgHealth(db, new_office(url)).check()  # a fresh office passes
    finally:
        db.close()


def test_a_schema_not_this_programs_fails_the_check(empty_postgres_database: str) -> None:
    db = Database(empty_postgres_database, max_size=2)
    try:
        with pytest.raises(DatabaseError, match=r"run `python bot\.py migrate` first"):
            PgHealth(db, "default").check()
        migrate(db)
        with db.transaction() as conn:
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, 'later')", (LATEST + 1,))
        with pytest.raises(DatabaseError, match="newer than this program's"):
            PgHealth(db, "default").check()
    finally:
        db.close()


def test_a_server_that_does_not_answer_fails_the_check() -> None:
    db = Database("postgresql://postgres@127.0.0.1:1/none?connect_timeout=1", max_size=1)
    db.pool.timeout = 2.0
    try:
        with pytest.raises(DatabaseError):
            PgHealth(db, "default").check()
    finally:
        db.close()
