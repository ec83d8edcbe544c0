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
