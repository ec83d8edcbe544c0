"""Several TinyDB repository calls as one transaction: the main database's write, which nested writes join."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ita_bot.store.database import Store

__all__ = ["TinyUnitOfWork"]


class TinyUnitOfWork:
    """The UnitOfWork over one Store: ``atomic()`` is a write of the main database, so every write to it made
    inside on this thread (people, codes, settings, meetings, notices, sign-in links, the audit log) joins one
    transaction, committed as one file replacement or, when the block raises, not at all. Writes to the other
    database files (a year's reports, the plan changes, the sent-log) and plain files are their own transactions:
    TinyDB cannot commit two files as one, so they are not undone with it."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        # "main" sorts before every other database name, so holding it first keeps the store's lock order.
        with self.store.write("main"):
            yield
