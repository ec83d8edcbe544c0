"""The storage backends: where an office's repositories live; ``open_office`` wires an office onto them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ita_bot.domain.config import Config
from ita_bot.domain.notices import Notice, NoticeRecord
from ita_bot.domain.office import Office
from ita_bot.store.database import Store
from ita_bot.store.tiny import tinydb_repositories
from ita_bot.store.tiny.notices import TinyNotices

__all__ = ["open_office"]


class _OfficeStore(Store):
    """The office's Store, which code not yet behind a repository (the sent-log's Delivery, the clock, /healthz,
    the rich-menu sync) still hands to ``Notices``: so it also answers as the notice repository of its main
    database. Goes when those take ``office.notices``."""

    def __init__(self, db_path: Path) -> None:
        super().__init__(db_path)
        self._notices = TinyNotices(self)

    def post(self, notice: Notice, key: str) -> Notice:
        return self._notices.post(notice, key)

    def unresolved(self) -> list[NoticeRecord]:
        return self._notices.unresolved()

    def tell(self, user_id: str, retire: Callable[[Notice], bool]) -> list[Notice]:
        return self._notices.tell(user_id, retire)

    def resolve(self, which: Callable[[NoticeRecord], bool]) -> int:
        return self._notices.resolve(which)


def open_office(config: Config, *, now: Callable[[], datetime] | None = None) -> Office:
    """The office of ``config`` on its configured backend (TinyDB files in ``storage.db_path`` today)."""
    store = _OfficeStore(Path(config.db_path))  # the one Store of this office in this process
    office = Office(config, tinydb_repositories(store.folder, store=store), now=now)
    office.store = store
    return office
