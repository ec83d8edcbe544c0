"""The backends every repository contract runs against: the same tests, unchanged, on each backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ita_bot.domain.repositories import Repositories
from ita_bot.store.tiny import tinydb_repositories

#: Each backend opens a fresh, empty set of repositories; a second backend adds itself here and every
#: contract test runs on it unchanged.
BACKENDS: dict[str, Callable[[Path], Repositories]] = {
    "tinydb": tinydb_repositories,
}


@pytest.fixture(params=sorted(BACKENDS))
def open_repositories(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Repositories]]:
    """Opens the backend's repositories over one data location; calling it again is a second process's view."""
    folder = tmp_path / "data"
    folder.mkdir()
    yield lambda: BACKENDS[request.param](folder)


@pytest.fixture
def repositories(open_repositories: Callable[[], Repositories]) -> Repositories:
    return open_repositories()
