"""Contract of the sign-in repository: a link is used once, an expired one never; sessions end for good."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from ita_bot.domain.repositories import Repositories
from ita_bot.domain.signin import SignInLink, StoredSession
from ita_bot.domain.thai import BANGKOK

NOW = datetime(2021, 2, 15, 10, 0, tzinfo=BANGKOK)
HOUR = timedelta(hours=1)


def link(hash: str, user: str = "U1", at: datetime = NOW) -> SignInLink:
    return SignInLink(hash, user, at, at + timedelta(minutes=10))


def add(repositories: Repositories, item: SignInLink, limit: int = 5) -> bool:
    return repositories.signin.add_link(item, limit=limit, since=item.created_at - HOUR,
                                        drop_before=item.created_at - timedelta(days=1))


def test_a_link_is_used_once_also_from_another_process(open_repositories: Callable[[], Repositories]) -> None:
    first, second = open_repositories(), open_repositories()
    assert add(first, link("h1"))
    used = second.signin.use_link("h1", NOW + timedelta(minutes=1))
    assert used is not None and used.user_id == "U1" and used.used_at is None  # as it was: this call used it
    again = first.signin.use_link("h1", NOW + timedelta(minutes=2))
    assert again is not None and again.used_at == NOW + timedelta(minutes=1)
    assert first.signin.use_link("unknown", NOW) is None


def test_an_expired_link_is_never_marked_used(repositories: Repositories) -> None:
    assert add(repositories, link("h1"))
    late = NOW + timedelta(minutes=10)
    for _ in range(2):
        seen = repositories.signin.use_link("h1", late)
        assert seen is not None and seen.used_at is None and seen.expires_at <= late


def test_links_beyond_the_limit_are_refused_and_old_ones_dropped(repositories: Repositories) -> None:
    assert add(repositories, link("old", at=NOW - timedelta(days=2)), limit=2)
    assert add(repositories, link("a"), limit=2)
    assert add(repositories, link("b", user="U2"), limit=2)  # another person's do not count
    assert add(repositories, link("c"), limit=2)
    assert not add(repositories, link("d"), limit=2)
    assert repositories.signin.use_link("d", NOW) is None  # refused: nothing stored
    assert repositories.signin.use_link("old", NOW) is None  # older than a day: dropped meanwhile
    assert add(repositories, link("e", at=NOW + 2 * HOUR), limit=2)  # an hour on, the window has moved


def test_sessions_start_end_and_expire(open_repositories: Callable[[], Repositories]) -> None:
    repos = open_repositories()
    signin = repos.signin
    signin.add_session(StoredSession("s1", "U1", NOW, NOW + 8 * HOUR), drop_expired_at=NOW)
    signin.add_session(StoredSession("s2", "U1", NOW, NOW + 8 * HOUR), drop_expired_at=NOW)
    signin.add_session(StoredSession("s3", "U2", NOW, NOW + HOUR), drop_expired_at=NOW)
    seen = open_repositories().signin.session("s1")
    assert seen == StoredSession("s1", "U1", NOW, NOW + 8 * HOUR)
    signin.end_session("s1")
    assert signin.session("s1") is None
    assert signin.end_sessions_of("U1") == 1 and signin.session("s2") is None
    assert signin.end_sessions_of("U1") == 0
    later = NOW + 2 * HOUR
    signin.add_session(StoredSession("s4", "U2", later, later + HOUR), drop_expired_at=later)
    assert signin.session("s3") is None and signin.session("s4") is not None


def test_a_link_used_twice_at_once_opens_the_console_once(open_repositories: Callable[[], Repositories]) -> None:
    """Two processes redeeming one link at the same moment (a double click, two tabs): exactly one wins."""
    views = [open_repositories(), open_repositories()]
    hashes = [f"race-{n}" for n in range(20)]
    for h in hashes:
        assert add(views[0], link(h), limit=len(hashes))
    start = threading.Barrier(2)

    def redeem(view: Repositories) -> list[bool]:
        won = []
        for h in hashes:
            start.wait(10)
            seen = view.signin.use_link(h, NOW + timedelta(minutes=1))
            assert seen is not None
            won.append(seen.used_at is None)  # as it was before this call: unused, so this call used it
        return won

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(redeem, views)
    assert all(a != b for a, b in zip(first, second, strict=True))  # per link: one winner, one loser


def test_links_asked_for_at_once_stay_within_the_limit(open_repositories: Callable[[], Repositories]) -> None:
    views = [open_repositories(), open_repositories()]
    start = threading.Barrier(2)

    def ask(n: int) -> int:
        kept = 0
        for k in range(3):  # in the third round both ask with four kept: only one may be the fifth
            start.wait(10)
            kept += add(views[n], link(f"l{n}-{k}"), limit=5)
        return kept

    with ThreadPoolExecutor(2) as pool:
        assert sum(pool.map(ask, range(2))) == 5
