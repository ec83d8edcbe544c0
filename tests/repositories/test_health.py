"""Contract of the pre-flight check: a backend in use reads back whole."""

from __future__ import annotations

from datetime import datetime

from ita_bot.domain.heartbeats import Heartbeat
from ita_bot.domain.repositories import Repositories
from ita_bot.domain.thai import BANGKOK


def test_an_empty_and_a_used_backend_both_pass(repositories: Repositories) -> None:
    repositories.health.check()
    now = datetime(2021, 2, 15, 10, 0, tzinfo=BANGKOK)
    repositories.heartbeats.beat(Heartbeat("clock", now))
    repositories.evidence.save("2564/r1/1.jpg", b"\xff\xd8\xff")
    repositories.health.check()
