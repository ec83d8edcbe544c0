"""A PostgreSQL server for the tests, and a database of their own on it, dropped when they end.

The server: ``ITA_BOT_TEST_DATABASE_URL`` when set; else one listening on 127.0.0.1:5432 (trust auth, as the
project's machines have); else a throwaway cluster started from the installed PostgreSQL binaries in a temp
folder (as the ``postgres`` or ``nobody`` user when the tests run as root, since PostgreSQL refuses root).
Where there is none at all the PostgreSQL tests skip with the reason, except under ``CI=true``, where a
missing server is a failure (``.ci/run`` installs one)."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from ita_bot.store.pg.database import Database
from ita_bot.store.pg.schema import ensure_office, migrate

LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _binaries() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: on PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _throwaway_cluster(bindir: Path) -> Iterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="ita-pg-"))
    user: str | None = None
    if os.geteuid() == 0:
        user = next((u for u in ("postgres", "nobody") if _has_user(u)), None)
        os.chown(folder, pwd.getpwnam(user).pw_uid, -1) if user else None
    data, port = folder / "data", _free_port()
    run = dict(check=True, capture_output=True, user=user)
    try:
        subprocess.run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                        "--locale=C", "--no-sync"], **run)  # type: ignore[call-overload]
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w",
                        "start"], **run)  # type: ignore[call-overload]
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True,
                       user=user, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A URL of a PostgreSQL server's maintenance database, where test databases are created."""
    url = os.environ.get("ITA_BOT_TEST_DATABASE_URL")
    if url:
        if not _reachable(url):
            _unavailable("ITA_BOT_TEST_DATABASE_URL is set but no server answers there")
        yield url
        return
    if _reachable(LOCAL_URL):
        yield LOCAL_URL
        return
    bindir = _binaries()
    if bindir is None:
        _unavailable("no PostgreSQL server on 127.0.0.1:5432 and no PostgreSQL binaries (initdb) installed")
        return
    with _throwaway_cluster(bindir) as started:
        yield started


@contextlib.contextmanager
def new_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server; dropped (connections and all) when the block ends."""
    name = f"ita_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path="/" + name))
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def migrated_database(server_url: str) -> Iterator[str]:
    """A new database migrated to the current schema (its "default" office free); dropped when the block ends."""
    with new_database(server_url) as url:
        db = Database(url)
        try:
            migrate(db)
        finally:
            db.close()
        yield url


@pytest.fixture(scope="session")
def postgres_database(postgres_server: str) -> Iterator[str]:
    """This test run's own database, migrated to the current schema; tests keep apart by office slug."""
    with migrated_database(postgres_server) as url:
        yield url


@pytest.fixture
def fresh_postgres_database(postgres_server: str) -> Iterator[str]:
    """A migrated database of this test's own, for tests of a whole database or its "default" office."""
    with migrated_database(postgres_server) as url:
        yield url


@pytest.fixture
def empty_postgres_database(postgres_server: str) -> Iterator[str]:
    """A database of this test's own with no schema at all (for the migrations' own tests)."""
    with new_database(postgres_server) as url:
        yield url


def new_office(url: str) -> str:
    """A new office in the run's database: a fresh, empty world for one test."""
    slug = f"t-{uuid.uuid4().hex[:12]}"
    db = Database(url, max_size=1)
    try:
        ensure_office(db, slug)
    finally:
        db.close()
    return slug


@pytest.fixture
def postgres_office(postgres_database: str) -> tuple[str, str]:
    """(database URL, office slug) of an office of this test's own."""
    return postgres_database, new_office(postgres_database)
