"""The production web process's settings from the environment, checked before gunicorn starts (one clear line)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

__all__ = ["LOG_DATEFMT", "LOG_FORMAT", "SettingError", "WebSettings", "exec_gunicorn", "web_settings"]

#: One log line format for every process (gunicorn's own lines, its access log, the app, the clock, commands):
#: local time with its UTC offset, so that the journal of the web and the clock read the same way
#: (the systemd units set TZ=Asia/Bangkok).
LOG_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
LOG_DATEFMT = "%Y-%m-%d %H:%M:%S %z"


class SettingError(ValueError):
    """An environment variable of the web process is unusable."""


@dataclass(frozen=True)
class WebSettings:
    port: int
    workers: int
    threads: int


def _whole(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip() or str(default)
    if not raw.isdecimal() or not low <= int(raw) <= high:
        raise SettingError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
    return int(raw)


def web_settings(env: Mapping[str, str] | None = None) -> WebSettings:
    """PORT, WEB_CONCURRENCY (workers) and GUNICORN_THREADS, validated; SettingError names the bad one."""
    env = os.environ if env is None else env
    return WebSettings(
        port=_whole(env, "PORT", 8000, 1, 65535),
        workers=_whole(env, "WEB_CONCURRENCY", 2, 1, 64),
        threads=_whole(env, "GUNICORN_THREADS", 4, 1, 256),
    )


def exec_gunicorn(root: Path) -> NoReturn:
    """Become `gunicorn -c gunicorn.conf.py bot:app` in ``root`` (same process id, so signals reach it)."""
    gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).with_name("gunicorn"))
    os.chdir(root)
    os.execv(gunicorn, [gunicorn, "-c", "gunicorn.conf.py", "bot:app"])
