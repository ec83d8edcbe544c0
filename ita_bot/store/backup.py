"""The backup archive: a consistent .tar.gz of a Store's databases, evidence and journal, and its restore."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from ita_bot.store.database import SCHEMA_VERSION, Store, StoreError, _parse, _replace_file, fsync_dir

__all__ = ["BACKUP_FORMAT", "BACKUP_VERSION", "restore_backup", "write_backup"]

#: Backup archive layout version (see ``write_backup``).
BACKUP_FORMAT = "ita-bot-backup"
BACKUP_VERSION = 1


def _data_files(store: Store) -> list[tuple[str, Path]]:
    """(archive name, path) of every evidence and journal file, skipping in-flight temp files."""
    files = []
    for top in (store.evidence_dir, store.journal_dir):
        if not top.is_dir():
            continue
        for path in sorted(top.rglob("*")):
            if path.is_file() and not path.is_symlink() and not _is_temp(path.name):
                files.append((f"{top.name}/{path.relative_to(top).as_posix()}", path))
    return files


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
    Every database lock is held while copying (writers wait meanwhile, so keep evidence modest),
    so no write is half in the archive; evidence and journal files should be written with
    ``write_file`` (atomic) so a backup never catches one half-written. The archive
    holds ``db/<name>.json`` (the main file as ``db/main.json``), ``evidence/…``, ``journal/…``
    and ``manifest.json`` (format, schema, databases, sha256 and size of every file).
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

    buffer = io.BytesIO()
    names = store.names()
    with store._locked(names):
        manifest: dict[str, Any] = {
            "format": BACKUP_FORMAT,
            "version": BACKUP_VERSION,
            "schema": SCHEMA_VERSION,
            "created": stamp,
            "databases": names,
            "files": {},
        }
        with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
            members = [(f"db/{n}.json", store._entry(n, store.path_of(n)).raw) for n in names]
            for arcname, data in members:
                _add_bytes(tar, arcname, data, manifest)
            for arcname, path in _data_files(store):
                _add_bytes(tar, arcname, path.read_bytes(), manifest)
            _add_bytes(tar, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode(), None)
    try:
        _publish(target, buffer.getvalue(), replace=force)
    except FileExistsError as e:
        raise StoreError(f"backup {target} already exists; choose another name, or add --force to replace it") from e
    except OSError as e:
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


def _publish(target: Path, data: bytes, *, replace: bool) -> None:
    """Write ``data`` to a temp file beside ``target`` and move it in; without ``replace``, never over an
    existing file (a hard link fails if the name exists, so a file created meanwhile is not lost)."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp_name, target)
        else:
            os.link(tmp_name, target)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
    fsync_dir(target.parent)


def _read_backup(store: Store, src: Path, staging: Path) -> tuple[dict[str, bytes], list[str]]:
    """Validate an archive completely, staging its evidence/journal files; return its databases' bytes."""
    digests: dict[str, str] = {}  # archive name -> sha256 of every file but the manifest
    db_bytes: dict[str, bytes] = {}
    manifest_bytes: bytes | None = None
    try:
        with tarfile.open(src, mode="r:gz") as tar:
            for member in tar:
                if member.isdir():
                    continue
                parts = PurePosixPath(member.name).parts
                if (
                    not member.isfile()
                    or member.name.startswith("/")
                    or any(p in ("", ".", "..") for p in parts)
                    or not (member.name == "manifest.json" or parts[0] in ("db", "evidence", "journal"))
                ):
                    raise StoreError(f"backup {src}: unexpected entry {member.name!r}")
                f = tar.extractfile(member)
                data = f.read() if f is not None else b""
                if member.name == "manifest.json":
                    manifest_bytes = data
                    continue
                digests[member.name] = hashlib.sha256(data).hexdigest()
                if parts[0] == "db":
                    db_bytes[member.name] = data
                    continue
                staged = staging.joinpath(*parts)
                staged.parent.mkdir(parents=True, exist_ok=True)
                with open(staged, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())  # it becomes the live file by rename: make it durable first
    except (OSError, EOFError, tarfile.TarError) as e:
        raise StoreError(f"backup {src} is not a readable backup archive: {e}") from e

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
        databases[name] = db_bytes.pop(f"db/{name}.json", b"")
        _parse(Path(f"{src}!db/{name}.json"), databases[name])  # refuses corrupt or too-new databases
    if db_bytes:
        raise StoreError(f"backup {src}: databases {sorted(db_bytes)} are not in its manifest")
    return databases, [a for a in digests if not a.startswith("db/")]


def restore_backup(store: Store, src: Path | str) -> None:
    """Replace all stored data (every database, evidence/, journal/) by a backup's.

    The whole archive is validated first (manifest, checksums, every database parses with a
    known schema); a bad one raises StoreError and nothing is touched. Then, holding every
    database lock, each file is replaced atomically and files absent from the backup are removed.
    """
    src = Path(src)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=store.folder))
    try:
        databases, data_files = _read_backup(store, src, staging)
        current = store.names()
        with store._locked([*current, *databases]):
            try:
                _install(store, databases, current, data_files, staging)
            finally:
                with store._cache_lock:
                    store._cache.clear()
    except OSError as e:
        raise StoreError(f"restore from {src} failed part-way: {e}; run it again") from e
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _install(
    store: Store, databases: dict[str, bytes], current: list[str], data_files: list[str], staging: Path
) -> None:
    for name, data in databases.items():
        path = store.path_of(name)
        try:
            prev_mtime: int | None = os.stat(path).st_mtime_ns
        except FileNotFoundError:
            prev_mtime = None
        _replace_file(path, data, prev_mtime)
    for name in current:
        if name not in databases:
            store.path_of(name).unlink(missing_ok=True)
    wanted = set(data_files)
    touched: set[Path] = {store.folder}
    for arcname in data_files:
        target = store.folder.joinpath(*PurePosixPath(arcname).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging.joinpath(*PurePosixPath(arcname).parts), target)
        touched.add(target.parent)
    for arcname, path in _data_files(store):
        if arcname not in wanted:
            path.unlink()
            touched.add(path.parent)
    for folder in touched:
        if folder.is_dir():
            fsync_dir(folder)


def _add_bytes(tar: tarfile.TarFile, arcname: str, data: bytes, manifest: dict[str, Any] | None) -> None:
    info = tarfile.TarInfo(arcname)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))
    if manifest is not None:
        manifest["files"][arcname] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def _is_temp(filename: str) -> bool:
    return filename.startswith(".") and filename.endswith(".tmp")
