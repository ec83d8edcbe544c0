"""Contract of the secret-key repository: one key per name, made once, the same for every process."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from ita_bot.domain.repositories import Repositories
from ita_bot.domain.secret_keys import SecretKeyRepository


def test_a_key_is_made_once_and_kept_for_every_process(open_repositories: Callable[[], Repositories]) -> None:
    first = open_repositories().secret_keys.get_or_create("console-secret-key")
    assert len(first) >= 40 and first.strip() == first
    assert open_repositories().secret_keys.get_or_create("console-secret-key") == first  # a restart, another worker
    other = open_repositories().secret_keys.get_or_create("another-key")
    assert other != first and len(other) >= 40


def test_processes_starting_together_agree_on_one_key(open_repositories: Callable[[], Repositories]) -> None:
    views = [open_repositories().secret_keys for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda n: views[n % 8].get_or_create("console-secret-key"), range(16)))
    assert len(keys) == 1


@pytest.mark.parametrize("name", ["", "../x", "Console", "a b", "a/b"])
def test_a_name_outside_the_alphabet_is_refused(repositories: Repositories, name: str) -> None:
    with pytest.raises(ValueError):
        repositories.secret_keys.get_or_create(name)


def test_two_processes_making_a_key_at_the_same_moment_get_the_same_one(
        open_repositories: Callable[[], Repositories]) -> None:
    views = [open_repositories().secret_keys, open_repositories().secret_keys]
    for n in range(10):  # each round a new name, so each round both make it
        start = threading.Barrier(2)

        def make(view: SecretKeyRepository, name: str = f"race-{n}", start: threading.Barrier = start) -> str:
            start.wait(10)
            return view.get_or_create(name)

        with ThreadPoolExecutor(2) as pool:
            first, second = pool.map(make, views)
        assert first == second and len(first) >= 40
