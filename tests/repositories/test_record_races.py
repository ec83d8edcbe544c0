"""Two processes racing on the office's records: of two claims, two saves or two adds made at once, exactly one
takes effect, on every backend (each opening is a process's own view: its own Store, its own connection pool)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path

from ita_bot.domain.notices import Notice
from ita_bot.domain.people import CodeError, People
from ita_bot.domain.plan_book import PlanBook, VersionConflict
from ita_bot.domain.progress import Report
from ita_bot.domain.reports import ReportBook
from ita_bot.domain.repositories import Repositories
from ita_bot.domain.thai import BANGKOK
from tests.plan_files import plan_text
from tests.races import outcomes_at_once

T0 = datetime(2021, 2, 10, 9, 0, tzinfo=BANGKOK)
ROUNDS = 8
#: The calls at once, one thread each; what each returned or raised.
race = partial(outcomes_at_once, timeout=30)



def test_two_processes_claiming_one_role_code_at_once_bind_it_once(
    open_repositories: Callable[[], Repositories],
) -> None:
    first, second = People(open_repositories().people), People(open_repositories().people)
    for n in range(ROUNDS):
        code, _ = first.issue_code("committee", "U-secretary", T0)
        a, b = f"UA{n}", f"UB{n}"
        outcomes = race(partial(first.claim_code, code, a, T0), partial(second.claim_code, code, b, T0))
        won = [o for o in outcomes if o == "committee"]
        lost = [o for o in outcomes if isinstance(o, CodeError)]
        assert (len(won), len(lost)) == (1, 1), outcomes
        assert "ถูกใช้ไปแล้ว" in str(lost[0])
        holders = [p.user_id for p in first.all() if "committee" in p.roles and p.user_id in (a, b)]
        assert len(holders) == 1


def test_two_processes_saving_the_same_plan_version_one_wins(
    open_repositories: Callable[[], Repositories], tmp_path: Path,
) -> None:
    """The console's no-lost-update: a save names the version it was edited from; of two saves from one version,
    made at once in two processes, one is kept and the other is refused with VersionConflict."""
    shipped = tmp_path / "shipped"
    shipped.mkdir()

    def plan_book(repositories: Repositories) -> PlanBook:
        return PlanBook(shipped, repositories.plans, reports=ReportBook(repositories.reports))

    first, second = plan_book(open_repositories()), plan_book(open_repositories())
    base = plan_text(2570)
    name = 'name = "องค์การบริหารส่วนตำบลหนองเมือง"'
    version = ""  # no plan yet: both start from nothing
    for n in range(ROUNDS):
        calls = [partial(book.save_text, 2570, base.replace(name, f'name = "อบต. รอบ {n} ผู้แก้ {i}"'),
                         expected_version=version, who=f"ผู้แก้ {i}", now=T0)
                 for i, book in enumerate((first, second))]
        outcomes = race(*calls)
        conflicts = [o for o in outcomes if isinstance(o, VersionConflict)]
        assert len(conflicts) == 1 and len([o for o in outcomes if not isinstance(o, Exception)]) == 1, outcomes
        winner = next(i for i, o in enumerate(outcomes) if not isinstance(o, Exception))
        # The stored plan is the winner's, in both processes, and the log has the winner's change alone.
        names = {b.get(2570).organization.name for b in (first, second)}  # type: ignore[union-attr]
        assert names == {f"อบต. รอบ {n} ผู้แก้ {winner}"}
        [last] = second.history(1, 2570)
        assert (last.who, last.version_before, last.version_after) == (f"ผู้แก้ {winner}", version, first.version(2570))
        assert first.version(2570) != version
        version = first.version(2570)
    assert len(first.history(100, 2570)) == ROUNDS


def test_two_processes_adding_one_events_report_at_once_store_it_once(
    open_repositories: Callable[[], Repositories],
) -> None:
    first, second = open_repositories().reports, open_repositories().reports
    for n in range(ROUNDS):
        reports = [Report(2564, measure, "sp", "doing", 50, "รายงาน", T0, T0, event_id=f"E{n}") for measure in (1, 2)]
        outcomes = race(partial(first.add, reports[0]), partial(second.add, reports[1]))
        assert all(isinstance(o, Report) for o in outcomes), outcomes
        a, b = outcomes
        assert isinstance(a, Report) and isinstance(b, Report) and a.id == b.id
    assert len(first.of_year(2564)) == ROUNDS


def test_two_processes_posting_one_notice_key_at_once_post_it_once(
    open_repositories: Callable[[], Repositories],
) -> None:
    first, second = open_repositories().notices, open_repositories().notices
    for n in range(ROUNDS):
        outcomes = race(partial(first.post, Notice(f"a{n}", "quota", "ก", T0.isoformat()), f"k{n}"),
                        partial(second.post, Notice(f"b{n}", "quota", "ข", T0.isoformat()), f"k{n}"))
        assert outcomes[0] == outcomes[1], outcomes
    assert len(first.unresolved()) == ROUNDS
