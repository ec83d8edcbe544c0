"""Contract of the rich-menu state: none until menus are made; links recorded without losing a concurrent change."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ita_bot.domain.menu_state import MenuState
from ita_bot.domain.repositories import Repositories


def test_none_until_put_then_seen_by_another_process(open_repositories: Callable[[], Repositories]) -> None:
    first = open_repositories().menus
    assert first.get() is None
    first.record_links(added=["U1"])  # nothing to record into yet
    assert first.get() is None
    first.put(MenuState("staff-1", "managers-1", ("U2", "U1")))
    assert open_repositories().menus.get() == MenuState("staff-1", "managers-1", ("U2", "U1"))


def test_links_are_added_in_order_and_removed(repositories: Repositories) -> None:
    menus = repositories.menus
    menus.put(MenuState("s", "m", ("U5",)))
    menus.record_links(added=["U3", "U1", "U5"])
    assert menus.get() == MenuState("s", "m", ("U5", "U1", "U3"))
    menus.record_links(removed=["U5", "U9"])
    assert menus.get() == MenuState("s", "m", ("U1", "U3"))
    menus.put(MenuState("s2", "m2"))
    assert menus.get() == MenuState("s2", "m2", ())


def test_two_syncs_recording_links_at_once_keep_each_others(open_repositories: Callable[[], Repositories]) -> None:
    views = [open_repositories().menus, open_repositories().menus]
    views[0].put(MenuState("s", "m", ()))
    start = threading.Barrier(2)

    def record(n: int) -> None:
        start.wait(10)
        for k in range(10):
            views[n].record_links(added=[f"U{n}-{k}"])

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(record, range(2)))
    state = views[1].get()
    assert state is not None and sorted(state.linked) == sorted(f"U{n}-{k}" for n in range(2) for k in range(10))
