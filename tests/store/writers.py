"""Writer processes for the store's kill tests: tests/store/store_worker.py started, acknowledged, SIGKILLed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["WORKER", "acked_then_killed", "spawn"]

WORKER = Path(__file__).resolve().parent / "store_worker.py"


def spawn(db_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(db_path), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def acked_then_killed(db_path: Path, at_least: int, delay: float, mode: str = "append") -> list[int]:
    """Run an appending writer (``mode``), SIGKILL it ``delay`` s after its ``at_least``-th ack; return all acks."""
    writer = spawn(db_path, mode)
    assert writer.stdout is not None
    acked: list[int] = []
    try:
        for line in writer.stdout:
            acked.append(int(line))
            if len(acked) >= at_least:
                break
        # Sub-millisecond offsets spread the kills over the phases of a write (lock, build, write,
        # fsync, rename); killing right after an ack would always hit the same early phase.
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        rest, _ = writer.communicate(timeout=10)
    finally:
        if writer.poll() is None:
            writer.kill()
    # Lines printed between our last read and the kill are acknowledged writes too.
    acked += [int(line) for line in rest.split()]
    assert writer.returncode == -signal.SIGKILL
    return acked
