"""The NoticeRepository contract: notices posted once per key, told once per person, resolved, on every backend."""

from __future__ import annotations

from collections.abc import Callable

from ita_bot.domain.notices import Notice, NoticeKind
from ita_bot.domain.repositories import Repositories

AT = "2021-02-10T09:00:00+07:00"


def notice(n: int, kind: NoticeKind = "quota", plan_year: int | None = None) -> Notice:
    return Notice(f"id{n}", kind, f"ข้อความที่ {n}", AT, plan_year)


def test_a_posted_notice_is_unresolved_and_nobody_was_told(repositories: Repositories) -> None:
    board = repositories.notices
    assert board.unresolved() == []
    first = board.post(notice(1, plan_year=2565), "k1")
    assert first == notice(1, plan_year=2565)
    [record] = board.unresolved()
    assert (record.notice, record.key, record.told) == (first, "k1", frozenset())


def test_the_same_key_posts_once(repositories: Repositories) -> None:
    board = repositories.notices
    first = board.post(notice(1), "k1")
    assert board.post(notice(2, "failed_send"), "k1") == first  # a rerun gets the stored one back
    assert [r.notice for r in board.unresolved()] == [first]
    board.resolve(lambda r: True)
    assert board.post(notice(3), "k1") == first  # still known once resolved: it is not posted again
    assert board.unresolved() == []


def test_notices_come_in_posting_order(repositories: Repositories) -> None:
    board = repositories.notices
    for n in (3, 1, 2):
        board.post(notice(n), f"k{n}")
    assert [r.notice.id for r in board.unresolved()] == ["id3", "id1", "id2"]


def test_each_person_is_told_each_notice_once(repositories: Repositories) -> None:
    board = repositories.notices
    board.post(notice(1), "k1")
    board.post(notice(2), "k2")
    assert [n.id for n in board.tell("U1", lambda n: False)] == ["id1", "id2"]
    assert board.tell("U1", lambda n: False) == []
    board.post(notice(3), "k3")
    assert [n.id for n in board.tell("U1", lambda n: False)] == ["id3"]
    assert [n.id for n in board.tell("U2", lambda n: False)] == ["id1", "id2", "id3"]
    assert {r.key: r.told for r in board.unresolved()} == {k: frozenset({"U1", "U2"}) for k in ("k1", "k2", "k3")}


def test_telling_retires_what_the_rule_picks_instead_of_showing_it(repositories: Repositories) -> None:
    board = repositories.notices
    board.post(notice(1, plan_year=2565), "k1")
    board.post(notice(2), "k2")
    told = board.tell("U1", lambda n: n.plan_year == 2565)
    assert [n.id for n in told] == ["id2"]
    assert [r.key for r in board.unresolved()] == ["k2"]


def test_resolve_retires_only_what_it_picks(repositories: Repositories) -> None:
    board = repositories.notices
    board.post(notice(1, "richmenu"), "richmenu:a")
    board.post(notice(2, "richmenu"), "other")
    board.post(notice(3, "quota"), "richmenu:b")
    assert board.resolve(lambda r: r.notice.kind == "richmenu" and r.key.startswith("richmenu:")) == 1
    assert [r.key for r in board.unresolved()] == ["other", "richmenu:b"]
    assert board.resolve(lambda r: False) == 0
    assert board.resolve(lambda r: True) == 2 and board.unresolved() == []
    assert board.tell("U1", lambda n: False) == []  # resolved ones are never shown


def test_a_second_opening_sees_the_first_ones_writes(open_repositories: Callable[[], Repositories]) -> None:
    first, second = open_repositories().notices, open_repositories().notices
    assert second.unresolved() == []
    first.post(notice(1), "k1")
    assert second.post(notice(2), "k1") == notice(1)
    assert [n.id for n in second.tell("U1", lambda n: False)] == ["id1"]
    assert first.tell("U1", lambda n: False) == []  # told through the other opening
    first.resolve(lambda r: True)
    assert second.unresolved() == []
