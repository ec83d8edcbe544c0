"""The durable event journal: webhook events stored one file each, then processed off the request path.

Layout of ``journal_dir``:

- ``<event id>.json`` — one accepted event not processed yet, created exclusively (link() refuses a
  taken name, so a second delivery of the same ``webhookEventId`` is a duplicate, applied once);
- ``done/<event id>.done`` then ``done/<event id>.json`` — once processed *and checkpointed*, the
  outcome (``ok``, ``failed`` or ``unreadable``) is written and the entry moved beside it. An id is
  taken while it is pending *or* done, so redeliveries stay duplicates for the 7 days entries are
  kept; keeping the done ones out of the top folder keeps its listing (poll, restart recovery) as
  small as the backlog;
- ``newest`` — the newest event timestamp accepted (ms), which only moves forward. One rule decides
  both freshness and pruning: an event older than it by more than the 7-day retention is refused on
  arrival, and only such events' entries are ever pruned. A pruned id therefore can never be accepted
  again, however quiet the office (a captured request replayed later would otherwise run again);
- ``locks/<chat key>.lock`` — an flock held while a process works through one chat's events and
  until they are checkpointed, so across gunicorn workers each chat (and so each event) is processed
  by exactly one process, in order. The kernel drops an flock when its process dies, so a crashed
  worker's chat is simply taken over and its unfinished events re-run (the domain applies an event
  id once).

The journal is the write-ahead log of the store. An entry is durable (fsynced) before LINE hears
200, so the store need not fsync each event's change: events are applied inside
``Store.deferred()`` (atomic renames, seen by every process at once, no fsync), and a *checkpoint*
— every ``checkpoint_events`` applied events or ``checkpoint_seconds`` after the first, as soon as
the worker has nothing else to do, and at stop — fsyncs the store files written (``Store.sync``),
and only then writes the covered entries' done-markers (one fsync of ``done/``) and moves them. A
power cut loses at most changes whose entries are still pending; they are applied again at the
next start. A checkpoint that cannot sync (a full disk) is retried with backoff and the entries
stay pending meanwhile.

The request path never waits for the worker: the worker's lock guards only in-memory state, never
disk I/O. A process's own accepted entries reach its worker in memory; the folder is listed on a
poll (other processes' entries, recovery after a restart) and when a chat is drained under its
flock (so a chat's events accepted by another process are taken in timestamp order).

Entries are pruned once they are 7 days old on disk *and* their event is past the freshness horizon
above. Nothing here logs event content or LINE user IDs (PDPA).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ita_bot.domain.line_ids import hide_ids
from ita_bot.domain.plan import PlanError
from ita_bot.store.database import Store, StoreError, fsync_dir

__all__ = ["NEWEST_FILE", "Accepted", "Journal", "RetryLater", "chat_of"]

log = logging.getLogger(__name__)

RETENTION = timedelta(days=7)
POLL_SECONDS = 0.5  # how often other processes' entries are looked for (own entries wake the worker at once)
PRUNE_EVERY = 3600.0
MAX_ATTEMPTS = 5  # a transient failure is retried this many times before the event is given up
BUSY_RETRY_SECONDS = 0.05  # a chat another process is draining is tried again this soon
#: Failures of the bot's surroundings, never of the event: the data folder (a full disk, a lock timeout) and a
#: plan file the bot cannot load (a bad restore or hand edit). LINE was told the event arrived, so it waits,
#: with backoff, until they are put right; it is never marked failed for them.
ENVIRONMENT_ERRORS: tuple[type[Exception], ...] = (StoreError, OSError, PlanError)
DONE_DIR = "done"
CHECKPOINT_EVENTS = 64  # a checkpoint covers at most this many applied events ...
CHECKPOINT_SECONDS = 0.05  # ... and runs at the latest this long after the first one it covers
NEWEST_FILE = "newest"  # the newest event timestamp accepted (ms), against which ages are measured
NEWEST_STEP_MS = 60_000  # the mark is rewritten only when it moves on by more than this
NEWEST_LOCK = "newest.lock"  # in locks/: serialises moving the mark, so it never moves back
_SAFE_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_TYPE_NAME = re.compile(r"[A-Za-z]{1,32}")


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
    source = event.get("source") if isinstance(event.get("source"), dict) else {}
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


def _stamp_of(path: Path) -> int | None:
    """The event timestamp (ms) an entry file holds; None when it has none or cannot be read."""
    try:
        ts = json.loads(path.read_bytes())["event"]["timestamp"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return ts if isinstance(ts, int) and not isinstance(ts, bool) else None


def _unlock(fd: int) -> None:
    """Release a chat's flock and its descriptor."""
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _label(value: Any) -> str:
    """An event type fit for a log line: a forged one could hold a newline (a fake log line) or a user ID."""
    return value if isinstance(value, str) and _TYPE_NAME.fullmatch(value) else "other"


def _write_exclusive(folder: Path, name: str, data: bytes, *, sync: bool = True) -> bool:
    """Create ``folder/name`` with ``data`` atomically, only if absent; False when it already exists.

    Temp file + fsync + link: the final name appears complete or not at all, and link() refuses an
    existing name, which is what makes a redelivered event a duplicate (also across processes).
    ``sync=False`` skips the fsync where losing the file to a power cut is acceptable.
    """
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if sync:
                os.fsync(f.fileno())
        try:
            os.link(tmp, folder / name)
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


class Journal:
    """Accepts events durably and drains them with a worker thread and a small pool keyed by chat."""

    def __init__(
        self,
        folder: Path,
        process: Callable[[dict[str, Any]], None],
        *,
        threads: int = 4,
        retention: timedelta = RETENTION,
        poll_seconds: float = POLL_SECONDS,
        store: Store | None = None,
        checkpoint_events: int = CHECKPOINT_EVENTS,
        checkpoint_seconds: float = CHECKPOINT_SECONDS,
    ) -> None:
        self.folder = Path(folder)
        self.done_dir = self.folder / DONE_DIR
        self.locks_dir = self.folder / "locks"
        self.process = process
        self.threads = threads
        self.retention = retention
        self.poll_seconds = poll_seconds
        # The store the processor writes: its changes are fsynced by the checkpoint, not per event.
        self.store = store
        self.checkpoint_events = checkpoint_events
        self.checkpoint_seconds = checkpoint_seconds
        # Guards the in-memory state below and nothing else: never held during disk I/O, so an
        # accept on the request path waits at most for a few dict operations.
        self._cond = threading.Condition()
        self._wake = False
        self._stopping = False
        self._active: set[str] = set()  # chat keys being worked on in this process
        self._entries: dict[str, _Entry] = {}  # pending entries known here (files never change once written)
        self._attempts: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}  # chat key -> monotonic time before which it is left alone
        # Processed here, waiting for a checkpoint: event id -> (outcome, entry), in processing order.
        self._applied: dict[str, tuple[str, _Entry]] = {}
        self._applied_since: float | None = None  # monotonic time the oldest of them was processed
        self._held: dict[str, int] = {}  # chat key -> descriptor holding its flock
        self._checkpoint_lock = threading.Lock()
        self._checkpoint_failures = 0
        self._checkpoint_retry_at = 0.0
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pid = os.getpid()
        self._last_prune = 0.0

    # -- accepting (request path) -------------------------------------------------------------------

    def accept(self, events: Iterable[dict[str, Any]], *, received_at: datetime | None = None) -> Accepted:
        """Store events durably; OSError when they could not be stored (the webhook then answers 5xx)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        received = received_at or datetime.now(UTC)
        at = received.isoformat()
        events = list(events)
        cutoff = self._horizon(self._advance_newest(events, received))
        fresh: list[_Entry] = []
        dup = old = 0
        for event in events:
            ts = event.get("timestamp")
            if isinstance(ts, int) and not isinstance(ts, bool) and ts < cutoff:
                # Its id may already be pruned, so it could not be told from a new event: a captured
                # request replayed later (a /ถอนรายงาน) would run again. LINE redelivers for far less.
                # (An event without an integer timestamp is never applied: dispatch ignores it as malformed.)
                old += 1
                continue
            stem = _event_id(event)
            body = json.dumps({"received_at": at, "event": event}, ensure_ascii=False).encode("utf-8")
            if _write_exclusive(self.folder, stem + ".json", body) and not self._already_done(stem):
                fresh.append(_entry_of(stem, event))
            else:
                dup += 1
        if fresh:
            # The new names must survive a power cut before LINE hears 200. (Concurrent accepts'
            # fsyncs are batched by the filesystem already: a group commit here measured no gain.)
            fsync_dir(self.folder)
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
        It is kept in a small file shared by all processes and only ever moves forward (it is
        rewritten under an flock), since prune() trusts it: a mark moved back would let a pruned id in.
        """
        stored = self._read_newest()
        limit = int((received.timestamp() + 86400) * 1000)
        stamps = [e.get("timestamp") for e in events]
        batch = max((t for t in stamps if isinstance(t, int) and not isinstance(t, bool) and t <= limit), default=0)
        if batch > stored + NEWEST_STEP_MS:  # a minute's precision is plenty against a 7-day window
            tmp = None
            fd = -1
            try:
                self.locks_dir.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.locks_dir / NEWEST_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(fd, fcntl.LOCK_EX)
                stored = self._read_newest()  # another process may have moved it on meanwhile
                if batch > stored:
                    tmp_fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
                    with os.fdopen(tmp_fd, "w", encoding="ascii") as f:
                        f.write(str(batch))
                    os.replace(tmp, self.folder / NEWEST_FILE)
                    tmp = None
            except OSError as e:  # e.g. a full disk: the mark lags, which only keeps entries longer
                log.warning("journal: newest event time not saved (errno %s)", e.errno)
            finally:
                if fd >= 0:
                    _unlock(fd)
                if tmp is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
        return max(stored, batch)

    def _read_newest(self) -> int:
        try:
            return int((self.folder / NEWEST_FILE).read_text(encoding="ascii").strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _horizon(self, newest: int) -> int:
        """The freshness horizon (ms) for a newest-event mark: accept() refuses events older than it, and
        prune() removes only entries of such events, so an id, once pruned, stays refused."""
        return newest - int(self.retention.total_seconds() * 1000)

    def _already_done(self, stem: str) -> bool:
        """After a successful link: was this id processed already (its entry moved to done/)? Then the
        new name is a redelivery: remove it again. A worker that sees it meanwhile finds the done-marker
        and skips it, so the event still runs once."""
        if not (self.done_dir / (stem + ".done")).exists() and not (self.done_dir / (stem + ".json")).exists():
            return False
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.folder / (stem + ".json"))
        return True

    def notify(self) -> None:
        """Wake the worker (new entries, or a chat finished)."""
        with self._cond:
            self._wake = True
            self._cond.notify_all()

    # -- state ----------------------------------------------------------------------------------------

    def _list_pending(self, known: dict[str, _Entry]) -> dict[str, _Entry]:
        """Pending entries on disk, read only when not already ``known``. Disk I/O: call without ``_cond``."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return {}
        present = set(names)
        out: dict[str, _Entry] = {}
        for fname in names:
            if fname.startswith("."):
                continue
            if fname.endswith(".done"):
                # A journal written before done/ existed: its processed entries move over once.
                self._retire_legacy(fname[:-5], present)
                continue
            if not fname.endswith(".json"):
                continue
            stem = fname[:-5]
            if stem + ".done" in present:
                continue  # legacy and processed: moved by _retire_legacy
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
            data = json.loads((self.folder / (stem + ".json")).read_bytes())
            event = data["event"]
        except FileNotFoundError:
            return None  # processed or pruned meanwhile
        except (OSError, ValueError, KeyError, TypeError):
            log.error("journal entry %s is unreadable; marking it failed", hide_ids(stem))
            self._mark_done(stem, "unreadable")
            return None
        return _entry_of(stem, event)

    def pending(self) -> int:
        """Events accepted and not yet processed (by any process)."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return 0
        present = set(names)
        return sum(
            1
            for fname in names
            if fname.endswith(".json")
            and not fname.startswith(".")
            and fname[:-5] + ".done" not in present
            and not (self.done_dir / (fname[:-5] + ".done")).exists()
        )

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
            held = [fd for chat, fd in self._held.items() if chat not in self._active]
            self._held = {chat: fd for chat, fd in self._held.items() if chat in self._active}
        for fd in held:
            _unlock(fd)

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
                except OSError as e:
                    log.error("journal folder cannot be read: %s", type(e).__name__)
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
                except OSError as e:
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
            fd = None
            with self._cond:
                self._active.discard(chat)
                if not self._waits_for_checkpoint(chat):
                    fd = self._held.pop(chat, None)
                if busy:
                    # Another process is draining it (it may not know our entries yet): look again soon
                    # rather than spinning on its lock.
                    self._retry_at.setdefault(chat, time.monotonic() + BUSY_RETRY_SECONDS)
                self._wake = True
                self._cond.notify_all()
            if fd is not None:
                _unlock(fd)

    def _take_chat(self, chat: str) -> bool:
        """Hold the chat's flock (kept from a drain whose events await a checkpoint, or taken now
        without waiting); False when another process has it."""
        with self._cond:
            if chat in self._held:
                return True
        self.locks_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.locks_dir / f"{chat}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        with self._cond:
            self._held[chat] = fd
        return True

    def _waits_for_checkpoint(self, chat: str) -> bool:
        """Call with ``_cond`` held. While a chat's applied events are not checkpointed, this process
        keeps its flock: another process taking it would find them pending and apply them again."""
        return any(entry.chat == chat for _, entry in self._applied.values())

    def _process_chat(self, chat: str) -> None:
        """Work through the chat's pending events in timestamp order until none are left."""
        while not self._stopping:
            # A fresh listing under the chat's flock: another process may have accepted or finished
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
                        self._retry_at[chat] = time.monotonic() + min(30.0, 0.5 * 2 ** self._attempts[entry.name])
                    return

    def _process_one(self, entry: _Entry) -> bool:
        """Process one entry and mark it done; False when it should be retried later."""
        if (self.done_dir / (entry.name + ".done")).exists():
            # Processed before a crash cut its move short, or a redelivery linked while it was moved.
            self._move_done(entry.name)
            return True
        try:
            data = json.loads((self.folder / (entry.name + ".json")).read_bytes())
        except FileNotFoundError:
            self._forget(entry.name)
            return True
        event = data["event"]
        # Ids and types are whatever the sender put there (LINE's or a forger's): masked like the rest.
        name = hide_ids(entry.name)
        kind = _label(event.get("type")) if isinstance(event, dict) else "?"
        try:
            with self.store.deferred() if self.store is not None else contextlib.nullcontext():
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
        return self._applied_one(entry, "ok")

    def _applied_one(self, entry: _Entry, outcome: str) -> bool:
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
        """Make the applied events' store changes durable, then mark them done; False when it failed
        (the events stay pending, and it is tried again with backoff)."""
        with self._checkpoint_lock:
            with self._cond:
                batch = dict(self._applied)
            if not batch:
                return True
            try:
                if self.store is not None:
                    self.store.sync()
                # The markers come only after the store is durable: a marker that survives a power cut
                # must never stand for a change that did not. One fsync of done/ makes them all durable.
                self.done_dir.mkdir(exist_ok=True)
                for stem, (outcome, _) in batch.items():
                    _write_exclusive(self.done_dir, stem + ".done", outcome.encode(), sync=False)
                fsync_dir(self.done_dir)
            except (StoreError, OSError) as e:
                with self._cond:
                    self._checkpoint_failures += 1
                    failures = self._checkpoint_failures
                    self._checkpoint_retry_at = time.monotonic() + min(30.0, 0.5 * 2 ** (failures - 1))
                log.warning("journal checkpoint of %d event(s) waits for storage (attempt %d): %s", len(batch),
                            failures, hide_ids(f"{type(e).__name__}: {e}"))
                return False
            for stem in batch:
                self._move_done(stem)
            with self._cond:
                for stem in batch:
                    self._applied.pop(stem, None)
                self._applied_since = time.monotonic() if self._applied else None
                self._checkpoint_failures = 0
                free = [c for c in self._held if c not in self._active and not self._waits_for_checkpoint(c)]
                fds = [self._held.pop(c) for c in free]
                self._wake = True
                self._cond.notify_all()
            for fd in fds:
                _unlock(fd)
            return True

    def _count_attempt(self, stem: str) -> int:
        with self._cond:
            attempts = self._attempts[stem] = self._attempts.get(stem, 0) + 1
        return attempts

    def _mark_done(self, stem: str, outcome: str) -> bool:
        """Mark an entry that changed nothing (unreadable) done at once, then move it; False if the marker failed.

        Processed events go through ``checkpoint`` instead, which syncs the store first. The marker
        comes first: a crash between the two leaves a pending name with a marker, which is moved (not
        re-run) at the next look.
        """
        try:
            self.done_dir.mkdir(exist_ok=True)
            # Not fsynced: only the marker's name matters, and a lost one means a re-read.
            _write_exclusive(self.done_dir, stem + ".done", outcome.encode(), sync=False)
        except OSError as e:
            log.error("journal done-marker for %s not written: %s", hide_ids(stem), type(e).__name__)
            self._count_attempt(stem)
            return False
        self._move_done(stem)
        self._forget(stem)
        return True

    def _move_done(self, stem: str) -> None:
        try:
            os.replace(self.folder / (stem + ".json"), self.done_dir / (stem + ".json"))
        except FileNotFoundError:
            pass  # moved by another process, or a redelivery's name already removed again
        except OSError as e:
            log.error("journal entry %s not moved to done/: %s", hide_ids(stem), type(e).__name__)
        self._forget(stem)

    def _retire_legacy(self, stem: str, present: set[str]) -> None:
        """Move an old-layout ``<stem>.done`` (and its entry) into done/."""
        try:
            self.done_dir.mkdir(exist_ok=True)
            os.replace(self.folder / (stem + ".done"), self.done_dir / (stem + ".done"))
        except FileNotFoundError:
            return  # another process moved it
        except OSError as e:
            log.error("journal done-marker for %s not moved to done/: %s", hide_ids(stem), type(e).__name__)
            return
        if stem + ".json" in present:
            self._move_done(stem)

    def _forget(self, stem: str) -> None:
        with self._cond:
            self._entries.pop(stem, None)
            self._attempts.pop(stem, None)

    # -- housekeeping -------------------------------------------------------------------------------

    def prune(self, now: float | None = None) -> int:
        """Delete entries (and their markers) older than the retention; returns how many went.

        An entry goes when its file is older than the retention *and* its event is past the freshness
        horizon: in a quiet office with no newer event, an id is kept, so its replay stays a duplicate.
        """
        cutoff = (now if now is not None else time.time()) - self.retention.total_seconds()
        horizon = self._horizon(self._read_newest())
        removed = 0
        touched: set[Path] = set()
        for folder in (self.done_dir, self.folder):
            try:
                names = os.listdir(folder)
            except FileNotFoundError:
                continue
            present = set(names)
            for fname in names:
                stem, _, suffix = fname.rpartition(".")
                entry = suffix == "json" and not fname.startswith(".")
                # A marker whose entry is still pending up top (a checkpoint cut short) keeps it a duplicate.
                orphan_marker = (suffix == "done" and stem + ".json" not in present
                                 and not (self.folder / (stem + ".json")).exists())
                leftover_temp = fname.startswith(".tmp-")  # a process killed while writing
                if not (entry or orphan_marker or leftover_temp):
                    continue
                path = folder / fname
                try:
                    if not path.is_file() or path.stat().st_mtime >= cutoff:
                        continue
                except FileNotFoundError:
                    continue
                if entry and (stamp := _stamp_of(path)) is not None and stamp >= horizon:
                    continue  # still fresh: accept() would take a replay of it, so its id must stay
                if entry:
                    removed += 1
                    if folder == self.folder and stem + ".done" not in present:
                        log.warning("journal entry %s dropped unprocessed after %s", hide_ids(stem), self.retention)
                    with contextlib.suppress(FileNotFoundError):
                        (folder / (stem + ".done")).unlink()
                    self._forget(stem)
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                touched.add(folder)
        for folder in touched:
            fsync_dir(folder)
        if removed:
            log.info("journal: pruned %d old entries", removed)
        return removed
