"""The file inbox's segments: torn and damaged lines, group commit, duplicates across processes, compaction."""

from __future__ import annotations

import errno
import os
import random
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from ita_bot.store.tiny.inbox import DONE_LOG, FileInbox
from tests.conftest import ROOT
from tests.repositories.test_inbox import AT, event


def segments(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith("seg-"))


def line_ends(path: Path) -> list[int]:
    data = path.read_bytes()
    return [i + 1 for i, b in enumerate(data) if b == ord("\n")]


def test_a_segment_cut_at_any_byte_keeps_every_whole_line_and_no_other(tmp_path: Path) -> None:
    folder = tmp_path / "journal"
    inbox = FileInbox(folder)
    for n in range(1, 4):
        assert inbox.accept([event(n)], AT) == [True]
    inbox.close()
    [segment] = segments(folder)
    ends = line_ends(segment)
    data = segment.read_bytes()
    for cut in range(len(data) + 1):
        copy = tmp_path / f"cut-{cut}"
        shutil.copytree(folder, copy)
        (copy / segment.name).write_bytes(data[:cut])
        whole = sum(1 for end in ends if end <= cut)
        reopened = FileInbox(copy)
        assert sorted(reopened.pending()) == [f"EV{n:05d}" for n in range(1, whole + 1)], cut
        # An id whose line was torn was never acknowledged: its redelivery is new; the others are duplicates.
        assert reopened.accept([event(n) for n in range(1, 4)], AT) == [n > whole for n in range(1, 4)], cut
        reopened.close()
        shutil.rmtree(copy)


def test_a_done_log_cut_at_any_byte_keeps_the_whole_marks(tmp_path: Path) -> None:
    folder = tmp_path / "journal"
    inbox = FileInbox(folder)
    inbox.accept([event(n) for n in range(1, 4)], AT)
    inbox.checkpoint({"EV00001": "ok"})
    inbox.checkpoint({"EV00002": "failed", "EV00003": "ok"})
    inbox.close()
    done = (folder / DONE_LOG).read_bytes()
    ends = line_ends(folder / DONE_LOG)
    for cut in range(len(done) + 1):
        (folder / DONE_LOG).write_bytes(done[:cut])
        marked = sum(1 for end in ends if end <= cut)
        reopened = FileInbox(folder)
        applied = [f"EV{n:05d}" for n in range(1, marked + 1)]
        assert [reopened.is_applied(f"EV{n:05d}") for n in range(1, 4)] == [n <= marked for n in range(1, 4)], cut
        assert sorted(reopened.pending()) == sorted({"EV00001", "EV00002", "EV00003"} - set(applied)), cut
        assert reopened.accept([event(n) for n in range(1, 4)], AT) == [False] * 3  # taken, pending or applied


def test_a_damaged_line_is_skipped_and_the_rest_read(tmp_path: Path) -> None:
    folder = tmp_path / "journal"
    inbox = FileInbox(folder)
    inbox.accept([event(1), event(2), event(3)], AT)
    inbox.close()
    [segment] = segments(folder)
    data = bytearray(segment.read_bytes())
    middle = line_ends(segment)[0] + 30  # inside the second line's JSON
    data[middle] ^= 0x01
    segment.write_bytes(bytes(data))
    assert sorted(FileInbox(folder).pending()) == ["EV00001", "EV00003"]


def test_concurrent_accepts_return_only_once_their_line_is_synced_and_share_syncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "journal"
    inbox = FileInbox(folder)
    synced: dict[str, int] = {}  # file name -> size at its last fdatasync
    syncs = 0
    guard = threading.Lock()
    real = os.fdatasync

    def fdatasync(fd: int) -> None:
        nonlocal syncs
        real(fd)
        with guard:
            syncs += 1
            synced[Path(os.readlink(f"/proc/self/fd/{fd}")).name] = os.fstat(fd).st_size

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    late: list[str] = []
    threads, per_thread = 16, 20

    def worker(t: int) -> None:
        for k in range(per_thread):
            stem, ev = event(1000 + t * per_thread + k)
            assert inbox.accept([(stem, ev)], AT) == [True]
            with guard:
                durable = dict(synced)
            [segment] = segments(folder)
            data = segment.read_bytes()
            end = data.index(f'"id":"{stem}"'.encode()) + data[data.index(f'"id":"{stem}"'.encode()):].index(b"\n")
            if durable.get(segment.name, 0) <= end:
                late.append(stem)

    workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert late == []
    assert inbox.count_pending() == threads * per_thread
    assert syncs <= threads * per_thread  # never more than one per accept (usually far fewer)


RACER = """
import sys, time
from pathlib import Path
from typing import Any
from concurrent.futures import ThreadPoolExecutor
from ita_bot.store.tiny.inbox import FileInbox
folder, go, ids = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3].split(",")
inbox = FileInbox(folder)
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
def take(stem):
    return stem if inbox.accept([(stem, {"webhookEventId": stem, "timestamp": 1})], "x") == [True] else None
with ThreadPoolExecutor(4) as pool:
    print(",".join(s for s in pool.map(take, ids) if s), flush=True)
"""


@pytest.mark.slow
def test_racing_processes_accept_each_redelivered_id_once(tmp_path: Path) -> None:
    folder, go = tmp_path / "journal", tmp_path / "go"
    ids = [f"EV{n:05d}" for n in range(120)]
    racers = []
    for k in range(4):  # four workers, each given every event (in its own order), as redeliveries would be
        order = ids[:]
        random.Random(k).shuffle(order)
        racers.append(subprocess.Popen([sys.executable, "-c", RACER, str(folder), str(go), ",".join(order)],
                                       cwd=ROOT, stdout=subprocess.PIPE, text=True))
    for racer in racers:
        assert racer.stdout is not None and racer.stdout.readline().strip() == "ready"
    go.touch()
    taken: list[str] = []
    for racer in racers:
        out, _ = racer.communicate(timeout=60)
        assert racer.returncode == 0
        taken += [s for s in out.strip().split(",") if s]
    assert sorted(taken) == ids  # each id new in exactly one process
    assert sorted(FileInbox(folder).pending()) == ids


def test_a_closed_segment_whose_events_are_all_applied_is_deleted_after_a_checkpoint(tmp_path: Path) -> None:
    folder = tmp_path / "journal"
    first = FileInbox(folder)
    first.accept([event(1), event(2)], AT)
    first.close()  # the process ends: its segment is closed
    second = FileInbox(folder)
    second.accept([event(3)], AT)
    second.checkpoint({"EV00001": "ok"})
    assert len(segments(folder)) == 2  # EV00002 is still pending in the closed one
    second.checkpoint({"EV00002": "ok"})
    second._compact_at = 0.0  # the next look is due (they are at most every COMPACT_SECONDS)
    second.checkpoint({"EV00003": "ok"})
    assert len(segments(folder)) == 1  # only the live one, this process's
    third = FileInbox(folder)
    assert third.pending() == [] and third.accept([event(n) for n in (1, 2, 3)], AT) == [False] * 3


def test_a_write_cut_short_by_a_full_disk_is_refused_and_leaves_no_half_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "journal"
    inbox = FileInbox(folder)
    assert inbox.accept([event(1)], AT) == [True]
    real = os.write

    def half_then_full(fd: int, data: Any) -> int:
        if len(data) > 40:  # the batch's first bytes reach the file, then the disk is full
            return real(fd, bytes(data[:40]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(OSError):
        inbox.accept([event(2), event(3)], AT)
    monkeypatch.undo()
    assert sorted(inbox.pending()) == ["EV00001"]
    assert inbox.accept([event(2), event(3)], AT) == [True, True]  # LINE's redelivery, once there is room
    [segment] = segments(folder)
    assert len(line_ends(segment)) == 3 and segment.read_bytes().endswith(b"\n")
    assert sorted(FileInbox(folder).pending()) == ["EV00001", "EV00002", "EV00003"]
