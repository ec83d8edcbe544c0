"""Whole-file writes that appear complete or not at all, and the (mtime, size, inode) signature caches key on."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Generic, TypeVar

__all__ = ["Signature", "SignatureCache", "fsync_dir", "is_temp", "plain_files", "signature", "stat_signature",
           "write_atomic"]

Signature = tuple[int, int, int]  # (st_mtime_ns, st_size, st_ino) of one version of a file

# Steps tried when forcing a replaced file's mtime past its predecessor's: 1 ns suffices on ext4,
# xfs, btrfs and tmpfs; the larger ones cover filesystems that store coarser timestamps.
_MTIME_STEPS_NS = (1, 1_000, 1_000_000, 1_000_000_000, 2_000_000_000)

K = TypeVar("K")
V = TypeVar("V")


def fsync_dir(folder: Path) -> None:
    """Make a rename, link or unlink in ``folder`` durable (a new name is only safe once its folder is synced)."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def signature(st: os.stat_result) -> Signature:
    """A file version's signature: a replace gives a new inode, so it changes on every whole-file write."""
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def stat_signature(path: Path) -> Signature | None:
    """The signature of the file at ``path`` now; None when there is none (OSError for other trouble)."""
    try:
        return signature(os.stat(path))
    except FileNotFoundError:
        return None


def is_temp(filename: str) -> bool:
    """A file ``write_atomic`` has in flight (or a killed writer left): never data, safe to skip or sweep."""
    return filename.startswith(".") and filename.endswith(".tmp")


def plain_files(folder: Path) -> Iterator[tuple[str, Path]]:
    """(name relative to ``folder``, path) of each plain file below it, sorted; symlinks and files still being
    written (temp names) skipped; nothing when the folder does not exist."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and not is_temp(path.name):
            yield path.relative_to(folder).as_posix(), path


def temp_pattern(name: str) -> str:
    """The glob of ``write_atomic``'s temp files for a target named ``name`` (for sweeping leftovers)."""
    return f".{name}.*.tmp"


def write_atomic(
    target: Path,
    data: bytes | Callable[[IO[bytes]], object],
    *,
    replace: bool = True,
    sync: bool = True,
    sync_folder: bool = True,
    after_mtime_ns: int | None = None,
) -> Signature | None:
    """Write ``target`` whole: a temp file beside it (``.<name>.<random>.tmp``, mode 0600), fsync, then one
    atomic step to the final name, then fsync the folder. Readers in every process see the old file or the
    new one, never a part.

    ``data``: the bytes, or a function writing them into the open temp file (an archive streamed in).
    ``replace=False`` takes the name with link(), which refuses an existing name: the first writer wins,
    and None is returned to a later one (a duplicate journal entry, a second worker's secret key).
    ``sync=False`` skips both fsyncs: the step stays atomic and visible at once, only its survival of a
    power cut waits for whoever syncs later (the journal's checkpoint). ``sync_folder=False`` leaves only
    the folder's fsync to the caller, who makes several new names durable with one.
    ``after_mtime_ns``: the new file's mtime is forced past it, so every version of a file has a distinct
    signature even when writes land in one coarse clock tick and an inode is reused.
    Returns the new file's signature. On failure the temp file is removed, ``target`` is as it was, and
    OSError propagates.
    """
    folder = target.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, bytes | bytearray | memoryview):
                f.write(data)
            else:
                data(f)
            f.flush()
            st = os.fstat(f.fileno())
            if after_mtime_ns is not None and st.st_mtime_ns <= after_mtime_ns:
                for step in _MTIME_STEPS_NS:
                    os.utime(f.fileno(), ns=(st.st_atime_ns, after_mtime_ns + step))
                    st = os.fstat(f.fileno())
                    if st.st_mtime_ns > after_mtime_ns:
                        break
            if sync:
                os.fsync(f.fileno())
            sig = signature(os.fstat(f.fileno()))
        if replace:
            os.replace(tmp_name, target)
        else:
            try:
                os.link(tmp_name, target)
            except FileExistsError:
                return None
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    if sync and sync_folder:
        fsync_dir(folder)
    return sig


class SignatureCache(Generic[K, V]):
    """What was derived from a file (a parse), kept with the signature of the version it came from: a hit
    only while the file still has that signature, so a write by any process is seen at the next read and an
    unchanged file is never parsed twice. Thread-safe."""

    def __init__(self) -> None:
        self._entries: dict[K, tuple[tuple[int, ...] | None, V]] = {}
        self.lock = threading.RLock()  # held by a caller that must load and put as one step

    def get(self, key: K, sig: tuple[int, ...] | None) -> V | None:
        with self.lock:
            hit = self._entries.get(key)
        return hit[1] if hit is not None and hit[0] == sig else None

    def put(self, key: K, sig: tuple[int, ...] | None, value: V) -> None:
        with self.lock:
            self._entries[key] = (sig, value)

    def drop(self, key: K) -> None:
        with self.lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self.lock:
            self._entries.clear()
