"""/healthz and `bot.py check` name the backend and whether its schema is this program's, never its URL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ita_bot import cli
from ita_bot.store.pg.schema import LATEST
from tests.conftest import ROOT, write_config


def test_healthz_names_tinydb(bot: Any) -> None:
    status, body = bot.healthz()
    assert status == 200 and body["backend"] == "tinydb" and body["schema_current"] is True


def test_healthz_names_postgresql_and_a_schema_that_fell_behind(make_bot: Callable[..., Any],
                                                                 fresh_postgres_database: str) -> None:
    bot = make_bot(storage={"url": fresh_postgres_database})
    status, body = bot.healthz()
    assert status == 200 and body["backend"] == "postgresql" and body["schema_current"] is True
    assert "schema_not_current" not in body["problems"]
    assert "127.0.0.1" not in str(body) and "postgres" not in str(body).replace("postgresql", "")
    with psycopg.connect(fresh_postgres_database, autocommit=True) as conn:  # as if an older schema were in place
        conn.execute("DELETE FROM schema_migrations WHERE version = %s", (LATEST,))
    status, body = bot.healthz()
    assert status == 200 and body["schema_current"] is False
    assert body["status"] == "degraded" and "schema_not_current" in body["problems"]


def check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
          url: str) -> tuple[int, str, str]:
    monkeypatch.setenv("ITA_BOT_CONFIG", str(write_config(tmp_path, {})))
    monkeypatch.setenv("ITA_BOT_DB", str(tmp_path / "db" / "ita-bot.json"))
    monkeypatch.setenv("ITA_BOT_DATABASE_URL", url)
    code = cli.main(["check", "--now", "2021-02-15T10:00"])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_names_an_unreachable_database_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(tmp_path, monkeypatch, capsys, "postgresql://ita:s3cret@127.0.0.1:1/ita")
    problems = [line for line in err.splitlines() if line.startswith("problem:")]
    assert code == 1 and len(problems) == 1
    assert "database:" in problems[0] and "cannot be reached" in problems[0] and "127.0.0.1:1" in problems[0]
    assert "s3cret" not in out + err and "Traceback" not in err


def test_check_names_migrate_for_a_database_without_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str],
                                                               empty_postgres_database: str) -> None:
    code, _, err = check(tmp_path, monkeypatch, capsys, empty_postgres_database)
    problems = [line for line in err.splitlines() if line.startswith("problem:")]
    assert code == 1 and len(problems) == 1
    assert problems[0].startswith("problem: schema:") and "run `python bot.py migrate`" in problems[0]


def test_check_on_a_current_database_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str], fresh_postgres_database: str) -> None:
    code, out, err = check(tmp_path, monkeypatch, capsys, fresh_postgres_database)
    assert code == 0, err
    assert "database: reachable" in out.splitlines() and f"schema: version {LATEST}, current" in out.splitlines()


@pytest.mark.slow
def test_a_tinydb_process_never_loads_postgresqls_driver() -> None:
    """PostgreSQL's modules load only where a database URL is set: psycopg costs every web worker about 8 MiB."""
    code = ("import sys, bot, ita_bot.web, ita_bot.cli, ita_bot.schedule.clock, ita_bot.demo, ita_bot.store.backup; "
            "print(sorted(m for m in sys.modules if m.startswith(('psycopg', 'ita_bot.store.pg'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
