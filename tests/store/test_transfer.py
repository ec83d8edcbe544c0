"""Moving an office between a TinyDB data folder and PostgreSQL (`bot.py migrate --from/--to`), record for record,
and per-office backups that restore on either backend."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ita_bot import cli
from ita_bot.domain.actions import VIA_CLI, Actor, ManagerActions
from ita_bot.domain.config import DocumentSettings
from ita_bot.domain.menu_state import MenuState
from ita_bot.domain.notices import Notice
from ita_bot.domain.plan_book import Change
from ita_bot.domain.progress import Report
from ita_bot.domain.thai import BANGKOK
from ita_bot.store.database import Store, load_database
from ita_bot.store.pg.database import Database
from ita_bot.store.transfer import (
    DROPPED_TINY,
    MAPPING,
    Snapshot,
    backup_office,
    read_postgresql,
    read_tiny,
    restore_office,
)
from tests.conftest import CHAIR, MEMBER, PLAN_2564, STAFF_SP, STRANGER
from tests.postgres import new_office

# -- an office with real data ----------------------------------------------------------------------------------


def fill(bot: Any) -> Path:
    """Use the office as people would (chat and the managers' actions), plus the stores the clock and the console
    keep, so every mapped table has rows; the data folder, with the bot stopped."""
    office = bot.office
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    bot.send("/รายงาน 1 กำลังทำ 40% จัดประชุม", user=STAFF_SP)
    bot.send("/แก้ไข จัดประชุมครบทุกหมู่บ้าน", user=STAFF_SP)
    bot.send_file("ผลการดำเนินงาน.pdf", user=STAFF_SP)
    bot.send_image(user=STAFF_SP)
    bot.advance(minutes=5)
    bot.send("/รายงาน 4 เสร็จแล้ว 100% ครบถ้วน", user=STAFF_SP)
    bot.advance(minutes=5)
    bot.send("/ถอนรายงาน", user=STAFF_SP)
    actions = ManagerActions(office, Actor.of(office, CHAIR, VIA_CLI), bot.now)
    code = actions.issue_code("member")
    actions.issue_code("assistant_secretary")
    third = actions.issue_code("member")
    actions.revoke_code(max(c.number for c in actions.open_codes() if c.role == "member"))
    assert third  # revoked: its number stays taken
    bot.send(f"/รหัส {code}", user=MEMBER)
    bot.send("/รหัส 999999", user=STRANGER)  # a failed claim
    actions.sign_in_link()  # sign-in state: not moved
    cycle = office.calendar().next_meetings(bot.now.date(), 1)[0]
    office.set_meeting(cycle.id, cycle.meeting + timedelta(days=1), CHAIR, bot.now)
    office.set_documents(DocumentSettings(office="อบต.หนองเมือง", signer_name="นายทดสอบ"), CHAIR, bot.now)
    repos = office.repositories
    repos.settings.set_setting("example", {"list": [1, 2.5, "ไทย"], "none": None})
    repos.menus.put(MenuState("richmenu-staff", "richmenu-managers", (CHAIR,)))
    repos.notices.post(Notice("n1", "no_plan", "ยังไม่มีแผน", bot.now.isoformat(), 2565), "no_plan:2565")
    with repos.sent_log.hold("reminder:2021-02") as held:
        held.put({"state": "sent", "at": bot.now.isoformat()})
    with repos.slots.hold("2021-02-22T09:00/reminder") as held:
        held.put({"state": "done"})
    text = PLAN_2564.read_text(encoding="utf-8") + "\n# แก้ไขแล้ว\n"
    before = office.plans.get(2564)
    repos.plans.save(text, Change(bot.now.isoformat(), "ทดสอบ", 2564, "all", "", "x", "", "v2", note="ทดลอง"))
    assert before is not None
    repos.reports.add(Report(fiscal_year=2565, measure=1, division="sp", status="doing", percent=10, details="ปีหน้า",
                             reported_at=datetime(2021, 10, 5, 9, 0, tzinfo=BANGKOK),
                             sent_at=datetime(2021, 10, 5, 9, 0, tzinfo=BANGKOK)))
    bot.wait_idle()
    folder = Path(bot.config.db_path).parent
    bot.close()
    return folder


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its bytes' sha256 (and its mtime: a move must not touch the source)."""
    return {p.relative_to(folder).as_posix(): f"{hashlib.sha256(p.read_bytes()).hexdigest()} {p.stat().st_mtime_ns}"
            for p in sorted(folder.rglob("*")) if p.is_file()}


def migrate_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["migrate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def databases(folder: Path) -> dict[str, dict[str, dict[str, Any]]]:
    return {p.stem: load_database(p).tables for p in sorted(folder.glob("*.json"))}  # a file with its row log


def moved_tables(folder: Path) -> dict[str, Any]:
    """The data folder's tables a move carries, as stored (document ids and all); settings compared as a set. A
    table with no records is no table (an export writes only tables with records)."""
    out: dict[str, Any] = {}
    dropped = {k.replace("main/", "ita-bot/") for k in DROPPED_TINY}
    for name, tables in databases(folder).items():
        for table, docs in tables.items():
            if f"{name}/{table}" in dropped or not docs:
                continue
            out[f"{name}/{table}"] = sorted(json.dumps(d, sort_keys=True, ensure_ascii=False) for d in docs.values()) \
                if table == "settings" else docs
    return out


def evidence_bytes(folder: Path) -> dict[str, bytes]:
    root = folder / "evidence"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def source(bot: Any) -> Path:
    return fill(bot)


def pg_snapshot(url: str, office: str) -> Snapshot:
    db = Database(url, max_size=1)
    try:
        with db.transaction() as conn:
            return read_postgresql(conn, office)
    finally:
        db.close()


# -- the round trip --------------------------------------------------------------------------------------------


def test_an_office_moves_to_postgresql_and_back_record_for_record(
        source: Path, postgres_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    office = new_office(postgres_database)
    before = tree_digest(source)
    assert (source / "evidence").is_dir() and len(evidence_bytes(source)) == 2

    code, out, err = migrate_cli(capsys, "--from", str(source), "--to", postgres_database, "--office", office)
    assert code == 0, err
    assert tree_digest(source) == before  # the source is not changed (no lock file either)
    for label in ("people", "role codes", "failed code claims", "counters", "audit", "menu state", "settings",
                  "meetings", "memo header", "notices", "plan changes", "sent log", "clock slots", "reports 2564",
                  "reports 2565", "saved plans", "evidence files"):
        assert f"  {label} " in out, label
    assert "verified" in out and "sign-in links 1" in out and "inbox events" in out

    # Rows in: each PostgreSQL row's data is the TinyDB record, its key columns copied out of it.
    main = databases(source)["ita-bot"]
    with psycopg.connect(postgres_database) as conn:
        people = conn.execute("SELECT user_id, handle, data FROM people WHERE office = %s ORDER BY seq",
                              (office,)).fetchall()
        assert [p[2] for p in people] == list(main["people"].values())
        assert [(p[0], p[1]) for p in people] == [(r["user_id"], r["handle"]) for r in main["people"].values()]
        codes = conn.execute("SELECT number, hash, data FROM role_codes WHERE office = %s ORDER BY number",
                             (office,)).fetchall()
        assert [(c[0], c[1], c[2]) for c in codes] == [(int(k), r["hash"], r) for k, r in main["codes"].items()]
        reports = conn.execute("SELECT fiscal_year, id, withdrawn, data FROM reports WHERE office = %s"
                               " ORDER BY fiscal_year, seq", (office,)).fetchall()
        assert [r[3] for r in reports if r[0] == 2564] == list(databases(source)["reports-2564"]["reports"].values())
        assert [r[2] for r in reports] == [r[3]["withdrawn_at"] is not None for r in reports]
        assert any(r[2] for r in reports)
        menu = conn.execute("SELECT data FROM menu_state WHERE office = %s", (office,)).fetchone()
        assert menu is not None and menu[0] == {"staff": "richmenu-staff", "managers": "richmenu-managers",
                                                "linked": [CHAIR]}
        plan = conn.execute("SELECT text, version FROM plans WHERE office = %s", (office,)).fetchone()
        saved = (source / "plans" / "2564.toml").read_bytes()
        assert plan is not None and plan[0].encode() == saved and plan[1] == hashlib.sha256(saved).hexdigest()
        kept = dict(conn.execute("SELECT name, content FROM evidence WHERE office = %s", (office,)).fetchall())
        assert {n: bytes(b) for n, b in kept.items()} == evidence_bytes(source)
        assert conn.execute("SELECT count(*) FROM signin_links WHERE office = %s", (office,)).fetchone() == (0,)

    # Rows out, into an empty folder: the same records, the same evidence bytes.
    back = tmp_path / "back"
    back.mkdir()  # an empty folder is fine
    code, out, err = migrate_cli(capsys, "--from", postgres_database, "--to", str(back / "ita-bot.json"),
                                 "--office", office)
    assert code == 0, err
    assert moved_tables(back) == moved_tables(source)
    assert evidence_bytes(back) == evidence_bytes(source)
    assert (back / "plans" / "2564.toml").read_bytes() == (source / "plans" / "2564.toml").read_bytes()
    assert read_tiny(back / "ita-bot.json").sums() == read_tiny(source / "ita-bot.json").sums()
    assert not list(tmp_path.glob(".back.moving-*"))  # the staging folder is gone


def test_the_moved_folder_is_an_office_the_bot_runs_on(source: Path, postgres_database: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    office = new_office(postgres_database)
    assert migrate_cli(capsys, "--from", str(source / "ita-bot.json"), "--to", postgres_database, "--office",
                       office)[0] == 0
    back = tmp_path / "again"
    assert migrate_cli(capsys, "--from", postgres_database, "--to", str(back), "--office", office)[0] == 0
    store = Store(back / "ita-bot.json")
    store.check()
    from ita_bot.store.tiny import tinydb_repositories

    repos = tinydb_repositories(back, store=store)
    with repos.people.read() as people:
        assert [c.number for c in people.codes()] == [1, 2]  # the revoked third is gone, its number unused
    assert [r.details for r in repos.reports.of_year(2564)] == ["จัดประชุมครบทุกหมู่บ้าน"]
    assert repos.menus.get() == MenuState("richmenu-staff", "richmenu-managers", (CHAIR,))
    assert repos.settings.meetings() and repos.settings.memo_header()["signer_name"] == "นายทดสอบ"
    assert [c.note for c in repos.plans.changes()] == ["ทดลอง"]


# -- refusals --------------------------------------------------------------------------------------------------


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_refused_when_the_destination_office_or_folder_holds_data(
        source: Path, postgres_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    office = new_office(postgres_database)
    assert migrate_cli(capsys, "--from", str(source), "--to", postgres_database, "--office", office)[0] == 0
    before = pg_snapshot(postgres_database, office).sums()
    code, out, err = migrate_cli(capsys, "--from", str(source), "--to", postgres_database, "--office", office)
    assert code == 2 and "already holds data" in one_line(err) and out == ""
    assert pg_snapshot(postgres_database, office).sums() == before  # nothing added twice

    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("someone's", encoding="utf-8")
    code, _, err = migrate_cli(capsys, "--from", postgres_database, "--to", str(taken), "--office", office)
    assert code == 2 and "already holds data" in one_line(err)
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]

    code, _, err = migrate_cli(capsys, "--from", str(source), "--to", str(tmp_path / "elsewhere"))
    assert code == 2 and "postgresql:// URL" in one_line(err)
    code, _, err = migrate_cli(capsys, "--from", postgres_database, "--to", str(tmp_path / "x"), "--office", "nope")
    assert code == 2 and "no office 'nope'" in one_line(err)
    assert not (tmp_path / "x").exists()


def test_refused_when_the_database_is_not_migrated_or_not_reachable(
        source: Path, empty_postgres_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree_digest(source)
    code, _, err = migrate_cli(capsys, "--from", str(source), "--to", empty_postgres_database)
    assert code == 2 and "run `python bot.py migrate`" in one_line(err)
    with psycopg.connect(empty_postgres_database) as conn:  # nothing was created there
        assert conn.execute("SELECT to_regclass('offices')").fetchone() == (None,)
    code, _, err = migrate_cli(capsys, "--from", str(source), "--to", "postgresql://someone:s3cret@127.0.0.1:1/x")
    assert code == 2 and "cannot be reached" in one_line(err) and "s3cret" not in err
    assert tree_digest(source) == before


def test_a_copy_that_fails_midway_keeps_nothing(source: Path, postgres_database: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A record PostgreSQL refuses (jsonb has no NUL character) fails the move as one transaction."""
    office = new_office(postgres_database)
    store = Store(source / "ita-bot.json")
    with store.write() as db:
        db.table("settings").insert({"key": "odd", "value": "a\u0000b"})
    code, _, err = migrate_cli(capsys, "--from", str(source), "--to", postgres_database, "--office", office)
    assert code == 2 and "nothing was kept" in one_line(err)
    assert pg_snapshot(postgres_database, office).sums() == []


# -- per-office backups that move between backends --------------------------------------------------------------


def test_a_backup_taken_on_postgresql_restores_on_tinydb_and_back(source: Path, postgres_database: str,
                                                                  tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    office = new_office(postgres_database)
    assert migrate_cli(capsys, "--from", str(source), "--to", postgres_database, "--office", office)[0] == 0
    db = Database(postgres_database, max_size=2)
    try:
        (tmp_path / "backups").mkdir()
        archive = backup_office(db, office, tmp_path / "backups", now=datetime(2021, 3, 1, 10, 0))
        assert archive.name == "backup-20210301-100000.tar.gz" and not list((tmp_path / "backups").glob(".*"))

        restored = Store(tmp_path / "tiny" / "ita-bot.json")
        restored.restore(archive)  # the TinyDB restore, unchanged
        assert moved_tables(restored.folder) == moved_tables(source)
        assert evidence_bytes(restored.folder) == evidence_bytes(source)

        # A TinyDB backup restores into a PostgreSQL office that held other data: replaced, in one transaction.
        tiny_archive = Store(source / "ita-bot.json").backup(tmp_path / "tiny.tar.gz")
        other = new_office(postgres_database)
        with db.transaction() as conn:
            conn.execute("INSERT INTO meetings (office, cycle, data) VALUES (%s, 'x', '{\"cycle\": \"x\"}')", (other,))
            conn.execute("INSERT INTO heartbeats (office, name, data) VALUES (%s, 'clock', '{}')", (other,))
        restore_office(db, other, tiny_archive)
        assert pg_snapshot(postgres_database, other).sums() == read_tiny(source / "ita-bot.json").sums()
        assert pg_snapshot(postgres_database, other).dropped == {"heartbeats": 1}  # process state kept
    finally:
        db.close()


def test_backup_and_restore_commands_on_postgresql(source: Path, fresh_postgres_database: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import write_config

    monkeypatch.setenv("ITA_BOT_CONFIG", str(write_config(tmp_path, {})))
    monkeypatch.setenv("ITA_BOT_DB", str(tmp_path / "pgdata" / "ita-bot.json"))
    monkeypatch.setenv("ITA_BOT_DATABASE_URL", fresh_postgres_database)
    assert migrate_cli(capsys, "--from", str(source), "--to", fresh_postgres_database)[0] == 0  # the "default" office
    archive = tmp_path / "office.tar.gz"
    assert cli.main(["backup", str(archive)]) == 0
    assert "backup written" in capsys.readouterr().out
    with psycopg.connect(fresh_postgres_database) as conn:
        conn.execute("DELETE FROM notices WHERE office = 'default'")
    assert cli.main(["restore", str(archive)]) == 0
    assert "restored office default" in capsys.readouterr().out
    assert pg_snapshot(fresh_postgres_database, "default").sums() == read_tiny(source / "ita-bot.json").sums()


def test_every_mapping_names_a_table_of_the_schema(postgres_database: str) -> None:
    with psycopg.connect(postgres_database) as conn:
        for table in MAPPING:
            columns = {r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table.pg,))}
            wanted = {"office", *(c for c, _ in table.columns()), *(["data"] if table.data else [])}
            assert wanted <= columns, (table.pg, wanted - columns)

