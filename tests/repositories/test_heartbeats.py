"""Contract of the heartbeat repository: the latest beat per process name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ita_bot.domain.heartbeats import Heartbeat
from ita_bot.domain.repositories import Repositories
from ita_bot.domain.thai import BANGKOK

NOW = datetime(2021, 2, 15, 10, 0, tzinfo=BANGKOK)


def test_the_latest_beat_replaces_the_one_before(open_repositories: Callable[[], Repositories]) -> None:
    beats = open_repositories().heartbeats
    assert beats.last("clock") is None
    beats.beat(Heartbeat("clock", NOW, NOW - timedelta(days=3), 123, 60.0))
    later = Heartbeat("clock", NOW + timedelta(minutes=1), NOW - timedelta(days=3), 124, 1.0)
    beats.beat(later)
    beats.beat(Heartbeat("other", NOW, None, None, None))
    assert open_repositories().heartbeats.last("clock") == later
    assert beats.last("other") == Heartbeat("other", NOW, None, None, None)
