"""The command line as an operator runs it: check, invite, backup/restore, and clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from ita_bot.domain.config import load_config
from ita_bot.domain.office import Office
from ita_bot.domain.progress import Report
from ita_bot.domain.thai import BANGKOK
from tests.conftest import ROOT, write_config


def run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "bot.py", *args], cwd=ROOT, env={**os.environ, **env},
        capture_output=True, text=True, timeout=timeout, check=False,
    )


def _env(tmp_path: Path, **sections: dict) -> dict[str, str]:
    config = write_config(tmp_path, sections)
    return {"ITA_BOT_CONFIG": str(config), "ITA_BOT_DB": str(tmp_path / "db" / "ita-bot.json")}


def test_check_prints_next_meetings_with_job_times(tmp_path: Path) -> None:
    result = run(["check"], _env(tmp_path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "2564.toml" in out and "องค์การบริหารส่วนตำบลหนองเมือง" in out
    assert out.count("cycle ") == 3
    assert out.count("reminder ") == 6 and out.count("digest ") == 3 and out.count("summary ") == 3


def test_check_reports_a_bad_config_clearly(tmp_path: Path) -> None:
    result = run(["check"], _env(tmp_path, schedule={"reminder_time": "nine"}))
    assert result.returncode == 2
    assert "[schedule] reminder_time" in result.stderr
    assert "Traceback" not in result.stderr


def test_invite_prints_a_code_that_claims_the_role(tmp_path: Path) -> None:
    env = _env(tmp_path)
    result = run(["invite", "secretary"], env)
    assert result.returncode == 0, result.stderr
    code = result.stdout.split("/รหัส ")[1].split()[0]
    assert len(code) >= 8
    office = Office(load_config(env["ITA_BOT_CONFIG"], env))
    uid = "U" + "7" * 32
    assert office.people.claim_code(code, uid, datetime.now(BANGKOK)) == "secretary"
    assert office.is_manager(uid)


def test_backup_and_restore_round_trip(tmp_path: Path) -> None:
    env = _env(tmp_path)
    office = Office(load_config(env["ITA_BOT_CONFIG"], env))
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
    assert run(["check"], env).returncode == 0
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
    office = Office(load_config(env["ITA_BOT_CONFIG"], env))
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
    assert run(["check"], env).returncode == 0
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
    from tests.scenarios.test_front import GUNICORN, free_port, procfile_web

    if not GUNICORN.exists():
        import pytest

        pytest.skip("gunicorn is not installed in this environment")
    base = {**os.environ, **_env(tmp_path), "PORT": str(free_port())}
    cases = [("WEB_CONCURRENCY", "abc", "WEB_CONCURRENCY"), ("GUNICORN_THREADS", "0", "GUNICORN_THREADS"),
             ("PORT", "http", "PORT"), ("ITA_BOT_DB", "/proc/x/db.json", "/proc/x")]
    for key, value, named in cases:
        # As the Procfile runs it, and gunicorn with its config file directly (as the benchmarks do).
        for argv in (procfile_web(), [str(GUNICORN), "-c", "gunicorn.conf.py", "bot:app"]):
            if key == "WEB_CONCURRENCY" and argv[0] == str(GUNICORN):
                continue  # gunicorn parses WEB_CONCURRENCY itself before any config: why the Procfile checks first
            result = subprocess.run(argv, cwd=ROOT, env={**base, key: value}, capture_output=True, text=True,
                                    timeout=60, check=False)
            assert_one_clear_line(result)
            assert named in result.stderr, (argv, result.stderr)
