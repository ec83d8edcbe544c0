"""Cost of adding one report to a TinyDB year that holds few or many: CPU time and bytes written per report.

    python benchmarks/report_append.py [--sizes 20 5000] [--adds 40]

Each year is built first (its file compacted), then ``--adds`` reports are added one by one the way the worker
adds them (inside ``Store.deferred()``, the journal covering durability) and, separately, durably (each add
fsynced). Bytes written are the process's ``wchar`` (bytes handed to write calls) from /proc/self/io.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ita_bot.domain.progress import Report
from ita_bot.domain.thai import BANGKOK
from ita_bot.store.tiny import tinydb_repositories

T0 = datetime(2021, 2, 10, 9, 0, tzinfo=BANGKOK)
DETAILS = "ประชุมคณะทำงานและจัดทำรายงานความคืบหน้า ส่งหลักฐานแล้ว"


def written() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


def report(i: int) -> Report:
    at = T0 + timedelta(minutes=i)
    return Report(2564, 1 + i % 40, f"d{i % 12}", "doing", 50, DETAILS, at, at, event_id=f"ev-{i}")


def measure(size: int, adds: int, deferred: bool) -> tuple[float, float]:
    """(median ms per add, mean bytes written per add)."""
    with tempfile.TemporaryDirectory() as folder:
        repos = tinydb_repositories(Path(folder))
        store = repos.reports.store  # type: ignore[attr-defined]
        with store.deferred():
            for i in range(size):
                repos.reports.add(report(i))
        store.sync()
        if hasattr(store, "compact"):
            store.compact(force=True, names=["reports-2564"])
        repos.reports.of_year(2564)  # a warm cache, as a running worker has
        times = []
        before = written()
        for i in range(size, size + adds):
            start = time.process_time()
            if deferred:
                with store.deferred():
                    repos.reports.add(report(i))
            else:
                repos.reports.add(report(i))
            times.append(time.process_time() - start)
        per_add = (written() - before) / adds
        return statistics.median(times) * 1000, per_add


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 5000])
    parser.add_argument("--adds", type=int, default=40)
    args = parser.parse_args()
    print(f"{'year holds':>10} {'mode':>9} {'CPU ms/add':>11} {'bytes/add':>10}")
    for size in args.sizes:
        for deferred in (True, False):
            ms, nbytes = measure(size, args.adds, deferred)
            print(f"{size:>10} {'deferred' if deferred else 'durable':>9} {ms:>11.3f} {nbytes:>10.0f}")


if __name__ == "__main__":
    main()
