"""The inbox as a folder of files: one file per event, done-markers, flocks per chat and a newest-event mark.

Layout of the folder (``journal/`` in the data folder):

- ``<event id>.json`` — a pending entry ``{"received_at": ISO, "event": {...}}``, created by link() (see
  ``write_atomic``), which refuses a taken name: a second delivery of the same id is a duplicate, also
  across processes;
- ``done/<event id>.done`` then ``done/<event id>.json`` — once applied *and checkpointed*, the outcome is
  written and the entry moved beside it; an id is taken while pending *or* done, and keeping the done ones
  out of the top folder keeps its listing as short as the backlog;
- ``newest`` — the newest event timestamp accepted (ms), rewritten under ``locks/newest.lock`` so it only
  moves forward;
- ``locks/<chat key>.lock`` — the flock a process holds while it works through one chat (the kernel drops
  it when the process dies).

A checkpoint fsyncs the Store's deferred writes first (``Store.sync``), then writes the markers and fsyncs
``done/`` once, then moves the entries: a marker that survives a power cut stands for changes that did too.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ita_bot.domain.inbox import Outcome, UnreadableEntry
from ita_bot.store.database import Store
from ita_bot.store.files import fsync_dir, is_temp, write_atomic

__all__ = ["DONE_DIR", "NEWEST_FILE", "FileInbox"]

log = logging.getLogger(__name__)

DONE_DIR = "done"
NEWEST_FILE = "newest"  # the newest event timestamp accepted (ms), against which ages are measured
NEWEST_STEP_MS = 60_000  # the mark is rewritten only when it moves on by more than this
NEWEST_LOCK = "newest.lock"  # in locks/: serialises moving the mark, so it never moves back


def _write_exclusive(folder: Path, name: str, data: bytes, *, sync: bool = True) -> bool:
    """Create ``folder/name`` whole, only if absent (False when it exists). ``sync`` fsyncs the file; the
    folder's fsync is the caller's, once for a batch of names."""
    return write_atomic(folder / name, data, replace=False, sync=sync, sync_folder=False) is not None


def _stamp_of(path: Path) -> int | None:
    """The event timestamp (ms) an entry file holds; None when it has none or cannot be read."""
    try:
        ts = json.loads(path.read_bytes())["event"]["timestamp"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return ts if isinstance(ts, int) and not isinstance(ts, bool) else None


def _unlock(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class FileInbox:
    """The inbox over one folder; ``store``: the Store whose deferred writes a checkpoint makes durable."""

    def __init__(self, folder: Path, *, store: Store | None = None) -> None:
        self.folder = Path(folder)
        self.done_dir = self.folder / DONE_DIR
        self.locks_dir = self.folder / "locks"
        self.store = store
        self._held: dict[str, int] = {}  # chat key -> descriptor holding its flock
        self._held_lock = threading.Lock()

    # -- accepting ----------------------------------------------------------------------------------

    def accept(self, events: Sequence[tuple[str, Mapping[str, Any]]], received_at: str) -> list[bool]:
        self.folder.mkdir(parents=True, exist_ok=True)
        new: list[bool] = []
        for stem, event in events:
            body = json.dumps({"received_at": received_at, "event": event}, ensure_ascii=False).encode("utf-8")
            new.append(_write_exclusive(self.folder, stem + ".json", body) and not self._already_done(stem))
        if any(new):
            # The new names must survive a power cut before LINE hears 200. (Concurrent accepts'
            # fsyncs are batched by the filesystem already: a group commit here measured no gain.)
            fsync_dir(self.folder)
        return new

    def _already_done(self, stem: str) -> bool:
        """After a successful link: was this id applied already (its entry moved to done/)? Then the new
        name is a redelivery: remove it again. A worker that sees it meanwhile finds the done-marker and
        skips it, so the event still runs once."""
        if not (self.done_dir / (stem + ".done")).exists() and not (self.done_dir / (stem + ".json")).exists():
            return False
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.folder / (stem + ".json"))
        return True

    def newest(self) -> int:
        try:
            return int((self.folder / NEWEST_FILE).read_text(encoding="ascii").strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def advance_newest(self, stamp: int) -> int:
        stored = self.newest()
        if stamp > stored + NEWEST_STEP_MS:  # a minute's precision is plenty against a 7-day window
            fd = -1
            try:
                self.locks_dir.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.locks_dir / NEWEST_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(fd, fcntl.LOCK_EX)
                stored = self.newest()  # another process may have moved it on meanwhile
                if stamp > stored:
                    # Not fsynced: a mark lost to a power cut only lags, which keeps entries longer.
                    write_atomic(self.folder / NEWEST_FILE, str(stamp).encode("ascii"), sync=False)
            except OSError as e:  # e.g. a full disk: the mark lags, which only keeps entries longer
                log.warning("journal: newest event time not saved (errno %s)", e.errno)
            finally:
                if fd >= 0:
                    _unlock(fd)
        return max(stored, stamp)

    # -- pending entries ----------------------------------------------------------------------------

    def pending(self) -> list[str]:
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        present = set(names)
        out: list[str] = []
        for fname in names:
            if fname.startswith("."):
                continue
            if fname.endswith(".done"):
                # A journal written before done/ existed: its processed entries move over once.
                self._retire_legacy(fname[:-5], present)
                continue
            if fname.endswith(".json") and fname[:-5] + ".done" not in present:
                out.append(fname[:-5])
        return out

    def count_pending(self) -> int:
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

    def event(self, event_id: str) -> dict[str, Any] | None:
        try:
            raw = (self.folder / (event_id + ".json")).read_bytes()
        except FileNotFoundError:
            return None  # applied or pruned meanwhile
        except OSError as e:
            raise UnreadableEntry(f"entry cannot be read: {e.strerror or e}") from e
        try:
            event = json.loads(raw)["event"]
        except (ValueError, KeyError, TypeError) as e:
            raise UnreadableEntry(f"entry is not an event: {type(e).__name__}") from e
        if not isinstance(event, dict):  # the webhook stores only objects: this file was damaged
            raise UnreadableEntry("entry is not an event: not an object")
        return event

    def is_applied(self, event_id: str) -> bool:
        return (self.done_dir / (event_id + ".done")).exists()

    # -- chats ------------------------------------------------------------------------------------

    def hold_chat(self, chat: str) -> bool:
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
        with self._held_lock:
            self._held[chat] = fd
        return True

    def release_chat(self, chat: str) -> None:
        with self._held_lock:
            fd = self._held.pop(chat, None)
        if fd is not None:
            _unlock(fd)

    def close(self) -> None:
        """Release every chat this inbox holds, as the process's death would."""
        with self._held_lock:
            fds, self._held = list(self._held.values()), {}
        for fd in fds:
            _unlock(fd)

    # -- applying and marking -----------------------------------------------------------------------

    def applying(self, event_id: str) -> contextlib.AbstractContextManager[None]:
        # The store's writes skip their fsyncs: the entry, fsynced before LINE heard 200, covers them.
        return self.store.deferred() if self.store is not None else contextlib.nullcontext()

    def checkpoint(self, outcomes: Mapping[str, Outcome]) -> None:
        if not outcomes:
            return
        if self.store is not None:
            self.store.sync()
        # The markers come only after the store is durable: a marker that survives a power cut must never
        # stand for a change that did not. One fsync of done/ makes them all durable.
        self.done_dir.mkdir(exist_ok=True)
        for stem, outcome in outcomes.items():
            _write_exclusive(self.done_dir, stem + ".done", outcome.encode(), sync=False)
        fsync_dir(self.done_dir)
        for stem in outcomes:
            self.retire(stem)

    def mark(self, event_id: str, outcome: Outcome) -> None:
        # The marker first: a crash between the two leaves a pending name with a marker, which is moved
        # (not re-run) at the next look. Not fsynced: only the marker's name matters, and a lost one means
        # a re-read.
        self.done_dir.mkdir(exist_ok=True)
        _write_exclusive(self.done_dir, event_id + ".done", outcome.encode(), sync=False)
        self.retire(event_id)

    def retire(self, event_id: str) -> None:
        try:
            os.replace(self.folder / (event_id + ".json"), self.done_dir / (event_id + ".json"))
        except FileNotFoundError:
            pass  # moved by another process, or a redelivery's name already removed again
        except OSError as e:
            log.error("journal entry not moved to done/: %s", type(e).__name__)

    def _retire_legacy(self, stem: str, present: set[str]) -> None:
        """Move an old-layout ``<stem>.done`` (and its entry) into done/."""
        try:
            self.done_dir.mkdir(exist_ok=True)
            os.replace(self.folder / (stem + ".done"), self.done_dir / (stem + ".done"))
        except FileNotFoundError:
            return  # another process moved it
        except OSError as e:
            log.error("journal done-marker not moved to done/: %s", type(e).__name__)
            return
        if stem + ".json" in present:
            self.retire(stem)

    # -- housekeeping -------------------------------------------------------------------------------

    def prune(self, older_than: float, horizon: int) -> dict[str, bool]:
        removed: dict[str, bool] = {}
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
                # A process killed while writing (".tmp-*": the names earlier versions gave their temp files).
                leftover_temp = is_temp(fname) or fname.startswith(".tmp-")
                if not (entry or orphan_marker or leftover_temp):
                    continue
                path = folder / fname
                try:
                    if not path.is_file() or path.stat().st_mtime >= older_than:
                        continue
                except FileNotFoundError:
                    continue
                if entry and (stamp := _stamp_of(path)) is not None and stamp >= horizon:
                    continue  # still fresh: accept() would take a replay of it, so its id must stay
                if entry:
                    removed[stem] = folder == self.folder and stem + ".done" not in present
                    with contextlib.suppress(FileNotFoundError):
                        (folder / (stem + ".done")).unlink()
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                touched.add(folder)
        for folder in touched:
            fsync_dir(folder)
        return removed
