"""/healthz's states: ok, degraded (no plan for the current year, a failed job, a late clock) and 503."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from ita_bot.console import CLOCK_KEY
from ita_bot.domain.heartbeats import Heartbeat
from ita_bot.domain.thai import BANGKOK
from ita_bot.schedule.clock import Clock
from tests.chat_harness import ChatBot
from tests.tiny import tiny_store

pytestmark = pytest.mark.backends("tinydb", "postgresql")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BANGKOK)


def follow_bot_clock(bot: ChatBot) -> ChatBot:
    """The app reads "now" through its clock, as the demo's simulated one does: here the harness's."""
    bot.app.config[CLOCK_KEY] = lambda: bot.now
    return bot


def beat(bot: ChatBot, age: timedelta, tick_seconds: float | None = None) -> None:
    """The clock's heartbeat as it writes it: real time (whatever time the clock pretends)."""
    bot.office.repositories.heartbeats.beat(
        Heartbeat("clock", at=datetime.now(BANGKOK) - age, tick_seconds=tick_seconds))


def test_ok_in_a_year_with_its_plan_and_a_live_clock(bot: ChatBot) -> None:
    follow_bot_clock(bot)
    beat(bot, timedelta(seconds=10), tick_seconds=60)
    status, body = bot.healthz()
    assert status == 200
    assert body["status"] == "ok" and body["problems"] == []
    assert body["fiscal_year"] == 2564 and body["has_plan"] is True
    assert body["plans"] == [2564] and body["plans_missing"] == []
    assert body["clock"]["late"] is False and body["jobs"] == {}


def test_the_current_fiscal_year_comes_from_the_apps_clock_not_the_shipped_plan(bot: ChatBot) -> None:
    follow_bot_clock(bot)
    beat(bot, timedelta(seconds=10))
    bot.now = at("2026-09-30T23:00")  # still fiscal year 2569
    status, body = bot.healthz()
    assert status == 200 and body["fiscal_year"] == 2569 and body["has_plan"] is False
    # A year without a plan is degraded, not an error: staff cannot report, everything else works.
    assert body["status"] == "degraded" and body["problems"] == ["no_plan"]
    assert body["plans"] == [2564] and body["plans_missing"] == [2569, 2570]  # September: the coming one too
    bot.now = at("2026-12-06T10:00")  # a Thai fiscal year starts on 1 October: 2570
    status, body = bot.healthz()
    assert status == 200 and body["fiscal_year"] == 2570 and body["plans_missing"] == [2570]
    assert body["status"] == "degraded" and body["problems"] == ["no_plan"]


def test_a_clock_that_never_beat_or_stopped_beating_is_late(bot: ChatBot) -> None:
    follow_bot_clock(bot)
    status, body = bot.healthz()  # no clock process has ever run on this data folder
    assert status == 200 and body["clock"] == {"heartbeat_age_seconds": None, "late": True}
    assert body["status"] == "degraded" and body["problems"] == ["clock_late"]
    beat(bot, timedelta(minutes=10), tick_seconds=60)  # ten ticks missed
    status, body = bot.healthz()
    assert body["clock"]["late"] is True and 590 <= body["clock"]["heartbeat_age_seconds"] <= 660
    assert body["problems"] == ["clock_late"]
    beat(bot, timedelta(minutes=10), tick_seconds=600)  # a clock ticking every 10 minutes is on time
    assert bot.healthz()[1]["status"] == "ok"


def test_a_failed_job_is_degraded_until_its_retry_succeeds(bot: ChatBot, monkeypatch: pytest.MonkeyPatch) -> None:
    import ita_bot.schedule.clock as clock_module

    follow_bot_clock(bot)
    bot.now = at("2021-02-22T09:00")  # the first reminder of the February 2564 cycle is due
    clock = Clock(bot.office, bot.runtime.line, now=lambda: bot.now)
    real_run_job = clock_module.run_job

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk gone")

    monkeypatch.setattr(clock_module, "run_job", broken)
    clock.tick()
    status, body = bot.healthz()
    assert status == 200 and body["status"] == "degraded" and body["problems"] == ["job_failed"]
    assert body["jobs"]["reminder"] == {"last_run": "2021-02-22T09:00:00+07:00", "result": "failed"}
    assert "disk gone" not in str(body)  # the kind of problem only; the error is in the clock's log

    monkeypatch.setattr(clock_module, "run_job", real_run_job)
    bot.now = at("2021-02-22T09:11")  # the failed slot is retried once its lease is over
    clock.tick()
    status, body = bot.healthz()
    assert body["jobs"]["reminder"] == {"last_run": "2021-02-22T09:11:00+07:00", "result": "ok"}
    assert body["status"] == "ok" and body["problems"] == []


@pytest.mark.backends("tinydb")  # a saved plan is a file on TinyDB only
def test_a_broken_saved_plan_is_503_naming_the_file_not_its_folder(bot: ChatBot) -> None:
    follow_bot_clock(bot)
    saved = tiny_store(bot.office).folder / "plans" / "2570.toml"
    saved.parent.mkdir(exist_ok=True)
    saved.write_text("fiscal_year = ", encoding="utf-8")
    status, body = bot.healthz()
    assert status == 503
    assert body["status"] == "error" and body["reason"] == "plan" and body["plan"] == "2570.toml"
    assert str(tiny_store(bot.office).folder) not in str(body)
