"""The PostgreSQL connection pool and its transactions: one pool per process and URL, one transaction per thread."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from ita_bot.domain.inbox import StorageError

__all__ = ["Connection", "Database", "DatabaseError", "pool_size", "redact_url"]

Connection = psycopg.Connection[dict[str, Any]]

#: Threads of a process that each hold a connection at once besides gunicorn's request threads: the journal's
#: chat threads (``Journal(threads=4)``), its worker thread (listings, checkpoints) and one spare (the rich-menu
#: link sync, a console export).
OTHER_THREADS = 4 + 1 + 1


def pool_size(env: Any = None) -> int:
    """The pool's largest size: one connection per thread that may use one at once, so none waits for another's
    (gunicorn's ``GUNICORN_THREADS`` request threads, 4 by default, plus ``OTHER_THREADS``). The pool opens them
    only as they are needed; each costs the server a backend (``max_connections``) per web worker."""
    raw = (os.environ if env is None else env).get("GUNICORN_THREADS", "").strip()
    threads = int(raw) if raw.isdecimal() and 0 < int(raw) <= 256 else 4
    return threads + OTHER_THREADS


class DatabaseError(StorageError):
    """PostgreSQL cannot be reached, or its schema is not the one this program runs on."""


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs (never a secret in a log)."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://…"
    host = info.get("host") or "localhost"
    port = f":{info['port']}" if info.get("port") else ""
    user = f"{info['user']}@" if info.get("user") else ""
    return f"postgresql://{user}{host}{port}/{info.get('dbname') or ''}"


class Database:
    """A connection pool over one PostgreSQL database, shared by every repository of every office in a process.

    ``transaction()`` is the unit of work: the outermost one on a thread takes a pooled connection and commits
    when its block ends (rolls back when it raises); one opened inside it on the same thread joins it as a
    savepoint. So a caller can wrap several repository calls (an event's whole application, a change and its
    audit entry) in one transaction without the repositories knowing of each other."""

    _shared: ClassVar[dict[str, Database]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, url: str, *, max_size: int | None = None) -> None:
        self.url = url
        self._local = threading.local()
        # Connections are opened on first use: a process that never touches the database opens none. One used
        # in the last ``max_idle`` seconds stays open, and with it the statements psycopg prepared on it.
        self.pool: ConnectionPool[Connection] = ConnectionPool(
            url,
            min_size=0,
            max_size=pool_size() if max_size is None else max_size,
            max_idle=600.0,
            kwargs={"autocommit": True, "row_factory": dict_row},
            open=True,
            name="ita-bot",
            timeout=30.0,
        )

    @classmethod
    def shared(cls, url: str) -> Database:
        """The process's one pool for ``url`` (every office opened in this process shares it)."""
        with cls._shared_lock:
            db = cls._shared.get(url)
            if db is None or db.pool.closed:
                db = cls._shared[url] = cls(url)
            return db

    def close(self) -> None:
        locks = getattr(self, "_chat_locks", None)  # the inbox's chat-lock session of this pool, when one was opened
        if locks is not None:
            locks.close()
        self.pool.close()
        with self._shared_lock:
            if self._shared.get(self.url) is self:
                del self._shared[self.url]

    @contextlib.contextmanager
    def transaction(self, *, savepoint: bool = True) -> Iterator[Connection]:
        """This thread's transaction: a new one, or a savepoint inside the one already open (see the class).
        ``savepoint=False`` joins the open one as it is, for a block with nothing to roll back of its own when
        it raises: it writes only in its last statement (an error there aborts the whole transaction, which
        then never commits: see ``writing``). A savepoint and its RELEASE are two round trips."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            if not savepoint:
                yield conn
                return
            with _errors(self.url), conn.transaction():
                yield conn
            return
        with _errors(self.url), self.pool.connection() as conn:
            self._local.conn, self._local.cache = conn, {}
            try:
                with conn.transaction():
                    yield conn
                    _refuse_aborted(conn)
            finally:
                self._local.conn = self._local.cache = None

    @contextlib.contextmanager
    def writing(self) -> Iterator[Connection]:
        """For a block of one write statement (reads besides it allowed), which is atomic by itself so needs no
        savepoint: inside this thread's transaction, that one as it is; outside one, a pooled connection in
        autocommit, the statement its own transaction. Each savepoint, RELEASE, BEGIN and COMMIT spared is a
        round trip. Should the statement fail inside a transaction and its caller go on, the transaction is
        aborted and never commits (``transaction`` refuses it), so nothing of it is kept by half."""
        with self._joined() as conn:
            yield conn

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """For reads only: inside this thread's transaction, that one as it is (a read has nothing to roll back,
        so no savepoint); outside one, a pooled connection in autocommit, each statement its own snapshot. An
        event reads far more than it writes, and each savepoint or BEGIN/COMMIT is a round trip of its own."""
        with self._joined() as conn:
            yield conn

    @contextlib.contextmanager
    def _joined(self) -> Iterator[Connection]:
        """This thread's transaction as it is, else a pooled connection in autocommit (see the two above)."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        with _errors(self.url), self.pool.connection() as conn:
            yield conn

    def transaction_cache(self) -> dict[Any, Any] | None:
        """A dict that lives as long as this thread's outermost transaction (None outside one): for what a
        transaction reads several times and only it could change meanwhile, e.g. the plan an event reads once
        per step. Whoever writes such a thing in the transaction updates or drops its entry."""
        cache: dict[Any, Any] | None = getattr(self._local, "cache", None)
        return cache

    @property
    def in_transaction(self) -> bool:
        """True inside ``transaction()`` on this thread."""
        return getattr(self._local, "conn", None) is not None


@contextlib.contextmanager
def _errors(url: str) -> Iterator[None]:
    """The database failing is the bot's surroundings failing: a StorageError (retried, never the event's fault)."""
    try:
        yield
    except PoolTimeout as e:
        raise DatabaseError(f"no connection to {redact_url(url)} within the pool's timeout: {e}") from e
    except psycopg.OperationalError as e:
        raise DatabaseError(f"PostgreSQL at {redact_url(url)}: {_first_line(e)}") from e


def _refuse_aborted(conn: Connection) -> None:
    """Raise when a statement of the transaction failed and its caller went on: PostgreSQL would answer the
    COMMIT with a silent ROLLBACK, and the block's caller would take its changes for kept."""
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
        raise psycopg.errors.InFailedSqlTransaction(
            "a statement of this transaction failed and its error was caught: none of it is kept")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
