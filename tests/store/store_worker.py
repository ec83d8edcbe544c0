"""Helper process for tests/store/test_database.py: drives ita_bot.store.database from a separate OS process.

Usage: store_worker.py DB_PATH MODE [ARGS]
  insert N TAG   wait for a line on stdin, then insert N records in ONE write(); print "done"
  counter N      wait for a line on stdin, then N times: read-modify-write a counter; print "done"
  append         forever: one write() per record, alternating "main" and "reports-2564";
                 print each record's sequence number once its write() has returned (acknowledged)
  append-log     forever: one report-year write() per record through the row log, compacting every 5th;
                 print each sequence number once acknowledged
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ita_bot.store.database import Store

THAI = "สำนักงานปลัด รายงานความคืบหน้า"


def main(argv: list[str]) -> None:
    store = Store(argv[0])
    mode = argv[1]
    if mode == "insert":
        count, tag = int(argv[2]), argv[3]
        sys.stdin.readline()  # start barrier: the test releases all workers at once
        with store.write() as db:
            for i in range(count):  # one insert at a time: a long transaction, so the workers overlap
                db.insert({"tag": tag, "i": i, "text": THAI})
        print("done", flush=True)
    elif mode == "counter":
        rounds = int(argv[2])
        sys.stdin.readline()
        for _ in range(rounds):
            with store.write("counters") as db:
                row = db.get(doc_id=1)
                if row is None:
                    db.insert({"n": 1})
                else:
                    db.update({"n": row["n"] + 1}, doc_ids=[1])
        print("done", flush=True)
    elif mode == "append":
        seq = 0
        while True:
            name = "main" if seq % 2 == 0 else "reports-2564"
            with store.write(name) as db:
                # Large records make most of the writer's time the file write, where a kill hurts.
                db.insert({"seq": seq, "text": THAI * 20})
            print(seq, flush=True)
            seq += 1
    elif mode == "append-log":
        store.log_commits(r"reports-\d{4}")
        seq = 0
        while True:
            with store.write("reports-2564") as db:
                db.table("reports").insert({"seq": seq, "text": THAI * 20})
            print(seq, flush=True)
            seq += 1
            if seq % 5 == 0:
                store.compact(["reports-2564"], force=True)
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
