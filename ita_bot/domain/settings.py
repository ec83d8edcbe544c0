"""The office's run-time settings as a repository interface: settings by key, moved meetings, the memo header."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol

from ita_bot.domain.config import DocumentSettings

__all__ = ["SettingsRepository"]


class SettingsRepository(Protocol):
    """What an office changes at run time: settings by key, moved meeting dates, the memo's header."""

    def setting(self, key: str, default: object = None) -> object:
        """The value set for ``key`` (a stored None included), else ``default``."""
        ...

    def set_setting(self, key: str, value: object) -> None: ...

    def meetings(self) -> dict[str, date]:
        """Each moved cycle (``YYYY-MM``) → its meeting day."""
        ...

    def set_meeting(self, cycle_id: str, day: date, by: str | None, at: datetime) -> None: ...

    def clear_meeting(self, cycle_id: str) -> bool:
        """Forget a cycle's moved date; False when it had none."""
        ...

    def memo_header(self) -> Mapping[str, Any]:
        """The memo header's fields as last set (empty when never set)."""
        ...

    def set_memo_header(self, values: DocumentSettings, by: str | None, at: datetime) -> None: ...
