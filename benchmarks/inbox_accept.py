"""Micro-benchmark of the file inbox: concurrent accept() calls, then checkpoints, counting syncs and wall time.

    python -m benchmarks.inbox_accept [--threads 32] [--events 100] [--dir FOLDER]

Each thread accepts its events one call at a time (a webhook with one event, as gunicorn's threads do);
then every event is checkpointed in batches of 64 (as the journal worker does). FOLDER must be on the disk
the bot writes to (the default is a temp folder under the current directory, not /tmp, which may be RAM).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ita_bot.store.tiny.inbox import FileInbox

STAMP = 1_613_358_000_000


class SyncCounter:
    """Counts os.fsync and os.fdatasync calls while installed."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        self.real = (os.fsync, getattr(os, "fdatasync", os.fsync))

    def _wrap(self, real: Any) -> Any:
        def call(fd: int) -> None:
            with self.lock:
                self.count += 1
            real(fd)
        return call

    def __enter__(self) -> SyncCounter:
        os.fsync, os.fdatasync = self._wrap(self.real[0]), self._wrap(self.real[1])
        return self

    def __exit__(self, *_: object) -> None:
        os.fsync, os.fdatasync = self.real


def event(n: int) -> tuple[str, dict[str, Any]]:
    chat = "U" + f"{n % 50:032x}"
    return f"EV{n:07d}", {"type": "message", "webhookEventId": f"EV{n:07d}", "timestamp": STAMP + n,
                          "source": {"type": "user", "userId": chat}, "replyToken": "r" * 32,
                          "message": {"type": "text", "id": str(n), "text": "/รายงาน 4 กำลังทำ 50% งานที่ทดสอบ"}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--dir", type=Path, default=Path.cwd())
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="inbox-bench-", dir=args.dir))
    try:
        inbox = FileInbox(root / "journal")
        inbox.accept([event(-1)], "2021-02-15T03:00:00+00:00")  # the folder exists, as in a running bot
        barrier = threading.Barrier(args.threads + 1)

        def worker(t: int) -> None:
            barrier.wait()
            for k in range(args.events):
                assert inbox.accept([event(t * args.events + k)], "2021-02-15T03:00:00+00:00") == [True]

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(args.threads)]
        for th in threads:
            th.start()
        with SyncCounter() as accepts:
            barrier.wait()
            start = time.perf_counter()
            for th in threads:
                th.join()
            accept_s = time.perf_counter() - start
        ids = sorted(inbox.pending())
        with SyncCounter() as checkpoints:
            start = time.perf_counter()
            for i in range(0, len(ids), 64):
                inbox.checkpoint(dict.fromkeys(ids[i:i + 64], "ok"))
            checkpoint_s = time.perf_counter() - start
        total = args.threads * args.events
        files = sum(1 for p in (root / "journal").rglob("*") if p.is_file())
        print(f"{args.threads} threads x {args.events} events = {total} accepts")
        print(f"accept:     {accept_s:7.3f} s  {total / accept_s:8.0f} events/s  {accepts.count:6d} syncs "
              f"({accepts.count / total:.2f} per event)")
        print(f"checkpoint: {checkpoint_s:7.3f} s  {checkpoints.count:6d} syncs ({len(ids)} events, batches of 64)")
        print(f"files left in journal/: {files}; pending: {inbox.count_pending()}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
