"""The inbox as append-only segments: one per process, group-committed, plus a done-log, chat flocks and a mark.

Layout of the folder (``journal/`` in the data folder):

- ``seg-<pid>-<µs>.log`` — the segment a process appends its accepted events to, one checksummed line each
  (``{"id", "at": received ISO, "t": stored epoch s, "event"}``, see ``segments``). The process holds a flock
  on it while it may still append, so a segment nobody holds is *closed*. Concurrent ``accept`` calls are
  group-committed: one thread (the leader) writes every line that arrived meanwhile and one ``fdatasync``
  covers them all; each ``accept`` returns once its line is durable;
- ``done.log`` — one checksummed line per applied event (``{"done": id, "o": outcome, "ts", "t"}``), appended
  by a checkpoint after ``Store.sync``: a done line that survives a power cut stands for changes that did too;
- ``locks/journal.lock`` — the flock held while a batch is appended and fdatasynced (and while segments are
  read or compacted): ids are checked against every segment and the done-log under it, so a redelivery is
  a duplicate in every process, and a line another process's check can see is already durable;
- ``newest`` — the newest event timestamp accepted (ms), rewritten under ``locks/newest.lock`` so it only
  moves forward;
- ``locks/<chat key>.lock`` — the flock a process holds while it works through one chat (the kernel drops
  it when the process dies).

Each process keeps an index (pending entries with their events, applied ids) read from the files and brought
up to date by reading only what they grew by. A power cut can leave a torn last line: it has no newline, or
its checksum fails, and is not read; the line was never acknowledged (its fdatasync had not returned).
After a checkpoint, closed segments whose events are all applied are deleted (rewritten with only the
pending ones at a prune); ``prune`` also drops old done lines. A folder in the earlier layout (one
``<id>.json`` per event, ``done/<id>.done`` markers) is converted once when first read, so an upgrade
loses nothing.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ita_bot.domain.inbox import NEWEST_STEP_MS, Outcome
from ita_bot.store.database import Store
from ita_bot.store.files import fsync_dir, is_temp, write_atomic
from ita_bot.store.tiny.segments import encode_line, lines, read_from

__all__ = ["DONE_LOG", "NEWEST_FILE", "FileInbox"]

log = logging.getLogger(__name__)

DONE_LOG = "done.log"
NEWEST_FILE = "newest"  # the newest event timestamp accepted (ms), against which ages are measured
NEWEST_LOCK = "newest.lock"  # in locks/: serialises moving the mark, so it never moves back
JOURNAL_LOCK = "journal.lock"  # in locks/: appending, reading and compacting the logs
ROTATE_BYTES = 4 << 20  # a process starts a new segment past this size, so the old one can be compacted
COMPACT_SECONDS = 30.0  # closed segments are looked at after a checkpoint at most this often
LEGACY_DONE_DIR = "done"
_OUTCOMES = ("ok", "failed", "unreadable")


def _is_segment(name: str) -> bool:
    return name.startswith("seg-") and name.endswith(".log")


def _stamp(event: Any) -> int | None:
    ts = event.get("timestamp") if isinstance(event, dict) else None
    return ts if isinstance(ts, int) and not isinstance(ts, bool) else None


def _unlock(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


@dataclass
class _Pending:
    event: dict[str, Any]
    ts: int | None  # the event's timestamp (ms)
    t: float  # when it was stored (epoch s)


@dataclass
class _Done:
    outcome: str
    ts: int | None
    t: float


@dataclass
class _Request:
    """One accept (``events``) or one batch of done marks (``outcomes``) waiting for the group commit."""

    events: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    received_at: str = ""
    outcomes: Mapping[str, Outcome] = field(default_factory=dict)
    result: list[bool] = field(default_factory=list)
    error: BaseException | None = None
    finished: bool = False


class FileInbox:
    """The inbox over one folder; ``store``: the Store whose deferred writes a checkpoint makes durable."""

    def __init__(self, folder: Path, *, store: Store | None = None) -> None:
        self.folder = Path(folder)
        self.locks_dir = self.folder / "locks"
        self.store = store
        self._held: dict[str, int] = {}  # chat key -> descriptor holding its flock
        self._held_lock = threading.Lock()
        # The index, guarded by _io (taken after the journal flock when both are, never the other way round).
        self._io = threading.RLock()
        self._pending: dict[str, _Pending] = {}
        self._done: dict[str, _Done] = {}
        self._offsets: dict[str, int] = {}  # segment -> bytes read (whole lines)
        self._done_offset = 0
        self._done_ino: int | None = None
        self._converted = False
        # This process's segment.
        self._pid = os.getpid()
        self._seg_name = ""
        self._seg_fd = -1
        self._seg_size = 0
        self._compact_at = 0.0  # monotonic: closed segments (a previous run's) are looked at after a checkpoint
        # The group commit.
        self._commit_cv = threading.Condition()
        self._queue: list[_Request] = []
        self._leading = False

    # -- accepting ----------------------------------------------------------------------------------

    def accept(self, events: Sequence[tuple[str, Mapping[str, Any]]], received_at: str) -> list[bool]:
        if not events:
            return []
        self.folder.mkdir(parents=True, exist_ok=True)
        return self._commit(_Request(events=list(events), received_at=received_at)).result

    def _commit(self, request: _Request) -> _Request:
        """Queue ``request`` and return once a leader (this thread or another) has made it durable: the first
        thread to find no leader writes every queued request with one fdatasync per file."""
        with self._commit_cv:
            self._queue.append(request)
            while not request.finished:
                if self._leading:
                    self._commit_cv.wait()
                    continue
                self._leading = True
                batch, self._queue = self._queue, []
                self._commit_cv.release()
                try:
                    self._write_batch(batch)
                finally:
                    self._commit_cv.acquire()
                    self._leading = False
                    for r in batch:
                        r.finished = True
                    self._commit_cv.notify_all()
        if request.error is not None:
            raise request.error
        return request

    def _write_batch(self, batch: list[_Request]) -> None:
        """As the leader: under the journal flock, check the ids against every process's lines, append the
        new lines, sync. ``_io`` (the index) is held only around the check and the update, not the I/O, so
        this process's readers never wait for a sync."""
        try:
            with self._flock():
                with self._io:
                    if self._pid != os.getpid():  # a forked child: the segment is the parent's
                        self._pid, self._seg_fd, self._seg_name, self._seg_size = os.getpid(), -1, "", 0
                    self._catch_up()
                    accepts, new, refused = self._check(batch)
                self._write_accepts(batch, accepts, new, refused)
                self._write_done(batch)
        except BaseException as e:  # the flock or the reading failed: nothing of the batch is stored
            for r in batch:
                if r.error is None and not r.result:
                    r.error = e

    def _check(self, batch: list[_Request]) -> tuple[list[bytes], dict[str, _Pending], bool]:
        """Call holding ``_io``: decide each accepted id (new or taken) and the new lines."""
        now = time.time()
        accepts: list[bytes] = []
        new: dict[str, _Pending] = {}
        refused = False
        for r in batch:
            for stem, event in r.events:
                if stem in self._pending or stem in self._done or stem in new:
                    r.result.append(False)
                    refused = refused or stem not in new
                    continue
                accepts.append(encode_line({"id": stem, "at": r.received_at, "t": now, "event": event}))
                new[stem] = _Pending(copy.deepcopy(dict(event)), _stamp(event), now)
                r.result.append(True)
        return accepts, new, refused

    def _write_accepts(self, batch: list[_Request], accepts: list[bytes], new: dict[str, _Pending],
                       refused: bool) -> None:
        accepting = [r for r in batch if r.events]
        try:
            if refused:
                # The taken id may be a line whose writer was killed between its write and its sync: the
                # refusal (LINE hears 200) must not rest on a line a power cut could take back.
                self._sync_all_logs()
            if accepts:
                self._append_segment(b"".join(accepts))
        except BaseException as e:
            with self._io:
                for stem in new:  # a reader here may have seen the lines before they were cut back
                    self._pending.pop(stem, None)
            for r in accepting:
                r.error, r.result = e, []
            return
        with self._io:
            self._pending.update(new)

    def _write_done(self, batch: list[_Request]) -> None:
        marking = [r for r in batch if r.outcomes]
        if not marking:
            return
        now = time.time()
        done: dict[str, _Done] = {}
        with self._io:
            for r in marking:
                for stem, outcome in r.outcomes.items():
                    entry = self._pending.get(stem)
                    done[stem] = _Done(outcome, entry.ts if entry else None, entry.t if entry else now)
        try:
            self._append_done(lines({"done": stem, "o": d.outcome, "ts": d.ts, "t": d.t}
                                    for stem, d in done.items()))
        except BaseException as e:
            for r in marking:
                r.error = e
            return
        with self._io:
            for stem, d in done.items():
                self._pending.pop(stem, None)
                self._done[stem] = d

    def _append_segment(self, data: bytes) -> None:
        """Append to this process's segment and fdatasync; on failure the segment is cut back (or given up)."""
        if self._seg_fd < 0 or self._seg_size > ROTATE_BYTES:
            self._open_segment()
        before = self._seg_size
        try:
            _write_all(self._seg_fd, data)
            os.fdatasync(self._seg_fd)
        except OSError:
            try:
                os.ftruncate(self._seg_fd, before)  # no half line stays for later lines to follow
                with self._io:
                    self._offsets[self._seg_name] = min(self._offsets.get(self._seg_name, 0), before)
            except OSError:
                self._close_segment()  # the next write starts a new segment; this one ends in a torn line
            raise
        self._seg_size = before + len(data)

    def _open_segment(self) -> None:
        self._close_segment()
        name = f"seg-{os.getpid()}-{time.time_ns() // 1000}.log"
        fd = os.open(self.folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # live: compaction passes it by
            fsync_dir(self.folder)  # its name must survive a power cut with its first lines
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(self.folder / name)
            raise
        self._seg_name, self._seg_fd, self._seg_size = name, fd, 0
        self._offsets[name] = 0

    def _close_segment(self) -> None:
        if self._seg_fd >= 0:
            os.close(self._seg_fd)  # drops its flock: it is closed, compaction may take it
            self._compact_at = 0.0
        self._seg_name, self._seg_fd, self._seg_size = "", -1, 0

    def _append_done(self, data: bytes) -> None:
        path = self.folder / DONE_LOG
        created = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            before = os.fstat(fd).st_size
            try:
                _write_all(fd, data)
                os.fdatasync(fd)
                if created:
                    fsync_dir(self.folder)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, before)
                raise
        finally:
            os.close(fd)

    def _sync_all_logs(self) -> None:
        for name in os.listdir(self.folder):
            if _is_segment(name) or name == DONE_LOG:
                with contextlib.suppress(FileNotFoundError):
                    fd = os.open(self.folder / name, os.O_RDONLY)
                    try:
                        os.fdatasync(fd)
                    finally:
                        os.close(fd)

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

    # -- reading the logs ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _flock(self) -> Iterator[None]:
        """Hold the journal flock (every process's writes, compaction), taken before ``_io`` when both are."""
        self.locks_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.locks_dir / JOURNAL_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        try:
            yield
        finally:
            _unlock(fd)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the journal flock, then ``_io``: for compaction and pruning."""
        with self._flock(), self._io:
            yield

    def _refresh(self) -> None:
        """Bring the index up to date with every process's lines (nothing to read when there is no folder).
        Without the flock: a line is read only once whole, and a file compaction rewrites is complete before
        its new name appears (a listing that missed it is made good by the next)."""
        if not self.folder.is_dir():
            return
        if not self._converted:  # an earlier layout's files are converted once, under the flock
            with self._locked():
                self._catch_up()
            return
        with self._io:
            self._catch_up()

    def _reset_index(self) -> None:
        self._pending.clear()
        self._done.clear()
        self._offsets = {self._seg_name: 0} if self._seg_name else {}
        self._done_offset, self._done_ino = 0, None

    def _catch_up(self) -> None:
        """Call holding the journal flock: read what the segments and the done-log grew by."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return
        if not self._converted:
            self._converted = True
            if self._convert_legacy(names):
                names = os.listdir(self.folder)
        segments = sorted(n for n in names if _is_segment(n))
        try:
            done_ino: int | None = os.stat(self.folder / DONE_LOG).st_ino
        except FileNotFoundError:
            done_ino = None
        if self._offsets.keys() - set(segments) or (self._done_ino is not None and done_ino != self._done_ino):
            self._reset_index()  # compacted meanwhile: read everything again
        for name in segments:
            with contextlib.suppress(FileNotFoundError):
                self._read_segment(name)
        if done_ino is not None:
            with contextlib.suppress(FileNotFoundError):
                fd = os.open(self.folder / DONE_LOG, os.O_RDONLY)
                try:
                    records, self._done_offset = read_from(fd, self._done_offset, os.fstat(fd).st_size)
                finally:
                    os.close(fd)
                self._done_ino = done_ino
                for record in records:
                    self._take_done(record)

    def _read_segment(self, name: str) -> None:
        fd = os.open(self.folder / name, os.O_RDONLY)
        try:
            records, self._offsets[name] = read_from(fd, self._offsets.get(name, 0), os.fstat(fd).st_size)
        finally:
            os.close(fd)
        for record in records:
            self._take_accept(record)

    def _take_accept(self, record: dict[str, Any]) -> None:
        stem, event, t = record.get("id"), record.get("event"), record.get("t")
        if isinstance(stem, str) and isinstance(event, dict) and stem not in self._done:
            self._pending.setdefault(stem, _Pending(event, _stamp(event), t if isinstance(t, int | float) else 0.0))

    def _take_done(self, record: dict[str, Any]) -> None:
        stem, outcome, ts, t = record.get("done"), record.get("o"), record.get("ts"), record.get("t")
        if isinstance(stem, str):
            self._pending.pop(stem, None)
            self._done[stem] = _Done(outcome if isinstance(outcome, str) else "ok",
                                     ts if isinstance(ts, int) and not isinstance(ts, bool) else None,
                                     t if isinstance(t, int | float) else 0.0)

    def _convert_legacy(self, names: list[str]) -> bool:
        """Call holding the journal flock: turn an earlier layout's files into lines (durable), then remove
        them. A crash in between converts them again, which changes nothing (the lines are read once per id)."""
        top = [n for n in names if not n.startswith(".") and n.endswith((".json", ".done"))]
        done_dir = self.folder / LEGACY_DONE_DIR
        try:
            inner = [n for n in os.listdir(done_dir) if not n.startswith(".") and n.endswith((".json", ".done"))]
        except (FileNotFoundError, NotADirectoryError):
            inner = []
        if not top and not inner:
            return False
        files = [self.folder / n for n in top] + [done_dir / n for n in inner]
        markers = {p.name[:-5]: p for p in files if p.name.endswith(".done")}
        entries = {p.name[:-5]: p for p in files if p.name.endswith(".json")}
        accepts: list[dict[str, Any]] = []
        done: list[dict[str, Any]] = []
        for stem, path in entries.items():
            try:
                raw = json.loads(path.read_bytes())
                event, at = raw["event"], raw.get("received_at", "")
                mtime = path.stat().st_mtime
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                event, at, mtime = None, "", time.time()
            if stem in markers:
                continue
            if isinstance(event, dict):
                accepts.append({"id": stem, "at": at, "t": mtime, "event": event})
            else:
                log.error("journal: an earlier layout's entry is unreadable; marking it so")
                done.append({"done": stem, "o": "unreadable", "ts": None, "t": mtime})
        for stem, path in markers.items():
            try:
                outcome, mtime = path.read_text(encoding="utf-8").strip(), path.stat().st_mtime
            except (OSError, ValueError):
                outcome, mtime = "ok", time.time()
            stamp: int | None = None
            if stem in entries:
                with contextlib.suppress(OSError, ValueError, KeyError, TypeError, AttributeError):
                    stamp = _stamp(json.loads(entries[stem].read_bytes())["event"])
            done.append({"done": stem, "o": outcome if outcome in _OUTCOMES else "ok", "ts": stamp, "t": mtime})
        if accepts:
            # A closed segment of its own, written whole and synced before the old files go.
            write_atomic(self.folder / f"seg-{os.getpid()}-{time.time_ns() // 1000}-legacy.log", lines(accepts),
                         replace=False)
        if done:
            self._append_done(lines(done))
        for path in files:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        with contextlib.suppress(OSError):
            done_dir.rmdir()
        fsync_dir(self.folder)
        log.info("journal: converted %d pending and %d applied entries of the earlier layout", len(accepts),
                 len(done))
        return True

    # -- pending entries ----------------------------------------------------------------------------

    def pending(self) -> list[str]:
        self._refresh()
        with self._io:
            return list(self._pending)

    def count_pending(self) -> int:
        self._refresh()
        with self._io:
            return len(self._pending)

    def event(self, event_id: str) -> dict[str, Any] | None:
        with self._io:
            entry = self._pending.get(event_id)
        if entry is None:  # another process's, not read yet (a line never changes once written)
            self._refresh()
            with self._io:
                entry = self._pending.get(event_id)
        return None if entry is None else copy.deepcopy(entry.event)  # the caller may change its copy

    def is_applied(self, event_id: str) -> bool:
        self._refresh()
        with self._io:
            return event_id in self._done

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
        """Release every chat this inbox holds, as the process's death would, and close its segment."""
        with self._held_lock:
            fds, self._held = list(self._held.values()), {}
        for fd in fds:
            _unlock(fd)
        if self._seg_fd >= 0 and self._pid == os.getpid():
            with self._locked():  # no batch is being written meanwhile
                self._close_segment()

    # -- applying and marking -----------------------------------------------------------------------

    def applying(self, event_id: str) -> contextlib.AbstractContextManager[None]:
        # The store's writes skip their fsyncs: the entry, fdatasynced before LINE heard 200, covers them.
        return self.store.deferred() if self.store is not None else contextlib.nullcontext()

    def checkpoint(self, outcomes: Mapping[str, Outcome]) -> None:
        if not outcomes:
            return
        if self.store is not None:
            self.store.sync()
        # The done lines come only after the store is durable: one that survives a power cut must never
        # stand for a change that did not. They share the group commit (and its fdatasync) with accepts.
        self._commit(_Request(outcomes=dict(outcomes)))
        if time.monotonic() >= self._compact_at:
            self._compact_at = time.monotonic() + COMPACT_SECONDS
            try:
                with self._locked():
                    self._catch_up()
                    self._compact(set())
            except OSError as e:  # the events are marked; their segments stay until the next try
                log.warning("journal: segments not compacted (errno %s)", e.errno)

    def mark(self, event_id: str, outcome: Outcome) -> None:
        self._commit(_Request(outcomes={event_id: outcome}))

    def retire(self, event_id: str) -> None:
        """Nothing to do: an id with a done line is pending no more, wherever its entry's line is."""

    # -- housekeeping -------------------------------------------------------------------------------

    def _closed_segments(self) -> tuple[list[tuple[str, int]], list[str]]:
        """(segments no process appends to, each opened and flocked; those still in use)."""
        closed: list[tuple[str, int]] = []
        live: list[str] = []
        for name in sorted(n for n in os.listdir(self.folder) if _is_segment(n)):
            if name == self._seg_name:
                live.append(name)
                continue
            try:
                fd = os.open(self.folder / name, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                live.append(name)
                continue
            closed.append((name, fd))
        return closed, live

    def _compact(self, drop: set[str]) -> set[str]:
        """Call holding the journal flock, index caught up: rewrite each closed segment with only its entries
        still pending and not in ``drop`` (deleted when none is left). Returns the ids still in segments."""
        closed, live = self._closed_segments()
        remaining: set[str] = set()
        try:
            if closed:
                self._sync_all_logs()  # the done lines relied on below are durable first
            gone: list[str] = []
            for name, fd in closed:
                records, _ = read_from(fd, 0, os.fstat(fd).st_size)
                keep = [r for r in records if r.get("id") in self._pending and r.get("id") not in drop]
                remaining.update(str(r["id"]) for r in keep)
                if len(keep) == len(records) and records:
                    continue
                if keep:
                    new = f"seg-{os.getpid()}-{time.time_ns() // 1000}-c.log"
                    write_atomic(self.folder / new, lines(keep), replace=False, sync_folder=False)
                gone.append(name)
            if gone:
                fsync_dir(self.folder)  # the rewritten segments are there before the old ones go
                for name in gone:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self.folder / name)
                fsync_dir(self.folder)
        finally:
            for _, fd in closed:
                _unlock(fd)
        for name in live:
            with contextlib.suppress(FileNotFoundError):
                fd = os.open(self.folder / name, os.O_RDONLY)
                try:
                    records, _ = read_from(fd, 0, os.fstat(fd).st_size)
                finally:
                    os.close(fd)
                remaining.update(str(r.get("id")) for r in records)
        if gone:
            self._reset_index()
            self._catch_up()
        return remaining

    def prune(self, older_than: float, horizon: int) -> dict[str, bool]:
        if not self.folder.is_dir():
            return {}

        def old(t: float, ts: int | None) -> bool:
            # Still fresh: accept() would take a replay of it, so its id must stay.
            return t < older_than and (ts is None or ts < horizon)

        with self._locked():
            self._catch_up()
            self._close_segment()  # this process's segment can be compacted too; the next accept starts one
            dropped = {stem for stem, p in self._pending.items() if old(p.t, p.ts)}
            remaining = self._compact(dropped)
            # An id still in a segment another process appends to stays (its own prune takes it).
            removed = dict.fromkeys(dropped - remaining, True)
            expired = {stem for stem, d in self._done.items() if old(d.t, d.ts) and stem not in remaining}
            if expired or removed:
                self._rewrite_done_log(expired, set(removed))
                removed.update(dict.fromkeys(expired, False))
            for name in os.listdir(self.folder):  # a process killed while compacting left its temp file
                with contextlib.suppress(FileNotFoundError):
                    if is_temp(name) and (self.folder / name).stat().st_mtime < older_than:
                        (self.folder / name).unlink()
            return removed

    def _rewrite_done_log(self, expired: set[str], dropped: set[str]) -> None:
        """Call holding the journal flock: the done-log without ``expired`` ids; ``dropped`` (pruned pending
        entries) leave the index."""
        path = self.folder / DONE_LOG
        with contextlib.suppress(FileNotFoundError):
            fd = os.open(path, os.O_RDONLY)
            try:
                records, _ = read_from(fd, 0, os.fstat(fd).st_size)
            finally:
                os.close(fd)
            if expired:
                write_atomic(path, lines(r for r in records if r.get("done") not in expired))
        for stem in dropped:
            self._pending.pop(stem, None)
        self._reset_index()
        self._catch_up()
