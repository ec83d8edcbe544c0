"""The backends every repository contract runs against: the same tests, unchanged, on each backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ita_bot.domain.repositories import Repositories
from ita_bot.store.pg import Database, postgresql_repositories
from ita_bot.store.tiny import tinydb_repositories
from tests.postgres import new_office

BACKENDS = ("tinydb", "postgresql")


@pytest.fixture(params=BACKENDS)
def open_repositories(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Repositories]]:
    """Opens the backend's repositories over one data location (a data folder; an office of a database);
    calling it again is a second process's view (its own Store; its own connection pool)."""
    folder = tmp_path / "data"
    folder.mkdir()
    if request.param == "tinydb":
        yield lambda: tinydb_repositories(folder)
        return
    url: str = request.getfixturevalue("postgres_database")
    office = new_office(url)
    pools: list[Database] = []

    def open_postgresql() -> Repositories:
        pools.append(Database(url, max_size=4))
        return postgresql_repositories(pools[-1], office)

    try:
        yield open_postgresql
    finally:
        for db in pools:
            db.close()


@pytest.fixture
def repositories(open_repositories: Callable[[], Repositories]) -> Repositories:
    return open_repositories()
