"""The backup archive: a consistent .tar.gz of a Store's databases, evidence, journal, plans and snapshots, and its
restore."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from ita_bot.store.database import SCHEMA_VERSION, Store, StoreError, parse_database
from ita_bot.store.files import fsync_dir, plain_files, write_atomic

__all__ = ["BACKUP_FORMAT", "BACKUP_VERSION", "restore_backup", "write_backup"]

#: Backup archive layout version (see ``write_backup``).
BACKUP_FORMAT = "ita-bot-backup"
BACKUP_VERSION = 1

_DATA_TOPS = ("evidence", "journal", "plans", "snapshots")  # folders of plain files, copied whole
_DB_FILE_RE = re.compile(r"[a-z0-9-]+\.json")
_CHUNK = 1 << 20


def _data_dirs(store: Store) -> tuple[Path, ...]:
    """The data folder's folders of plain files, in the order of ``_DATA_TOPS``."""
    return (store.evidence_dir, store.journal_dir, store.plans_dir, store.snapshots_dir)


def _data_files(store: Store) -> list[tuple[str, Path]]:
    """(archive name, path) of every evidence, journal, plan and snapshot file, skipping in-flight temp files."""
    return [(f"{top.name}/{name}", path) for top in _data_dirs(store) for name, path in plain_files(top)]


def write_backup(
    store: Store,
    dest: Path | str | None = None,
    *,
    now: datetime | None = None,
    force: bool = False,
    protect: Iterable[Path | str] = (),
) -> Path:
    """Write a consistent copy of all stored data to a .tar.gz archive and return its path.

    ``dest``: an archive path, or an existing folder to put ``backup-YYYYMMDD-HHMMSS.tar.gz`` in
    (default: ``backups_dir``). ``now`` names the archive; only when omitted is the clock read.
    An existing file is replaced only with ``force``; the data folder and anything in it (but its
    backups folder) and the files in ``protect`` (the config, the plan) are refused even then, so a
    mistyped path can never put a tarball where the live data was.
    The database locks are held only while the databases are snapshotted (no write is half in the
    archive); evidence and journal files, written whole by ``write_file``, are then streamed into the
    archive outside the locks, so writers never wait for evidence and memory stays flat. The archive
    holds ``db/<name>.json`` (the main file as ``db/main.json``), ``evidence/…``, ``journal/…``,
    ``plans/…``, ``snapshots/…`` and ``manifest.json`` (format, schema, databases, sha256 and size of every file).
    """
    stamp = (now or datetime.now().astimezone()).strftime("%Y%m%d-%H%M%S")
    target = Path(dest) if dest is not None else store.backups_dir
    if dest is None or target.is_dir():
        _refuse_protected(store, target, protect)
        _make_folder(target)
        base, n = target / f"backup-{stamp}", 1
        target = base.with_name(base.name + ".tar.gz")
        while target.exists():
            n += 1
            target = base.with_name(f"{base.name}-{n}.tar.gz")
    else:
        _refuse_protected(store, target, protect)
        if not force and (target.exists() or target.is_symlink()):
            raise StoreError(f"backup {target} already exists; choose another name, or add --force to replace it")
    target = target.absolute()
    _make_folder(target.parent)

    names = store.names()
    with store.locked(names):  # only the databases' snapshot is taken under the locks
        snapshot = [(f"db/{n}.json", store.raw(n)) for n in names]
    # Evidence and snapshot files are written once and never changed, journal logs are only appended to (a
    # line being written when copied is torn in the copy, and not read from it), so
    # they are copied after the locks are released: writers wait for the snapshot only, never for evidence.
    # They are listed after the snapshot, so every file the snapshot refers to is there (a year page's
    # snapshot files are written before its row is committed).
    files = _data_files(store)
    manifest: dict[str, Any] = {
        "format": BACKUP_FORMAT,
        "version": BACKUP_VERSION,
        "schema": SCHEMA_VERSION,
        "created": stamp,
        "databases": names,
        "files": {},
    }

    def write(out: IO[bytes]) -> None:
        with tarfile.open(fileobj=out, mode="w:gz", compresslevel=6) as tar:
            for arcname, data in snapshot:
                _add_bytes(tar, arcname, data, manifest)
            for arcname, path in files:
                _add_file(tar, arcname, path, manifest)
            _add_bytes(tar, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode(), None)

    try:
        _publish(target, write, replace=force)
    except FileExistsError as e:
        raise StoreError(f"backup {target} already exists; choose another name, or add --force to replace it") from e
    except (OSError, tarfile.TarError) as e:
        raise StoreError(f"backup {target} could not be written: {e}") from e
    return target


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"backup folder {folder} cannot be created: {e.strerror or e}") from e


def _refuse_protected(store: Store, target: Path, protect: Iterable[Path | str]) -> None:
    """StoreError when ``target`` (symlinks followed) is the data folder, inside it, or a protected file."""
    where = target.resolve()
    data, backups = store.folder.resolve(), store.backups_dir.resolve()
    if where == data or (where.is_relative_to(data) and not where.is_relative_to(backups)):
        raise StoreError(
            f"backup {target}: that is the bot's data folder or inside it ({data}); "
            f"write backups outside it, or into {backups}"
        )
    for path in protect:
        if where == Path(path).resolve():
            raise StoreError(f"backup {target}: that is the bot's own file {path}; choose another path")


def _publish(target: Path, write: Callable[[IO[bytes]], None], *, replace: bool) -> None:
    """Stream an archive into a temp file beside ``target`` and move it in; without ``replace``, never over
    an existing file (a hard link fails if the name exists, so a file created meanwhile is not lost)."""
    if write_atomic(target, write, replace=replace) is None:
        raise FileExistsError(errno.EEXIST, "backup file created meanwhile", str(target))


def _check_member(src: Path, member: tarfile.TarInfo) -> str:
    """What an archive entry is — "manifest", "db", "data" (an evidence, journal or plan file) or "dir" — or
    StoreError when it has no place in a backup: a link, a device, a path that leaves its folder, a
    database anywhere but db/<name>.json, a file directly where evidence/ or journal/ must be a folder."""
    name, parts = member.name, member.name.split("/")
    if name.startswith("/") or "\\" in name or "\x00" in name or any(p in ("", ".", "..") for p in parts):
        raise StoreError(f"backup {src}: unexpected entry {name!r} (not a plain relative path)")
    if member.isdir():
        if parts[0] in _DATA_TOPS or name == "db":
            return "dir"
        raise StoreError(f"backup {src}: unexpected folder {name!r}")
    if not member.isfile():
        raise StoreError(f"backup {src}: entry {name!r} is a link or a special file, not a plain file")
    if name == "manifest.json":
        return "manifest"
    if parts[0] == "db" and len(parts) == 2 and _DB_FILE_RE.fullmatch(parts[1]):
        return "db"
    if parts[0] in _DATA_TOPS and len(parts) >= 2:
        return "data"
    raise StoreError(f"backup {src}: unexpected entry {name!r}")


def _read_backup(store: Store, src: Path, staging: Path) -> tuple[dict[str, bytes], list[str]]:
    """Validate an archive completely, streaming its evidence/journal files into ``staging``; return its
    databases' bytes and the archive names of the staged files."""
    digests: dict[str, str] = {}  # archive name -> sha256 of every file but the manifest
    db_bytes: dict[str, bytes] = {}
    manifest_bytes: bytes | None = None
    folders: set[str] = set()
    try:
        with tarfile.open(src, mode="r:gz") as tar:
            for member in tar:
                kind = _check_member(src, member)
                if member.name in digests or member.name in folders or (
                    kind == "manifest" and manifest_bytes is not None
                ):
                    raise StoreError(f"backup {src}: entry {member.name!r} appears twice")
                if kind == "dir":
                    folders.add(member.name)
                    continue
                f = tar.extractfile(member)
                if f is None:
                    raise StoreError(f"backup {src}: entry {member.name!r} has no content")
                if kind == "manifest":
                    manifest_bytes = f.read()
                elif kind == "db":
                    db_bytes[member.name] = f.read()
                    digests[member.name] = hashlib.sha256(db_bytes[member.name]).hexdigest()
                else:
                    digests[member.name] = _stage_stream(f, staging.joinpath(*member.name.split("/")))
    except (OSError, EOFError, tarfile.TarError) as e:
        raise StoreError(f"backup {src} is not a readable backup archive: {e}") from e
    # A name used as a file must not also be a folder on the way to another entry.
    files = set(digests)
    for name in files | folders:
        parts = name.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in files:
                raise StoreError(f"backup {src}: {'/'.join(parts[:i])!r} is a file but also a folder of {name!r}")

    try:
        manifest = json.loads((manifest_bytes or b"").decode("utf-8"))
    except ValueError as e:
        raise StoreError(f"backup {src} has no readable manifest.json") from e
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise StoreError(f"backup {src} is not an ita-bot backup")
    if manifest.get("version") != BACKUP_VERSION or not isinstance(manifest.get("schema"), int):
        raise StoreError(f"backup {src} has an unknown backup version {manifest.get('version')!r}")
    if manifest["schema"] > SCHEMA_VERSION:
        raise StoreError(f"backup {src} was made by a newer ita-bot (schema {manifest['schema']})")
    listed, names = manifest.get("files"), manifest.get("databases")
    if not isinstance(listed, dict) or set(listed) != set(digests) or not isinstance(names, list):
        raise StoreError(f"backup {src}: its files do not match its manifest (incomplete archive?)")
    for arcname, digest in digests.items():
        if not isinstance(listed[arcname], dict) or listed[arcname].get("sha256") != digest:
            raise StoreError(f"backup {src}: {arcname} is damaged (checksum mismatch)")
    databases: dict[str, bytes] = {}
    for name in names:
        try:
            store.path_of(name)
        except (TypeError, ValueError) as e:
            raise StoreError(f"backup {src}: bad database name {name!r}") from e
        if name in databases:
            raise StoreError(f"backup {src}: database {name!r} is listed twice")
        databases[name] = db_bytes.pop(f"db/{name}.json", b"")
        parse_database(Path(f"{src}!db/{name}.json"), databases[name])  # refuses corrupt or too-new databases
    if db_bytes:
        raise StoreError(f"backup {src}: databases {sorted(db_bytes)} are not in its manifest")
    return databases, [a for a in digests if not a.startswith("db/")]


def _stage_stream(source: IO[bytes], target: Path) -> str:
    """Copy one archive member to ``target`` in chunks (evidence can be large), durably; its sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(target, "xb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())  # it becomes a live file by rename: make it durable first
    return digest.hexdigest()


def restore_backup(store: Store, src: Path | str, check_plans: Callable[[Path], object] | None = None) -> None:
    """Replace all stored data (every database, evidence/, journal/, plans/, snapshots/) by a backup's.

    The whole archive is validated and staged first, inside the data folder (its shape: only plain
    files and folders where a backup has them; the manifest and checksums; every database parses with
    a known schema); a bad one raises StoreError and nothing live is touched. Then, holding every
    database lock, the live files are moved aside and the staged ones moved in, by renames; should a
    rename fail, the moves are undone, so the live data is either all old or all restored.

    ``check_plans`` is given the staged plans folder and raises ValueError naming a plan file the bot could not
    use (the store knows no plans; the caller's plan reader does): the restore is then refused the same way.
    """
    src = Path(src)
    try:
        staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=store.folder))
    except OSError as e:
        raise StoreError(f"restore from {src}: no room to stage it in {store.folder}: {e.strerror or e}") from e
    try:
        new, old = staging / "new", staging / "old"
        databases, _ = _read_backup(store, src, new)
        if check_plans is not None and (new / "plans").is_dir():
            try:
                check_plans(new / "plans")
            except ValueError as e:
                # Restored as is, a plan the bot cannot read stops the web process (and reports sent meanwhile).
                shown = str(e).replace(str(new / "plans"), "plans")
                raise StoreError(f"backup {src}: a plan in it cannot be used ({shown}); nothing was restored") from e
        current = store.names()
        with store.locked([*current, *databases]):
            for name, data in databases.items():  # staged with an mtime past the live file's (see write_atomic)
                try:
                    prev_mtime: int | None = os.stat(store.path_of(name)).st_mtime_ns
                except FileNotFoundError:
                    prev_mtime = None
                (new / "db").mkdir(parents=True, exist_ok=True)
                write_atomic(new / "db" / f"{name}.json", data, after_mtime_ns=prev_mtime)
            for top in ("evidence", "journal"):
                (new / top).mkdir(parents=True, exist_ok=True)  # a restored store always has both folders
            for folder, _dirs, _files in os.walk(new):
                fsync_dir(Path(folder))
            try:
                _install(store, list(databases), current, new, old)
            finally:
                store.forget_cache()
    except OSError as e:
        raise StoreError(f"restore from {src} failed ({e}); the stored data was left as it was") from e
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _install(store: Store, databases: list[str], current: list[str], new: Path, old: Path) -> None:
    """Swap the staged data in by renames within the data folder; undo them all if one fails."""
    moves: list[tuple[Path, Path]] = []

    def move(a: Path, b: Path) -> None:
        b.parent.mkdir(parents=True, exist_ok=True)
        os.replace(a, b)
        moves.append((a, b))

    try:
        for name in current:
            move(store.path_of(name), old / "db" / f"{name}.json")
        for top in _data_dirs(store):
            if top.exists() or top.is_symlink():
                move(top, old / top.name)
        for name in databases:
            move(new / "db" / f"{name}.json", store.path_of(name))
        for top in _data_dirs(store):
            if (new / top.name).exists():  # plans/, snapshots/ exist only once something was saved there
                move(new / top.name, top)
    except BaseException:
        for a, b in reversed(moves):
            with contextlib.suppress(OSError):
                os.replace(b, a)
        raise
    fsync_dir(store.folder)


def _add_bytes(tar: tarfile.TarFile, arcname: str, data: bytes, manifest: dict[str, Any] | None) -> None:
    info = tarfile.TarInfo(arcname)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))
    if manifest is not None:
        manifest["files"][arcname] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


class _Hashing:
    """A file read through, hashing what passes (tarfile copies members in chunks)."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f, self.sha = f, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.f.read(size)
        self.sha.update(chunk)
        return chunk


def _add_file(tar: tarfile.TarFile, arcname: str, path: Path, manifest: dict[str, Any]) -> None:
    """Stream one evidence or journal file into the archive (never whole in memory)."""
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed below; the open may fail on its own)
    except FileNotFoundError:
        return  # a journal entry moved on between listing and copying: the live data no longer has it
    with f:
        size = os.fstat(f.fileno()).st_size
        info = tarfile.TarInfo(arcname)
        info.size, info.mode = size, 0o600
        hashing = _Hashing(f)
        tar.addfile(info, hashing)
    manifest["files"][arcname] = {"sha256": hashing.sha.hexdigest(), "size": size}
