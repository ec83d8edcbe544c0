"""The hosted service's clock (`python bot.py clock` when hosted): one process ticks every served office's own clock.

Design
------
One APScheduler job, the *service tick*, with the single-office clock's settings and hooks (``coalesce``,
``max_instances=1``, ``misfire_grace_time=None``; ``ITA_BOT_CLOCK_TICK``, ``ITA_BOT_CLOCK_START``: see
:mod:`ita_bot.schedule.clock`). Each service tick:

- writes the service's own heartbeat (:func:`ita_bot.store.service_heartbeats`);
- lists the served offices afresh (``Service.offices()``: joined and enabled), so an office that joins is ticked
  without a restart and a disabled or removed one is no longer ticked;
- hands each office's :class:`~ita_bot.schedule.clock.Clock` tick to a bounded thread pool and returns at once.
  An office's tick is the single-office tick on its own data: its meeting calendar, holidays, slots, sent-log,
  quota and heartbeat (its /healthz reads its own), so each office runs on its own schedule.

Isolation: a push to LINE may take minutes of retries (:mod:`ita_bot.schedule.delivery`), so no office waits for
another: each tick runs on the pool, and an office whose previous tick is still running is skipped this time
(never two ticks of one office at once; its slot and send claims would keep a second one harmless anyway). A pool of
``WORKERS`` threads bounds what a service of many offices costs; an office ticks again at the first service tick
after its last one ended.

Each office's Clock, Delivery and LINE client are built once, in the pool (opening a broken office holds no one
else), and built again when its registry record changes (new credentials or settings).

A refused channel: LINE answering 401 (a revoked token) or 403 (an API the channel may not use) to an office's
call is kept on the office's record (``line_problem``, ``line_problem_at``: the operator's ``office list``) and
posted as a notice of kind "line" in the office's own data, so the office's /healthz shows problem "line" and its
managers read it in their next reply; both are cleared at the first call LINE takes again.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

from ita_bot.domain.config import Config, ConfigError
from ita_bot.domain.heartbeats import Heartbeat, HeartbeatRepository
from ita_bot.domain.notices import NoticeKind
from ita_bot.domain.office import Office
from ita_bot.domain.offices import OfficeRecord
from ita_bot.domain.sealing import SealError
from ita_bot.domain.thai import BANGKOK
from ita_bot.line.client import LineClient, credentials_accepted, credentials_refused
from ita_bot.schedule.clock import DEFAULT_TICK, Clock, Ticker, clock_settings
from ita_bot.schedule.delivery import Delivery
from ita_bot.service import Service
from ita_bot.store import open_office, service_heartbeats

__all__ = ["WORKERS", "HostedClock", "LineWatch", "run_hosted_clock"]

log = logging.getLogger(__name__)

#: Offices ticking at once at most: enough that a few stalled channels hold nobody, few enough for one process.
WORKERS = 8
#: The notice kind of a refused channel, and its key's prefix (one notice per refusal, resolved when it ends).
LINE_NOTICE: NoticeKind = "line"

Now = Callable[[], datetime]
Sleep = Callable[[float], object]


def _identity(record: OfficeRecord) -> OfficeRecord:
    """What an office's clock is built from: its record without the LINE problem this clock itself writes there."""
    return dataclasses.replace(record, line_problem="", line_problem_at=None)


def _problem_text(status: int) -> str:
    """The managers' notice of a refused channel, in Thai."""
    cause = ("LINE ไม่ยอมรับโทเค็นของบัญชีบอท (อาจถูกยกเลิกหรือออกใหม่แล้ว)" if status == 401
             else "LINE ไม่อนุญาตให้บัญชีบอทใช้งานส่วนที่จำเป็น")
    return (f"บอทติดต่อ LINE ในนามหน่วยงานไม่ได้ เพราะ{cause} (รหัส {status}) "
            "ข้อความแจ้งเตือนและสรุปตามกำหนดจึงยังส่งไม่ได้ กรุณาแจ้งผู้ดูแลระบบให้ตรวจสอบการเชื่อมต่อบัญชี LINE "
            "ของหน่วยงาน เมื่อแก้ไขแล้วระบบจะส่งตามปกติ")


class LineWatch:
    """Follows one office's LINE answers: records a refused channel, and clears it at the next answer LINE takes.

    Only the office's own tick calls it (one at a time), so it needs no lock; it writes only on a change.
    """

    def __init__(self, service: Service, slug: str, office: Office, problem: str, wall: Now) -> None:
        self.service, self.slug, self.office, self.wall = service, slug, office, wall
        self.problem = problem  # as the registry has it ("" when none)

    def __call__(self, call: str, status: int) -> None:
        try:
            if credentials_refused(call, status):
                self._refused(status)
            elif self.problem and credentials_accepted(call, status):
                self._cleared()
        except Exception:  # a registry or store hiccup must not turn into a failed push
            log.exception("office %s: could not record its LINE channel's state", self.slug)

    def _refused(self, status: int) -> None:
        problem = f"LINE {status}: the channel's credentials were refused"
        if problem == self.problem:
            return
        now = self.wall()
        self.service.registry.update(self.slug, line_problem=problem, line_problem_at=now)
        self.office.notices.resolve(LINE_NOTICE)  # one notice at a time: the newest refusal
        key = f"{LINE_NOTICE}:{status}:{now.isoformat()}"  # each refusal its own notice (a key posts once ever)
        self.office.notices.add(LINE_NOTICE, _problem_text(status), now, key=key)
        self.problem = problem
        log.warning("office %s: LINE refused its channel (%d); recorded, managers told", self.slug, status)

    def _cleared(self) -> None:
        self.service.registry.update(self.slug, line_problem="", line_problem_at=None)
        self.office.notices.resolve(LINE_NOTICE)
        self.problem = ""
        log.info("office %s: LINE takes its channel again; problem cleared", self.slug)


@dataclasses.dataclass
class _OfficeClock:
    identity: OfficeRecord
    clock: Clock


class HostedClock:
    """What one service tick does; free of APScheduler so tests drive it with any `now`."""

    def __init__(
        self,
        service: Service,
        *,
        now: Now | None = None,
        wall: Now | None = None,
        sleep: Sleep | None = None,
        tick_seconds: float = DEFAULT_TICK,
        workers: int = WORKERS,
        heartbeats: HeartbeatRepository | None = None,
    ) -> None:
        self.service = service
        self.now: Now = now or (lambda: datetime.now(BANGKOK))
        self.wall: Now = wall or self.now  # the sent-log's and problems' time (real time in production)
        self.sleep = sleep  # each delivery's retry wait (None: time.sleep); may return False to stop waiting
        self.tick_seconds = tick_seconds
        self.heartbeats = heartbeats if heartbeats is not None else service_heartbeats(service.config)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="office-clock")
        self._clocks: dict[str, _OfficeClock] = {}  # written only by the office's own tick
        self._running: dict[str, Future[None]] = {}  # read and written only by tick()

    # --- offices ---------------------------------------------------------------------------------

    def clock_of(self, record: OfficeRecord) -> Clock:
        """The office's Clock, built on first use and again when its record changed."""
        kept = self._clocks.get(record.slug)
        if kept is not None and kept.identity == _identity(record):
            return kept.clock
        office = open_office(self.service.office_config(record), now=self.now)
        line = LineClient.from_config(office.config)
        line.on_answer = LineWatch(self.service, record.slug, office, record.line_problem, self.wall)
        delivery = Delivery(office, line, wall=self.wall, fmt=office.fmt, sleep=self.sleep or time.sleep)
        clock = Clock(office, line, now=self.now, delivery=delivery, tick_seconds=self.tick_seconds)
        self._clocks[record.slug] = _OfficeClock(_identity(record), clock)
        if kept is None:
            clock.log_next_runs()
        return clock

    def _tick_office(self, record: OfficeRecord) -> None:
        try:
            self.clock_of(record).tick()
        except Exception:  # one office's trouble is its own: the others and the next tick go on
            log.exception("office %s: clock tick failed; trying again at the next tick", record.slug)

    # --- the tick --------------------------------------------------------------------------------

    def heartbeat(self) -> None:
        """The service clock is alive (real time, whatever `now` it pretends); each office's tick beats its own."""
        self.heartbeats.beat(Heartbeat("clock", datetime.now(BANGKOK), self.now(), os.getpid(), self.tick_seconds))

    def tick(self) -> dict[str, Future[None]]:
        """One service tick: heartbeat, then each served office's tick on the pool; returns the ticks it started
        (an office whose previous tick is still running is not among them)."""
        self.heartbeat()
        served = self.service.offices()
        slugs = {r.slug for r in served}
        # Disabled or removed: forgotten once its last tick ended (kept while it runs, so that an office enabled
        # again at once is still not ticked twice at once).
        for slug in [s for s, f in self._running.items() if s not in slugs and f.done()]:
            del self._running[slug]
            self._clocks.pop(slug, None)
        started: dict[str, Future[None]] = {}
        for record in served:
            previous = self._running.get(record.slug)
            if previous is not None and not previous.done():
                log.info("office %s: its previous tick is still running; skipped this tick", record.slug)
                continue
            started[record.slug] = self._running[record.slug] = self.pool.submit(self._tick_office, record)
        return started

    def safe_tick(self) -> None:
        """The scheduler's job: a tick that logs instead of raising (the registry may be unreadable for a while)."""
        try:
            self.tick()
        except Exception:
            log.exception("service clock tick failed; trying again at the next tick")

    def running(self, slug: str) -> bool:
        """Whether the office's latest tick is still running."""
        future = self._running.get(slug)
        return future is not None and not future.done()

    def close(self, wait: bool = True) -> None:
        """Start no more office ticks; with ``wait``, let those running finish."""
        self.pool.shutdown(wait=wait, cancel_futures=True)


def run_hosted_clock(config: Config, env: Mapping[str, str] | None = None) -> int:
    """The hosted service's scheduler process: ticks every served office until SIGTERM/SIGINT (exit 0)."""
    env = os.environ if env is None else env
    try:
        tick, offset = clock_settings(env)

        def now() -> datetime:
            return datetime.now(BANGKOK) + offset

        service = Service(config, env, now=now)
    except (ConfigError, SealError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    stop = threading.Event()
    ticker = Ticker(stop)
    # A shutdown cuts the deliveries' retry waits short (left "sending": the next start resumes them, same key).
    hosted = HostedClock(service, now=now, sleep=lambda seconds: not stop.wait(seconds), tick_seconds=tick)
    if offset:
        log.warning("ITA_BOT_CLOCK_START: pretending it is %s (test/rehearsal hook)",
                    now().isoformat(timespec="seconds"))
    hosted.heartbeat()

    log.info("hosted clock started: %d office(s), tick every %g s, pid %d", len(service.offices()), tick, os.getpid())
    # Each service tick only hands office ticks to the pool, so it never runs long; ticks missed while stalled
    # collapse into one, as each office's tick finds every due slot.
    ticker.run(hosted.safe_tick, tick)
    hosted.close(wait=True)  # office ticks end quickly once stop is set (their retry waits are cut short)
    log.info("clock stopped")
    return 0
