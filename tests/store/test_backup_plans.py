"""Backups carry the plans saved into the data folder (plans/<fy>.toml), and restore brings them back."""

from __future__ import annotations

import tarfile
from datetime import datetime
from pathlib import Path

from ita_bot.store.database import Store


def test_backup_and_restore_include_the_data_folders_plans(tmp_path: Path) -> None:
    store = Store(tmp_path / "data" / "ita-bot.json")
    with store.write() as db:
        db.table("settings").insert({"key": "x", "value": 1})
    plan = store.plans_dir / "2570.toml"
    store.write_file(plan, 'fiscal_year = 2570\n# แผนทดสอบ\n'.encode())
    archive = store.backup(now=datetime(2026, 12, 1, 10, 0))
    with tarfile.open(archive) as tar:
        assert "plans/2570.toml" in tar.getnames()
    store.write_file(plan, b"changed")
    store.write_file(store.plans_dir / "2571.toml", b"later")
    store.restore(archive)
    assert plan.read_bytes() == 'fiscal_year = 2570\n# แผนทดสอบ\n'.encode()
    assert not (store.plans_dir / "2571.toml").exists()  # a restore is the backup's state, whole
