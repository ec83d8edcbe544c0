"""The embedded backend: every repository interface implemented over TinyDB files in one data folder."""

from __future__ import annotations

from pathlib import Path

from ita_bot.domain.repositories import Repositories

__all__ = ["tinydb_repositories"]


def tinydb_repositories(folder: Path) -> Repositories:
    """The repositories of the office whose data folder is ``folder``."""
    return Repositories()
