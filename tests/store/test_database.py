"""Tests for ita_bot.store.database: atomicity under SIGKILL, cross-process locking, cache, schema, backup/restore."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import tarfile
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tinydb import Query

from ita_bot.store import database as store_module
from ita_bot.store.database import SCHEMA_VERSION, Store, StoreError
from tests.store.writers import acked_then_killed, spawn

THAI = "สำนักงานปลัด รายงานความคืบหน้า"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "storage" / "ita-bot.json"


@pytest.fixture
def store(db_path: Path) -> Store:
    return Store(db_path)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    """Every data file under ``folder`` with its bytes (not backups or lock files), to prove what changed."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "backups" not in p.relative_to(folder).parts and p.suffix != ".lock"
    }


# -- layout and API ------------------------------------------------------------------------------


def test_paths_names_and_lazy_files(tmp_path: Path) -> None:
    store = Store(tmp_path / "new" / "ita-bot.json")
    assert store.folder.is_dir() and list(store.folder.iterdir()) == []  # no files before a write
    assert store.path_of("main") == store.db_path
    assert store.path_of("reports-2564") == store.folder / "reports-2564.json"
    assert store.evidence_dir == store.folder / "evidence"
    for bad in ("Main", "a b", "../x", "", "x.json", "ita-bot"):
        with pytest.raises(ValueError):
            store.path_of(bad)
    with store.read("reports-2564") as db:
        assert db.all() == []
    assert store.names() == []
    with store.write("reports-2564") as db:
        db.insert({"a": 1})
    with store.write() as db:
        db.insert({"a": 1})
    assert store.names() == ["main", "reports-2564"]


def test_thai_is_stored_as_compact_utf8_with_a_schema_version(store: Store) -> None:
    with store.write() as db:
        db.table("reports").insert({"details": THAI})
    raw = store.db_path.read_bytes()
    assert THAI.encode("utf-8") in raw
    assert b"\\u0e" not in raw
    assert b", " not in raw and b": " not in raw  # compact separators
    data = json.loads(raw)
    assert data["_meta"] == {"schema": SCHEMA_VERSION}
    with store.read() as db:
        assert db.tables() == {"reports"}  # the meta key is not a user table
        assert db.table("reports").all() == [{"details": THAI}]


def test_each_commit_writes_exactly_what_json_dumps_would_write_of_the_whole_file(store: Store) -> None:
    # A commit re-encodes only rows this process did not write last time; the file must be the same
    # bytes as encoding it whole, through inserts, updates, removals, a new table, another process.
    def whole(path: Path) -> bytes:
        return json.dumps(json.loads(path.read_bytes()), ensure_ascii=False, separators=(",", ":")).encode()

    steps = [
        lambda db: db.table("reports").insert_multiple({"i": i, "details": THAI, "edits": []} for i in range(30)),
        lambda db: db.table("reports").insert({"i": 30, "evidence": [{"name": "รูป.jpg", "size": 3}]}),
        lambda db: db.table("reports").update({"details": "แก้แล้ว \"quoted\" \n"}, Query().i == 3),
        lambda db: db.table("reports").remove(Query().i == 7),
        lambda db: db.table("people").insert({"name": "สมชาย", "roles": ["member"]}),
        lambda db: db.table("reports").insert({"i": 31, "percent": None, "ok": True, "ratio": 0.5}),
        lambda db: db.drop_table("people"),
    ]
    for step in steps:
        with store.write("reports-2564") as db:
            step(db)
        raw = store.path_of("reports-2564").read_bytes()
        assert raw == whole(store.path_of("reports-2564"))
    other = Store(store.db_path)  # another process writes last: this one's rows are not its own any more
    with other.write("reports-2564") as db:
        db.table("reports").insert({"i": 32})
    with store.write("reports-2564") as db:
        db.table("reports").update({"details": "อีกครั้ง"}, Query().i == 32)
    assert store.path_of("reports-2564").read_bytes() == whole(store.path_of("reports-2564"))
    with Store(store.db_path).read("reports-2564") as db:
        assert [r["i"] for r in db.table("reports").all()] == [i for i in range(33) if i != 7]


def test_rollback_on_exception_leaves_file_and_cache_unchanged(store: Store) -> None:
    with store.write() as db:
        db.insert({"n": 1, "tags": ["a"]})
    before = store.db_path.read_bytes()
    with pytest.raises(KeyError), store.write() as db:
        db.insert({"n": 2})
        db.update({"n": 99})
        db.drop_table("other")
        raise KeyError("boom")
    assert store.db_path.read_bytes() == before
    with store.read() as db:
        assert db.all() == [{"n": 1, "tags": ["a"]}]
    # Mutating returned documents (even nested values) never leaks into stored data.
    with store.read() as db:
        db.all()[0]["tags"].append("leak")
    with store.write() as db:
        db.get(doc_id=1)["tags"].append("leak")
    with store.read() as db:
        assert db.all() == [{"n": 1, "tags": ["a"]}]
    assert store.db_path.read_bytes() == before  # nothing changed, so nothing was rewritten


def test_reentrant_write_joins_the_outer_transaction(store: Store) -> None:
    with store.write() as outer:
        outer.insert({"n": 1})
        with store.write() as inner:
            assert inner is outer
            inner.insert({"n": 2})
        with store.read() as snapshot:  # this thread sees its own uncommitted transaction
            assert len(snapshot) == 2
        assert not store.db_path.exists()  # written once, at the end of the outermost block
    with store.read() as db:
        assert [d["n"] for d in db.all()] == [1, 2]


def test_a_failed_nested_write_rolls_back_the_whole_transaction(store: Store) -> None:
    with pytest.raises(StoreError, match="nested write"), store.write() as outer:
        outer.insert({"n": 1})
        try:
            with store.write() as inner:
                inner.insert({"n": 2})
                raise ValueError("inner failure swallowed by the caller")
        except ValueError:
            pass
    assert not store.db_path.exists()


def test_snapshots_are_read_only_and_transactions_end_with_their_block(store: Store) -> None:
    with store.write() as db:
        db.insert({"n": 1})
    with store.read() as snap, pytest.raises(StoreError, match="read-only"):
        snap.insert({"n": 2})
    with store.read() as snap, pytest.raises(StoreError, match="read-only"):
        snap.drop_table("_default")
    with store.read() as snap, pytest.raises(StoreError, match="read-only"):
        snap.drop_tables()
    with store.read() as db:
        assert len(db) == 1
    with store.write() as leaked:
        pass
    with pytest.raises(StoreError, match="after its write"):
        leaked.insert({"n": 3})
    with pytest.raises(StoreError, match="reserved"), store.write() as db:
        db.table("_meta").insert({"x": 1})


def test_other_threads_wait_for_the_lock(store: Store) -> None:
    entered = threading.Event()
    order: list[str] = []

    def other() -> None:
        entered.wait()
        with store.write() as db:
            order.append("other")
            db.insert({"by": "other"})

    thread = threading.Thread(target=other)
    thread.start()
    with store.write() as db:
        entered.set()
        thread.join(timeout=0.2)  # it must be blocked on our lock, not inside its block
        assert thread.is_alive()
        order.append("first")
        db.insert({"by": "first"})
    thread.join(timeout=10)
    assert order == ["first", "other"]
    with store.read() as db:
        assert [d["by"] for d in db.all()] == ["first", "other"]


# -- cache ---------------------------------------------------------------------------------------


def test_read_does_not_reparse_an_unchanged_file(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer, reader = Store(db_path), Store(db_path)  # two stores stand in for two processes
    with writer.write() as db:
        db.insert_multiple({"i": i, "text": THAI} for i in range(500))
    loads = []
    real_loads = json.loads
    monkeypatch.setattr(store_module.json, "loads", lambda *a, **k: loads.append(1) or real_loads(*a, **k))
    for _ in range(20):
        with reader.read() as db:
            assert len(db) == 500
    assert len(loads) == 1 and reader.parse_count == 1
    with writer.write() as db:
        db.insert({"i": 500})
    with reader.read() as db:
        assert len(db) == 501  # the change by the other "process" is seen ...
    assert len(loads) == 2 and reader.parse_count == 2  # ... with exactly one more parse
    with reader.write() as db:  # a write on an unchanged file does not re-parse either
        db.insert({"i": 501})
    with reader.read() as db:
        assert len(db) == 502
    assert len(loads) == 2


def test_same_size_rewrites_in_one_clock_tick_are_still_seen(db_path: Path) -> None:
    writer, reader = Store(db_path), Store(db_path)
    with writer.write() as db:
        db.insert({"status": "a"})
    for letter in "bcdefgh":  # each rewrite has the same size and lands within microseconds
        with reader.read() as db:
            assert db.all()[0]["status"] != letter
        with writer.write() as db:
            db.update({"status": letter})
        with reader.read() as db:
            assert db.all()[0]["status"] == letter


def test_a_write_to_a_file_of_5000_records_encodes_only_the_new_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is written whole, but rows this process wrote before keep their JSON (the speed is in benchmarks/)."""
    with store.write("reports-2564") as db:
        db.table("reports").insert_multiple({"i": i, "division": THAI, "status": "doing"} for i in range(5000))
    encoded: list[Any] = []
    dumps = store_module._dumps

    def counting(value: Any) -> str:
        if isinstance(value, dict) and "i" in value:
            encoded.append(value)
        return dumps(value)

    monkeypatch.setattr(store_module, "_dumps", counting)
    with store.write("reports-2564") as db:
        db.table("reports").insert({"i": 5000, "division": THAI, "status": "done"})
    assert encoded == [{"i": 5000, "division": THAI, "status": "done"}]
    with store.read("reports-2564") as db:
        assert len(db.table("reports")) == 5001


# -- refused files -------------------------------------------------------------------------------


def _assert_refused(store: Store, path: Path, name: str) -> None:
    before = path.read_bytes()
    for attempt in (store.read, store.write):
        with pytest.raises(StoreError) as caught, attempt(name) as db:
            db.insert({"x": 1})
        assert str(path) in str(caught.value)
    with pytest.raises(StoreError) as caught:
        store.check()
    assert str(path) in str(caught.value)
    assert path.read_bytes() == before


def test_newer_schema_is_refused_and_never_overwritten(store: Store) -> None:
    path = store.path_of("reports-2564")
    path.write_text(json.dumps({"_meta": {"schema": SCHEMA_VERSION + 1}, "_default": {}}))
    _assert_refused(store, path, "reports-2564")
    with pytest.raises(StoreError, match="newer"):
        store.check()


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],  # truncated
        lambda raw: b"",  # empty
        lambda raw: raw.replace(b"{", b"[", 1),  # not JSON
        lambda raw: b'{"_default": {}}',  # no schema version
        lambda raw: b"\xff\xfe" + raw,  # not UTF-8
    ],
    ids=["truncated", "empty", "garbage", "no-schema", "not-utf8"],
)
def test_corrupt_or_truncated_file_is_refused_and_never_overwritten(store: Store, damage) -> None:
    with store.write() as db:
        db.insert_multiple({"text": THAI, "i": i} for i in range(20))
    store.db_path.write_bytes(damage(store.db_path.read_bytes()))
    _assert_refused(Store(store.db_path), store.db_path, "main")
    _assert_refused(store, store.db_path, "main")  # a store with a warm cache notices too


def test_check_passes_on_good_files(store: Store) -> None:
    for name in ("main", "reports-2564", "reports-2565"):
        with store.write(name) as db:
            db.insert({"name": name})
    store.check()


# -- failed writes -------------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["fsync", "replace"])
def test_enospc_keeps_the_old_file_and_a_later_write_succeeds(
    store: Store, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    with store.write() as db:
        db.insert({"n": 1})
    before = store.db_path.read_bytes()

    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, call, no_space)
    with pytest.raises(StoreError, match="could not be written") as caught, store.write() as db:
        db.insert({"n": 2})
    monkeypatch.undo()
    assert isinstance(caught.value.__cause__, OSError) and caught.value.__cause__.errno == errno.ENOSPC
    assert store.db_path.read_bytes() == before
    assert not [p for p in store.folder.iterdir() if p.name.endswith(".tmp")]  # temp file removed
    with store.read() as db:
        assert db.all() == [{"n": 1}]  # the cache did not keep the failed change
    with store.write() as db:
        db.insert({"n": 3})
    with Store(store.db_path).read() as db:
        assert [d["n"] for d in db.all()] == [1, 3]


def test_failed_folder_fsync_reports_the_error_and_rereads(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    real_fsync, calls = os.fsync, []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:  # 1: the temp file, 2: the folder after the rename
            raise OSError(errno.EIO, "I/O error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(StoreError), store.write() as db:
        db.insert({"n": 1})
    monkeypatch.undo()
    # The rename had happened, so the data is on disk though not confirmed durable: readers see the
    # file as it is, not a cache that assumes either outcome.
    with store.read() as db:
        assert db.all() == [{"n": 1}]
    assert store.parse_count == 1


# -- processes -----------------------------------------------------------------------------------


@pytest.mark.slow  # a real process: writer processes
def test_two_processes_inserting_at_once_lose_nothing(store: Store) -> None:
    workers = [spawn(store.db_path, "insert", "300", tag) for tag in ("a", "b")]
    for worker in workers:  # release both at once
        worker.stdin.write("go\n")
        worker.stdin.flush()
    for worker in workers:
        out, _ = worker.communicate(timeout=20)
        assert worker.returncode == 0 and out.strip() == "done"
    with store.read() as db:
        rows = db.all()
    assert len(rows) == 600
    assert {(r["tag"], r["i"]) for r in rows} == {(t, i) for t in "ab" for i in range(300)}
    assert len({r.doc_id for r in rows}) == 600


@pytest.mark.slow  # a real process: writer processes
def test_read_modify_write_counter_across_processes_has_no_lost_updates(store: Store) -> None:
    workers = [spawn(store.db_path, "counter", "60") for _ in range(2)]
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    for worker in workers:
        worker.communicate(timeout=25)
        assert worker.returncode == 0
    with store.read("counters") as db:
        assert db.get(doc_id=1)["n"] == 120


@pytest.mark.slow  # a real process: writer processes
def test_sigkill_at_any_moment_loses_no_acknowledged_write(store: Store) -> None:
    acked: set[tuple[str, int]] = set()
    kills = [(50 + 9 * k, 0.0004 * k) for k in range(10)]  # (acks before the kill, extra delay in s)
    done = 0
    for n, delay in kills:
        for seq in acked_then_killed(store.db_path, n, delay):
            acked.add(("main" if seq % 2 == 0 else "reports-2564", seq))
        # Every file loads with plain json (not only through the store) and holds every ack.
        for path in sorted(store.folder.glob("*.json")):
            json.loads(path.read_bytes())
        fresh = Store(store.db_path, lock_timeout=5)  # a killed holder's lock must not stay held
        fresh.check()
        for name in ("main", "reports-2564"):
            with fresh.read(name) as db:
                stored = {d["seq"] for d in db.all()}
            assert {seq for db_name, seq in acked if db_name == name} <= stored
        done += 1
        # The restarted writer continues from 0, so clear for the next round (as a real restart would not).
        for name in ("main", "reports-2564"):
            with fresh.write(name) as db:
                db.truncate()
        acked.clear()
    assert done == len(kills)
    # The next writer cleaned up any temp file a killed writer left behind.
    assert not [p for p in store.folder.iterdir() if p.name.endswith(".tmp")]


# -- backup and restore --------------------------------------------------------------------------


def _populate(store: Store) -> None:
    with store.write() as db:
        db.table("people").insert({"name": "สมชาย", "division": "สำนักงานปลัด"})
    with store.write("reports-2564") as db:
        db.table("reports").insert_multiple({"i": i, "details": THAI} for i in range(50))
    (store.evidence_dir / "2564" / "03").mkdir(parents=True)
    store.write_file(store.evidence_dir / "2564" / "03" / "photo.jpg", bytes(range(256)) * 100)
    store.write_file(store.journal_dir / "events-0001.jsonl", '{"event": "ทดสอบ"}\n'.encode())


def test_backup_mutate_restore_round_trips_everything(store: Store) -> None:
    _populate(store)
    original = folder_bytes(store.folder)
    archive = store.backup(now=datetime(2021, 2, 15, 10, 0))
    assert archive == store.backups_dir / "backup-20210215-100000.tar.gz"
    assert store.backup(now=datetime(2021, 2, 15, 10, 0)).name == "backup-20210215-100000-2.tar.gz"
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == [
            "db/main.json",
            "db/reports-2564.json",
            "evidence/2564/03/photo.jpg",
            "journal/events-0001.jsonl",
            "manifest.json",
        ]

    with store.write() as db:
        db.table("people").truncate()
    store.path_of("reports-2564").unlink()
    with store.write("reports-2565") as db:
        db.insert({"new": True})
    store.write_file(store.evidence_dir / "2564" / "03" / "photo.jpg", b"changed")
    store.write_file(store.evidence_dir / "2565" / "extra.pdf", b"%PDF")
    with store.read("reports-2564") as db:
        assert len(db.table("reports")) == 0  # warm the cache with the mutated state

    store.restore(archive)
    restored = folder_bytes(store.folder)
    assert restored.keys() == original.keys()
    assert {k: v for k, v in restored.items() if not k.endswith(".json")} == {
        k: v for k, v in original.items() if not k.endswith(".json")
    }
    assert store.names() == ["main", "reports-2564"]
    with store.read() as db:
        assert db.table("people").all() == [{"name": "สมชาย", "division": "สำนักงานปลัด"}]
    with store.read("reports-2564") as db:
        assert len(db.table("reports")) == 50
    store.check()
    assert not [p for p in store.folder.iterdir() if p.name.startswith(".")]  # staging removed


def test_backup_into_a_folder_or_a_file(store: Store, tmp_path: Path) -> None:
    _populate(store)
    out = tmp_path / "elsewhere"
    out.mkdir()
    assert store.backup(out, now=datetime(2021, 3, 1)).parent == out
    assert store.backup(tmp_path / "x" / "named.tar.gz") == tmp_path / "x" / "named.tar.gz"


def _archive(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _manifest(files: dict[str, bytes], databases: list[str], schema: int = SCHEMA_VERSION) -> bytes:
    listed = {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)} for name, data in files.items()}
    manifest = {"format": "ita-bot-backup", "version": 1, "schema": schema, "databases": databases, "files": listed}
    return json.dumps(manifest).encode()


def _bad_archives(good: bytes) -> Iterator[tuple[str, bytes]]:
    yield "truncated", good[: len(good) // 2]
    yield "not-an-archive", b"hello"
    corrupt_db = {"db/main.json": b'{"_meta":{"schema":1},"_default":{'}
    yield "corrupt-db", _archive({**corrupt_db, "manifest.json": _manifest(corrupt_db, ["main"])})
    newer_db = {"db/main.json": json.dumps({"_meta": {"schema": SCHEMA_VERSION + 1}}).encode()}
    yield "newer-db", _archive({**newer_db, "manifest.json": _manifest(newer_db, ["main"])})
    ok_db = {"db/main.json": b'{"_meta":{"schema":1},"_default":{}}'}
    yield "no-manifest", _archive(ok_db)
    yield "checksum", _archive({"db/main.json": b'{"_meta":{"schema":1}}', "manifest.json": _manifest(ok_db, ["main"])})
    evil = {**ok_db, "../outside.txt": b"x"}
    yield "path-escape", _archive({**evil, "manifest.json": _manifest(evil, ["main"])})
    yield "newer-backup", _archive({**ok_db, "manifest.json": _manifest(ok_db, ["main"], schema=SCHEMA_VERSION + 1)})


def test_restore_refuses_a_bad_archive_without_touching_anything(store: Store, tmp_path: Path) -> None:
    _populate(store)
    good = store.backup(now=datetime(2021, 2, 15)).read_bytes()
    with store.write() as db:
        db.insert({"after": "backup"})
    before = folder_bytes(store.folder)
    for label, data in _bad_archives(good):
        bad = tmp_path / f"{label}.tar.gz"
        bad.write_bytes(data)
        with pytest.raises(StoreError) as caught:
            store.restore(bad)
        assert str(bad) in str(caught.value), label
        assert folder_bytes(store.folder) == before, label
        assert not (tmp_path / "outside.txt").exists()
    assert not [p for p in store.folder.iterdir() if p.name.startswith(".restore")]


@pytest.mark.slow  # a real process: writer processes
def test_backup_is_consistent_while_another_process_writes(store: Store, tmp_path: Path) -> None:
    writer = spawn(store.db_path, "append")
    try:
        for _ in range(20):  # let it get going
            writer.stdout.readline()
        archive = store.backup(tmp_path / "during.tar.gz")
    finally:
        writer.kill()
        writer.communicate(timeout=10)
    target = Store(tmp_path / "restored" / "ita-bot.json")
    target.restore(archive)
    target.check()
    with target.read() as main, target.read("reports-2564") as reports:
        seqs = sorted(d["seq"] for d in main.all()) + sorted(d["seq"] for d in reports.all())
    assert sorted(seqs) == list(range(len(seqs)))  # a prefix of the writes: nothing half-in
    assert len(seqs) >= 20


def test_queries_work_through_the_store(store: Store) -> None:
    with store.write() as db:
        db.table("people").insert_multiple([{"id": 1, "ok": False}, {"id": 2, "ok": True}])
        db.table("people").update({"ok": True}, Query().id == 1)
    with store.read() as db:
        assert db.table("people").count(Query().ok == True) == 2  # noqa: E712 (TinyDB query)


def test_a_lock_held_too_long_raises_a_clear_error(store: Store) -> None:
    impatient = Store(store.db_path, lock_timeout=0.05)
    with store.write() as db:
        db.insert({"n": 1})
        with pytest.raises(StoreError, match="waiting for its lock") as caught, impatient.write():
            pass
    assert str(store.db_path) in str(caught.value)


def test_write_file_makes_the_new_folders_it_creates_durable(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file in a new folder survives a power cut only if the new folder's name does: each created folder's parent
    is synced."""
    import ita_bot.store.database as database

    synced: list[Path] = []
    real = database.fsync_dir
    monkeypatch.setattr(database, "fsync_dir", lambda folder: (synced.append(Path(folder)), real(folder))[1])
    store.write_file(store.folder / "snapshots" / "2568" / "1.html", b"<p>1</p>")
    assert synced == [store.folder, store.folder / "snapshots"]
    synced.clear()
    store.write_file(store.folder / "snapshots" / "2568" / "2.html", b"<p>2</p>")  # no new folder: nothing more
    assert synced == [] and (store.folder / "snapshots" / "2568" / "1.html").read_bytes() == b"<p>1</p>"
    with pytest.raises(ValueError):
        store.write_file(store.folder / ".." / "outside.html", b"x")
