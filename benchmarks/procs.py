"""Processes the benchmarks run: gunicorn with the Procfile's settings, the clock, a baseline; RSS, CPU from /proc."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

__all__ = [
    "ROOT",
    "CpuClock",
    "Gunicorn",
    "baseline_rss_kib",
    "cores",
    "cpu_seconds",
    "free_port",
    "rss_kib",
    "toml_config",
]

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def toml_config(path: Path, sections: dict[str, dict[str, Any]]) -> Path:
    """Write a config.toml from {section: {key: value}}."""
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {_toml(v)}" for k, v in values.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def rss_kib(pid: int) -> int:
    """Resident set size of a process (VmRSS, KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes used so far, all their threads included (/proc/<pid>/stat)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat), in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def cores() -> int:
    """The cores this process (and so every process it starts) may run on."""
    return len(os.sched_getaffinity(0))


class CpuClock:
    """CPU seconds each named party (a list of pids) used between `start()` and `stop()`, and the wall time
    between them: read together, so every party's figure covers the same interval."""

    def __init__(self, parties: dict[str, list[int]]) -> None:
        self.parties = parties
        self._started: dict[str, float] = {}
        self._wall = 0.0
        self.cpu: dict[str, float] = {}
        self.wall = 0.0

    def start(self) -> CpuClock:
        self._wall = time.monotonic()
        self._started = {name: cpu_seconds(pids) for name, pids in self.parties.items()}
        return self

    def stop(self) -> CpuClock:
        self.cpu = {name: cpu_seconds(pids) - self._started[name] for name, pids in self.parties.items()}
        self.wall = time.monotonic() - self._wall
        return self


def children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # Field 4 (ppid) comes after the parenthesised command name, which may contain spaces.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return sorted(out)


def baseline_rss_kib() -> dict[str, int]:
    """RSS of a bare interpreter, and of one that only imports Flask and line-bot-sdk v3 (messaging + webhooks)."""
    probe = "import sys;{imports}print(open('/proc/self/status').read())"
    out = {}
    probes = (("python", ""), ("flask_linebot", "import flask, linebot.v3.messaging, linebot.v3.webhooks;"))
    for label, imports in probes:
        text = subprocess.run([sys.executable, "-c", probe.format(imports=imports)], cwd=ROOT, capture_output=True,
                              text=True, timeout=60, check=True).stdout
        out[label] = next(int(line.split()[1]) for line in text.splitlines() if line.startswith("VmRSS:"))
    return out


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py APP` (the Procfile's web line) on 127.0.0.1, its log in a file."""

    def __init__(self, app: str, env: dict[str, str], log: Path, *, ready_path: str = "/healthz") -> None:
        if not GUNICORN.exists():
            raise RuntimeError(f"gunicorn not found next to {sys.executable}")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        # Only the bind differs from the Procfile (command line wins over gunicorn.conf.py): the port is
        # a free one; the address is the config's own 127.0.0.1.
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [str(GUNICORN), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}", app],
                cwd=ROOT, env={**env, "PORT": str(self.port)}, stdout=out, stderr=subprocess.STDOUT,
            )
        self._wait_ready(ready_path)

    def _wait_ready(self, path: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
        while time.monotonic() < deadline:  # a process start has no event to wait on: poll, bounded
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=2) as r:
                    if r.status == 200 and len(self.workers()) >= workers:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn not ready within {timeout:g} s: {self.log.read_text(errors='replace')[-2000:]}")

    def workers(self) -> list[int]:
        return children_of(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
