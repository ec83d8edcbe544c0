"""The PlanRepository contract: saved plans, their versions and the change log, on every backend."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from ita_bot.domain.plan import PlanError
from ita_bot.domain.plan_book import Change, PlanFile, plan_version
from ita_bot.domain.repositories import Repositories

TEXT = '[organization]\nname = "อบต.ทดสอบ"\n'


def change(fy: int, text: str, before: str = "", *, section: str = "all", at: str = "2021-02-10T09:00:00+07:00",
           note: str = "") -> Change:
    return Change(at=at, who="เลขาทดสอบ", fiscal_year=fy, section=section, before="", after=text,
                  version_before=before, version_after=plan_version(text), note=note)


def test_a_saved_plan_is_got_back_with_its_version(repositories: Repositories) -> None:
    plans = repositories.plans
    assert plans.years() == [] and plans.get(2570) is None
    with plans.saving():
        stored = plans.save(TEXT, change(2570, TEXT))
    assert (stored.fiscal_year, stored.text) == (2570, TEXT)
    assert stored.version == hashlib.sha256(TEXT.encode("utf-8")).hexdigest() == plan_version(TEXT)
    assert plans.get(2570) == stored and plans.years() == [2570]
    assert stored.source == plans.source_of(2570) and "2570" in str(stored.source)


def test_a_save_replaces_the_years_plan_and_leaves_others(repositories: Repositories) -> None:
    plans = repositories.plans
    newer = TEXT + "# แก้ไข\n"
    with plans.saving():
        first = plans.save(TEXT, change(2570, TEXT))
        plans.save(TEXT, change(2571, TEXT))
        second = plans.save(newer, change(2570, newer, first.version))
    assert plans.get(2570) == second and second.text == newer and second.version != first.version
    assert plans.get(2571) is not None and plans.get(2571).text == TEXT  # type: ignore[union-attr]
    assert plans.years() == [2570, 2571]


def test_the_change_log_keeps_every_save_in_order_with_ids(repositories: Repositories) -> None:
    plans = repositories.plans
    newer = TEXT + "# แก้ไข\n"
    with plans.saving():
        plans.save(TEXT, change(2570, TEXT))
        plans.save(TEXT, change(2571, TEXT))
        plans.save(newer, change(2570, newer, plan_version(TEXT), section="organization", note="ย้อนกลับ"))
    log = plans.changes()
    assert [(c.fiscal_year, c.section) for c in log] == [(2570, "all"), (2571, "all"), (2570, "organization")]
    assert len({c.id for c in log}) == 3 and all(c.id for c in log)
    assert [c.id for c in log] == sorted(c.id for c in log)
    assert [c.fiscal_year for c in plans.changes(2570)] == [2570, 2570]
    last = log[-1]
    assert replace(last, id=0) == change(2570, newer, plan_version(TEXT), section="organization", note="ย้อนกลับ")
    assert plans.change(last.id) == last and plans.change(last.id + 100) is None
    assert plans.changes(2599) == []


def test_saving_runs_one_save_at_a_time(open_repositories: Callable[[], Repositories]) -> None:
    holder, other = open_repositories().plans, open_repositories().plans
    saved = threading.Event()

    def save() -> None:
        with other.saving():
            other.save(TEXT, change(2571, TEXT))
        saved.set()

    with holder.saving():
        thread = threading.Thread(target=save)
        thread.start()
        assert not saved.wait(0.5)  # a save of any year waits for the one in progress
        holder.save(TEXT, change(2570, TEXT))
    thread.join(10)
    assert saved.is_set() and holder.years() == [2570, 2571]


def test_a_second_opening_sees_the_first_ones_saves(open_repositories: Callable[[], Repositories]) -> None:
    first, second = open_repositories().plans, open_repositories().plans
    assert second.get(2570) is None
    with first.saving():
        stored = first.save(TEXT, change(2570, TEXT))
    assert second.get(2570) == stored and second.years() == [2570]
    newer = TEXT + "# อีกกระบวนการ\n"
    with second.saving():
        second.save(newer, change(2570, newer, stored.version))
    assert first.get(2570).text == newer  # type: ignore[union-attr]
    assert [c.version_after for c in first.changes(2570)] == [stored.version, plan_version(newer)]


def test_a_deployment_plan_file_is_read_with_its_version_and_each_change_seen(
    repositories: Repositories, tmp_path: Path
) -> None:
    """The deployment's own plan files (shipped, configured) are config, read from disk on every backend."""
    plans = repositories.plans
    path = tmp_path / "shipped" / "2570.toml"
    assert plans.deployed(path) is None
    path.parent.mkdir()
    path.write_text(TEXT, encoding="utf-8")
    found = plans.deployed(path)
    assert found == PlanFile(TEXT, plan_version(TEXT), path) and plans.deployed(path) == found
    newer = TEXT + "# แก้ไข\n"
    replacement = path.with_name(".2570.toml.new")
    replacement.write_text(newer, encoding="utf-8")
    replacement.replace(path)  # as a deployment replaces it: a new file
    assert plans.deployed(path) == PlanFile(newer, plan_version(newer), path)
    assert plans.years() == []  # nothing saved: a deployment's file is not a saved plan
    path.write_bytes(b"\xff\xfe not UTF-8")
    with pytest.raises(PlanError):
        plans.deployed(path)
