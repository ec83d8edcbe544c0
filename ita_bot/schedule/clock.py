"""The clock process (`python bot.py clock`): runs every scheduled job at its slots, exactly once.

Design: a tick, not a trigger per slot
--------------------------------------
Job times derive from the meeting calendar, which a manager can change at any moment with
/ประชุม in the *web* process. Rather than mirroring every slot as an APScheduler DateTrigger and
re-planning whenever the calendar might have changed, the clock runs one APScheduler job, the
*tick* (every ``ITA_BOT_CLOCK_TICK`` seconds, default 60). Each tick rebuilds the calendar from
the store, computes the current cycle's slots and runs those that are due:

- the current cycle is the one of the first meeting on or after today, so a slot is never run once
  its meeting day has passed;
- a slot is due when its time has come and it has not been handled (the slot repository,
  ``office.repositories.slots``); of the reminder slots only the *latest* due one is considered, so a clock
  that was down over several reminder slots catches up one reminder, not all of them;
- a slot is claimed in one transaction (``SlotRepository.hold``, lease of 10 minutes) before it runs, and each push
  inside it is claimed again per recipient by :mod:`ita_bot.schedule.delivery`; two clocks started together
  on one store therefore run each slot once and make each push once (the store's lock decides).

APScheduler settings, chosen deliberately (its defaults would drop a late tick or overlap two): the tick has
``coalesce=True`` (ticks missed while the process was stalled collapse into one — the tick itself
finds every due slot, so running it once is enough), ``max_instances=1`` (a tick that is still
retrying a push is never overlapped by the next) and ``misfire_grace_time=None`` (a late tick
always runs; the default of 1 s would silently drop a tick after a stall). Catch-up after downtime
is not left to APScheduler's misfire handling at all: its job store is in memory, so it knows
nothing of the time the process was down; the slot table does. The scheduler is a
BlockingScheduler in Asia/Bangkok whatever the server's zone; web workers never start one.

Each tick also writes the heartbeat /healthz reads (``office.repositories.heartbeats``, name "clock",
at real time) and resumes pushes left half-done by a crash or by
LINE being down (same retry key; 20 hours on they are marked uncertain instead).

Test and operations hooks (environment):

- ``ITA_BOT_CLOCK_TICK`` — seconds between ticks (default 60; tests use 1).
- ``ITA_BOT_CLOCK_START`` — an ISO date-time the clock pretends it is at start (Bangkok time when
  no offset); it then advances with real time. For tests and rehearsals only: the heartbeat keeps
  real time so /healthz stays truthful.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import FrameType
from typing import Any

from ita_bot.domain.config import Config, ConfigError
from ita_bot.domain.heartbeats import Heartbeat
from ita_bot.domain.job_slots import SlotRepository
from ita_bot.domain.office import Office
from ita_bot.domain.thai import BANGKOK, parse_datetime
from ita_bot.line.client import LineClient
from ita_bot.schedule.delivery import Delivery
from ita_bot.schedule.jobs import JOBS, JobResult, cycle_for, run_job
from ita_bot.schedule.slots import MEETING_JOBS, Slot, job_slots, slots_of
from ita_bot.store import open_office

__all__ = ["DEFAULT_TICK", "Clock", "JobRun", "Slot", "clock_is_late", "clock_settings", "last_runs", "run_clock",
           "slots_of"]

log = logging.getLogger(__name__)

DEFAULT_TICK = 60.0
SLOT_LEASE = timedelta(minutes=10)
SLOT_ATTEMPTS = 3  # a slot whose job keeps raising (store or config trouble) is given up after this many tries

Now = Callable[[], datetime]


class Clock:
    """What one tick does; free of APScheduler so tests drive it with any `now`."""

    def __init__(
        self,
        office: Office,
        line: LineClient,
        *,
        now: Now | None = None,
        delivery: Delivery | None = None,
        tick_seconds: float = DEFAULT_TICK,
    ) -> None:
        self.office = office
        self.line = line
        self.now = now or (lambda: office.now())  # the office's clock: the demo's simulated time reaches jobs too
        self.delivery = delivery or Delivery(office, line, wall=self.now, fmt=office.fmt)
        self.tick_seconds = tick_seconds

    # --- planning -------------------------------------------------------------------------------

    def due(self, now: datetime) -> list[Slot]:
        """Slots of the current cycle whose time has come and which are not handled yet."""
        cal = self.office.calendar()
        cycle = cycle_for(cal, now.date())  # its meeting is today or later: the day has not passed
        come = [s for s in job_slots(self.office, cal, now.date(), now.date())
                if s.at <= now and (s.job not in MEETING_JOBS or s.cycle.id == cycle.id)]
        reminders = [s for s in come if s.job == "reminder"]
        # Only the latest missed reminder: two reminders back to back after downtime would be noise.
        latest = [max(reminders)] if reminders else []
        candidates = [s for s in come if s.job not in ("reminder", "milestone")] + latest
        # Likewise per milestone (in time order, the last one come wins); a passed milestone has no slots left.
        milestones = {s.ref: s for s in come if s.job == "milestone"}
        candidates += milestones.values()
        handled = self._handled()
        return sorted(s for s in candidates if s.id not in handled)

    def next_runs(self, now: datetime) -> dict[str, Slot | None]:
        """For each job its next slot not yet handled (a due one counts: it runs at the first tick)."""
        cal = self.office.calendar()
        handled = self._handled()
        due = {s.id for s in self.due(now)}
        out: dict[str, Slot | None] = dict.fromkeys(JOBS)
        # Two years ahead holds every job's next slot (job plan's come each September and October).
        for slot in job_slots(self.office, cal, now.date(), date(now.year + 2, 12, 31)):
            if out[slot.job] is None and slot.id not in handled and (slot.at > now or slot.id in due):
                out[slot.job] = slot
        return out

    def _handled(self) -> set[str]:
        return {r["slot"] for r in self.office.repositories.slots.all() if r["state"] == "done"}

    # --- slot claims ----------------------------------------------------------------------------

    def _claim(self, slot: Slot) -> bool:
        """Take a slot for this process, or say someone else has it (or had it)."""
        wall = self.now()
        with self.office.repositories.slots.hold(slot.id) as held:
            row = held.row
            if row is None:
                held.put({"state": "running", "attempts": 0, "at": slot.at.isoformat(),
                          "lease_until": (wall + SLOT_LEASE).isoformat(), "error": None})
                return True
            if row["state"] == "done" or datetime.fromisoformat(row["lease_until"]) > wall:
                return False
            held.put({"state": "running", "lease_until": (wall + SLOT_LEASE).isoformat()})
            return True

    def _release(self, slot: Slot, result: JobResult | None, error: str | None) -> None:
        wall = self.now()
        with self.office.repositories.slots.hold(slot.id) as held:
            row = held.row
            attempts = int(row["attempts"] if row else 0) + 1
            done = error is None or attempts >= SLOT_ATTEMPTS
            change = {
                "state": "done" if done else "retry",
                "attempts": attempts,
                "error": error,
                "ran_at": wall.isoformat(),
                # A failed run is tried again after the lease, so a store hiccup does not lose a reminder.
                "lease_until": (wall if done else wall + SLOT_LEASE).isoformat(),
                # Plain strings, not enum members: the store deep-copies tables with marshal.
                "outcomes": [line.outcome.value for line in result.lines] if result else [],
            }
            if row is not None:  # released only after its claim: the entry is there
                held.put(change)
        if error and done:
            text = (f"งาน {slot.job} ของรอบประชุม {self.office.fmt.date(slot.cycle.meeting)} "
                    f"ทำไม่สำเร็จ {attempts} ครั้ง ระบบจึงหยุดลองใหม่ กรุณาแจ้งผู้ดูแลระบบให้ตรวจสอบ "
                    f"และส่งงานนี้ใหม่")
            self.office.notices.add("failed_send", text, wall, key=f"slot:{slot.id}")

    # --- the tick -------------------------------------------------------------------------------

    def heartbeat(self, now: datetime) -> None:
        """Tell /healthz the clock is alive (real time, whatever `now` the clock pretends)."""
        self.office.repositories.heartbeats.beat(
            Heartbeat("clock", datetime.now(BANGKOK), now, os.getpid(), self.tick_seconds))

    def run_slot(self, slot: Slot, now: datetime) -> JobResult | None:
        if not self._claim(slot):
            log.info("%s: handled by another clock", slot.describe())
            return None
        log.info("running %s", slot.describe())
        try:
            result = run_job(self.office, self.line, slot.job, now, days_before=slot.days_before,
                             delivery=self.delivery, ref=slot.ref or None)
        except Exception as e:  # the tick must survive anything one job does
            log.exception("%s failed", slot.describe())
            self._release(slot, None, f"{type(e).__name__}: {e}")
            return None
        self._release(slot, result, None)
        for line in result.lines:
            log.info("  %s", line.text())
        return result

    def tick(self) -> list[JobResult]:
        """One tick: heartbeat, finish interrupted pushes, run due slots."""
        now = self.now()
        self.heartbeat(now)
        for leftover in self.delivery.resume():
            log.info("resumed %s push %s: %s", leftover.key.job, leftover.key.digest, leftover.outcome)
        results = []
        for slot in self.due(now):
            result = self.run_slot(slot, now)
            if result is not None:
                results.append(result)
        return results

    def safe_tick(self) -> None:
        """The scheduler's job: a tick that logs instead of raising (APScheduler would only log it anyway)."""
        try:
            self.tick()
        except Exception:
            log.exception("clock tick failed; trying again at the next tick")

    def log_next_runs(self) -> None:
        now = self.now()
        log.info("clock time %s (Asia/Bangkok)", now.isoformat(timespec="seconds"))
        for job, slot in self.next_runs(now).items():
            late = " — missed while the clock was down: catching up now" if slot and slot.at <= now else ""
            log.info("next %s: %s%s", job, slot.describe() if slot else "none planned", late)


# --- what /healthz shows -------------------------------------------------------------------------


@dataclass(frozen=True)
class JobRun:
    """A job's latest finished run: when (the clock's time) and whether it raised."""

    at: datetime
    failed: bool


def last_runs(slots: SlotRepository) -> dict[str, JobRun]:
    """Each job's latest finished run, from the slot entries (a retry that succeeded replaces the failure)."""
    rows = slots.all()
    out: dict[str, JobRun] = {}
    for row in rows:
        if not row.get("ran_at"):
            continue  # claimed, never finished yet
        job, at = str(row["slot"]).split("/", 1)[0], datetime.fromisoformat(row["ran_at"])
        if job not in out or at >= out[job].at:
            out[job] = JobRun(at, row.get("error") is not None)
    return out


def clock_is_late(heartbeat_age: float | None, tick_seconds: float | None) -> bool:
    """No heartbeat at all, or none for three ticks (at least five minutes: a tick may be busy pushing)."""
    if heartbeat_age is None:
        return True
    return heartbeat_age > max(300.0, 3 * (tick_seconds or DEFAULT_TICK))


# --- the process ----------------------------------------------------------------------------------


def clock_settings(env: Mapping[str, str]) -> tuple[float, timedelta]:
    """(tick seconds, offset of the pretended time) from ITA_BOT_CLOCK_TICK / ITA_BOT_CLOCK_START."""
    raw = env.get("ITA_BOT_CLOCK_TICK", "")
    try:
        tick = float(raw) if raw else DEFAULT_TICK
    except ValueError:
        raise ConfigError(f"ITA_BOT_CLOCK_TICK: expected seconds, got {raw!r}") from None
    if not 0.1 <= tick <= 3600:
        raise ConfigError(f"ITA_BOT_CLOCK_TICK: expected 0.1 to 3600 seconds, got {raw!r}")
    offset = timedelta(0)
    if env.get("ITA_BOT_CLOCK_START"):
        try:
            offset = parse_datetime(env["ITA_BOT_CLOCK_START"]) - datetime.now(BANGKOK)
        except ValueError as e:
            raise ConfigError(f"ITA_BOT_CLOCK_START: {e}") from None
    return tick, offset


def run_clock(
    config: Config,
    env: Mapping[str, str] | None = None,
    on_start: Callable[[Office, LineClient], object] | None = None,
) -> int:
    """The scheduler process: ticks until SIGTERM/SIGINT, then stops cleanly (exit 0).

    ``on_start`` runs once the clock is set up (the command line uses it to let the rich menus follow
    role changes made in config while the bot was down; the clock itself knows nothing of menus).
    """
    env = os.environ if env is None else env
    try:
        config.require_line_credentials()
        tick, offset = clock_settings(env)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    def now() -> datetime:
        return datetime.now(BANGKOK) + offset

    stop = threading.Event()
    ticker = Ticker(stop)
    office = open_office(config, now=now)
    delivery = Delivery(
        office,
        LineClient.from_config(config),
        wall=now,
        fmt=office.fmt,
        sleep=lambda seconds: not stop.wait(seconds),  # a shutdown cuts retry waits short
    )
    clock = Clock(office, delivery.line, now=now, delivery=delivery, tick_seconds=tick)
    if offset:
        log.warning("ITA_BOT_CLOCK_START: pretending it is %s (test/rehearsal hook)",
                    now().isoformat(timespec="seconds"))
    clock.log_next_runs()
    clock.heartbeat(now())
    if on_start is not None:
        on_start(office, delivery.line)

    log.info("clock started: tick every %g s, pid %d", tick, os.getpid())
    ticker.run(clock.safe_tick, tick)
    log.info("clock stopped")
    return 0


class Ticker:
    """The clock processes' loop: one APScheduler tick every ``seconds`` until SIGTERM/SIGINT. The signal handlers
    are installed when it is made (early in start-up), so a stop asked for while the process is still starting
    ends it cleanly too; ``stop`` is set by the signal and cuts the jobs' retry waits short."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self._scheduler: Any = None
        signal.signal(signal.SIGTERM, self._shutdown)
        signal.signal(signal.SIGINT, self._shutdown)

    def _shutdown(self, signum: int, _frame: FrameType | None) -> None:
        log.info("clock stopping (signal %d)", signum)
        self.stop.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def run(self, tick: Callable[[], None], seconds: float) -> None:
        """Run ``tick`` every ``seconds``, the first at once, until a stop signal."""
        from apscheduler.schedulers.blocking import BlockingScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        # One "Running job" line a minute would bury the lines that matter.
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        logging.getLogger("apscheduler.scheduler").setLevel(logging.WARNING)
        scheduler = BlockingScheduler(timezone=BANGKOK)
        scheduler.add_job(
            tick,
            IntervalTrigger(seconds=seconds, timezone=BANGKOK),
            id="tick",
            name="clock tick",
            next_run_time=datetime.now(BANGKOK),  # the first tick at once: catch up what was missed while down
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self._scheduler = scheduler
        if not self.stop.is_set():  # a signal before start() must not leave us blocked forever
            scheduler.start()  # blocks until a signal shuts it down
