"""Several PostgreSQL repository calls as one transaction: the database's own."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ita_bot.store.pg.database import Database

__all__ = ["PgUnitOfWork"]


class PgUnitOfWork:
    """The UnitOfWork over one pool: ``atomic()`` is ``db.transaction()``, which every repository call made
    inside it on this thread joins (as a savepoint), so they commit together or, when the block raises, not at
    all."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        with self.db.transaction():
            yield
