"""The AuditRepository contract: an append-only log read newest first, on every backend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ita_bot.domain.audit import AuditEntry
from ita_bot.domain.repositories import Repositories
from ita_bot.domain.thai import BANGKOK

T0 = datetime(2021, 2, 10, 9, 0, tzinfo=BANGKOK)


def entry(summary: str, minutes: int = 0, **kw: object) -> AuditEntry:
    return AuditEntry(T0 + timedelta(minutes=minutes), "#1 สมศรี (เลขานุการ)", "สมาชิก", summary, **kw)  # type: ignore[arg-type]


def test_entries_come_back_whole_and_newest_first(repositories: Repositories) -> None:
    full = entry("อนุมัติ #3", 5, before="รออนุมัติ", after="อนุมัติแล้ว", fiscal_year=2564, via="ระบบจัดการ")
    repositories.audit.add(entry("ลงทะเบียน #3", 0))
    repositories.audit.add(full)
    repositories.audit.add(entry("ก่อนหน้า", -5))
    assert [e.summary for e in repositories.audit.newest(10)] == ["อนุมัติ #3", "ลงทะเบียน #3", "ก่อนหน้า"]
    assert repositories.audit.newest(10)[0] == full


def test_within_one_moment_the_later_recorded_comes_first(repositories: Repositories) -> None:
    for n in range(3):
        repositories.audit.add(entry(f"ครั้งที่ {n}"))
    assert [e.summary for e in repositories.audit.newest(10)] == ["ครั้งที่ 2", "ครั้งที่ 1", "ครั้งที่ 0"]


def test_the_limit_keeps_the_newest(repositories: Repositories) -> None:
    for n in range(5):
        repositories.audit.add(entry(f"ครั้งที่ {n}", n))
    assert [e.summary for e in repositories.audit.newest(2)] == ["ครั้งที่ 4", "ครั้งที่ 3"]
    assert repositories.audit.newest(0) == []


def test_a_second_opening_sees_the_first_ones_entries(open_repositories: Callable[[], Repositories]) -> None:
    first, second = open_repositories().audit, open_repositories().audit
    assert second.newest(10) == []
    first.add(entry("ย้ายวันประชุม"))
    assert [e.summary for e in second.newest(10)] == ["ย้ายวันประชุม"]
