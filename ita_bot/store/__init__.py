"""The storage backends: where an office's repositories live; ``open_office`` wires an office onto them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ita_bot.domain.config import Config
    from ita_bot.domain.office import Office

__all__ = ["open_office"]


def open_office(config: Config, *, now: Callable[[], datetime] | None = None) -> Office:
    """The office of ``config`` on its configured backend (TinyDB files in ``storage.db_path`` today)."""
    # Imported here: the domain still reaches into store.database while it moves behind its interfaces.
    from ita_bot.domain.office import Office

    return Office(config, now=now)
