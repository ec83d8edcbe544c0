"""Counts what psycopg sends to PostgreSQL: statements, transaction commands and round trips (waits for the server).

A measuring aid for the PostgreSQL backend (``benchmarks/pg_events.py`` and the round-trip tests): it wraps
psycopg's own send/wait steps for as long as a ``StatementSpy`` block runs, in every thread, and changes nothing
that is sent. It relies on psycopg 3's internals (``_exec_command``, ``_maybe_prepare_gen`` and the ``execute``
and ``pipeline_communicate`` generators), so it is pinned to the psycopg the project pins."""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from psycopg import _connection_base, _cursor_base, _pipeline_base, generators

__all__ = ["Counts", "StatementSpy"]

TRANSACTION_WORDS = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class Counts:
    """What was sent while the spy ran: every statement's text (whitespace folded), the thread that sent it and
    whether it ran from a server-side prepared statement; and the round trips (each wait for the server's answer:
    a statement, a Prepare, a pipeline exchange), by thread."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.threads: list[str] = []
        self.prepared_flags: list[bool] = []
        self.prepares = 0  # Prepare messages sent (a statement being prepared on a connection)
        self.trips_by_thread: collections.Counter[str] = collections.Counter()

    @property
    def round_trips(self) -> int:
        return sum(self.trips_by_thread.values())

    @property
    def prepared(self) -> int:
        return sum(self.prepared_flags)

    def only(self, keep: Callable[[str], bool]) -> Counts:
        """The counts of the threads whose name ``keep`` accepts."""
        sub = Counts()
        for thread, text, prepared in zip(self.threads, self.statements, self.prepared_flags, strict=True):
            if keep(thread):
                sub.threads.append(thread)
                sub.statements.append(text)
                sub.prepared_flags.append(prepared)
        sub.trips_by_thread.update({t: n for t, n in self.trips_by_thread.items() if keep(t)})
        return sub

    def transaction_commands(self) -> collections.Counter[str]:
        """BEGIN, COMMIT, ROLLBACK, SAVEPOINT and RELEASE (SAVEPOINT) counted by their first word."""
        found: collections.Counter[str] = collections.Counter()
        for text in self.statements:
            word = text.split(None, 1)[0].upper() if text.strip() else ""
            if word in TRANSACTION_WORDS:
                found[word] += 1
        return found

    def summary(self, per: int = 1) -> dict[str, float]:
        """Round trips, statements, BEGIN, COMMIT, SAVEPOINT and statements run prepared, divided by ``per``."""
        tx = self.transaction_commands()
        return {
            "round_trips": self.round_trips / per,
            "statements": len(self.statements) / per,
            "begin": tx["BEGIN"] / per,
            "commit": tx["COMMIT"] / per,
            "savepoint": tx["SAVEPOINT"] / per,
            "prepared": self.prepared / per,
        }


class StatementSpy:
    """``with StatementSpy() as counts: ...`` counts what every thread sends to PostgreSQL inside the block."""

    _lock = threading.Lock()

    def __init__(self) -> None:
        self.counts = Counts()

    def _note(self, text: str, *, prepared: bool = False, prepare: bool = False) -> None:
        with self._lock:
            self.counts.statements.append(" ".join(text.split())[:160])
            self.counts.threads.append(threading.current_thread().name)
            self.counts.prepared_flags.append(prepared)
            self.counts.prepares += prepare

    def _trip(self) -> None:
        with self._lock:
            self.counts.trips_by_thread[threading.current_thread().name] += 1

    @contextlib.contextmanager
    def _patched(self) -> Iterator[Counts]:
        spy = self
        conn_cls, cur_cls = _connection_base.BaseConnection, _cursor_base.BaseCursor
        orig_command, orig_prepare = conn_cls._exec_command, cur_cls._maybe_prepare_gen
        orig_execute, orig_cursor_execute = generators.execute, _cursor_base.execute
        orig_pipeline = _pipeline_base.pipeline_communicate

        def exec_command(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
            text = command if isinstance(command, str) else (
                command.decode() if isinstance(command, bytes) else command.as_string(None))
            spy._note(text)
            return orig_command(self, command, *args, **kwargs)

        def maybe_prepare(self: Any, pgq: Any, *args: Any, **kwargs: Any) -> Any:
            # What psycopg's PrepareManager.get will decide, without its side effect (it numbers names).
            manager, wanted = self._conn._prepared, kwargs.get("prepare")
            key = manager.key(pgq)
            prepare = should = False
            if wanted is not False and manager.prepare_threshold is not None:
                prepare = key in manager._names or wanted or manager._counts.get(key, 0) >= manager.prepare_threshold
                should = prepare and key not in manager._names
            spy._note(pgq.query.decode(), prepared=bool(prepare), prepare=bool(should))
            return orig_prepare(self, pgq, *args, **kwargs)

        def execute(pgconn: Any) -> Any:
            spy._trip()
            return (yield from orig_execute(pgconn))

        def pipeline(pgconn: Any, commands: Any) -> Any:
            spy._trip()
            return (yield from orig_pipeline(pgconn, commands))

        conn_cls._exec_command = exec_command  # type: ignore[method-assign]
        cur_cls._maybe_prepare_gen = maybe_prepare  # type: ignore[method-assign]
        generators.execute = execute
        _cursor_base.execute = execute
        _pipeline_base.pipeline_communicate = pipeline
        try:
            yield self.counts
        finally:
            conn_cls._exec_command = orig_command  # type: ignore[method-assign]
            cur_cls._maybe_prepare_gen = orig_prepare  # type: ignore[method-assign]
            generators.execute = orig_execute
            _cursor_base.execute = orig_cursor_execute
            _pipeline_base.pipeline_communicate = orig_pipeline

    def __enter__(self) -> Counts:
        self._cm = self._patched()
        return self._cm.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)
