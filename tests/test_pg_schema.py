"""The PostgreSQL schema: `migrate` applies the numbered migrations once, refuses a newer schema, and the
office opens only on a current one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from ita_bot.domain.config import load_config
from ita_bot.store import open_office
from ita_bot.store.pg import Database
from ita_bot.store.pg.database import DatabaseError
from ita_bot.store.pg.schema import LATEST, migrate, schema_state
from tests.conftest import ROOT, write_config

OFFICE_TABLES = {"reports", "people", "role_codes", "claim_attempts", "counters", "audit", "plans", "plan_changes",
                 "settings", "meetings", "memo_headers", "notices", "evidence", "signin_links", "sessions", "drafts",
                 "menu_state", "heartbeats", "secret_keys", "sent_log", "slots", "inbox", "inbox_marks", "publications",
                 "snapshots"}


def test_migrate_applies_every_migration_once(empty_postgres_database: str) -> None:
    db = Database(empty_postgres_database)
    try:
        assert schema_state(db).current == 0
        assert [m.version for m in migrate(db)] == list(range(1, LATEST + 1))
        assert migrate(db) == []  # idempotent: a second run applies nothing
        assert schema_state(db).is_current
    finally:
        db.close()


def test_every_table_carries_its_office(postgres_database: str) -> None:
    with psycopg.connect(postgres_database) as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
        with_office = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = "
            "'office'")}
    assert tables >= OFFICE_TABLES
    assert tables - with_office == {"offices", "schema_migrations"}  # the service's own tables


def test_a_newer_schema_is_refused_with_one_line(empty_postgres_database: str) -> None:
    db = Database(empty_postgres_database)
    try:
        migrate(db)
        with db.transaction() as conn:
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, 'from_the_future')",
                         (LATEST + 1,))
        with pytest.raises(DatabaseError, match=f"schema version {LATEST + 1}, newer than this program's {LATEST}"):
            migrate(db)
        assert schema_state(db).current == LATEST + 1  # refused: nothing changed
    finally:
        db.close()


def _bot(config: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ITA_BOT_CONFIG": str(config), "ITA_BOT_DATABASE_URL": url}
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), *args], env=env, capture_output=True, text=True,
                          timeout=60, cwd=ROOT)


@pytest.mark.slow
def test_bot_py_migrate_on_the_command_line(empty_postgres_database: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, {})
    first = _bot(config, empty_postgres_database, "migrate")
    assert first.returncode == 0, first.stderr
    assert "applied 0001_initial" in first.stdout
    again = _bot(config, empty_postgres_database, "migrate")
    assert again.returncode == 0 and "is current; nothing to apply" in again.stdout
    with psycopg.connect(empty_postgres_database, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, 'from_the_future')", (LATEST + 1,))
    newer = _bot(config, empty_postgres_database, "migrate")
    assert newer.returncode == 2
    assert newer.stderr.strip().count("\n") == 0 and "newer than this program's" in newer.stderr


def test_the_office_opens_only_on_a_current_schema(empty_postgres_database: str, tmp_path: Path) -> None:
    env = {"ITA_BOT_DATABASE_URL": empty_postgres_database, "ITA_BOT_DB": str(tmp_path / "data" / "ita-bot.json")}
    config = load_config(write_config(tmp_path, {}), env=env)
    with pytest.raises(DatabaseError, match=re.escape("run `python bot.py migrate` first")):
        open_office(config)
    db = Database.shared(empty_postgres_database)
    migrate(db)
    office = open_office(config)
    assert office.repositories is not None
    db.close()


def test_a_database_url_that_is_not_postgresql_is_refused(tmp_path: Path) -> None:
    from ita_bot.domain.config import ConfigError

    with pytest.raises(ConfigError, match="expected a postgresql:// URL, got the scheme 'mysql'"):
        load_config(write_config(tmp_path, {"storage": {"url": "mysql://u:secret@h/db"}}), env={})
