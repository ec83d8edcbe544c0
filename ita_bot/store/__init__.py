"""The storage backends: where an office's repositories live; ``open_office`` wires an office onto them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ita_bot.domain.config import Config
from ita_bot.domain.office import Office
from ita_bot.store.database import Store
from ita_bot.store.tiny import tinydb_repositories

__all__ = ["open_office"]


def open_office(config: Config, *, now: Callable[[], datetime] | None = None) -> Office:
    """The office of ``config`` on its configured backend (TinyDB files in ``storage.db_path`` today)."""
    store = Store(Path(config.db_path))  # the one Store of this office in this process, shared by its repositories
    return Office(config, tinydb_repositories(store.folder, store=store), now=now)
