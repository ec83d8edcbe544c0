"""The durable event journal: webhook events accepted into the inbox, then applied off the request path.

The inbox (``ita_bot.domain.inbox.Inbox``, ``office.repositories.inbox``) keeps each event by its id
(LINE's ``webhookEventId``): accepting one twice is a duplicate, applied once. This module is the
worker around it: which chats to drain, in what order, when to retry, when to checkpoint.

- A chat is held (``Inbox.hold_chat``) while a process works through its events and until they are
  checkpointed, so across gunicorn workers each chat (and so each event) is applied by exactly one
  process, in timestamp order. A process that dies drops its holds; the next one to take the chat
  finds the unfinished events pending and applies them again (the domain applies an event id once).
- The inbox is the write-ahead log of the other repositories: an entry is durable before LINE hears
  200, so events are applied inside ``Inbox.applying(event_id)`` without making each change durable, and a
  *checkpoint* — every ``checkpoint_events`` applied events or ``checkpoint_seconds`` after the first,
  as soon as the worker has nothing else to do, and at stop — makes them durable and marks their
  entries applied in one step (``Inbox.checkpoint``). A power cut loses at most changes whose entries
  are still pending; they are applied again at the next start. A checkpoint that fails (a full disk)
  is retried with backoff and the entries stay pending meanwhile.
- One rule decides both freshness and pruning: the inbox's newest-event mark only moves forward; an
  event older than it by more than the 7-day retention is refused on arrival, and only such events'
  entries are ever pruned. A pruned id therefore can never be accepted again, however quiet the office.

The request path never waits for the worker: the worker's lock guards only in-memory state, never
storage. A process's own accepted entries reach its worker in memory; the inbox is listed on a poll
(other processes' entries, recovery after a restart) and when a chat is drained under its hold (so a
chat's events accepted by another process are taken in timestamp order). Nothing here logs event
content or LINE user IDs (PDPA).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ita_bot.domain.inbox import Inbox, Outcome, StorageError, UnreadableEntry
from ita_bot.domain.line_ids import hide_ids
from ita_bot.domain.plan import PlanError

__all__ = ["Accepted", "Journal", "RetryLater", "after_applied", "chat_of"]

log = logging.getLogger(__name__)

RETENTION = timedelta(days=7)
POLL_SECONDS = 0.5  # how often other processes' entries are looked for (own entries wake the worker at once)
PRUNE_EVERY = 3600.0
MAX_ATTEMPTS = 5  # a transient failure is retried this many times before the event is given up
BUSY_RETRY_SECONDS = 0.05  # a chat another process is draining is tried again this soon
#: Failures of the bot's surroundings, never of the event: the data folder (a full disk, a lock timeout) and a
#: plan file the bot cannot load (a bad restore or hand edit). LINE was told the event arrived, so it waits,
#: with backoff, until they are put right; it is never marked failed for them.
ENVIRONMENT_ERRORS: tuple[type[Exception], ...] = (StorageError, OSError, PlanError)
CHECKPOINT_EVENTS = 64  # a checkpoint covers at most this many applied events ...
CHECKPOINT_SECONDS = 0.05  # ... and runs at the latest this long after the first one it covers
_SAFE_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_TYPE_NAME = re.compile(r"[A-Za-z]{1,32}")


_applying = threading.local()  # .actions: what waits for the event this thread applies to be stored


def after_applied(action: Callable[[], object]) -> None:
    """Run ``action`` once the event this thread is applying is stored (on PostgreSQL: committed), or at once
    when no event is being applied. For effects that read the store from another thread or process (the rich
    menus following who is a manager): inside the event's transaction they would not see its changes. Dropped
    when the event fails; applying it again asks again."""
    actions: list[Callable[[], object]] | None = getattr(_applying, "actions", None)
    if actions is None:
        action()
    else:
        actions.append(action)


class RetryLater(Exception):
    """Raised by the processor for a transient failure (store lock, LINE content 5xx): retry the event later."""


@dataclass(frozen=True)
class Accepted:
    """What ``Journal.accept`` stored: how many events were new and how many were already there."""

    new: int
    duplicates: int
    too_old: int = 0  # refused: older than the retention window (see Journal.accept)


@dataclass(frozen=True)
class _Entry:
    name: str  # file stem (the event id)
    timestamp: int  # the event's LINE timestamp in ms
    chat: str  # chat key: hash of the group/room/user id


def chat_of(event: dict[str, Any]) -> str:
    """The chat an event belongs to (group, room or user id; "" when it has no source)."""
    source = event.get("source")
    if not isinstance(source, dict):
        return ""
    return str(source.get("groupId") or source.get("roomId") or source.get("userId") or "")


def _event_id(event: dict[str, Any]) -> str:
    """The event's webhookEventId, or (for an odd event without one) a hash of its content, so that a
    byte-identical redelivery still counts as the same event."""
    given = event.get("webhookEventId")
    if isinstance(given, str) and _SAFE_ID.match(given):
        return given
    canonical = json.dumps(event, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return "h-" + hashlib.sha256(canonical).hexdigest()[:40]


def _entry_of(stem: str, event: Any) -> _Entry:
    ts = event.get("timestamp") if isinstance(event, dict) else None
    chat = chat_of(event) if isinstance(event, dict) else ""
    key = hashlib.sha256(chat.encode("utf-8")).hexdigest()[:24]  # lock file names carry no LINE ID
    return _Entry(stem, ts if isinstance(ts, int) else 0, key)




def _backoff(doublings: int) -> float:
    """Seconds before a retry: half a second, doubled ``doublings`` times, at most 30 s."""
    return min(30.0, 0.5 * 2**doublings)


def _label(value: Any) -> str:
    """An event type fit for a log line: a forged one could hold a newline (a fake log line) or a user ID."""
    return value if isinstance(value, str) and _TYPE_NAME.fullmatch(value) else "other"


class Journal:
    """Accepts events durably and drains them with a worker thread and a small pool keyed by chat."""

    def __init__(
        self,
        inbox: Inbox,
        process: Callable[[dict[str, Any]], None],
        *,
        threads: int = 4,
        retention: timedelta = RETENTION,
        poll_seconds: float = POLL_SECONDS,
        checkpoint_events: int = CHECKPOINT_EVENTS,
        checkpoint_seconds: float = CHECKPOINT_SECONDS,
    ) -> None:
        # The events, and the write-ahead log of what ``process`` writes: its changes are made durable by the
        # checkpoint, not per event.
        self.inbox = inbox
        self.process = process
        self.threads = threads
        self.retention = retention
        self.poll_seconds = poll_seconds
        self.checkpoint_events = checkpoint_events
        self.checkpoint_seconds = checkpoint_seconds
        # Guards the in-memory state below and nothing else: never held during storage I/O, so an
        # accept on the request path waits at most for a few dict operations.
        self._cond = threading.Condition()
        self._wake = False
        self._stopping = False
        self._active: set[str] = set()  # chat keys being worked on in this process
        self._entries: dict[str, _Entry] = {}  # pending entries known here (files never change once written)
        self._attempts: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}  # chat key -> monotonic time before which it is left alone
        # Processed here, waiting for a checkpoint: event id -> (outcome, entry), in processing order.
        self._applied: dict[str, tuple[Outcome, _Entry]] = {}
        self._applied_since: float | None = None  # monotonic time the oldest of them was processed
        self._held: set[str] = set()  # chat keys this journal holds in the inbox
        self._checkpoint_lock = threading.Lock()
        self._checkpoint_failures = 0
        self._checkpoint_retry_at = 0.0
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pid = os.getpid()
        self._last_prune = 0.0

    # -- accepting (request path) -------------------------------------------------------------------

    def accept(self, events: Iterable[dict[str, Any]], *, received_at: datetime | None = None) -> Accepted:
        """Store events durably; OSError or StorageError when they could not be stored (the webhook then
        answers 5xx)."""
        received = received_at or datetime.now(UTC)
        at = received.isoformat()
        events = list(events)
        cutoff = self._horizon(self._advance_newest(events, received))
        taken: list[tuple[str, dict[str, Any]]] = []
        old = 0
        for event in events:
            ts = event.get("timestamp")
            if isinstance(ts, int) and not isinstance(ts, bool) and ts < cutoff:
                # Its id may already be pruned, so it could not be told from a new event: a captured
                # request replayed later (a /ถอนรายงาน) would run again. LINE redelivers for far less.
                # (An event without an integer timestamp is never applied: dispatch ignores it as malformed.)
                old += 1
                continue
            taken.append((_event_id(event), event))
        new = self.inbox.accept(taken, at) if taken else []
        fresh = [_entry_of(stem, event) for (stem, event), is_new in zip(taken, new, strict=True) if is_new]
        dup = len(taken) - len(fresh)
        if fresh:
            with self._cond:
                if self._thread is not None:  # a journal that never runs a worker keeps nothing in memory
                    for entry in fresh:
                        self._entries.setdefault(entry.name, entry)
                self._wake = True
                self._cond.notify_all()
        return Accepted(len(fresh), dup, old)

    def _advance_newest(self, events: list[dict[str, Any]], received: datetime) -> int:
        """The newest event timestamp (ms) this journal has accepted, these events included.

        Ages are measured against it, not against the wall clock, so a rehearsal or test in pretend
        time works alike; a live office's daily events keep it current. Only timestamps up to a day
        past the wall clock count, so one event from the far future cannot make every other too old.
        The inbox keeps it for all processes and only ever moves it forward, since prune() trusts it:
        a mark moved back would let a pruned id in.
        """
        limit = int((received.timestamp() + 86400) * 1000)
        stamps = [e.get("timestamp") for e in events]
        batch = max((t for t in stamps if isinstance(t, int) and not isinstance(t, bool) and t <= limit), default=0)
        return self.inbox.advance_newest(batch)

    def _horizon(self, newest: int) -> int:
        """The freshness horizon (ms) for a newest-event mark: accept() refuses events older than it, and
        prune() removes only entries of such events, so an id, once pruned, stays refused."""
        return newest - int(self.retention.total_seconds() * 1000)

    # -- state ----------------------------------------------------------------------------------------

    def _list_pending(self, known: dict[str, _Entry]) -> dict[str, _Entry]:
        """Pending entries in the inbox, read only when not already ``known``. Storage I/O: call without
        ``_cond``."""
        out: dict[str, _Entry] = {}
        for stem in self.inbox.pending():
            entry = known.get(stem) or self._read_entry(stem)
            if entry is not None:
                out[stem] = entry
        return out

    def _refresh(self) -> dict[str, _Entry]:
        """List the folder (outside the lock) and bring the in-memory pending entries up to date."""
        with self._cond:
            before = dict(self._entries)
            # Applied entries stay in the folder until their checkpoint: known, so not read again.
            known = {**before, **{stem: entry for stem, (_, entry) in self._applied.items()}}
        listed = self._list_pending(known)
        with self._cond:
            for stem in before.keys() - listed.keys():
                # Finished by another process (or here) meanwhile; entries accepted during the
                # listing are not in ``before`` and stay.
                self._entries.pop(stem, None)
            for stem in listed.keys() - before.keys():
                # New here (another process's, or left by an earlier run). Known ones are not put
                # back: one finished by another thread during the listing must stay forgotten.
                # Applied ones wait for the checkpoint, not for another run.
                if stem not in self._applied:
                    self._entries.setdefault(stem, listed[stem])
        return listed

    def _read_entry(self, stem: str) -> _Entry | None:
        try:
            event = self.inbox.event(stem)
        except UnreadableEntry:
            log.error("journal entry %s is unreadable; marking it failed", hide_ids(stem))
            self._mark_done(stem, "unreadable")
            return None
        return None if event is None else _entry_of(stem, event)  # None: processed or pruned meanwhile

    def pending(self) -> int:
        """Events accepted and not yet processed (by any process)."""
        return self.inbox.count_pending()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every accepted event has been processed (by any process); False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            # The folder first, then memory: an entry marked done after the listing is still in
            # ``_applied`` until it has moved to done/, so the two reads cannot both miss it. (Read the
            # other way round, an event applied and marked between them looked finished before its move.)
            on_disk = self.pending()
            with self._cond:
                busy = bool(self._active or self._applied)  # applied here: its checkpoint is not finished
            if not busy and not on_disk:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with self._cond:
                # Woken when a chat finishes here; the short poll covers other processes' work.
                self._cond.wait(min(left, 0.02))

    # -- the worker ---------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the worker thread (idempotent; a forked child starts its own)."""
        with self._cond:
            if self.running and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._stopping = False
            self._wake = True
            self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="journal-chat")
            self._thread = threading.Thread(target=self._run, name="journal-worker", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking new work and wait (bounded) for events in progress to finish."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread, pool = self._thread, self._pool
        if thread is not None:
            thread.join(timeout)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            deadline = time.monotonic() + timeout
            with self._cond:
                while self._active and time.monotonic() < deadline:
                    self._cond.wait(0.05)
        self._thread = self._pool = None
        # What was applied becomes durable and done now; should that fail, the entries stay pending
        # and the next start applies them again.
        self.checkpoint()
        with self._cond:
            held = [chat for chat in self._held if chat not in self._active]
            self._held -= set(held)
        for chat in held:
            self.inbox.release_chat(chat)

    def _run(self) -> None:
        next_poll = 0.0  # at once: entries left by a previous run or accepted by other processes
        while True:
            with self._cond:
                while not self._wake and not self._stopping:
                    due = min(next_poll, min(self._retry_at.values(), default=next_poll), self._checkpoint_due())
                    left = due - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._stopping:
                    return
                self._wake = False
            if time.monotonic() >= next_poll:
                try:
                    self._refresh()
                except (OSError, StorageError) as e:
                    log.error("journal inbox cannot be read: %s", type(e).__name__)
                next_poll = time.monotonic() + self.poll_seconds
            self._dispatch()
            with self._cond:
                due = self._checkpoint_due() <= time.monotonic()
            if due:
                self.checkpoint()
            if time.monotonic() - self._last_prune > PRUNE_EVERY:
                self._last_prune = time.monotonic()
                try:
                    self.prune()
                except (OSError, StorageError) as e:
                    log.warning("journal prune failed: %s", type(e).__name__)

    def _dispatch(self) -> None:
        """Hand every chat with pending entries, not busy and not backing off, to the pool."""
        with self._cond:
            now = time.monotonic()
            for chat, until in list(self._retry_at.items()):
                if until <= now:
                    del self._retry_at[chat]
            oldest: dict[str, tuple[int, str]] = {}
            for entry in self._entries.values():
                if entry.chat in self._active or entry.chat in self._retry_at or entry.name in self._applied:
                    continue
                key = (entry.timestamp, entry.name)
                if entry.chat not in oldest or key < oldest[entry.chat]:
                    oldest[entry.chat] = key
            for chat in sorted(oldest, key=oldest.__getitem__):  # the longest-waiting chat first
                self._active.add(chat)
                assert self._pool is not None
                try:
                    self._pool.submit(self._drain_chat, chat)
                except RuntimeError:  # pool shut down by stop()
                    self._active.discard(chat)

    def _drain_chat(self, chat: str) -> None:
        busy = False
        try:
            if self._take_chat(chat):
                self._process_chat(chat)
            else:
                busy = True
        except Exception:
            log.error("journal: draining a chat failed:\n%s", hide_ids(traceback.format_exc()))
        finally:
            release = False
            with self._cond:
                self._active.discard(chat)
                if not self._waits_for_checkpoint(chat) and chat in self._held:
                    self._held.discard(chat)
                    release = True
                if busy:
                    # Another process is draining it (it may not know our entries yet): look again soon
                    # rather than spinning on its lock.
                    self._retry_at.setdefault(chat, time.monotonic() + BUSY_RETRY_SECONDS)
                self._wake = True
                self._cond.notify_all()
            if release:
                self.inbox.release_chat(chat)

    def _take_chat(self, chat: str) -> bool:
        """Hold the chat (kept from a drain whose events await a checkpoint, or taken now without
        waiting); False when another process has it."""
        with self._cond:
            if chat in self._held:
                return True
        if not self.inbox.hold_chat(chat):
            return False
        with self._cond:
            self._held.add(chat)
        return True

    def _waits_for_checkpoint(self, chat: str) -> bool:
        """Call with ``_cond`` held. While a chat's applied events are not checkpointed, this process
        keeps its hold: another process taking it would find them pending and apply them again."""
        return any(entry.chat == chat for _, entry in self._applied.values())

    def _process_chat(self, chat: str) -> None:
        """Work through the chat's pending events in timestamp order until none are left."""
        while not self._stopping:
            # A fresh listing under the chat's hold: another process may have accepted or finished
            # some of its events meanwhile. Only pending entries are in the folder, so it is short.
            listed = self._refresh()
            with self._cond:
                todo = sorted((e for e in listed.values() if e.chat == chat and e.name not in self._applied),
                              key=lambda e: (e.timestamp, e.name))
            if not todo:
                return
            for entry in todo:
                if self._stopping:
                    return
                if not self._process_one(entry):
                    # Transient failure: keep the chat's order by leaving the rest for later.
                    with self._cond:
                        self._retry_at[chat] = time.monotonic() + _backoff(self._attempts[entry.name])
                    return

    def _process_one(self, entry: _Entry) -> bool:
        """Process one entry and mark it done; False when it should be retried later."""
        if self.inbox.is_applied(entry.name):
            # Processed before a crash cut its checkpoint short, or a redelivery accepted while it was retired.
            self.inbox.retire(entry.name)
            self._forget(entry.name)
            return True
        event = self.inbox.event(entry.name)
        if event is None:
            self._forget(entry.name)
            return True
        # Ids and types are whatever the sender put there (LINE's or a forger's): masked like the rest.
        name = hide_ids(entry.name)
        kind = _label(event.get("type")) if isinstance(event, dict) else "?"
        after: list[Callable[[], object]] = []
        _applying.actions = after  # see after_applied
        try:
            with self.inbox.applying(entry.name):
                self.process(event)
        except ENVIRONMENT_ERRORS as e:
            # Never the event's fault (see ENVIRONMENT_ERRORS): it waits with backoff for as long as it takes.
            attempts = self._count_attempt(entry.name)
            log.warning("event %s (%s) waits for storage or a readable plan (attempt %d): %s", name, kind, attempts,
                        hide_ids(f"{type(e).__name__}: {e}"))
            return False
        except RetryLater as e:
            attempts = self._count_attempt(entry.name)
            if attempts < MAX_ATTEMPTS:
                log.warning("event %s (%s) will be retried (attempt %d): %s", name, kind, attempts, hide_ids(str(e)))
                return False
            log.error("event %s (%s) given up after %d attempts: %s", name, kind, attempts, hide_ids(str(e)))
            return self._applied_one(entry, "failed")
        except Exception:
            # A bug must not block the chat forever: log it and move on. Exception messages may quote
            # LINE IDs, so they are masked (PDPA).
            log.error("event %s (%s) failed:\n%s", name, kind, hide_ids(traceback.format_exc()))
            return self._applied_one(entry, "failed")
        finally:
            _applying.actions = None
        for action in after:
            try:
                action()
            except Exception:  # the event is stored; an effect after it must not undo or block that
                log.error("after event %s (%s):\n%s", name, kind, hide_ids(traceback.format_exc()))
        return self._applied_one(entry, "ok")

    def _applied_one(self, entry: _Entry, outcome: Outcome) -> bool:
        """Remember a processed event until a checkpoint has made its changes durable."""
        with self._cond:
            self._applied[entry.name] = (outcome, entry)
            self._entries.pop(entry.name, None)
            self._attempts.pop(entry.name, None)
            if self._applied_since is None:
                self._applied_since = time.monotonic()
            if len(self._applied) >= self.checkpoint_events:
                self._wake = True
                self._cond.notify_all()
        return True

    # -- checkpoints ----------------------------------------------------------------------------------

    def _checkpoint_due(self) -> float:
        """Call with ``_cond`` held: the monotonic time the next checkpoint is due (inf: none)."""
        if not self._applied or self._applied_since is None:
            return float("inf")
        if self._checkpoint_failures:
            return self._checkpoint_retry_at
        if len(self._applied) >= self.checkpoint_events or not self._active:
            return 0.0  # a full batch, or nothing else to do: no reason to wait
        return self._applied_since + self.checkpoint_seconds

    def checkpoint(self) -> bool:
        """Make the applied events' changes durable and mark them done, as one step (``Inbox.checkpoint``);
        False when it failed (the events stay pending, and it is tried again with backoff)."""
        with self._checkpoint_lock:
            with self._cond:
                batch = dict(self._applied)
            if not batch:
                return True
            try:
                self.inbox.checkpoint({stem: outcome for stem, (outcome, _) in batch.items()})
            except (StorageError, OSError) as e:
                with self._cond:
                    self._checkpoint_failures += 1
                    failures = self._checkpoint_failures
                    self._checkpoint_retry_at = time.monotonic() + _backoff(failures - 1)
                log.warning("journal checkpoint of %d event(s) waits for storage (attempt %d): %s", len(batch),
                            failures, hide_ids(f"{type(e).__name__}: {e}"))
                return False
            with self._cond:
                for stem in batch:
                    self._applied.pop(stem, None)
                    self._entries.pop(stem, None)
                    self._attempts.pop(stem, None)
                self._applied_since = time.monotonic() if self._applied else None
                self._checkpoint_failures = 0
                free = [c for c in self._held if c not in self._active and not self._waits_for_checkpoint(c)]
                self._held -= set(free)
                self._wake = True
                self._cond.notify_all()
            for chat in free:
                self.inbox.release_chat(chat)
            return True

    def _count_attempt(self, stem: str) -> int:
        with self._cond:
            attempts = self._attempts[stem] = self._attempts.get(stem, 0) + 1
        return attempts

    def _mark_done(self, stem: str, outcome: Outcome) -> bool:
        """Mark an entry that changed nothing (unreadable) done at once; False if the mark failed.

        Processed events go through ``checkpoint`` instead, which makes their changes durable first.
        """
        try:
            self.inbox.mark(stem, outcome)
        except (OSError, StorageError) as e:
            log.error("journal done-marker for %s not written: %s", hide_ids(stem), type(e).__name__)
            self._count_attempt(stem)
            return False
        self._forget(stem)
        return True

    def _forget(self, stem: str) -> None:
        with self._cond:
            self._entries.pop(stem, None)
            self._attempts.pop(stem, None)

    # -- housekeeping -------------------------------------------------------------------------------

    def prune(self, now: float | None = None) -> int:
        """Delete entries (and their markers) older than the retention; returns how many went.

        An entry goes when it is older than the retention *and* its event is past the freshness
        horizon: in a quiet office with no newer event, an id is kept, so its replay stays a duplicate.
        """
        cutoff = (now if now is not None else time.time()) - self.retention.total_seconds()
        removed = self.inbox.prune(cutoff, self._horizon(self.inbox.newest()))
        for stem, unapplied in removed.items():
            if unapplied:
                log.warning("journal entry %s dropped unprocessed after %s", hide_ids(stem), self.retention)
            self._forget(stem)
        if removed:
            log.info("journal: pruned %d old entries", len(removed))
        return len(removed)
