"""Atomic, process-safe TinyDB (JSON) storage: one folder of database files, locks and a parse cache."""

from __future__ import annotations

import contextlib
import glob
import json
import logging
import marshal
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

from ita_bot.domain.inbox import StorageError
from ita_bot.store.files import Signature, SignatureCache, fsync_dir, signature, temp_pattern, write_atomic
from ita_bot.store.row_log import apply_ops, diff_tables, header_line, log_path, new_token, parse_log, row_line

__all__ = ["JOURNAL_DIR", "SCHEMA_VERSION", "SNAPSHOTS_DIR", "Signature", "Store", "StoreError", "Version",
           "database_files", "fsync_dir", "load_database", "parse_database"]

log = logging.getLogger(__name__)

#: One version of a database: its file's signature, followed by its row log's when it has one.
Version = tuple[int, ...]

#: The folder, in a data folder, of the webhook journal (the TinyDB inbox): one file per accepted event.
JOURNAL_DIR = "journal"

#: The folder, in a data folder, of the year pages' frozen snapshots: ``<fiscal year>/<number>.html`` and ``.pdf``.
SNAPSHOTS_DIR = "snapshots"

#: Version of the on-disk layout; bump it (and add a migration) when the stored shape changes. 2: a year's reports
#: may be a file plus a row log (``_meta.log``); a program that knows only 1 would read the file without its log
#: and miss recent reports, so it refuses these files instead. Files of version 1 are read as they are.
SCHEMA_VERSION = 2

#: Top-level key holding file metadata. TinyDB would see it as a table, so it is stripped on load
#: and added back on save; user tables may not use this name.
META_KEY = "_meta"

_NAME_RE = re.compile(r"[a-z0-9-]+")

#: A row log is folded into its file once it reaches this size and a quarter of the file's (see Store.compact).
_COMPACT_MIN_BYTES = 64 * 1024
_JSON_SEPARATORS = (",", ":")


def database_files(main: Path) -> dict[str, Path]:
    """The database files that exist beside the main file ``main``, by database name: "main" first, then each
    ``<name>.json`` (read only: nothing is created or locked)."""
    found = {"main": main} if main.is_file() else {}
    for path in sorted(main.parent.glob("*.json")):
        if path != main and path.stem != "main" and _NAME_RE.fullmatch(path.stem):
            found[path.stem] = path
    return found


class StoreError(StorageError):
    """A database file is unusable (corrupt, truncated, too new) or could not be written."""


@dataclass(frozen=True)
class _Entry:
    """One parsed version of a database file. ``tables`` is shared and must never be mutated."""

    sig: Version | None  # None: the file does not exist (an empty database)
    tables: dict[str, dict[str, dict[str, Any]]]  # the snapshot file's, with its log's rows replayed
    raw: bytes  # the snapshot file's bytes
    token: str | None = None  # the row log the snapshot names (see row_log)
    log_end: int = 0  # bytes of that log up to its last valid line; 0: the log is absent or not the named one
    log_rows: int = 0  # transactions replayed from the log (0: the snapshot file alone holds the data)


def _clone(value: Any) -> Any:
    """Deep-copy plain JSON data (dicts, lists, scalars)."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


def _clone_table(table: dict[str, Any]) -> dict[str, Any]:
    """Deep-copy a loaded table; marshal is ~5x faster than a Python walk for thousands of records."""
    try:
        return marshal.loads(marshal.dumps(table))
    except ValueError:  # a value marshal cannot handle (only possible for data not loaded from JSON)
        return _clone(table)


def parse_database(path: Path, raw: bytes) -> dict[str, dict[str, dict[str, Any]]]:
    """Decode and validate one database file's bytes; StoreError names the file on any problem. (The file alone:
    ``load_database`` adds the rows of its log.)"""
    return _parse(path, raw)[0]


def _parse(path: Path, raw: bytes) -> tuple[dict[str, dict[str, dict[str, Any]]], str | None]:
    """The file's tables and the token of the row log it names (None: none)."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise StoreError(f"database file {path} is not UTF-8 text (corrupt?): {e}") from e
    except json.JSONDecodeError as e:
        what = "empty" if not raw.strip() else "not valid JSON"
        raise StoreError(f"database file {path} is {what} (truncated or corrupt?): {e}") from e
    if not isinstance(data, dict):
        raise StoreError(f"database file {path} is not a JSON object (corrupt?)")
    meta = data.pop(META_KEY, None)
    schema = meta.get("schema") if isinstance(meta, dict) else None
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise StoreError(f"database file {path} has no valid schema version ({META_KEY!r}); refusing to use it")
    if schema > SCHEMA_VERSION:
        raise StoreError(
            f"database file {path} has schema version {schema}, newer than this program's "
            f"{SCHEMA_VERSION}: it was written by a newer ita-bot; upgrade instead of editing the file"
        )
    for table_name, table in data.items():
        if not isinstance(table, dict) or not all(
            isinstance(doc, dict) and doc_id.isdecimal() for doc_id, doc in table.items()
        ):
            raise StoreError(f"database file {path}: table {table_name!r} is malformed (corrupt?)")
    token = meta.get("log")
    return data, token if isinstance(token, str) else None


def _read_version(path: Path) -> tuple[bytes, os.stat_result] | None:
    """A file's bytes with the fstat of exactly those bytes (a log grows in place: retry None); FileNotFoundError."""
    with open(path, "rb") as f:
        before = os.fstat(f.fileno())
        raw = f.read()
        after = os.fstat(f.fileno())
    if len(raw) != after.st_size or before.st_size != after.st_size or before.st_mtime_ns != after.st_mtime_ns:
        return None
    return raw, after


def _stat_version(path: Path) -> Version | None:
    """The version of the database at ``path`` now (None: no file); OSError for other trouble."""
    try:
        sig = signature(os.stat(path))
    except FileNotFoundError:
        return None
    try:
        return sig + signature(os.stat(log_path(path)))
    except FileNotFoundError:
        return sig


def load_database(path: Path) -> _Entry:
    """One consistent version of the database at ``path``: its file, plus the rows of the log it names.

    Read without a lock: a compaction replaces the file, then the log, so the file is stat'ed again after the log
    was read, and both are read again when it changed meanwhile. StoreError when unreadable or corrupt."""
    lpath = log_path(path)
    try:
        for attempt in range(1000):
            if attempt >= 10:
                time.sleep(0.001)  # a log appended to without pause: let a write finish between two reads
            try:
                got = _read_version(path)
            except FileNotFoundError:
                return _Entry(None, {}, b"")
            if got is None:
                continue
            raw, st = got
            try:
                logged = _read_version(lpath)
            except FileNotFoundError:
                logged = (b"", None)  # type: ignore[assignment]
            if logged is None:
                continue
            try:
                if signature(os.stat(path)) != signature(st):
                    continue  # compacted meanwhile: the log read may be the next file's
            except FileNotFoundError:
                continue
            tables, token = _parse(path, raw)
            data, lst = logged
            sig: Version = signature(st) if lst is None else signature(st) + signature(lst)
            if token is None or lst is None:
                return _Entry(sig, tables, raw, token)
            contents = parse_log(data)
            if contents.token != token:  # a log from before the file's last rewrite: its rows are in the file
                return _Entry(sig, tables, raw, token)
            return _Entry(sig, apply_ops(tables, contents.ops), raw, token, contents.end, len(contents.ops))
    except OSError as e:
        raise StoreError(f"database file {path} cannot be read: {e}") from e
    raise StoreError(f"database file {path} kept changing while it was read; try again")


def _make_folders(folder: Path, root: Path) -> None:
    """Create ``folder`` and its missing parents below ``root``, durably: a new folder's name is only safe once
    the folder holding it is synced, or a file written into it could vanish with it in a power cut."""
    missing = []
    while not folder.is_dir() and folder != root:
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir(exist_ok=True)
        fsync_dir(new.parent)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=_JSON_SEPARATORS)


def _meta(token: str | None) -> dict[str, Any]:
    return {"schema": SCHEMA_VERSION, "log": token} if token is not None else {"schema": SCHEMA_VERSION}


def _encode_whole(tables: dict[str, dict[str, Any]], token: str | None) -> bytes:
    """A database file's bytes (as ``Store._encode`` writes them), naming the row log ``token`` if any."""
    return _dumps({META_KEY: _meta(token), **tables}).encode("utf-8")


class _Transaction:
    """The in-memory state of one write() block: copy-on-write over a cached, shared version."""

    def __init__(self, store: Store, name: str, path: Path, entry: _Entry) -> None:
        self.store, self.name, self.path, self.entry = store, name, path, entry
        self.working: dict[str, dict[str, Any]] | None = None  # None until the first change
        self.owned: set[str] = set()  # tables already deep-copied into ``working``
        self.fresh: set[str] = set()  # tables whose dict (not rows) in ``working`` is this transaction's own
        # (table, doc id) of each row added by ``_TransactionTable.insert``, while that is all that changed (None
        # once anything else did): a row log is then written without comparing the tables.
        self.inserted: list[tuple[str, str]] | None = []
        self.dirty = False
        self.failed = False  # a nested write() raised: the whole transaction must roll back
        self.closed = False
        self.db = _TransactionDB(self, storage=_TransactionStorage)

    def current(self) -> dict[str, dict[str, Any]]:
        if self.closed:
            raise StoreError(f"{self.path}: database used after its write() block ended")
        return self.working if self.working is not None else self.entry.tables

    def prepare(self, table: str | None) -> None:
        """Copy what is about to be mutated, so the shared cached version (and rollback) stay intact."""
        self.current()  # refuses use after the block
        if self.working is None:
            self.working = dict(self.entry.tables)
        if table is not None and table not in self.owned:
            if table in self.working:
                self.working[table] = _clone_table(self.working[table])
            self.owned.add(table)


class _TransactionStorage(Storage):
    """TinyDB storage bound to one transaction's in-memory dict; never touches a file itself."""

    def __init__(self, tx: _Transaction) -> None:
        self._tx = tx

    def read(self) -> dict[str, dict[str, Any]]:
        return self._tx.current()

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        tx = self._tx
        tx.current()
        if META_KEY in data:
            raise StoreError(f"{tx.path}: the table name {META_KEY!r} is reserved")
        if data is not tx.working:  # e.g. drop_tables() hands over a fresh dict
            tx.working, tx.owned = data, set(data)
        tx.dirty = True
        tx.inserted = None  # TinyDB changed the tables its own way: compare them to find what changed


class _DetachedDocument(Document):
    """A returned document whose nested values are copies: mutating it cannot alter cached data."""

    def __init__(self, value: Mapping[str, Any], doc_id: int) -> None:
        super().__init__(_clone(dict(value)), doc_id)


class _TransactionTable(Table):
    document_class = _DetachedDocument
    _inserting = False

    def _update_table(self, updater: Any) -> None:
        # TinyDB mutates the documents it read in place, so copy this table before it does. An insert
        # only adds a document to the fresh dict TinyDB builds around the existing ones, so it needs no
        # copy of them: a report added to a year of reports copies none of that year.
        self._storage._tx.prepare(None if self._inserting else self.name)  # type: ignore[attr-defined]
        super()._update_table(updater)

    def insert(self, document: Mapping[Any, Any]) -> int:
        """TinyDB's insert (same id, same errors) without rebuilding the table's dict twice and finding the
        largest id in it: a report added to a year of thousands costs one C-level dict copy."""
        if not isinstance(document, Mapping):
            raise ValueError("Document is not a Mapping")
        tx: _Transaction = self._storage._tx  # type: ignore[attr-defined]
        tx.prepare(None)
        if self.name == META_KEY:
            raise StoreError(f"{tx.path}: the table name {META_KEY!r} is reserved")
        assert tx.working is not None
        rows = tx.working.get(self.name)
        if rows is None:
            rows = {}
        if isinstance(document, self.document_class):
            doc_id = document.doc_id
        else:
            doc_id = tx.store._next_id(tx.name, self.name, rows)
        if self.name not in tx.owned and self.name not in tx.fresh:
            rows = dict(rows)  # the rows stay the shared ones: an insert changes none of them
        tx.working[self.name] = rows
        tx.fresh.add(self.name)
        if str(doc_id) in rows:
            raise ValueError(f"Document with ID {doc_id} already exists")
        self._next_id = None  # TinyDB's own count, should its path insert next, is found again from the rows
        rows[str(doc_id)] = dict(document)
        tx.store._note_next_id(tx.name, self.name, rows, doc_id + 1)
        tx.dirty = True
        if tx.inserted is not None:
            tx.inserted.append((self.name, str(doc_id)))
        return doc_id

    def insert_multiple(self, documents: Iterable[Mapping[Any, Any]]) -> list[int]:
        self._inserting = True
        try:
            return super().insert_multiple(documents)
        finally:
            self._inserting = False


class _TransactionDB(TinyDB):
    table_class = _TransactionTable

    def drop_table(self, name: str) -> None:
        self.storage._tx.prepare(None)  # type: ignore[attr-defined]  # TinyDB deletes from the dict it read
        super().drop_table(name)


class _SnapshotStorage(Storage):
    """Read-only TinyDB storage over one cached version."""

    def __init__(self, tables: dict[str, dict[str, Any]], path: Path) -> None:
        self._tables, self._path = tables, path

    def read(self) -> dict[str, dict[str, Any]]:
        return self._tables

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        raise StoreError(f"{self._path}: read() gives a read-only snapshot; change data inside Store.write()")


class _SnapshotTable(Table):
    document_class = _DetachedDocument

    def _update_table(self, updater: Any) -> None:
        # Refuse before TinyDB mutates the shared cached dict in place.
        self._storage.write({})


class _SnapshotDB(TinyDB):
    table_class = _SnapshotTable

    def drop_table(self, name: str) -> None:
        self.storage.write({})  # refuse before TinyDB deletes the table from the shared cached dict


class Store:
    """The bot's databases: ``main`` (the ITA_BOT_DB file) and sibling ``<name>.json`` files.

    Use one Store per process (it keeps the parse cache and per-thread transactions). Writers in
    several processes and threads are serialized per database by ``<file>.lock`` (filelock).

    Every committed write is atomic (temp file + rename) and seen by every process at once. It is
    also durable (fsynced) before write() returns, except inside ``deferred()``: there the fsyncs
    are left to ``sync()``, which the caller runs before it relies on the change surviving a power
    cut (the chat journal, which can replay its events, checkpoints that way).
    Nested write() blocks for *different* databases should take them in sorted name order
    ("main" before "reports-2564"), the order backup() uses, so lock waits cannot form a cycle;
    a wait longer than ``lock_timeout`` seconds raises StoreError instead of hanging.
    """

    def __init__(self, db_path: Path | str, *, lock_timeout: float = 60.0) -> None:
        self.db_path = Path(db_path).absolute()
        self.folder = self.db_path.parent
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"the data folder {self.folder} cannot be created or used: {e.strerror or e}") from e
        self.evidence_dir = self.folder / "evidence"
        self.journal_dir = self.folder / JOURNAL_DIR
        self.plans_dir = self.folder / "plans"  # plans saved after deployment (<fiscal year>.toml)
        self.snapshots_dir = self.folder / SNAPSHOTS_DIR
        self.backups_dir = self.folder / "backups"
        self.lock_timeout = lock_timeout
        #: Number of database files parsed so far (lets tests see the cache working).
        self.parse_count = 0
        self._cache: SignatureCache[str, _Entry] = SignatureCache()
        self._locks: dict[str, FileLock] = {}
        self._locks_lock = threading.Lock()
        self._local = threading.local()
        self._swept: set[str] = set()
        # Databases this process wrote inside deferred() and has not fsynced since (see sync()).
        self._unsynced: set[str] = set()
        self._unsynced_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        # name -> table -> doc id -> (row, its JSON) as this process last wrote them (see _encode).
        self._encoded: dict[str, dict[str, dict[str, tuple[Any, str]]]] = {}
        self._logged: list[re.Pattern[str]] = []  # see log_commits
        # (database, table) -> (a table's rows dict, the next free doc id in it): an insert need not scan a year's
        # ids. Keyed by the very dict (a committed version's is never changed), so any other version misses.
        self._next_ids: dict[tuple[str, str], tuple[dict[str, Any], int]] = {}
        self._appended: set[str] = set()  # databases whose log this process appended to since compact()

    # -- names and paths -------------------------------------------------------------------------

    def path_of(self, name: str) -> Path:
        """The file of database ``name``: "main" is the db path itself, others are ``<name>.json`` beside it."""
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            raise ValueError(f"database name {name!r} must be lowercase letters, digits and '-' only")
        if name == "main":
            return self.db_path
        path = self.folder / f"{name}.json"
        if path == self.db_path:
            raise ValueError(f"database name {name!r} is the main file's; call it 'main'")
        return path

    def names(self) -> list[str]:
        """Names of the databases that exist on disk, "main" first."""
        return list(database_files(self.db_path))

    # -- reading -----------------------------------------------------------------------------------

    def _load(self, name: str, path: Path) -> _Entry:
        """Parse the file (and its log) as it is now; the version comes from the open descriptors, so it matches
        the bytes."""
        entry = load_database(path)
        if entry.sig is not None:
            self.parse_count += 1
        return entry

    def _entry(self, name: str, path: Path) -> _Entry:
        """The current version of a database, parsed only if the file changed since the cached parse."""
        try:
            sig = _stat_version(path)
        except OSError as e:
            raise StoreError(f"database file {path} cannot be read: {e}") from e
        with self._cache.lock:
            cached = self._cache.get(name, sig)
            if cached is not None:
                return cached
            entry = self._load(name, path)
            self._cache.put(name, entry.sig, entry)
            return entry

    def version(self, name: str = "main") -> Version | None:
        """A cheap token that changes whenever database ``name`` changes: its file's (mtime_ns, size,
        inode), then its row log's when it has one, the version the read cache is keyed on (every write
        gives a distinct one, also across processes). Key caches of data derived from read() on it, taking
        the version *before* reading: the data read is then at least that new, so a cache is never staler than its key.

        None when the file does not exist, or when this thread is inside a write() of it (read() then
        shows uncommitted changes, which have no version): don't cache then.
        """
        path = self.path_of(name)
        if name in self._transactions():
            return None
        try:
            return _stat_version(path)
        except OSError as e:
            raise StoreError(f"database file {path} cannot be read: {e}") from e

    def _transactions(self) -> dict[str, _Transaction]:
        txs = getattr(self._local, "txs", None)
        if txs is None:
            txs = self._local.txs = {}
        return txs

    @contextlib.contextmanager
    def read(self, name: str = "main") -> Iterator[TinyDB]:
        """A consistent, read-only snapshot of a database, without taking its write lock.

        Files are only ever replaced whole, so any version read is complete. Inside this thread's
        write() of the same database, the snapshot shows that transaction's uncommitted state.
        """
        path = self.path_of(name)
        tx = self._transactions().get(name)
        tables = tx.current() if tx is not None else self._entry(name, path).tables
        yield _SnapshotDB(tables, path, storage=_SnapshotStorage)

    # -- writing -----------------------------------------------------------------------------------

    def _lock(self, name: str, path: Path) -> FileLock:
        with self._locks_lock:
            lock = self._locks.get(name)
            if lock is None:
                # thread_local: each thread gets its own descriptor, so flock also excludes threads.
                lock = self._locks[name] = FileLock(path.with_name(path.name + ".lock"), poll_interval=0.002)
            return lock

    @contextlib.contextmanager
    def _locked(self, names: Iterable[str]) -> Iterator[None]:
        """Hold the write locks of ``names``, taken in sorted order (the order nested writes should use)."""
        with contextlib.ExitStack() as stack:
            for name in sorted(set(names)):
                path = self.path_of(name)
                lock = self._lock(name, path)
                try:
                    lock.acquire(timeout=self.lock_timeout)
                except Timeout as e:
                    raise StoreError(
                        f"database file {path}: gave up after {self.lock_timeout:g} s waiting for its lock "
                        f"{lock.lock_file} (another process holds it)"
                    ) from e
                stack.callback(lock.release)
                self._sweep(name, path)
            yield

    def locked(self, names: Iterable[str]) -> contextlib.AbstractContextManager[None]:
        """Hold the write locks of several databases at once (backup's snapshot, restore's swap): no write of
        any of them can begin or be half done meanwhile."""
        return self._locked(names)

    def raw(self, name: str) -> bytes:
        """The current committed bytes of database ``name`` as one whole file, its log's rows included (empty when
        it has no file); under ``locked``, a consistent snapshot."""
        entry = self._entry(name, self.path_of(name))
        if entry.token is None:
            return entry.raw
        # Without the log's name: a file restored from it must never pick up a live log of the same name.
        return _encode_whole(entry.tables, None)

    def forget_cache(self) -> None:
        """Drop every parsed version: the files were swapped behind the store's back (a restore)."""
        self._cache.clear()

    def _sweep(self, name: str, path: Path) -> None:
        """Remove temp files a killed writer left behind (safe: only the lock holder creates them)."""
        if name in self._swept:
            return
        for target in (path, log_path(path)):
            for tmp in self.folder.glob(temp_pattern(glob.escape(target.name))):
                with contextlib.suppress(OSError):
                    tmp.unlink()
        self._swept.add(name)

    @contextlib.contextmanager
    def write(self, name: str = "main") -> Iterator[TinyDB]:
        """A read-modify-write transaction on one database, exclusive across processes and threads.

        Changes are written atomically once, when the block exits normally (durably too, unless
        inside ``deferred()``); an exception discards them all. A nested write() of the same
        database in the same thread joins the outer transaction; if it raises, the outer block
        cannot commit (StoreError at its end).
        """
        path = self.path_of(name)
        txs = self._transactions()
        outer = txs.get(name)
        if outer is not None:
            try:
                yield outer.db
            except BaseException:
                outer.failed = True
                raise
            return
        with self._locked([name]):
            tx = _Transaction(self, name, path, self._entry(name, path))
            txs[name] = tx
            try:
                yield tx.db
                if tx.failed:
                    raise StoreError(f"database file {path}: a nested write() failed, so nothing was saved")
                self._commit(tx)
            finally:
                tx.closed = True
                del txs[name]

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Writes this thread commits inside the block skip their fsyncs until the next ``sync()``.

        They stay atomic (a reader in any process sees the old or the new version, never a mix) and
        visible at once; only their survival of a power cut waits for ``sync()``. A SIGKILLed process
        loses nothing either way: the kernel keeps what was renamed into place.
        """
        before = getattr(self._local, "deferred", False)
        self._local.deferred = True
        try:
            yield
        finally:
            self._local.deferred = before

    def unsynced(self) -> set[str]:
        """Databases written inside ``deferred()`` by this process and not fsynced since."""
        with self._unsynced_lock:
            return set(self._unsynced)

    def sync(self) -> None:
        """Make every deferred write of this process durable: fsync each such file, then the folder.

        Whatever version a file has now contains the deferred changes (every write builds on the
        latest version under the file's lock), so fsyncing the current file covers them, whoever
        wrote it last. The files' locks are held from their fsync to the folder's, so the names the
        folder's fsync makes durable point at the very files whose data was just synced, never at a
        newer, unsynced version renamed in between. StoreError when an fsync fails or a lock is not
        free within ``lock_timeout``; the files then count as unsynced still.
        """
        with self._sync_lock:
            with self._unsynced_lock:
                names, self._unsynced = self._unsynced, set()
            if not names:
                return
            try:
                with self._locked(names):
                    for name in sorted(names):
                        for path in (self.path_of(name), log_path(self.path_of(name))):
                            try:
                                fd = os.open(path, os.O_RDONLY)
                            except FileNotFoundError:
                                continue  # removed since (restore), or no log: nothing of ours left to keep
                            try:
                                os.fsync(fd)
                            finally:
                                os.close(fd)
                    fsync_dir(self.folder)
            except (OSError, StoreError) as e:
                with self._unsynced_lock:
                    self._unsynced |= names
                raise StoreError(f"database files in {self.folder} could not be synced to disk: {e}") from e
        # Everything is durable now, so this is the moment to fold long row logs into their files.
        self.compact()

    def _encode(self, tx: _Transaction) -> tuple[bytes, dict[str, dict[str, tuple[Any, str]]]]:
        """The file's bytes, exactly ``json.dumps(payload, ensure_ascii=False, separators=(",", ":"))``,
        re-encoding only the rows that are not the very objects this process wrote last time.

        Rows of a committed version are never changed in place (a transaction copies a table before
        TinyDB changes its rows, and an insert adds a new row), so a row that is the same object as in
        this process's previous commit has the same JSON. Encoding the whole year's file was the largest
        CPU cost of a report; now it is the new or changed rows (all of them after another process wrote).
        Called under the database's lock, so its cache needs no lock of its own.
        """
        before = self._encoded.get(tx.name, {})
        encoded: dict[str, dict[str, tuple[Any, str]]] = {}
        parts = [_dumps(META_KEY) + ":" + _dumps(_meta(None))]
        assert tx.working is not None
        for table_name, table in tx.working.items():
            known = before.get(table_name, {})
            rows: dict[str, tuple[Any, str]] = {}
            items = []
            for doc_id, row in table.items():
                hit = known.get(doc_id)
                text = hit[1] if hit is not None and hit[0] is row else _dumps(row)
                rows[doc_id] = (row, text)
                items.append(_dumps(doc_id if isinstance(doc_id, str) else str(doc_id)) + ":" + text)
            encoded[table_name] = rows
            parts.append(_dumps(table_name) + ":{" + ",".join(items) + "}")
        return ("{" + ",".join(parts) + "}").encode("utf-8"), encoded

    def _commit(self, tx: _Transaction) -> None:
        if not tx.dirty or tx.working is None:
            return
        if self._logs(tx.name):
            ops = ([(t, d, tx.working[t][d]) for t, d in dict.fromkeys(tx.inserted)] if tx.inserted is not None
                   else diff_tables(tx.entry.tables, tx.working))
            if ops == []:
                return
            if ops is not None and tx.entry.log_end > 0:
                self._append(tx.name, tx.path, tx.entry, tx.working, row_line(ops))
            else:  # no log of this file yet, or the change is not rows: start a log from a whole file
                self._rewrite(tx.name, tx.path, tx.entry, tx.working)
            return
        try:
            raw, encoded = self._encode(tx)
        except (TypeError, ValueError) as e:
            raise StoreError(f"database file {tx.path}: a value cannot be stored as JSON: {e}") from e
        if raw == tx.entry.raw:
            return  # e.g. an update() that matched nothing
        prev_mtime = tx.entry.sig[0] if tx.entry.sig else None
        deferred = getattr(self._local, "deferred", False)
        try:
            # The mtime is forced past the old version's, so every version has its own signature.
            sig = write_atomic(tx.path, raw, after_mtime_ns=prev_mtime, sync=not deferred)
            assert sig is not None  # a replace always takes the name
            if deferred:
                with self._unsynced_lock:
                    self._unsynced.add(tx.name)
        except OSError as e:
            # The rename may already have happened if only the folder fsync failed: re-read next time.
            self._cache.drop(tx.name)
            raise StoreError(f"database file {tx.path} could not be written ({e}); the change was not saved") from e
        self._cache.put(tx.name, sig, _Entry(sig, tx.working, raw))
        self._encoded[tx.name] = encoded

    def _next_id(self, name: str, table: str, rows: dict[str, Any]) -> int:
        hit = self._next_ids.get((name, table))
        if hit is not None and hit[0] is rows:
            return hit[1]
        return max((int(k) for k in rows), default=0) + 1

    def _note_next_id(self, name: str, table: str, rows: dict[str, Any], next_id: int) -> None:
        self._next_ids[(name, table)] = (rows, next_id)

    # -- row logs (see row_log) ---------------------------------------------------------------------

    def log_commits(self, pattern: str) -> None:
        """Commit the databases whose name fully matches ``pattern`` by appending the changed rows to their row log,
        instead of rewriting the whole file: a change then costs its own rows, not the database's. Their files are
        rewritten whole (the log folded in) only by ``compact``. Readers need no such call: every read replays the
        log its file names, so a Store without the call still reads (and a whole rewrite stays correct)."""
        with self._locks_lock:
            if all(p.pattern != pattern for p in self._logged):
                self._logged.append(re.compile(pattern))

    def _logs(self, name: str) -> bool:
        return any(p.fullmatch(name) for p in self._logged)

    def _append(self, name: str, path: Path, entry: _Entry, tables: dict[str, dict[str, Any]], line: bytes) -> None:
        """Append one transaction's line to the log ``entry`` replayed (under the database's lock)."""
        assert entry.sig is not None and len(entry.sig) == 6
        lpath = log_path(path)
        deferred = getattr(self._local, "deferred", False)
        try:
            fd = os.open(lpath, os.O_WRONLY)
        except OSError as e:
            raise StoreError(f"database log {lpath} could not be opened ({e}); the change was not saved") from e
        try:
            try:
                # A torn tail (a writer killed mid-append) is cut off first, or this line would join it.
                if os.fstat(fd).st_size != entry.log_end:
                    os.ftruncate(fd, entry.log_end)
                written = 0
                while written < len(line):
                    written += os.pwrite(fd, line[written:], entry.log_end + written)
                if not deferred:
                    os.fsync(fd)
                st = os.fstat(fd)
                prev_mtime = entry.sig[3]
                if st.st_mtime_ns <= prev_mtime:  # after a cut tail the size can repeat: the version must not
                    os.utime(fd, ns=(st.st_atime_ns, prev_mtime + 1))
                    st = os.fstat(fd)
            except OSError as e:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, entry.log_end)
                self._cache.drop(name)
                raise StoreError(f"database log {lpath} could not be written ({e}); the change was not saved") from e
        finally:
            os.close(fd)
        if deferred:
            with self._unsynced_lock:
                self._unsynced.add(name)
        with self._unsynced_lock:
            self._appended.add(name)
        sig = entry.sig[:3] + signature(st)
        self._cache.put(name, sig, _Entry(sig, tables, entry.raw, entry.token, entry.log_end + len(line),
                                          entry.log_rows + 1))

    def _rewrite(self, name: str, path: Path, entry: _Entry, tables: dict[str, dict[str, Any]]) -> None:
        """Write ``tables`` whole under a new log's name, then that new, empty log (under the database's lock).

        Both are made durable at once, even when deferred (this is the rare step: a log's start, a compaction):
        the old log may hold rows a checkpoint already made durable, which from then on only this file holds, and
        a later undeferred append must land in a log whose name is durable. A crash between the two steps leaves
        the new file and the old log, which is then not the log it names: nothing is lost or doubled.
        """
        token = new_token()
        lpath = log_path(path)
        try:
            raw = _encode_whole(tables, token)
        except (TypeError, ValueError) as e:
            raise StoreError(f"database file {path}: a value cannot be stored as JSON: {e}") from e
        try:
            prev_log = os.stat(lpath).st_mtime_ns if lpath.exists() else None
            sig = write_atomic(path, raw, after_mtime_ns=entry.sig[0] if entry.sig else None)
            assert sig is not None
            header = header_line(token)
            lsig = write_atomic(lpath, header, after_mtime_ns=prev_log)
            assert lsig is not None
        except OSError as e:
            self._cache.drop(name)
            raise StoreError(f"database file {path} could not be written ({e}); the change was not saved") from e
        version = sig + lsig
        self._cache.put(name, version, _Entry(version, tables, raw, token, len(header), 0))
        self._encoded.pop(name, None)

    def compact(self, names: Iterable[str] | None = None, *, force: bool = False) -> list[str]:
        """Fold row logs into their files: each named database (default: those this process appended to) whose log
        has grown to a quarter of its file (or 64 KiB, whichever is more; any row at all with ``force``) is written
        whole and durably, then given a new, empty log. Returns the databases compacted. A crash at any step loses
        and doubles nothing (see ``_rewrite``); a failure is logged and left for the next call, never raised: the
        rows are safe in the log meanwhile. Called at the end of ``sync()``, the journal's checkpoint."""
        if names is None:
            with self._unsynced_lock:
                names, self._appended = self._appended, set()
        done = []
        for name in sorted(set(names)):
            path = self.path_of(name)
            try:
                with self._locked([name]):
                    entry = self._entry(name, path)
                    if entry.log_rows == 0 or entry.sig is None:
                        continue
                    if not force and entry.log_end < max(_COMPACT_MIN_BYTES, len(entry.raw) // 4):
                        with self._unsynced_lock:
                            self._appended.add(name)  # look again at the next checkpoint
                        continue
                    txs = self._transactions()
                    if name in txs:  # inside this thread's own write(): never fold in uncommitted rows
                        continue
                    self._rewrite(name, path, entry, entry.tables)
                    done.append(name)
            except StoreError as e:
                log.warning("store: the row log of %s was not compacted (kept as is): %s", name, e)
        return done

    def write_file(self, path: Path | str, data: bytes) -> None:
        """Atomically and durably write a file under the store folder (saved plans, snapshot files).

        It is not part of any write() transaction: the file is in place when this returns, whatever becomes of a
        transaction open around it. So a caller writes the file first and the row naming it after (in the
        transaction), and a row never names a missing file; a transaction that then fails leaves a file no row
        names, which the caller must be able to overwrite (see TinyPublications)."""
        # Resolved, not just absolute: "..", or a symlink planted inside the folder, must not lead out of it.
        root = self.folder.resolve()
        target = Path(path).resolve()
        if not target.is_relative_to(root) or target == root:
            raise ValueError(f"{target} is outside the store folder {self.folder}")
        try:
            _make_folders(target.parent, root)
            write_atomic(target, data)
        except OSError as e:
            raise StoreError(f"file {target} could not be written: {e}") from e

    # -- checking ----------------------------------------------------------------------------------

    def check(self) -> None:
        """Parse every database file afresh; StoreError listing each corrupt, truncated or too-new one."""
        problems: list[StoreError] = []
        for name in self.names():
            path = self.path_of(name)
            try:
                entry = self._load(name, path)
            except StoreError as e:
                problems.append(e)
                continue
            self._cache.put(name, entry.sig, entry)
        if len(problems) == 1:
            raise problems[0]
        if problems:
            raise StoreError("\n".join(str(p) for p in problems))

    # -- backup and restore (the archive format lives in backup.py) ---------------------------------

    def backup(
        self,
        dest: Path | str | None = None,
        *,
        now: datetime | None = None,
        force: bool = False,
        protect: Iterable[Path | str] = (),
    ) -> Path:
        """Write a consistent copy of all stored data to a .tar.gz archive (see ``backup.write_backup``)."""
        from ita_bot.store.backup import write_backup

        return write_backup(self, dest, now=now, force=force, protect=protect)

    def restore(self, src: Path | str, check_plans: Callable[[Path], object] | None = None) -> None:
        """Replace all stored data by a backup's (see ``backup.restore_backup``)."""
        from ita_bot.store.backup import restore_backup

        restore_backup(self, src, check_plans)
