"""The ReportRepository contract: what every backend keeps of reports, run unchanged on each backend."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from ita_bot.domain.progress import Report
from ita_bot.domain.repositories import Repositories
from ita_bot.domain.thai import BANGKOK

T0 = datetime(2021, 2, 10, 9, 0, tzinfo=BANGKOK)


def report(measure: int = 1, division: str = "sp", *, day: int = 0, minute: int = 0, fy: int = 2564,
           event_id: str | None = None, **kw: object) -> Report:
    at = T0 + timedelta(days=day, minutes=minute)
    return Report(fy, measure, division, "doing", 50, f"มาตรการ {measure}", at, at, event_id=event_id, **kw)  # type: ignore[arg-type]


def test_an_added_report_is_listed_and_got_back_equal(repositories: Repositories) -> None:
    repo = repositories.reports
    stored = report(evidence=[{"file": "a.jpg"}], edits=[{"details": "เดิม"}], chat_id="C1", reporter_id="U1")
    assert repo.add(stored) == stored
    assert repo.of_year(2564) == [stored]
    assert repo.get(2564, stored.id) == stored
    assert repo.get(2564, "no-such-id") is None
    assert repo.of_year(2563) == [] and repo.get(2563, stored.id) is None  # years are kept apart


def test_the_same_event_is_stored_once(repositories: Repositories) -> None:
    repo = repositories.reports
    first = repo.add(report(event_id="E1"))
    again = repo.add(report(2, "chang", event_id="E1"))  # a replayed event: its report is the stored one
    assert again == first and again.id == first.id
    assert [r.id for r in repo.of_year(2564)] == [first.id]
    repo.add(report(event_id=None))
    repo.add(report(event_id=None))  # reports without an event are never taken for each other
    assert len(repo.of_year(2564)) == 3


def test_an_event_whose_save_failed_is_stored_when_it_comes_again(
        open_repositories: Callable[[], Repositories]) -> None:
    repo = open_repositories().reports
    repo.add(report(event_id="E0"))
    with pytest.raises(RuntimeError), repo.hold(2564):
        repo.add(report(2, event_id="E1"))
        raise RuntimeError("the rest of the event failed: nothing of it is kept")
    assert [r.event_id for r in repo.of_year(2564)] == ["E0"]
    again = repo.add(report(2, event_id="E1"))
    assert [r.id for r in repo.of_year(2564)] == [repo.of_year(2564)[0].id, again.id]
    assert repo.add(report(3, event_id="E1")).id == again.id  # now stored: a replay finds it
    other = open_repositories().reports  # another process finds it too
    assert other.add(report(3, event_id="E1")).id == again.id
    assert [r.event_id for r in other.of_year(2564)] == ["E0", "E1"]


def test_reports_are_listed_oldest_first_by_the_day_reported_then_the_moment_sent(repositories: Repositories) -> None:
    repo = repositories.reports
    late, early = report(1, day=3), report(2, day=1)
    same_day_sent_later = report(3, day=1)
    same_day_sent_later.sent_at = early.sent_at + timedelta(hours=1)
    for r in (late, same_day_sent_later, early):
        repo.add(r)
    assert [r.measure for r in repo.of_year(2564)] == [2, 3, 1]


def test_the_check_runs_before_storing_and_refuses_by_raising(repositories: Repositories) -> None:
    repo = repositories.reports
    seen: list[str] = []

    def refuse(r: Report) -> None:
        seen.append(r.id)
        raise ValueError("ไม่มีกองนี้ในแผน")

    refused = report()
    with pytest.raises(ValueError):
        repo.add(refused, refuse)
    assert seen == [refused.id] and repo.of_year(2564) == []
    kept = repo.add(report(), lambda r: None)
    assert repo.of_year(2564) == [kept]


def test_an_update_changes_one_report_and_returns_it(repositories: Repositories) -> None:
    repo = repositories.reports
    one, other = repo.add(report(1)), repo.add(report(2))

    def withdraw(r: Report) -> None:
        r.withdrawn_at = T0 + timedelta(days=1)
        r.withdrawn_event = "E9"
        r.evidence = [*r.evidence, {"file": "b.pdf"}]

    changed = repo.update(2564, one.id, withdraw)
    assert changed.withdrawn and changed.withdrawn_event == "E9" and changed.evidence == [{"file": "b.pdf"}]
    assert repo.get(2564, one.id) == changed
    assert repo.get(2564, other.id) == other
    assert [r.id for r in repo.of_year(2564)] == [other.id]  # withdrawn ones are left out unless asked for
    assert [r.id for r in repo.of_year(2564, include_withdrawn=True)] == [one.id, other.id]
    with pytest.raises(KeyError):
        repo.update(2564, "no-such-id", withdraw)


def test_find_sees_withdrawn_reports_in_order(repositories: Repositories) -> None:
    repo = repositories.reports
    a, b, c = repo.add(report(1, day=0)), repo.add(report(2, day=1)), repo.add(report(1, day=2))
    repo.update(2564, c.id, lambda r: setattr(r, "withdrawn_at", T0))
    assert [r.id for r in repo.find(2564, lambda r: r.measure == 1)] == [a.id, c.id]
    assert repo.find(2564, lambda r: r.measure == 9) == []
    assert [r.id for r in repo.find(2564, lambda r: r.withdrawn)] == [c.id]
    assert b.id not in {r.id for r in repo.find(2564, lambda r: r.measure == 1)}


def test_reports_handed_out_are_copies(repositories: Repositories) -> None:
    repo = repositories.reports
    stored = repo.add(report(evidence=[{"file": "a.jpg"}]))
    for mine in (repo.of_year(2564)[0], repo.get(2564, stored.id), repo.find(2564, lambda r: True)[0],
                 repo.of_year(2564, include_withdrawn=True)[0]):
        assert mine is not None
        mine.details = "แก้ในหน่วยความจำ"
        mine.evidence[0]["file"] = "b.jpg"
        mine.evidence.append({"file": "c.jpg"})
        mine.edits.append({"details": "x"})
    again = repo.get(2564, stored.id)
    assert again is not None
    assert again.details == "มาตรการ 1" and again.evidence == [{"file": "a.jpg"}] and again.edits == []

    def keep_a_reference(r: Report) -> None:
        held.append(r)

    held: list[Report] = []
    repo.update(2564, stored.id, keep_a_reference)
    held[0].details = "แก้หลังบันทึก"  # the object a change saw is not the stored report either
    assert repo.get(2564, stored.id).details == "มาตรการ 1"  # type: ignore[union-attr]


def test_a_second_opening_sees_the_first_ones_writes(open_repositories: Callable[[], Repositories]) -> None:
    first, second = open_repositories().reports, open_repositories().reports
    assert second.of_year(2564) == []  # read before the write: a cached empty year must not hide it later
    stored = first.add(report(event_id="E1"))
    assert second.of_year(2564) == [stored]
    assert second.add(report(event_id="E1")).id == stored.id  # the event is known to every opening
    second.update(2564, stored.id, lambda r: setattr(r, "details", "แก้จากอีกกระบวนการ"))
    assert first.get(2564, stored.id).details == "แก้จากอีกกระบวนการ"  # type: ignore[union-attr]


def test_hold_keeps_other_writers_of_the_year_out_until_released(
    open_repositories: Callable[[], Repositories],
) -> None:
    holder, writer = open_repositories().reports, open_repositories().reports
    added = threading.Event()

    def add() -> None:
        writer.add(report(2))
        added.set()

    with holder.hold(2564):
        thread = threading.Thread(target=add)
        thread.start()
        assert not added.wait(0.5)  # a report of the held year waits
        assert holder.of_year(2564) == []
        holder.add(report(1))  # the holder's own add joins its transaction
    thread.join(10)
    assert added.is_set()
    assert sorted(r.measure for r in holder.of_year(2564)) == [1, 2]


def test_hold_of_one_year_does_not_block_another(open_repositories: Callable[[], Repositories]) -> None:
    holder, writer = open_repositories().reports, open_repositories().reports
    with holder.hold(2564):
        done = threading.Thread(target=lambda: writer.add(report(fy=2565)))
        done.start()
        done.join(10)
        assert not done.is_alive()
    assert len(writer.of_year(2565)) == 1


def test_progress_since_is_each_pairs_latest_before_the_start_and_everything_after(
        repositories: Repositories) -> None:
    repo = repositories.reports
    old = repo.add(report(1, "sp", day=-5))
    newer = repo.add(report(1, "sp", day=-3))
    later_same_day = repo.add(report(1, "sp", day=-3, minute=5))
    gone = repo.add(report(2, "chang", day=-2))
    repo.update(2564, gone.id, lambda r: setattr(r, "withdrawn_at", T0))
    kept = repo.add(report(2, "chang", day=-4))
    after = [repo.add(report(3, "klang", day=1)), repo.add(report(1, "sp", day=2))]
    repo.add(report(1, "sp", day=-1, fy=2563))  # other years are apart
    got = repo.progress_since(2564, T0)
    assert [r.id for r in got] == [kept.id, later_same_day.id, *(r.id for r in after)]
    assert old.id not in {r.id for r in got} and newer.id not in {r.id for r in got}
    got[0].evidence.append({"file": "x.jpg"})  # copies: the caller may change them
    assert repo.progress_since(2564, T0)[0].evidence == []
    assert repo.progress_since(2565, T0) == []
