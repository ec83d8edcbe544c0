"""The inbox on PostgreSQL: one row per (office, event id), applied marks in the row, chats held by advisory locks.

- ``accept`` inserts the batch with ``ON CONFLICT DO NOTHING`` and commits before it returns (the webhook
  answers 200 only then): an id that is pending *or* applied has its row, so a redelivery is a duplicate in
  every process. Only ``prune`` deletes rows, and only those of events past the freshness horizon, which the
  journal refuses on arrival: a pruned id can never be accepted again (see ``ita_bot.chat.journal``).
- ``event`` is a ``json`` column, not ``jsonb``: jsonb refuses a ``\\u0000`` in a string, and one such
  message would fail its whole webhook batch forever (LINE redelivers it); json keeps the text as sent.
- ``newest`` lives in ``inbox_marks`` and moves with ``GREATEST``, so it never moves back in any process.
- ``applying(event_id)`` is one transaction (``Database.transaction``): the event's changes to the other
  repositories join it and commit together with the entry's "ok" mark at its end, or are rolled back together
  when it raises. So no crash leaves an applied event pending, and none is applied twice (TinyDB, which has no
  such transaction, re-applies after a crash and relies on the domain's idempotency by event id).
  ``checkpoint`` then finds these entries marked already (the first outcome stands) and marks the rest: the
  events given up as failed, whose changes were rolled back. The event's commit does not wait for its WAL
  flush (``synchronous_commit`` off for that transaction alone), as TinyDB defers an event's fsyncs: the
  entry, committed durably before LINE heard 200, covers it, and a lost commit loses change and mark together.
- ``hold_chat`` takes a session-level ``pg_try_advisory_lock`` on one dedicated connection per process and
  database, shared by every office's Inbox (``ChatLocks``; not a pooled one: a pooled connection returns to the
  pool and would carry the lock to whoever borrows it next). The chats each office holds are kept beside it, so a
  second hold of a held chat in the same process is refused, and one office's ``close`` frees only its own.
  The lock is the server's, so it holds across hosts and processes, and it goes with the connection when the
  process dies (kill -9 closes the socket at once; a host that vanishes is found by the TCP keepalives set on
  the session). Session locks need a session: PgBouncer in transaction mode in front of the database would
  break them. Should the connection itself be lost, its holds are gone with it: the next ``hold_chat``
  reconnects and the loss is logged (two processes may then drain one chat; the domain's idempotency by event
  id keeps that from applying an event twice).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import psycopg
from psycopg.types.json import Json

from ita_bot.domain.inbox import NEWEST_STEP_MS, Outcome, UnreadableEntry
from ita_bot.store.pg.database import Database, DatabaseError, redact_url

__all__ = ["PgInbox"]

log = logging.getLogger(__name__)

_BIGINT = (-(2**63), 2**63 - 1)
# The server drops a vanished client's session (and its chat locks) after about idle + interval × count seconds.
_KEEPALIVE = (("tcp_keepalives_idle", 30), ("tcp_keepalives_interval", 10), ("tcp_keepalives_count", 3))


def _stamp(event: Mapping[str, Any]) -> int | None:
    """The event's timestamp (ms) as the journal reads it: an integer, else None (pruned like a stale one)."""
    ts = event.get("timestamp")
    if not isinstance(ts, int) or isinstance(ts, bool):
        return None
    return min(max(ts, _BIGINT[0]), _BIGINT[1])  # a forged huge one is still "far in the future"


class ChatLocks:
    """The one dedicated connection of a process (per ``Database``) holding every office's chat locks, and the
    chats held on it by office. One connection serves all offices: a hosted service's worker serving a hundred
    offices holds one session, not a hundred (the server's ``max_connections`` counts each)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.lock = threading.Lock()  # guards the session and ``held``
        self.session = _Session()
        self.held: dict[str, set[str]] = {}  # office -> chats it holds on this session
        # Dropped without close() (a test's Database; the process's exit): the session ends all the same.
        weakref.finalize(self, self.session.close, unlock=False)

    @property
    def conn(self) -> psycopg.Connection[Any] | None:
        return self.session.conn

    @property
    def pid(self) -> int:
        return self.session.pid

    def close(self) -> None:
        """End the session: every chat held on it is free when this returns (``Database.close``)."""
        with self.lock:
            self.session.close(unlock=True)
            self.held = {}

    @classmethod
    def of(cls, db: Database) -> ChatLocks:
        """The session of ``db`` in this process, made on first use."""
        with _SESSIONS_LOCK:
            found: ChatLocks | None = getattr(db, "_chat_locks", None)
            if found is None:
                found = cls(db.url)
                db._chat_locks = found  # type: ignore[attr-defined]  # kept with the pool it belongs beside
            return found

    def connect(self) -> psycopg.Connection[Any]:
        """The session; opened on first use, and again in a forked child (call with ``lock`` held)."""
        session = self.session
        if session.conn is not None and session.pid != os.getpid():
            # Inherited through fork: its socket is the parent's session. Dropped without closing it (psycopg
            # does not end another process's session on collection), and the parent's holds are not ours.
            session.conn, self.held = None, {}
        if session.conn is not None and session.conn.closed:
            self.lost()
        if session.conn is None:
            try:
                conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10,
                                       application_name="ita-bot inbox chats")
                for name, value in _KEEPALIVE:
                    conn.execute("SELECT set_config(%s, %s, false)", (name, str(value)))
            except psycopg.OperationalError as e:
                raise DatabaseError(f"PostgreSQL at {redact_url(self.url)}: chat lock session: {e}") from e
            session.conn, session.pid = conn, os.getpid()
        return session.conn

    def lost(self) -> None:
        """The session broke: every hold it had, of every office, is gone with it (call with ``lock`` held)."""
        count = sum(len(chats) for chats in self.held.values())
        if count:
            log.error("inbox: the chat lock session was lost with %d chat(s) held", count)
        self.session.close(unlock=False)
        self.held = {}


_SESSIONS_LOCK = threading.Lock()


class _Session:
    """The chat-lock connection and the process that opened it."""

    def __init__(self) -> None:
        self.conn: psycopg.Connection[Any] | None = None
        self.pid = 0

    def close(self, *, unlock: bool) -> None:
        """Close it (never another process's: a forked child would end its parent's session). ``unlock``
        frees the chats first, so they are free on return; a closed socket frees them once the server notices."""
        conn, self.conn = self.conn, None
        if conn is None or self.pid != os.getpid():
            return
        with contextlib.suppress(psycopg.Error):
            if unlock and not conn.closed:
                conn.execute("SELECT pg_advisory_unlock_all()")
            conn.close()


class PgInbox:
    """The inbox of ``office`` in ``db``; its chats are held on the process's one chat-lock session of ``db``."""

    def __init__(self, db: Database, office: str) -> None:
        self.db, self.office = db, office
        self._locks = ChatLocks.of(db)
        self._read_ahead = threading.local()  # ``entry``: (event id, event) read by ``is_applied``

    # -- what the webhook needs -------------------------------------------------------------------

    def accept(self, events: Sequence[tuple[str, Mapping[str, Any]]], received_at: str) -> list[bool]:
        if not events:
            return []
        if self.db.in_transaction:
            # Inside another transaction the rows would commit only with it: LINE could hear 200 for nothing.
            raise RuntimeError("Inbox.accept must commit on its own: it was called inside a transaction")
        stems = [stem for stem, _ in events]
        # One statement in autocommit: atomic and durable (synchronous_commit) when it returns, in one round
        # trip. An id twice in the batch is inserted once: its first place reads True, as one by one would.
        with self.db.writing() as conn:
            rows = conn.execute(
                "INSERT INTO inbox (office, event_id, received_at, stamp, event) "
                "SELECT %s, e.event_id, %s, e.stamp, e.event "
                "FROM unnest(%s::text[], %s::bigint[], %s::json[]) WITH ORDINALITY AS e(event_id, stamp, event, n) "
                "ORDER BY e.n ON CONFLICT (office, event_id) DO NOTHING RETURNING event_id",
                (self.office, received_at, stems, [_stamp(event) for _, event in events],
                 [Json(dict(event)) for _, event in events]),
            ).fetchall()
        inserted = {r["event_id"] for r in rows}
        out: list[bool] = []
        for stem in stems:
            out.append(stem in inserted)
            inserted.discard(stem)
        return out

    def newest(self) -> int:
        with self.db.reading() as conn:
            row = conn.execute("SELECT newest FROM inbox_marks WHERE office = %s", (self.office,)).fetchone()
        return int(row["newest"]) if row else 0

    def advance_newest(self, stamp: int) -> int:
        stored = self.newest()
        if stamp > stored + NEWEST_STEP_MS:  # a minute's precision is plenty against a 7-day window
            try:
                with self.db.transaction() as conn:
                    row = conn.execute(
                        "INSERT INTO inbox_marks (office, newest) VALUES (%s, %s) ON CONFLICT (office) "
                        "DO UPDATE SET newest = GREATEST(inbox_marks.newest, EXCLUDED.newest) RETURNING newest",
                        (self.office, min(stamp, _BIGINT[1])),
                    ).fetchone()
                stored = int(row["newest"]) if row else stored
            except DatabaseError as e:  # the mark lags, which only keeps entries longer
                log.warning("inbox: newest event time not saved: %s", e)
        return max(stored, stamp)

    # -- what the worker needs --------------------------------------------------------------------

    def pending(self) -> list[str]:
        with self.db.reading() as conn:
            rows = conn.execute(
                "SELECT event_id FROM inbox WHERE office = %s AND outcome IS NULL ORDER BY stamp, event_id",
                (self.office,),
            ).fetchall()
        return [r["event_id"] for r in rows]

    def count_pending(self) -> int:
        with self.db.reading() as conn:
            row = conn.execute("SELECT count(*) AS n FROM inbox WHERE office = %s AND outcome IS NULL",
                               (self.office,)).fetchone()
        return int(row["n"]) if row else 0

    def event(self, event_id: str) -> dict[str, Any] | None:
        ahead: tuple[str, Any] | None = getattr(self._read_ahead, "entry", None)
        self._read_ahead.entry = None
        if ahead is not None and ahead[0] == event_id:
            event = ahead[1]  # read by is_applied just before, on this thread (see there)
        else:
            with self.db.reading() as conn:
                row = conn.execute(
                    "SELECT event FROM inbox WHERE office = %s AND event_id = %s AND outcome IS NULL",
                    (self.office, event_id),
                ).fetchone()
            if row is None:
                return None  # applied or pruned meanwhile
            event = row["event"]
        if not isinstance(event, dict):  # accept stores only objects: written by something else
            raise UnreadableEntry("entry is not an event: not an object")
        return event

    def is_applied(self, event_id: str) -> bool:
        # The worker asks ``is_applied`` and then, under the chat's hold, for the event: one round trip reads
        # both, and the pending event is kept for this thread's next ``event`` call of the same id (any other
        # ``event`` call drops it). Under the hold no other process applies the entry in between.
        with self.db.reading() as conn:
            row = conn.execute(
                "SELECT outcome IS NOT NULL AS applied, CASE WHEN outcome IS NULL THEN event END AS event "
                "FROM inbox WHERE office = %s AND event_id = %s",
                (self.office, event_id),
            ).fetchone()
        self._read_ahead.entry = None
        if row is None:
            return False  # pruned: ``event`` finds none either
        if row["applied"]:
            return True
        self._read_ahead.entry = (event_id, row["event"])
        return False

    # -- chats ------------------------------------------------------------------------------------

    def _chat_key(self, chat: str) -> str:
        return f"inbox-chat|{self.office}|{chat}"

    def hold_chat(self, chat: str) -> bool:
        locks = self._locks
        with locks.lock:
            mine = locks.held.setdefault(self.office, set())
            if chat in mine:
                return False  # a second hold from the same process is refused, as a second flock is
            conn = locks.connect()
            try:
                row = conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0)) AS taken",
                                   (self._chat_key(chat),)).fetchone()
            except psycopg.OperationalError as e:
                locks.lost()
                raise DatabaseError(f"PostgreSQL at {redact_url(self.db.url)}: chat lock session: {e}") from e
            if row is None or not row[0]:
                return False
            locks.held.setdefault(self.office, set()).add(chat)
            return True

    def release_chat(self, chat: str) -> None:
        locks = self._locks
        with locks.lock:
            mine = locks.held.get(self.office, set())
            if chat not in mine:
                return
            mine.discard(chat)
            self._unlock(chat)

    def _unlock(self, chat: str) -> None:
        """Free one chat on the session (call with the session's lock held)."""
        locks = self._locks
        if locks.conn is None or locks.pid != os.getpid():
            return
        try:
            locks.conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (self._chat_key(chat),))
        except psycopg.OperationalError:
            locks.lost()  # the lock went with the session

    def close(self) -> None:
        """Free every chat this office holds in this process: they are free for others when this returns. The
        session stays for the process's other offices; it ends with the process (or ``Database``)."""
        locks = self._locks
        with locks.lock:
            for chat in sorted(locks.held.pop(self.office, set())):
                self._unlock(chat)

    # -- applying and marking -----------------------------------------------------------------------

    @contextlib.contextmanager
    def applying(self, event_id: str) -> Iterator[None]:
        with self.db.transaction() as conn:
            # The commit need not wait for its WAL flush: the entry, flushed before LINE heard 200, covers it.
            # A crash that loses the commit loses the changes and the mark together, so the event is pending
            # again and applied again; never a mark without its changes (WAL is replayed in order).
            yield
            # Reached only when the event's application did not raise: its mark commits with its changes. The
            # setting is read at COMMIT, so it goes in the mark's statement (one round trip less than a SET).
            conn.execute("WITH marked AS (UPDATE inbox SET outcome = 'ok', applied_at = now() "
                         "WHERE office = %s AND event_id = %s AND outcome IS NULL RETURNING 1) "
                         "SELECT set_config('synchronous_commit', 'off', true)", (self.office, event_id))

    def checkpoint(self, outcomes: Mapping[str, Outcome]) -> None:
        if not outcomes:
            return
        # Every change made while applying is committed already (each event's transaction); the marks go
        # in one statement, all or none, in one round trip. The first outcome stands, as the first done-marker
        # does on TinyDB.
        with self.db.writing() as conn:
            conn.execute(
                "UPDATE inbox SET outcome = m.outcome, applied_at = now() "
                "FROM unnest(%s::text[], %s::text[]) AS m(event_id, outcome) "
                "WHERE inbox.office = %s AND inbox.event_id = m.event_id AND inbox.outcome IS NULL",
                (list(outcomes), list(outcomes.values()), self.office),
            )

    def mark(self, event_id: str, outcome: Outcome) -> None:
        self.checkpoint({event_id: outcome})

    def retire(self, event_id: str) -> None:
        # A row is pending exactly while it has no outcome: an applied entry is never still listed here.
        return None

    # -- housekeeping -------------------------------------------------------------------------------

    def prune(self, older_than: float, horizon: int) -> dict[str, bool]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                "DELETE FROM inbox WHERE office = %s AND stored_at < to_timestamp(%s) "
                "AND (stamp IS NULL OR stamp < %s) RETURNING event_id, outcome IS NULL AS unapplied",
                (self.office, older_than, max(min(horizon, _BIGINT[1]), _BIGINT[0])),
            ).fetchall()
        return {r["event_id"]: bool(r["unapplied"]) for r in rows}

