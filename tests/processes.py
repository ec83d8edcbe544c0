"""Real processes in tests (gunicorn, the clock, nginx): wait until one serves, stop one as its supervisor would."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from ita_bot.domain.thai import BANGKOK


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20) -> int:
    """SIGTERM, as systemd or honcho would send it; SIGKILL only when it has not stopped within ``timeout``."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return int(proc.returncode)


def wait_until(condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.05) -> None:
    """Poll a condition that no event announces (another process's work), bounded."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)


def wait_until_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    """Poll ``url`` (a /healthz) until it answers 200; fail with the log's tail if the process dies or never does.

    A process start has no event to wait on, so this polls, bounded by ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"process exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"not ready after {timeout:.0f} s: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)


def at(text: str) -> datetime:
    """An ISO date-time without offset, in Bangkok time (the product's rule for times given without one)."""
    return datetime.fromisoformat(text).replace(tzinfo=BANGKOK)


class FakeTime:
    """A clock's `now`, moved by the test."""

    def __init__(self, start: str) -> None:
        self.at = at(start)

    def __call__(self) -> datetime:
        return self.at

    def set(self, text: str) -> None:
        self.at = at(text)
