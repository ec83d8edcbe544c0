"""`bot.py backup` on a live bot: while it copies large evidence, a report is still answered (the database
locks are held only for the databases' snapshot, never while evidence is read)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, STAFF_SP
from tests.tiny import tiny_store

EVIDENCE_FILES = 3
EVIDENCE_SIZE = 16 * 1024 * 1024  # random bytes: gzip cannot shrink them, so copying each takes a while


def open_files(pid: int) -> list[str]:
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            found.append(os.readlink(fd))
        except OSError:
            continue
    return found


def test_a_report_is_answered_while_a_backup_copies_large_evidence(bot: Any, tmp_path: Path) -> None:
    if not Path("/proc/self/fd").exists():
        pytest.skip("watching the backup's open files needs /proc")
    assert bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    store = tiny_store(bot.office)
    for i in range(EVIDENCE_FILES):
        store.write_file(store.evidence_dir / "2564" / f"{i}.bin", os.urandom(EVIDENCE_SIZE))
    env = {**os.environ, "ITA_BOT_CONFIG": str(bot.config.path), "ITA_BOT_DB": str(bot.config.db_path)}
    archive = tmp_path / "live.tar.gz"
    backup = subprocess.Popen([sys.executable, "bot.py", "backup", str(archive)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Catch the backup while it has an evidence file open, and freeze it there.
        evidence = str(store.evidence_dir)
        deadline = time.monotonic() + 60
        while not any(f.startswith(evidence) for f in open_files(backup.pid)):
            assert backup.poll() is None, "the backup ended before it was seen reading evidence"
            assert time.monotonic() < deadline, "the backup never opened an evidence file"
            time.sleep(0.001)
        backup.send_signal(signal.SIGSTOP)

        event = bot.text_event("/รายงาน 4 กำลังทำ 40% ระหว่างสำรองข้อมูล", user=STAFF_SP, group=True)
        bot.post_events([event])
        token = event["replyToken"]
        answered = bot.standin.wait_for(lambda s: any(r.get("replyToken") == token for r in s.replies()), timeout=15)
        assert answered, "the report waited for the backup (database locks held while evidence is copied)"
        assert "บันทึกรายงานแล้ว" in bot.replies_to(event).text
    finally:
        if backup.poll() is None:
            backup.send_signal(signal.SIGCONT)
        _, err = backup.communicate(timeout=120)
    assert backup.returncode == 0, err
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {f"evidence/2564/{i}.bin" for i in range(EVIDENCE_FILES)} <= names
