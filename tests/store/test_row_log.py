"""A year's reports as a file plus an append-only row log: torn tails, compaction cut short, readers meanwhile."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from tinydb import Query
from tinydb.table import Document

from ita_bot.store.database import Store, StoreError
from ita_bot.store.row_log import log_path, parse_log
from ita_bot.store.transfer import read_tiny
from tests.store.writers import acked_then_killed

YEAR = "reports-2564"
THAI = "สำนักงานปลัด รายงานความคืบหน้า"


def logged_store(folder: Path) -> Store:
    store = Store(folder / "ita-bot.json")
    store.log_commits(r"reports-\d{4}")
    return store


def rows(store: Store, name: str = YEAR) -> list[dict[str, Any]]:
    with store.read(name) as db:
        return [dict(d) for d in db.table("reports").all()]


def fresh_rows(folder: Path) -> list[dict[str, Any]]:
    """What another process (no cache) reads from the folder now."""
    return rows(Store(folder / "ita-bot.json"))


def add(store: Store, i: int) -> None:
    with store.write(YEAR) as db:
        db.table("reports").insert({"i": i, "details": THAI})


def test_an_added_row_appends_to_the_log_and_leaves_the_year_file_alone(tmp_path: Path) -> None:
    store = logged_store(tmp_path)
    for i in range(3):
        add(store, i)
    year_file = store.path_of(YEAR).read_bytes()
    log_size = log_path(store.path_of(YEAR)).stat().st_size
    add(store, 3)
    assert store.path_of(YEAR).read_bytes() == year_file  # not rewritten
    grown = log_path(store.path_of(YEAR)).stat().st_size - log_size
    assert 0 < grown < 200  # one row's line, whatever the year holds
    assert [r["i"] for r in fresh_rows(tmp_path)] == [0, 1, 2, 3]
    assert [r["i"] for r in rows(store)] == [0, 1, 2, 3]


def test_updates_and_removals_replay_in_place(tmp_path: Path) -> None:
    store = logged_store(tmp_path)
    for i in range(4):
        add(store, i)
    with store.write(YEAR) as db:
        db.table("reports").update({"withdrawn": True}, Query().i == 1)
        db.table("reports").remove(Query().i == 2)
    expected = [{"i": 0, "details": THAI}, {"i": 1, "details": THAI, "withdrawn": True}, {"i": 3, "details": THAI}]
    assert fresh_rows(tmp_path) == expected
    with Store(tmp_path / "ita-bot.json").read(YEAR) as db:  # the document ids stay as they were
        assert [d.doc_id for d in db.table("reports").all()] == [1, 2, 4]
    assert store.compact([YEAR], force=True) == [YEAR]
    assert fresh_rows(tmp_path) == expected
    assert parse_log(log_path(store.path_of(YEAR)).read_bytes()).ops == []


def test_inserts_number_rows_as_tinydb_does(tmp_path: Path) -> None:
    store = logged_store(tmp_path)
    for i in range(3):
        add(store, i)
    with store.write(YEAR) as db:
        db.table("reports").remove(doc_ids=[3])
    with store.write(YEAR) as db:
        assert db.table("reports").insert({"i": 3}) == 3  # the largest id left, plus one
        assert db.table("reports").insert_multiple([{"i": 4}, {"i": 5}]) == [4, 5]
        assert db.table("reports").insert({"i": 6}) == 6
    with pytest.raises(StoreError, match="inner"), store.write(YEAR) as db:
        assert db.table("reports").insert({"i": 7}) == 7
        raise StoreError("inner")
    with store.write(YEAR) as db:
        assert db.table("reports").insert({"i": 7}) == 7  # the failed transaction's id is free again
        stored = db.table("reports").get(doc_id=1)
        assert isinstance(stored, Document)
        with pytest.raises(ValueError, match="already exists"):
            db.table("reports").insert(stored)  # a document read back keeps its id
    with Store(tmp_path / "ita-bot.json").read(YEAR) as db:
        assert [(d.doc_id, d["i"]) for d in db.table("reports").all()] == [
            (1, 0), (2, 1), (3, 3), (4, 4), (5, 5), (6, 6), (7, 7)]


def test_a_store_that_does_not_log_rewrites_the_file_and_loses_nothing(tmp_path: Path) -> None:
    store = logged_store(tmp_path)
    for i in range(3):
        add(store, i)
    plain = Store(tmp_path / "ita-bot.json")  # e.g. an older tool: rewrites the year whole
    add(plain, 3)
    add(store, 4)
    assert [r["i"] for r in fresh_rows(tmp_path)] == [0, 1, 2, 3, 4]


def _build_log(folder: Path) -> tuple[bytes, list[int]]:
    """A year with two rows in its file and three transactions in its log; the log's bytes and the end offset of
    each of its lines."""
    store = logged_store(folder)
    add(store, 0)
    add(store, 1)
    store.compact([YEAR], force=True)
    for i in (2, 3, 4):
        add(store, i)
    data = log_path(store.path_of(YEAR)).read_bytes()
    ends = [i + 1 for i, b in enumerate(data) if b == ord("\n")]
    assert len(ends) == 4  # the header and three rows
    return data, ends


def test_a_log_cut_at_any_byte_reads_every_whole_row_once_and_takes_new_ones(tmp_path: Path) -> None:
    source = tmp_path / "source"
    data, ends = _build_log(source)
    for cut in range(ends[0], len(data) + 1):
        folder = tmp_path / f"cut-{cut}"
        shutil.copytree(source, folder)
        log = log_path(folder / f"{YEAR}.json")
        log.write_bytes(data[:cut])
        whole = sum(1 for end in ends[1:] if end <= cut)
        expected = list(range(2 + whole))
        assert [r["i"] for r in fresh_rows(folder)] == expected, cut
        store = logged_store(folder)
        store.check()
        add(store, 9)  # lands after the last whole row, not glued to the torn one
        assert [r["i"] for r in fresh_rows(folder)] == [*expected, 9], cut
        shutil.rmtree(folder)


def test_garbage_in_unsynced_blocks_is_skipped_and_later_rows_kept(tmp_path: Path) -> None:
    data, ends = _build_log(tmp_path)
    log = log_path(tmp_path / f"{YEAR}.json")
    # The middle row's bytes lost to a power cut (zeros), the rows around it intact.
    log.write_bytes(data[:ends[1]] + b"\0" * (ends[2] - ends[1]) + data[ends[2]:])
    assert [r["i"] for r in fresh_rows(tmp_path)] == [0, 1, 2, 4]


def test_compaction_cut_short_at_each_step_keeps_every_row_once(tmp_path: Path) -> None:
    """Compaction is two atomic replaces: the file (under a new log name), then the log. Every state a crash can
    leave is one of these on disk: before, temp file only, new file with the old log, both new."""
    before = tmp_path / "before"
    _build_log(before)
    after = tmp_path / "after"
    shutil.copytree(before, after)
    assert logged_store(after).compact([YEAR], force=True) == [YEAR]
    expected = [0, 1, 2, 3, 4]
    assert [r["i"] for r in fresh_rows(after)] == expected
    year = f"{YEAR}.json"

    killed_in_file_write = tmp_path / "killed-writing-file"
    shutil.copytree(before, killed_in_file_write)
    (killed_in_file_write / f".{year}.abc.tmp").write_bytes((after / year).read_bytes()[:40])
    between = tmp_path / "between-steps"
    shutil.copytree(before, between)
    shutil.copy2(after / year, between / year)
    killed_in_log_write = tmp_path / "killed-writing-log"
    shutil.copytree(between, killed_in_log_write)
    (killed_in_log_write / f".{YEAR}.log.abc.tmp").write_bytes(b"0")
    for state in (before, killed_in_file_write, between, killed_in_log_write, after):
        assert [r["i"] for r in fresh_rows(state)] == expected, state.name
        store = logged_store(state)
        add(store, 5)
        assert [r["i"] for r in fresh_rows(state)] == [*expected, 5], state.name
        assert not list(state.glob(".*.tmp")), state.name  # the next writer swept the leftovers
        store.compact([YEAR], force=True)
        assert [r["i"] for r in fresh_rows(state)] == [*expected, 5], state.name


def test_readers_during_appends_and_compactions_never_miss_or_double_a_row(tmp_path: Path) -> None:
    store = logged_store(tmp_path)
    add(store, 0)
    stop = threading.Event()
    seen: list[list[int]] = []
    errors: list[BaseException] = []

    def read() -> None:
        reader = Store(tmp_path / "ita-bot.json")  # another process's view: its own cache
        try:
            while not stop.is_set():
                seen.append([r["i"] for r in rows(reader)])
        except BaseException as e:  # reported below
            errors.append(e)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for i in range(1, 120):
            add(store, i)
            if i % 7 == 0:
                store.compact([YEAR], force=True)
    finally:
        stop.set()
        thread.join()
    assert not errors
    for got in seen:
        assert got == list(range(len(got)))  # a prefix: nothing missing, nothing twice
    assert [r["i"] for r in fresh_rows(tmp_path)] == list(range(120))


def test_deferred_appends_wait_for_sync_which_compacts_long_logs(tmp_path: Path) -> None:
    store = logged_store(tmp_path)
    add(store, 0)
    with store.deferred():
        add(store, 1)
    assert YEAR in store.unsynced()
    store.sync()
    assert store.unsynced() == set()
    assert parse_log(log_path(store.path_of(YEAR)).read_bytes()).ops != []  # short: left for later
    big = "ก" * 30_000
    for i in range(2, 6):
        with store.deferred(), store.write(YEAR) as db:
            db.table("reports").insert({"i": i, "details": big})
    store.sync()  # the log outgrew its file's quarter and 64 KiB: folded in
    assert parse_log(log_path(store.path_of(YEAR)).read_bytes()).ops == []
    assert [r["i"] for r in fresh_rows(tmp_path)] == list(range(6))


def test_backup_restore_check_and_transfer_read_the_log(tmp_path: Path) -> None:
    store = logged_store(tmp_path / "data")
    for i in range(3):
        add(store, i)
    store.check()
    archive = store.backup(tmp_path / "backup.tar.gz")
    add(store, 3)  # after the backup: gone once restored, though the live log has it
    store.restore(archive)
    assert [r["i"] for r in rows(store)] == [0, 1, 2]
    assert [r["i"] for r in fresh_rows(tmp_path / "data")] == [0, 1, 2]
    add(store, 4)
    assert [r["i"] for r in fresh_rows(tmp_path / "data")] == [0, 1, 2, 4]
    snap = read_tiny(store.db_path)
    reports = next(r for r in snap.rows if r.table.label == "reports")
    assert [record["i"] for _doc, record in reports.items] == [0, 1, 2, 4]


@pytest.mark.slow  # a real process, killed again and again
def test_sigkill_while_appending_and_compacting_loses_no_acknowledged_row(tmp_path: Path) -> None:
    db_path = tmp_path / "ita-bot.json"
    for round_ in range(8):
        # Spread the kills over the phases of an append or a compaction.
        acked = acked_then_killed(db_path, 40 + 7 * round_, 0.0003 * round_, mode="append-log")
        fresh = Store(db_path, lock_timeout=5)
        fresh.check()
        stored = [r["seq"] for r in rows(fresh)]
        assert len(stored) == len(set(stored))  # nothing doubled
        assert set(acked) <= set(stored)  # nothing acknowledged lost
        with fresh.write(YEAR) as db:
            db.drop_tables()  # the restarted writer counts from 0 again
