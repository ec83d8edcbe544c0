"""The command line as an operator runs it: check, invite, backup/restore, and clear errors."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import time
from datetime import datetime
from pathlib import Path

import pytest

from ita_bot.domain.config import load_config
from ita_bot.domain.progress import Report
from ita_bot.domain.thai import BANGKOK
from ita_bot.store import open_office
from ita_bot.store.database import load_database
from tests.conftest import ROOT, write_config
from tests.processes import stop_process
from tests.tiny import tiny_store

pytestmark = pytest.mark.slow  # every test runs `bot.py` (or gunicorn) as a process


def run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "bot.py", *args], cwd=ROOT, env={**os.environ, **env},
        capture_output=True, text=True, timeout=timeout, check=False,
    )


def _env(tmp_path: Path, **sections: dict) -> dict[str, str]:
    config = write_config(tmp_path, sections)
    return {"ITA_BOT_CONFIG": str(config), "ITA_BOT_DB": str(tmp_path / "db" / "ita-bot.json")}


#: A moment inside fiscal year 2564, the shipped plan's year: `check` passes only when the current year has a plan.
IN_2564 = ["--now", "2021-02-15T10:00"]


def test_check_prints_next_meetings_with_job_times(tmp_path: Path) -> None:
    result = run(["check", *IN_2564], _env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "problem:" not in result.stderr and "warning:" not in result.stderr
    out = result.stdout
    assert "2564.toml" in out and "องค์การบริหารส่วนตำบลหนองเมือง" in out
    assert "2564 — องค์การบริหารส่วนตำบลหนองเมือง: 4 measures, 4 divisions (shipped with the bot:" in out
    assert "cycle 2021-02: meeting 25 ก.พ. 2564" in out  # as of --now, not today
    assert out.count("cycle ") == 3
    assert out.count("reminder ") == 6 and out.count("digest ") == 3 and out.count("summary ") == 3


def test_check_reports_a_bad_config_clearly(tmp_path: Path) -> None:
    result = run(["check"], _env(tmp_path, schedule={"reminder_time": "nine"}))
    assert result.returncode == 2
    assert "[schedule] reminder_time" in result.stderr
    assert "Traceback" not in result.stderr


def problems(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [ln.removeprefix("problem: ") for ln in result.stderr.splitlines() if ln.startswith("problem: ")]


def test_check_names_placeholder_or_missing_credentials_and_exits_1(tmp_path: Path) -> None:
    for secret in ("CHANGE-ME", ""):
        result = run(["check", *IN_2564], _env(tmp_path, line={"channel_secret": secret}))
        assert result.returncode == 1, result.stderr
        [problem] = problems(result)
        assert problem.startswith("LINE credentials:") and "LINE_CHANNEL_SECRET" in problem
        assert "check: 1 problem(s) to fix before going live" in result.stderr
        assert "Traceback" not in result.stderr
    # The environment file's credentials count as set (they override the config's placeholder).
    env = {**_env(tmp_path, line={"channel_secret": "CHANGE-ME"}), "LINE_CHANNEL_SECRET": "a-real-secret"}
    assert run(["check", *IN_2564], env).returncode == 0


def test_check_names_a_base_url_that_is_not_https(tmp_path: Path) -> None:
    result = run(["check", *IN_2564], _env(tmp_path, web={"base_url": "http://ita.example.go.th"}))
    assert result.returncode == 1
    [problem] = problems(result)
    assert problem.startswith("[web] base_url 'http://ita.example.go.th' is not https")


def test_check_names_a_current_fiscal_year_without_a_plan(tmp_path: Path) -> None:
    # 6 Dec 2026 is in fiscal year 2570 (from 1 Oct 2026); only the 2564 plan exists.
    result = run(["check", "--now", "2026-12-06T10:00"], _env(tmp_path))
    assert result.returncode == 1
    [problem] = problems(result)
    assert problem.startswith("fiscal year 2570 (now) has no plan") and "plan new 2570" in problem
    # 30 Sep 2021 is still 2564 (with the plan); only the coming year is mentioned, as a note, not a problem.
    result = run(["check", "--now", "2021-09-30T10:00"], _env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "note:   the coming fiscal year 2565 (from 1 October) has no plan yet" in result.stdout


def test_check_names_every_problem_at_once(tmp_path: Path) -> None:
    env = _env(tmp_path, line={"channel_access_token": "CHANGE-ME"}, web={"base_url": "http://localhost:8000"})
    result = run(["check", "--now", "2026-12-06T10:00"], env)
    assert result.returncode == 1
    assert [p.split(" ")[0] for p in problems(result)] == ["LINE", "[web]", "fiscal"]
    assert "check: 3 problem(s) to fix before going live" in result.stderr
    assert "cycle 2026-12" in result.stdout  # the listing is still printed in full


def test_check_warns_about_a_data_folder_inside_the_checkout_and_labels_the_shipped_plan(tmp_path: Path) -> None:
    from ita_bot.cli import preflight_warnings

    inside = load_config(write_config(tmp_path, {}), {"ITA_BOT_DB": str(ROOT / "storage" / "ita-bot.json")})
    [warning] = preflight_warnings(inside)
    assert "inside the checkout" in warning and "ITA_BOT_DB" in warning
    assert preflight_warnings(load_config(write_config(tmp_path, {}), {"ITA_BOT_DB": str(tmp_path / "x.json")})) == []

    # The default layout copied out of the checkout: data folder storage/, so its plans/ is the shipped folder.
    storage = tmp_path / "copy" / "storage"
    (storage / "plans").mkdir(parents=True)
    (storage / "plans" / "2564.toml").write_bytes((ROOT / "storage" / "plans" / "2564.toml").read_bytes())
    config = write_config(tmp_path / "copy", {"organization": {"plan": str(storage / "plans" / "2564.toml")}})
    result = run(["check", *IN_2564], {"ITA_BOT_CONFIG": str(config), "ITA_BOT_DB": str(storage / "ita-bot.json")})
    assert result.returncode == 0, result.stderr
    assert f"(shipped with the bot: {storage / 'plans' / '2564.toml'})" in result.stdout


def test_invite_prints_a_code_that_claims_the_role(tmp_path: Path) -> None:
    env = _env(tmp_path)
    result = run(["invite", "secretary"], env)
    assert result.returncode == 0, result.stderr
    code = result.stdout.split("/รหัส ")[1].split()[0]
    assert len(code) >= 8
    office = open_office(load_config(env["ITA_BOT_CONFIG"], env))
    uid = "U" + "7" * 32
    assert office.people.claim_code(code, uid, datetime.now(BANGKOK)) == "secretary"
    assert office.is_manager(uid)


def test_backup_and_restore_round_trip(tmp_path: Path) -> None:
    env = _env(tmp_path)
    office = open_office(load_config(env["ITA_BOT_CONFIG"], env))
    when = datetime(2021, 2, 10, 10, tzinfo=BANGKOK)
    office.reports.add(Report(2564, 1, "sp", "doing", 50, "ก่อนสำรอง", when, when))
    archive = tmp_path / "backup.tar.gz"
    result = run(["backup", str(archive)], env)
    assert result.returncode == 0, result.stderr
    assert archive.exists()
    office.reports.add(Report(2564, 2, "sp", "doing", 10, "หลังสำรอง", when, when))
    assert len(office.reports.all(2564)) == 2
    result = run(["restore", str(archive)], env)
    assert result.returncode == 0, result.stderr
    assert [r.details for r in office.reports.all(2564)] == ["ก่อนสำรอง"]


def test_restore_of_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run(["restore", str(tmp_path / "nope.tar.gz")], _env(tmp_path))
    assert result.returncode == 2
    assert "error:" in result.stderr and "Traceback" not in result.stderr


# -- backup never overwrites by accident, and never the store's own files ---------------------------------------


def test_backup_refuses_an_existing_destination_unless_forced(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert run(["check", *IN_2564], env).returncode == 0
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me", encoding="utf-8")
    result = run(["backup", str(existing)], env)
    assert result.returncode == 2
    assert "--force" in result.stderr and "Traceback" not in result.stderr
    assert existing.read_text(encoding="utf-8") == "keep me"
    result = run(["backup", "--force", str(existing)], env)
    assert result.returncode == 0, result.stderr
    assert existing.read_bytes()[:2] == b"\x1f\x8b"  # now a gzip archive, as asked


def test_backup_never_writes_over_the_store_or_the_config(tmp_path: Path) -> None:
    env = _env(tmp_path)
    office = open_office(load_config(env["ITA_BOT_CONFIG"], env))
    when = datetime(2021, 2, 10, 10, tzinfo=BANGKOK)
    office.reports.add(Report(2564, 1, "sp", "doing", 50, "ข้อมูลจริง", when, when))
    data = Path(env["ITA_BOT_DB"]).parent
    (data / "evidence").mkdir(exist_ok=True)
    link = tmp_path / "innocent.tar.gz"
    link.symlink_to(env["ITA_BOT_DB"])
    before = {p: p.read_bytes() for p in [*data.rglob("*"), Path(env["ITA_BOT_CONFIG"])] if p.is_file()}
    targets = [env["ITA_BOT_DB"], env["ITA_BOT_CONFIG"], str(data), str(data / "evidence"),
               str(data / "new.tar.gz"), str(data / "reports-2564.json"), str(link)]
    for target in targets:
        for force in ([], ["--force"]):
            result = run(["backup", *force, target], env)
            assert result.returncode == 2, (target, force, result.stdout)
            assert "error:" in result.stderr and "Traceback" not in result.stderr, result.stderr
    after = {p: p.read_bytes() for p in [*data.rglob("*"), Path(env["ITA_BOT_CONFIG"])] if p.is_file()}
    assert after == before
    assert [r.details for r in office.reports.all(2564)] == ["ข้อมูลจริง"]
    # The bot's own backups folder (the default) is still where backups go.
    result = run(["backup"], env)
    assert result.returncode == 0, result.stderr
    assert len(list((data / "backups").glob("backup-*.tar.gz"))) == 1


# -- operator mistakes end in one clear line, never a traceback -------------------------------------------------


def assert_one_clear_line(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, result.stderr


def test_unusable_backup_and_data_paths_are_one_clear_line(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert run(["check", *IN_2564], env).returncode == 0
    assert_one_clear_line(run(["backup", "/etc/hostname/x.tar.gz"], env))
    # The default backups folder cannot be created (a file is in its place).
    (Path(env["ITA_BOT_DB"]).parent / "backups").write_text("not a folder", encoding="utf-8")
    assert_one_clear_line(run(["backup"], env))
    # A data folder that cannot exist.
    bad = {**env, "ITA_BOT_DB": "/proc/x/db.json"}
    for command in (["check"], ["backup"], ["invite", "member"], ["restore", str(tmp_path / "none.tar.gz")]):
        result = run(command, bad)
        assert_one_clear_line(result)
        assert "/proc/x" in result.stderr


def test_the_web_process_with_bad_settings_is_one_clear_line(tmp_path: Path) -> None:
    from tests.scenarios.test_front import GUNICORN, free_port

    if not GUNICORN.exists():
        import pytest

        pytest.skip("gunicorn is not installed in this environment")
    base = {**os.environ, **_env(tmp_path), "PORT": str(free_port())}
    cases = [("WEB_CONCURRENCY", "abc", "WEB_CONCURRENCY"), ("GUNICORN_THREADS", "0", "GUNICORN_THREADS"),
             ("PORT", "http", "PORT"), ("ITA_BOT_DB", "/proc/x/db.json", "/proc/x")]
    for key, value, named in cases:
        # The checked launcher, and gunicorn with its config file directly (as the Procfile runs it).
        for argv in ([sys.executable, "bot.py", "web"], [str(GUNICORN), "-c", "gunicorn.conf.py", "bot:app"]):
            if key == "WEB_CONCURRENCY" and argv[0] == str(GUNICORN):
                continue  # gunicorn parses WEB_CONCURRENCY itself before any config: why `bot.py web` checks first
            result = subprocess.run(argv, cwd=ROOT, env={**base, key: value}, capture_output=True, text=True,
                                    timeout=60, check=False)
            assert_one_clear_line(result)
            assert named in result.stderr, (argv, result.stderr)


# -- restore checks the whole archive's shape and replaces nothing until everything is staged ------------------


def _tar(members: list[tarfile.TarInfo | tuple[str, bytes]], databases: list[str] | None = None) -> bytes:
    """A gzip tar of these members plus a manifest that lists every file with its right checksum (a crafted
    archive passes the checksum test: only its shape can betray it)."""
    files = {m[0]: m[1] for m in members if isinstance(m, tuple)}
    listed = {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)} for n, d in files.items()}
    manifest = {"format": "ita-bot-backup", "version": 1, "schema": 1, "created": "x",
                "databases": ["main"] if databases is None else databases, "files": listed}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for m in [*members, ("manifest.json", json.dumps(manifest).encode())]:
            if isinstance(m, tarfile.TarInfo):
                tar.addfile(m)
                continue
            info = tarfile.TarInfo(m[0])
            info.size = len(m[1])
            tar.addfile(info, io.BytesIO(m[1]))
    return buffer.getvalue()


def _special(name: str, kind: bytes, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def test_restore_refuses_a_crafted_archive_and_leaves_the_live_data_untouched(tmp_path: Path) -> None:
    env = _env(tmp_path)
    office = open_office(load_config(env["ITA_BOT_CONFIG"], env))
    when = datetime(2021, 2, 10, 10, tzinfo=BANGKOK)
    office.reports.add(Report(2564, 1, "sp", "doing", 50, "ข้อมูลจริง", when, when))
    data = Path(env["ITA_BOT_DB"]).parent
    office.repositories.evidence.save("2564/1.jpg", b"\xff\xd8 photo")
    tiny_store(office).write_file(data / "journal" / "done" / "e1.json", b"{}")

    def snapshot() -> dict[str, bytes | str]:
        return {str(p.relative_to(data)): p.read_bytes() if p.is_file() else "dir"
                for p in sorted(data.rglob("*")) if p.suffix != ".lock" and "backups" not in p.parts}

    before = snapshot()
    before_year = load_database(data / "reports-2564.json").tables
    db = ("db/main.json", b'{"_meta":{"schema":1},"_default":{"1":{"restored":true}}}')
    reports = ("db/reports-2564.json", b'{"_meta":{"schema":1}}')
    crafted = {
        "journal and evidence as plain files": _tar([db, ("journal", b"x"), ("evidence", b"y")]),
        "evidence a file, after valid databases": _tar([db, reports, ("evidence", b"y")], ["main", "reports-2564"]),
        "a file where a folder is needed": _tar([db, ("evidence/a", b"1"), ("evidence/a/b", b"2")]),
        "a symlink": _tar([db, _special("evidence/x", tarfile.SYMTYPE, "/etc/passwd")]),
        "a hard link": _tar([db, ("evidence/x", b"1"), _special("evidence/y", tarfile.LNKTYPE, "evidence/x")]),
        "a fifo": _tar([db, _special("journal/p", tarfile.FIFOTYPE)]),
        "a folder outside": _tar([db, _special("../up", tarfile.DIRTYPE)]),
        "traversal inside a name": _tar([db, ("evidence/../db/main.json", b"{}")]),
        "a database in a subfolder": _tar([db, ("db/sub/main.json", b"{}")]),
        "a database as a folder": _tar([_special("db/main.json", tarfile.DIRTYPE), ("db/x.json", b"{}")], []),
    }
    for label, archive in crafted.items():
        path = tmp_path / "crafted.tar.gz"
        path.write_bytes(archive)
        result = run(["restore", str(path)], env)
        assert result.returncode == 2, (label, result.stdout)
        assert "error:" in result.stderr and "Traceback" not in result.stderr, (label, result.stderr)
        assert snapshot() == before, label
        assert not [p for p in data.iterdir() if p.name.startswith(".restore")], label
    assert [r.details for r in office.reports.all(2564)] == ["ข้อมูลจริง"]
    # A real backup still restores.
    archive = tmp_path / "real.tar.gz"
    assert run(["backup", str(archive)], env).returncode == 0
    assert run(["restore", str(archive)], env).returncode == 0
    # A backup holds each database whole (a report year's row log folded into its file): the year comes back as
    # the same data in one file; every other file comes back byte for byte.
    year = "reports-2564.json"
    restored = snapshot()
    assert {k: v for k, v in restored.items() if k != year} == {k: v for k, v in before.items() if k != year}
    assert load_database(data / year).tables == before_year


def _with_plans(archive: Path, plans: dict[str, bytes], out: Path) -> Path:
    """A copy of ``archive`` whose plans/ holds exactly ``plans``, its manifest matching."""
    with tarfile.open(archive) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    files = {k: v for k, v in files.items() if not k.startswith("plans/")} | plans
    manifest = json.loads(files.pop("manifest.json"))
    manifest["files"] = {k: {"sha256": hashlib.sha256(v).hexdigest(), "size": len(v)} for k, v in files.items()}
    files["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(out, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def test_restore_refuses_a_plan_the_bot_could_not_use_and_changes_nothing(tmp_path: Path) -> None:
    """A broken, misnamed or non-UTF-8 plan in a backup is refused with a clear message, and nothing is restored."""
    env = _env(tmp_path)
    office = open_office(load_config(env["ITA_BOT_CONFIG"], env))
    shipped = (ROOT / "storage" / "plans" / "2564.toml").read_bytes()
    tiny_store(office).write_file(tiny_store(office).plans_dir / "2564.toml", shipped)
    archive = tmp_path / "backup.tar.gz"
    assert run(["backup", str(archive)], env).returncode == 0
    when = datetime(2021, 2, 10, 10, tzinfo=BANGKOK)
    office.reports.add(Report(2564, 1, "sp", "doing", 50, "หลังสำรอง", when, when))

    broken = {
        "broken": {"plans/2564.toml": shipped.replace(b"[organization]", b"[organization", 1)},
        "misnamed": {"plans/2565.toml": shipped},
        "not-utf8": {"plans/2564.toml": shipped + "\n# หมายเหตุ\n".encode("cp874")},
    }
    for name, plans in broken.items():
        bad = _with_plans(archive, plans, tmp_path / f"{name}.tar.gz")
        result = run(["restore", str(bad)], env)
        assert result.returncode == 2, (name, result.stdout, result.stderr)
        assert "nothing was restored" in result.stderr and "Traceback" not in result.stderr, name
        assert [r.details for r in office.reports.all(2564)] == ["หลังสำรอง"], name  # the live data is untouched
        assert (tiny_store(office).plans_dir / "2564.toml").read_bytes() == shipped, name
        assert not (tiny_store(office).plans_dir / "2565.toml").exists(), name

    good = _with_plans(archive, {"plans/2564.toml": shipped}, tmp_path / "good.tar.gz")
    assert run(["restore", str(good)], env).returncode == 0
    assert office.reports.all(2564) == []


def test_serve_listens_on_loopback_only(tmp_path: Path) -> None:
    """The development server is reachable from this machine only, never from another address (the office LAN)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "bot.py", "serve"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **_env(tmp_path), "PORT": str(port)})
    try:
        deadline = time.monotonic() + 30
        while True:  # a process start has no event to wait on: poll, bounded
            assert proc.poll() is None, log.read_text(errors="replace")[-2000:]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
                time.sleep(0.1)
        # 127.0.0.2 is this machine too, but not the address the server is bound to: a 0.0.0.0 bind answers it.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", port), timeout=2).close()
    finally:
        stop_process(proc)
