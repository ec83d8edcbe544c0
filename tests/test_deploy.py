"""The shipped deployment files: systemd units that run what the Procfile runs, from files that exist, and verify."""

from __future__ import annotations

import configparser
import os
import runpy
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

UNITS = ROOT / "deploy" / "systemd"
CHECKOUT, VENV, DATA, ENV_FILE = "/opt/ita-bot", "/opt/ita-bot/.venv", "/var/lib/ita-bot", "/etc/ita-bot/env"
SERVICES = ("ita-bot-web.service", "ita-bot-clock.service", "ita-bot-backup.service")


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string((UNITS / name).read_text(encoding="utf-8"))
    return parser


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
    return {name: command.strip() for name, command in (ln.split(":", 1) for ln in lines if ln.strip())}


def test_the_services_run_the_procfiles_commands_from_the_checkouts_venv() -> None:
    """gunicorn.conf.py and bot.py are resolved in WorkingDirectory: the checkout, with the venv's programs."""
    expected = {"ita-bot-web.service": procfile()["web"], "ita-bot-clock.service": procfile()["clock"],
                "ita-bot-backup.service": "python bot.py backup"}
    for name, command in expected.items():
        service = unit(name)["Service"]
        program, *args = shlex.split(service["ExecStart"])
        assert program == f"{VENV}/bin/{command.split()[0]}", name
        assert args == command.split()[1:], name
        assert service["WorkingDirectory"] == CHECKOUT
        for arg in args:  # every file argument names a file of this repository (relative to the checkout)
            if arg.endswith(".py"):
                assert (ROOT / arg).is_file(), f"{name}: {arg} is not in the repository"
    assert (ROOT / "gunicorn.conf.py").is_file() and (ROOT / "bot.py").is_file()


def test_the_services_run_as_the_dedicated_user_with_the_environment_file_and_only_the_data_folder_writable() -> None:
    env_example = dict(ln.split("=", 1) for ln in (ROOT / "deploy" / "ita-bot.env").read_text(encoding="utf-8")
                       .splitlines() if ln and not ln.startswith("#"))
    assert Path(env_example["ITA_BOT_DB"]).parent == Path(DATA)
    for name in SERVICES:
        service = unit(name)["Service"]
        assert (service["User"], service["Group"]) == ("ita-bot", "ita-bot"), name
        assert service["EnvironmentFile"] == ENV_FILE
        assert "TZ=Asia/Bangkok" in service["Environment"].split()  # one zone in every log line
        assert service["ReadWritePaths"] == DATA and service["ProtectSystem"] == "strict"
        assert service["NoNewPrivileges"] == "true" and service["PrivateTmp"] == "true"
    for name in ("ita-bot-web.service", "ita-bot-clock.service"):
        parsed = unit(name)
        assert parsed["Service"]["Restart"] == "on-failure"
        assert parsed["Unit"]["After"] == "network-online.target"
        assert parsed["Install"]["WantedBy"] == "multi-user.target"  # started at boot once enabled
    # gunicorn's control socket needs a writable folder the user owns: the web unit's RuntimeDirectory.
    assert unit("ita-bot-web.service")["Service"]["RuntimeDirectory"] == "ita-bot-web"


def test_the_backup_timer_runs_daily_and_rotates_the_archives_backup_writes(tmp_path: Path) -> None:
    timer = unit("ita-bot-backup.timer")["Timer"]
    assert timer["OnCalendar"].startswith("*-*-* ") and timer["Persistent"] == "true"
    rotate = shlex.split(unit("ita-bot-backup.service")["Service"]["ExecStartPost"])
    assert rotate[:2] == ["/usr/bin/find", f"{DATA}/backups"] and "-delete" in rotate
    pattern = rotate[rotate.index("-name") + 1]
    # `bot.py backup` without a path writes backups/backup-<date>-<time>.tar.gz beside the database.
    from ita_bot.store.database import Store

    written = Store(tmp_path / "ita-bot.json").backup()
    assert written.parent == tmp_path / "backups" and written.match(pattern)


def test_gunicorns_control_socket_goes_to_the_runtime_directory_or_is_off(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    """The service's user has no home, so gunicorn's default ~/.gunicorn/gunicorn.ctl cannot be made."""
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(tmp_path))
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["control_socket"] == str(tmp_path / "gunicorn.ctl")
    monkeypatch.delenv("RUNTIME_DIRECTORY")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["control_socket_disable"] is True and "control_socket" not in settings


@pytest.mark.slow  # a real process: `systemd-analyze verify`
def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd); the units' directives "
                    "are still checked by the tests above")
    # verify insists that ExecStart's programs exist: point the copies at this checkout and its venv.
    venv_bin = Path(sys.executable).parent
    if not (venv_bin / "gunicorn").is_file():
        pytest.skip("gunicorn is not installed beside this Python")
    for path in UNITS.iterdir():
        text = path.read_text(encoding="utf-8").replace(f"{VENV}/bin", str(venv_bin)).replace(CHECKOUT, str(ROOT))
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([*SERVICES, "ita-bot-backup.timer"])
    result = subprocess.run([analyze, "verify", "--man=no", *names], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, check=False, env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"})
    # verify exits 0 on a directive it cannot parse (it ignores it): every line about our units is a failure.
    complaints = [ln for ln in (result.stdout + result.stderr).splitlines() if "ita-bot" in ln]
    assert result.returncode == 0 and complaints == [], result.stdout + result.stderr


#: A log line as every process writes it: local time with its offset, level, pid, logger (the clock's test too).
LOG_LINE = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} [A-Z]+ \[\d+\] [\w.]+: "


def test_gunicorns_own_and_access_lines_have_the_apps_and_clocks_format(tmp_path: Path) -> None:
    """The journal of the web and of the clock read alike: gunicorn's default is another shape and no offset."""
    import re

    from gunicorn.config import Config

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    cfg = Config()
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("errorlog", str(tmp_path / "error.log"))
    logger = settings["Logger"](cfg)
    logger.info("Booting worker with pid: %d", 42)
    logger.access_log.info('127.0.0.1 "GET /healthz HTTP/1.0" 200 2 1ms')
    for handler in (*logger.error_log.handlers, *logger.access_log.handlers):
        handler.flush()
    error, access = (tmp_path / "error.log").read_text(), (tmp_path / "access.log").read_text()
    assert re.match(LOG_LINE + "Booting worker with pid: 42$", error.strip()), error
    assert re.match(LOG_LINE.replace(r"[\w.]+", "gunicorn.access") + '127.0.0.1 "GET', access.strip()), access
