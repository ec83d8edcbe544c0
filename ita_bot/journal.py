"""The durable event journal: webhook events stored one file each, then processed off the request path.

Layout of ``journal_dir``:

- ``<event id>.json`` — one accepted event, created exclusively (a second delivery of the same
  ``webhookEventId`` finds the name taken: a duplicate, applied once);
- ``<event id>.done`` — written once the event has been processed (its content says ``ok`` or ``failed``);
- ``locks/<chat key>.lock`` — an flock held while a process works through one chat's events, so
  across gunicorn workers each chat (and so each event) is processed by exactly one process, in order.
  The kernel drops an flock when its process dies, so a crashed worker's chat is simply taken over
  and its unfinished events re-run (the domain applies an event id once).

Entries older than 7 days are pruned. Nothing here logs event content or LINE user IDs (PDPA).
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

from .store import fsync_dir

__all__ = ["Accepted", "Journal", "RetryLater", "chat_of"]

log = logging.getLogger(__name__)

RETENTION = timedelta(days=7)
POLL_SECONDS = 0.5  # how often other processes' entries are looked for (own entries wake the worker at once)
PRUNE_EVERY = 3600.0
MAX_ATTEMPTS = 5  # a transient failure is retried this many times before the event is given up
_SAFE_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_LINE_ID = re.compile(r"[UCR][0-9a-f]{32}")


class RetryLater(Exception):
    """Raised by the processor for a transient failure (store lock, LINE content 5xx): retry the event later."""


@dataclass(frozen=True)
class Accepted:
    """What ``Journal.accept`` stored: how many events were new and how many were already there."""

    new: int
    duplicates: int


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


def _mask_ids(text: str) -> str:
    return _LINE_ID.sub(lambda m: m[0][0] + "…", text)



def _write_exclusive(folder: Path, name: str, data: bytes) -> bool:
    """Create ``folder/name`` with ``data`` atomically, only if absent; False when it already exists.

    Temp file + fsync + link: the final name appears complete or not at all, and link() refuses an
    existing name, which is what makes a redelivered event a duplicate (also across processes).
    """
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
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
    ) -> None:
        self.folder = Path(folder)
        self.locks_dir = self.folder / "locks"
        self.process = process
        self.threads = threads
        self.retention = retention
        self.poll_seconds = poll_seconds
        self._cond = threading.Condition()
        self._wake = False
        self._stopping = False
        self._active: set[str] = set()  # chat keys being worked on in this process
        self._entries: dict[str, _Entry] = {}  # parsed pending entries (files never change once written)
        self._attempts: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}  # chat key -> monotonic time before which it is left alone
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pid = os.getpid()
        self._last_prune = 0.0

    # -- accepting (request path) -------------------------------------------------------------------

    def accept(self, events: Iterable[dict[str, Any]], *, received_at: datetime | None = None) -> Accepted:
        """Store events durably; OSError when they could not be stored (the webhook then answers 5xx)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        at = (received_at or datetime.now(UTC)).isoformat()
        new = dup = 0
        for event in events:
            body = json.dumps({"received_at": at, "event": event}, ensure_ascii=False).encode("utf-8")
            if _write_exclusive(self.folder, _event_id(event) + ".json", body):
                new += 1
            else:
                dup += 1
        if new:
            fsync_dir(self.folder)  # the new names must survive a power cut before LINE hears 200
            self.notify()
        return Accepted(new, dup)

    def notify(self) -> None:
        """Wake the worker (new entries, or a chat finished)."""
        with self._cond:
            self._wake = True
            self._cond.notify_all()

    # -- state ----------------------------------------------------------------------------------------

    def _scan(self) -> list[_Entry]:
        """Pending entries (no done-marker), oldest first by event timestamp."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        present = set(names)
        out = []
        for fname in names:
            if not fname.endswith(".json") or fname.startswith("."):
                continue
            stem = fname[:-5]
            if stem + ".done" in present:
                self._entries.pop(stem, None)
                continue
            entry = self._entries.get(stem)
            if entry is None:
                entry = self._read_entry(stem)
                if entry is None:
                    continue
                self._entries[stem] = entry
            out.append(entry)
        out.sort(key=lambda e: (e.timestamp, e.name))
        return out

    def _read_entry(self, stem: str) -> _Entry | None:
        try:
            data = json.loads((self.folder / (stem + ".json")).read_bytes())
            event = data["event"]
        except FileNotFoundError:
            return None  # pruned meanwhile
        except (OSError, ValueError, KeyError, TypeError):
            log.error("journal entry %s is unreadable; marking it failed", stem)
            self._mark_done(stem, "unreadable")
            return None
        ts = event.get("timestamp") if isinstance(event, dict) else None
        chat = chat_of(event) if isinstance(event, dict) else ""
        key = hashlib.sha256(chat.encode("utf-8")).hexdigest()[:24]
        return _Entry(stem, ts if isinstance(ts, int) else 0, key)

    def pending(self) -> int:
        """Events accepted and not yet processed (by any process)."""
        with self._cond:
            return len(self._scan())

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every accepted event has been processed (by any process); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if not self._active and not self._scan():
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
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

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._wake and not self._stopping:
                    self._cond.wait(self.poll_seconds)
                if self._stopping:
                    return
                self._wake = False
                try:
                    entries = self._scan()
                except OSError as e:
                    log.error("journal folder cannot be read: %s", type(e).__name__)
                    entries = []
                now = time.monotonic()
                chats: list[str] = []
                for entry in entries:
                    if entry.chat in self._active or entry.chat in chats or self._retry_at.get(entry.chat, 0) > now:
                        continue
                    chats.append(entry.chat)
                for chat in chats:
                    self._active.add(chat)
                    assert self._pool is not None
                    try:
                        self._pool.submit(self._drain_chat, chat)
                    except RuntimeError:  # pool shut down by stop()
                        self._active.discard(chat)
            if time.monotonic() - self._last_prune > PRUNE_EVERY:
                self._last_prune = time.monotonic()
                try:
                    self.prune()
                except OSError as e:
                    log.warning("journal prune failed: %s", type(e).__name__)

    def _drain_chat(self, chat: str) -> None:
        try:
            with self._chat_lock(chat) as held:
                if held:
                    self._process_chat(chat)
        except Exception:
            log.exception("journal: draining a chat failed")
        finally:
            with self._cond:
                self._active.discard(chat)
                self._wake = True
                self._cond.notify_all()

    @contextlib.contextmanager
    def _chat_lock(self, chat: str) -> Any:
        """Hold the chat's flock without waiting; yields False when another process has it."""
        self.locks_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.locks_dir / f"{chat}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _process_chat(self, chat: str) -> None:
        """Work through the chat's pending events in timestamp order until none are left."""
        while not self._stopping:
            with self._cond:
                # A fresh listing under the lock: another process may have finished some meanwhile.
                todo = [e for e in self._scan() if e.chat == chat]
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
        """Process one entry and write its done-marker; False when it should be retried later."""
        if (self.folder / (entry.name + ".done")).exists():
            return True
        try:
            data = json.loads((self.folder / (entry.name + ".json")).read_bytes())
        except FileNotFoundError:
            return True
        event = data["event"]
        kind = event.get("type", "?") if isinstance(event, dict) else "?"
        try:
            self.process(event)
        except RetryLater as e:
            attempts = self._attempts.get(entry.name, 0) + 1
            self._attempts[entry.name] = attempts
            if attempts < MAX_ATTEMPTS:
                log.warning("event %s (%s) will be retried (attempt %d): %s", entry.name, kind, attempts, e)
                return False
            log.error("event %s (%s) given up after %d attempts: %s", entry.name, kind, attempts, e)
            self._mark_done(entry.name, "failed")
            return True
        except Exception:
            # A bug must not block the chat forever: log it and move on. Exception messages may quote
            # LINE IDs, so they are masked (PDPA).
            log.error("event %s (%s) failed:\n%s", entry.name, kind, _mask_ids(traceback.format_exc()))
            self._mark_done(entry.name, "failed")
            return True
        self._attempts.pop(entry.name, None)
        self._mark_done(entry.name, "ok")
        return True

    def _mark_done(self, stem: str, outcome: str) -> None:
        try:
            _write_exclusive(self.folder, stem + ".done", outcome.encode())
        except OSError as e:
            log.error("journal done-marker for %s not written: %s", stem, type(e).__name__)
        with self._cond:
            self._entries.pop(stem, None)

    # -- housekeeping -------------------------------------------------------------------------------

    def prune(self, now: float | None = None) -> int:
        """Delete entries (and their markers) older than the retention; returns how many went."""
        cutoff = (now if now is not None else time.time()) - self.retention.total_seconds()
        removed = 0
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return 0
        for fname in names:
            if not fname.endswith(".json") or fname.startswith("."):
                continue
            path = self.folder / fname
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
            except FileNotFoundError:
                continue
            stem = fname[:-5]
            if stem + ".done" not in names:
                log.warning("journal entry %s dropped unprocessed after %s", stem, self.retention)
            for victim in (path, self.folder / (stem + ".done")):
                with contextlib.suppress(FileNotFoundError):
                    victim.unlink()
            with self._cond:
                self._entries.pop(stem, None)
            removed += 1
        if removed:
            fsync_dir(self.folder)
            log.info("journal: pruned %d old entries", removed)
        return removed
