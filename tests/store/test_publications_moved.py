"""The year pages' publication records (approvals, ITAS snapshots with their files, link checks) go wherever an
office's data goes: backup and restore, moves between TinyDB and PostgreSQL, an office's removal."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ita_bot.domain.publication import Approval, LinkCheck, PublicationRepository
from ita_bot.domain.thai import BANGKOK
from ita_bot.store.database import Store
from ita_bot.store.pg import Database, postgresql_repositories
from ita_bot.store.tiny import tinydb_repositories
from ita_bot.store.transfer import backup_office, read_tiny, remove_office
from tests.postgres import new_office
from tests.store.test_transfer import (
    databases,
    evidence_bytes,
    fill,
    migrate_cli,
    moved_tables,
    pg_snapshot,
    tree_digest,
)

AT = datetime(2025, 10, 2, 14, 30, 5, 123456, tzinfo=BANGKOK)
HTML_1 = "<!doctype html><h1>รายงานผลการดำเนินการ 2568</h1>".encode() + bytes(range(256))
PDF_1 = b"%PDF-1.7\n" + bytes(range(256)) * 100 + b"%%EOF\n"
APPROVED = Approval("นายสมชาย ใจดี", "นายกองค์การบริหารส่วนตำบลหนองเมือง", date(2025, 10, 1), "#1 สมศรี (เลขานุการ)", AT)
CHECKED = LinkCheck(AT, "https://nongmuang.go.th", "https://ita.example/reports/2568", True,
                    path=("ข้อมูลสาธารณะ (OIT)", "O43"))


def publish(pubs: PublicationRepository) -> dict[str, Any]:
    """Records of two years, in the key order the moves read them in; what each read gives back."""
    pubs.set_approval(2567, APPROVED)
    pubs.set_approval(2568, APPROVED)
    pubs.set_link_check(2568, CHECKED)
    pubs.add_snapshot(2567, taken_at=AT, taken_by="#2", html=b"<p>2567</p>", pdf=b"%PDF 2567")
    pubs.add_snapshot(2568, taken_at=AT, taken_by="#1", html=HTML_1, pdf=PDF_1)
    pubs.add_snapshot(2568, taken_at=AT, taken_by="#1", html=HTML_1 + b"\n", pdf=PDF_1 + b"\n")
    return seen(pubs)


def seen(pubs: PublicationRepository) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fy in (2567, 2568):
        out[f"{fy} approval"] = pubs.approval(fy)
        out[f"{fy} link check"] = pubs.link_check(fy)
        out[f"{fy} snapshots"] = pubs.snapshots(fy)
        for s in pubs.snapshots(fy):
            for kind in ("html", "pdf"):
                out[f"{fy}/{s.number}.{kind}"] = pubs.snapshot_file(fy, s.number, kind)  # type: ignore[arg-type]
    return out


def snapshot_bytes(folder: Path) -> dict[str, bytes]:
    root = folder / "snapshots"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- backup and restore (TinyDB) ----------------------------------------------------------------------------------


def test_a_backup_restores_the_approvals_and_snapshots_byte_exact(tmp_path: Path) -> None:
    live = tmp_path / "live"
    kept = publish(tinydb_repositories(live).publications)
    archive = Store(live / "ita-bot.json").backup(tmp_path / "backup.tar.gz")

    # Into a new folder.
    fresh = tmp_path / "fresh"
    Store(fresh / "ita-bot.json").restore(archive)
    assert seen(tinydb_repositories(fresh).publications) == kept
    assert snapshot_bytes(fresh) == snapshot_bytes(live) and len(snapshot_bytes(live)) == 6

    # Over the live folder after more was done: the backup's records, and only those, are back.
    later = tinydb_repositories(live).publications
    later.add_snapshot(2568, taken_at=AT, taken_by="#3", html=b"<p>later</p>", pdf=b"%PDF later")
    later.set_approval(2567, None)
    store = Store(live / "ita-bot.json")
    store.restore(archive)
    assert seen(tinydb_repositories(live, store=store).publications) == kept
    assert not (live / "snapshots" / "2568" / "3.html").exists()


def test_the_backup_command_carries_the_snapshots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from ita_bot import cli
    from tests.conftest import write_config

    monkeypatch.setenv("ITA_BOT_CONFIG", str(write_config(tmp_path, {})))
    monkeypatch.setenv("ITA_BOT_DB", str(tmp_path / "data" / "ita-bot.json"))
    kept = publish(tinydb_repositories(tmp_path / "data").publications)
    assert cli.main(["backup", str(tmp_path / "b.tar.gz")]) == 0
    tinydb_repositories(tmp_path / "data").publications.set_approval(2568, None)
    assert cli.main(["restore", str(tmp_path / "b.tar.gz")]) == 0
    capsys.readouterr()
    assert seen(tinydb_repositories(tmp_path / "data").publications) == kept


# -- TinyDB -> PostgreSQL -> TinyDB --------------------------------------------------------------------------------


def test_an_office_with_snapshots_moves_to_postgresql_and_back_byte_exact(
        bot: Any, postgres_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = fill(bot)
    kept = publish(tinydb_repositories(source).publications)
    before = tree_digest(source)
    office = new_office(postgres_database)

    code, out, err = migrate_cli(capsys, "--from", str(source), "--to", postgres_database, "--office", office)
    assert code == 0, err
    for label in ("publications", "snapshots", "snapshot files"):
        assert f"  {label} " in out, label
    assert tree_digest(source) == before
    db = Database(postgres_database, max_size=2)
    try:
        assert seen(postgresql_repositories(db, office).publications) == kept
    finally:
        db.close()
    with psycopg.connect(postgres_database) as conn:
        rows = conn.execute("SELECT fiscal_year, number, data, html, pdf FROM snapshots WHERE office = %s "
                            "ORDER BY fiscal_year, number", (office,)).fetchall()
    files = snapshot_bytes(source)
    assert [(r[0], r[1]) for r in rows] == [(2567, 1), (2568, 1), (2568, 2)]
    assert [r[2] for r in rows] == list(databases(source)["ita-bot"]["snapshots"].values())  # data = TinyDB's row
    assert {f"{r[0]}/{r[1]}.html": bytes(r[3]) for r in rows} == {k: v for k, v in files.items() if k.endswith("html")}
    assert {f"{r[0]}/{r[1]}.pdf": bytes(r[4]) for r in rows} == {k: v for k, v in files.items() if k.endswith("pdf")}

    back = tmp_path / "back"
    code, out, err = migrate_cli(capsys, "--from", postgres_database, "--to", str(back), "--office", office)
    assert code == 0, err
    assert moved_tables(back) == moved_tables(source)
    assert snapshot_bytes(back) == files and evidence_bytes(back) == evidence_bytes(source)
    assert read_tiny(back / "ita-bot.json").sums() == read_tiny(source / "ita-bot.json").sums()
    assert seen(tinydb_repositories(back).publications) == kept
    sums = {s.label: s for s in read_tiny(back / "ita-bot.json").sums()}
    assert sums["snapshot files"].rows == 6 and sums["snapshots"].rows == 3 and sums["publications"].rows == 3

    # A backup of the PostgreSQL office (TinyDB's archive format) restores them on TinyDB too.
    db = Database(postgres_database, max_size=2)
    try:
        archive = backup_office(db, office, tmp_path / "office.tar.gz")
    finally:
        db.close()
    restored = Store(tmp_path / "restored" / "ita-bot.json")
    restored.restore(archive)
    assert seen(tinydb_repositories(restored.folder, store=restored).publications) == kept
    assert snapshot_bytes(restored.folder) == files


def test_files_of_a_freeze_that_never_committed_are_not_moved(tmp_path: Path, postgres_database: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "data"
    kept = publish(tinydb_repositories(source).publications)
    (source / "snapshots" / "2568" / "3.html").write_bytes(b"never listed")  # as a failed commit leaves them
    office = new_office(postgres_database)
    code, out, err = migrate_cli(capsys, "--from", str(source), "--to", postgres_database, "--office", office)
    assert code == 0, err
    assert "not moved (no mapping knows them): snapshots/2568/3.html" in out
    db = Database(postgres_database, max_size=2)
    try:
        assert seen(postgresql_repositories(db, office).publications) == kept
    finally:
        db.close()


def test_a_snapshot_file_changed_by_hand_stops_the_move(tmp_path: Path, postgres_database: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "data"
    publish(tinydb_repositories(source).publications)
    (source / "snapshots" / "2568" / "1.pdf").write_bytes(b"edited")
    office = new_office(postgres_database)
    code, _, err = migrate_cli(capsys, "--from", str(source), "--to", postgres_database, "--office", office)
    assert code == 2 and "does not match its record's checksum" in err
    assert pg_snapshot(postgres_database, office).sums() == []


# -- PostgreSQL: removal, health, never changed ------------------------------------------------------------------


def test_removing_an_office_deletes_its_publication_rows_only(postgres_database: str) -> None:
    db = Database(postgres_database, max_size=2)
    try:
        gone, stays = new_office(postgres_database), new_office(postgres_database)
        kept = publish(postgresql_repositories(db, stays).publications)
        publish(postgresql_repositories(db, gone).publications)
        assert remove_office(db, gone) >= 6
        assert seen(postgresql_repositories(db, gone).publications) == {
            "2567 approval": None, "2567 link check": None, "2567 snapshots": [],
            "2568 approval": None, "2568 link check": None, "2568 snapshots": []}
        assert seen(postgresql_repositories(db, stays).publications) == kept
    finally:
        db.close()


def test_a_snapshot_row_is_never_updated_and_a_damaged_one_fails_the_check(postgres_database: str) -> None:
    from ita_bot.domain.inbox import StorageError

    db = Database(postgres_database, max_size=2)
    try:
        office = new_office(postgres_database)
        repos = postgresql_repositories(db, office)
        publish(repos.publications)
        repos.health.check()
        with psycopg.connect(postgres_database) as conn, pytest.raises(psycopg.errors.RaiseException,
                                                                       match="never changed"):
            conn.execute("UPDATE snapshots SET pdf = 'x' WHERE office = %s", (office,))
        with psycopg.connect(postgres_database) as conn:
            conn.execute("SET session_replication_role = replica")  # triggers off, for this connection only
            conn.execute("UPDATE snapshots SET pdf = 'x' WHERE office = %s AND number = 2", (office,))
        with pytest.raises(StorageError, match="do not match their checksums"):
            repos.health.check()
        with pytest.raises(StorageError, match="damaged"):
            repos.publications.snapshot_file(2568, 2, "pdf")
    finally:
        db.close()


def test_on_tinydb_the_check_finds_a_snapshot_file_changed_by_hand(tmp_path: Path) -> None:
    from ita_bot.domain.inbox import StorageError

    repos = tinydb_repositories(tmp_path)
    publish(repos.publications)
    repos.health.check()
    path = tmp_path / "snapshots" / "2568" / "2.html"
    path.write_bytes(b"edited")
    with pytest.raises(StorageError, match="damaged"):
        repos.health.check()
    assert hashlib.sha256(path.read_bytes()).hexdigest() != repos.publications.snapshots(2568)[1].sha256
