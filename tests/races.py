"""Racing calls for concurrency tests: one thread per call, all released at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def outcomes_at_once(*calls: Callable[[], Any], timeout: float = 60) -> list[Any]:
    """Run the calls in threads released together; what each returned or raised, in order (an exception is an
    outcome here: the test compares them)."""
    gate = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        gate.wait()
        try:
            outcomes[i] = calls[i]()
        except BaseException as e:  # handed to the test's thread
            outcomes[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def at_once(*calls: Callable[[], Any], timeout: float = 60) -> list[Any]:
    """As ``outcomes_at_once``, with a call's exception re-raised in the test's thread."""
    outcomes = outcomes_at_once(*calls, timeout=timeout)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return outcomes
