"""Many offices on one hosted service: `python benchmarks/hosted.py [--offices 100] [--backend B] [--quick]`.

Side by side in one run, per backend, all on 127.0.0.1 against the LINE stand-in (its own process, one channel
per office with its own secret and token):

1. reply rate and webhook answer p99 of ONE gunicorn hosted service (`bot:app`, ITA_BOT_HOSTED=1, the Procfile's
   settings) with signed events spread over all N offices (`/o/<slug>/callback`), against the same load on one
   office of the same service; every reply must come from the office's own channel;
2. the hosted clock (ita_bot.service.clock.HostedClock, in a process of its own) over N offices: the time of one
   service tick until every office's tick has ended, and over a pretended meeting cycle that every slot ran and every
   push reached the stand-in exactly once, counted per channel;
3. memory: VmRSS of a web worker when one office, some offices and all N are used (an office's app is built on its
   first request, so idle offices cost nothing), and of the clock process over N offices against one office.

Writes benchmarks/results/hosted.json (git-ignored); exits 0 even when a goal is missed.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/hosted.py` puts benchmarks/, not the checkout, on the path
    sys.path.insert(0, str(ROOT))

from benchmarks.load import send_paths, webhook_body  # noqa: E402
from benchmarks.procs import Gunicorn, rss_kib, toml_config  # noqa: E402
from benchmarks.run import (  # noqa: E402
    ADMIN_URL,
    BACKENDS,
    MIB,
    BenchDatabases,
    _grid,
    bench_databases,
    clean_up,
    log,
    ms,
    percentile,
    write_report,
)
from benchmarks.standin_host import StandInProcess  # noqa: E402
from ita_bot.domain.config import load_config  # noqa: E402
from ita_bot.domain.draft import shift_years  # noqa: E402
from ita_bot.domain.offices import OfficeRecord  # noqa: E402
from ita_bot.domain.thai import BANGKOK, fiscal_year_of  # noqa: E402

if TYPE_CHECKING:
    from ita_bot.domain.offices import OfficeRegistry

SERVICE_KEY = "benchmark-service-key-" + "k" * 24
PLAN = ROOT / "storage" / "plans" / "2564.toml"
DIVISIONS = ("sp", "klang", "chang")  # the 2564 plan's responsible divisions (measure 4 is shared by all)
BUSY_STAFF = 60  # the office the one-office load goes to: as many staff as run.py's burst bot
STAFF = 12  # every other office: four registered staff per division
SOME = 10  # offices used in the "some used" memory figure
GOALS = {"latency_p99_ms": 100.0, "tick_s": 5.0, "memory_mib": 60.0}
WEBHOOK_LINE = re.compile(r'"POST /o/[^/ ]+/callback [^"]*" \d+ \S+ (\d+)ms$')


def staff_id(i: int) -> str:
    return f"U{i + 0xB000:032x}"


def current_plan_text(fy: int) -> str:
    """The shipped 2564 plan moved to fiscal year `fy`: its BE years (shift_years) and its ISO dates."""
    delta = fy - 2564

    def iso(m: re.Match[str]) -> str:
        return f"{int(m.group(1)) + delta:04d}-{m.group(2)}-{m.group(3)}"

    text = shift_years(PLAN.read_text(encoding="utf-8"), 2564, fy)
    return re.sub(r"(?<![0-9])(20[0-9]{2})-([01][0-9])-([0-3][0-9])(?![0-9])", iso, text)


@dataclass(frozen=True)
class BenchOffice:
    """One office of the service: its slug, its channel on the stand-in, its staff."""

    slug: str
    channel_id: str
    secret: str
    bot_user_id: str
    staff: tuple[str, ...]


@dataclass
class HostedBench:
    """The service of one backend: its config, environment and offices; the stand-in every office's channel is on."""

    standin: StandInProcess
    folder: Path
    backend: str
    quick: bool
    env: dict[str, str] = field(default_factory=dict)
    offices: list[BenchOffice] = field(default_factory=list)

    def events(self, specs: list[tuple[BenchOffice, str, str]], start: datetime) -> list[tuple[str, bytes, str, str]]:
        """(path, body, signature, reply token) of 1:1 text events [(office, user, text)], each signed with its
        office's secret and addressed to its office's bot."""
        built = self.standin.call("text_events", [(text, {"user_id": uid, "timestamp": start + timedelta(seconds=i)})
                                                  for i, (_, uid, text) in enumerate(specs)])
        out = []
        for (office, _, _), event in zip(specs, built, strict=True):
            body, signature = webhook_body(office.secret, office.bot_user_id, [event])
            out.append((f"/o/{office.slug}/callback", body, signature, event["replyToken"]))
        return out


def mixed(offices: list[BenchOffice], count: int) -> list[tuple[BenchOffice, str, str]]:
    """Alternating /สถานะ and a typed /รายงาน on measure 4, round-robin over the offices, then over each one's staff."""
    out = []
    for i in range(count):
        office = offices[i % len(offices)]
        uid = office.staff[(i // len(offices)) % len(office.staff)]
        text = "/สถานะ" if i % 2 == 0 else f"/รายงาน 4 กำลังทำ {1 + i % 98}% ปรับปรุงข้อมูลบนเว็บไซต์ ครั้งที่ {i}"
        out.append((office, uid, text))
    return out


# --- the service -----------------------------------------------------------------------------------------------


def build_service(b: HostedBench, n: int, databases: BenchDatabases | None) -> None:
    """Register n joined offices with sealed credentials, each with its channel, this fiscal year's plan, a staff
    group and registered staff, as the onboarding wizard and the console would leave them."""
    from ita_bot.service import Service

    (b.folder / "db").mkdir(parents=True)
    config_path = toml_config(b.folder / "config.toml", {"service": {"hosted": True},
                                                         "web": {"base_url": "https://ita.example.go.th"}})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "ITA_BOT_"))}
    env.update(ITA_BOT_CONFIG=str(config_path), ITA_BOT_DB=str(b.folder / "db" / "ita-bot.json"), ITA_BOT_HOSTED="1",
               ITA_BOT_SECRET_KEY=SERVICE_KEY, LINE_API_ENDPOINT=b.standin.url,
               LINE_DATA_API_ENDPOINT=b.standin.url, PYTHONUNBUFFERED="1")
    if databases is not None:
        env["ITA_BOT_DATABASE_URL"] = databases.create("hosted")
    b.env = env
    service = Service(load_config(config_path, env), env)
    now = datetime.now(BANGKOK)
    joined = now - timedelta(days=30)
    fy = fiscal_year_of(now.date())
    plan_text = current_plan_text(fy)
    channels = b.standin.call("add_channels", [f"บอทสำนักงาน {i + 1}" for i in range(n)])
    started = time.monotonic()
    for i, channel in enumerate(channels):
        slug = f"office-{i:03d}"
        service.registry.add(OfficeRecord(
            slug=slug, name=f"องค์การบริหารส่วนตำบลทดสอบ {i + 1}", created_at=joined,
            channel_id=channel["channel_id"], sealed_secret=service.key.seal(channel["channel_secret"]),
            sealed_token=service.key.seal(channel["access_token"]), bot_user_id=channel["bot_user_id"],
            bot_name=channel["name"], joined_at=joined))
        staff = tuple(staff_id(k) for k in range(BUSY_STAFF if i == 0 else STAFF))
        group = "C" + hashlib.sha256(f"group:{slug}".encode()).hexdigest()[:32]
        b.standin.call("add_group", group, f"พนักงาน {slug}", list(staff))
        office = service.office(slug)
        office.plans.save_text(fy, plan_text, expected_version="", who="benchmark", now=joined)
        office.set_setting("group_id", group)
        for k, uid in enumerate(staff):
            office.people.register(uid, f"พนักงาน {k + 1}", DIVISIONS[k % 3], approved=True, now=joined)
        b.offices.append(BenchOffice(slug, channel["channel_id"], channel["channel_secret"], channel["bot_user_id"],
                                     staff))
    log(f"{b.backend}: {n} offices registered with plans for FY {fy}, groups and staff "
        f"in {time.monotonic() - started:.1f} s")


# --- 1. web: reply rate, latency, memory ------------------------------------------------------------------------


def in_worker_ms(log_text: str) -> list[float]:
    return [float(m.group(1)) for line in log_text.splitlines() if (m := WEBHOOK_LINE.search(line))]


def web_scenario(b: HostedBench, label: str, used: list[BenchOffice], *, latency: bool) -> dict[str, Any]:
    """A fresh gunicorn hosted service: the first events of each used office (its app is built then), a burst over
    the used offices, optionally the latency run with a slow LINE; the workers' RSS after."""
    count, senders = (120 if b.quick else 400), 32
    gunicorn = Gunicorn("bot:app", b.env, b.folder / f"gunicorn-{label}.log")
    channel_of = {o.slug: o.channel_id for o in used}
    out: dict[str, Any] = {"offices_used": len(used)}
    try:
        now = datetime.now(BANGKOK) - timedelta(hours=1)
        b.standin.call("reset")
        # Two events per used office first (a worker builds an office's app on its first request): timed, but
        # apart from the burst, which measures offices already in use.
        warm = b.events(mixed(used, max(12, 2 * len(used))), now)
        first = time.monotonic()
        send_paths(gunicorn.url, [(p, body, sig) for p, body, sig, _ in warm], senders)
        # Not all answered is a finding (shown as an incomplete burst next), not a reason to stop the run.
        warmed = b.standin.call("wait_replies", len(warm), 120)
        if not warmed:
            log(f"{b.backend}/{label}: not every first event was answered within 120 s (see gunicorn-{label}.log)")
        out["first_events"] = {"events": len(warm), "seconds": round(time.monotonic() - first, 2),
                               "complete": bool(warmed)}
        b.standin.call("reset")
        log(f"1. {b.backend}/{label}: burst of {count} events over {len(used)} office(s), {senders} senders")
        events = b.events(mixed(used, count), now + timedelta(minutes=5))
        token_office = {token: path.split("/")[2] for path, _, _, token in events}
        started = time.time()
        sent = send_paths(gunicorn.url, [(p, body, sig) for p, body, sig, _ in events], senders)
        # Only the burst's own replies count: an office's app may also drain entries a previous service left
        # pending (the latency run's), so the stand-in's reply count alone does not say the burst is answered.
        deadline = time.monotonic() + 180
        b.standin.call("wait_replies", count, 180)
        while True:
            times = [at for token, at in b.standin.call("reply_times") if token in token_office]
            if len(times) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        complete = len(times) >= count
        last = max(times) if times else time.time()
        wrong = sum(1 for token, channel in b.standin.call("reply_channels")
                    if token in token_office and channel_of[token_office[token]] != channel)
        out["burst"] = {
            "events": count, "senders": senders, "replies": len(times), "complete": bool(complete),
            "http_statuses": sorted({s.status for s in sent}), "seconds": round(last - started, 3),
            "replies_per_second": round(len(times) / (last - started), 2),
            "replies_from_another_channel": wrong,
        }
        if latency:
            senders_l, per_sender = 50, (4 if b.quick else 10)
            log(f"2. {b.backend}/{label}: {senders_l} senders × {per_sender}, every LINE call delayed 3 s")
            b.standin.call("reset")
            b.standin.call("delay", 3.0, "")
            lines_before = len(in_worker_ms(gunicorn.log.read_text(errors="replace")))
            events = b.events(mixed(used, senders_l * per_sender), now + timedelta(minutes=30))
            sent = send_paths(gunicorn.url, [(p, body, sig) for p, body, sig, _ in events], senders_l)
            inside = in_worker_ms(gunicorn.log.read_text(errors="replace"))[lines_before:]
            latencies = [s.latency for s in sent]
            out["latency"] = {
                "senders": senders_l, "webhooks": len(sent), "http_statuses": sorted({s.status for s in sent}),
                "p50_ms": ms(percentile(latencies, 50)), "p99_ms": ms(percentile(latencies, 99)),
                "in_worker_p50_ms": percentile(inside, 50) if inside else None,
                "in_worker_p99_ms": percentile(inside, 99) if inside else None,
            }
            # Lift the delay and let the replies still queued go out before the stop: left in the journal they would
            # be drained by the next scenario's service (their reply tokens spent by then) ahead of its own events.
            tokens = {token for *_, token in events}
            replied = {token for token, _ in b.standin.call("reply_times")}
            b.standin.call("reset")
            deadline = time.monotonic() + 120
            while not tokens <= replied and time.monotonic() < deadline:
                time.sleep(0.2)
                replied |= {token for token, _ in b.standin.call("reply_times")}
            out["latency"]["replied"] = len(tokens & replied)
        workers = [rss_kib(pid) for pid in gunicorn.workers()]
        out["workers_mib"] = [round(k / MIB, 1) for k in workers]
        out["worker_mib"] = round(max(workers) / MIB, 1)
    finally:
        gunicorn.stop()
    return out


# --- 2. the clock -----------------------------------------------------------------------------------------------

#: Pushes a slot makes in these offices: reminders and the meeting-day summary go to the staff group, the digest
#: to the managers, whom no office here has (hosted offices' managers claim their roles with one-time codes).
PUSHES_PER_SLOT = {"reminder": 1, "summary": 1, "digest": 0}


class _Only:
    """The registry with only some offices in it: the clock of a service of one office, on the same data."""

    def __init__(self, registry: Any, slugs: set[str]) -> None:
        self.registry, self.slugs = registry, slugs

    def get(self, slug: str) -> Any:
        return self.registry.get(slug) if slug in self.slugs else None

    def all(self) -> list[Any]:
        return [r for r in self.registry.all() if r.slug in self.slugs]

    def __getattr__(self, name: str) -> Any:  # add, update, remove: the registry's own
        return getattr(self.registry, name)


def _clock_child(conn: Connection, env: dict[str, str], slugs: list[str], start_iso: str, days: int) -> None:
    """The hosted clock (ita_bot.service.clock.HostedClock, as `python bot.py clock` runs it) over `slugs`, ticked at
    every slot of the window and again a minute later, then a restarted clock's tick; each service tick timed from
    its start until every office's tick it started has ended. Sends the expected and done slots and its RSS."""
    try:
        os.environ.update(env)
        from ita_bot.schedule.slots import job_slots
        from ita_bot.service import Service
        from ita_bot.service.clock import HostedClock
        from ita_bot.store import open_registry

        start = datetime.fromisoformat(start_iso)
        end = start + timedelta(days=days)
        pretend = [start]
        config = load_config()
        only = cast("OfficeRegistry", _Only(open_registry(config), set(slugs)))
        service = Service(config, env, now=lambda: pretend[0], registry=only)
        expected: dict[str, list[str]] = {}
        jobs: dict[str, list[str]] = {}
        moments: set[datetime] = set()
        for slug in slugs:
            office = service.office(slug)
            slots = [s for s in job_slots(office, office.calendar(), start.date(), end.date()) if start < s.at <= end]
            expected[slug] = sorted(s.id for s in slots)
            jobs[slug] = [s.job for s in slots]
            moments |= {s.at for s in slots}
        ticks: list[dict[str, Any]] = []

        def sweep(clock: HostedClock, at: datetime, kind: str) -> None:
            pretend[0] = at
            t = time.perf_counter()
            started = clock.tick()
            for future in started.values():
                future.result()
            ticks.append({"at": at.isoformat(), "kind": kind, "offices": len(started),
                          "seconds": round(time.perf_counter() - t, 3)})

        clock = HostedClock(service, now=lambda: pretend[0])
        sweep(clock, start, "first")  # builds every office's clock (opens its data)
        for at in sorted(moments):
            sweep(clock, at, "slot")
            sweep(clock, at + timedelta(minutes=1), "repeat")
        sweep(clock, end, "quiet")
        clock.close()
        restarted = HostedClock(service, now=lambda: pretend[0])  # a restarted clock process: nothing is due
        sweep(restarted, end, "restart")
        restarted.close()
        done = {slug: sorted(r["slot"] for r in service.office(slug).repositories.slots.all()
                             if r["state"] == "done" and r["slot"] in set(expected[slug])) for slug in slugs}
        conn.send(("ok", {"ticks": ticks, "expected_slots": expected, "jobs": jobs, "done_slots": done,
                          "rss_kib": rss_kib(os.getpid())}))
    except Exception:
        import traceback

        conn.send(("error", traceback.format_exc()))


def run_clock_child(env: dict[str, str], slugs: list[str], start: datetime, days: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")  # a clean interpreter, so its RSS is the clock's own
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_clock_child, args=(child, env, slugs, start.isoformat(), days), name="bench-clock")
    proc.start()
    child.close()
    try:
        if not parent.poll(1800):
            raise RuntimeError("the clock process did not finish within 30 minutes")
        status, value = parent.recv()
    finally:
        proc.join(30)
        if proc.is_alive():
            proc.terminate()
    if status != "ok":
        raise RuntimeError(f"the clock process failed:\n{value}")
    return dict(value)


def exactly_once(b: HostedBench, run: dict[str, Any]) -> dict[str, Any]:
    """Every expected slot of every office ran (once: a slot is marked done once), and the stand-in took exactly the
    pushes those slots make on each office's channel: none missing, none twice (repeat ticks, a restarted clock)."""
    pushes = b.standin.call("push_counts")
    slugs = list(run["expected_slots"])
    channel = {o.slug: o.channel_id for o in b.offices}
    expected = {s: sum(PUSHES_PER_SLOT.get(job, -1000) for job in run["jobs"][s]) for s in slugs}
    got = {s: pushes.get(channel[s], 0) for s in slugs}
    out = {
        "slots_expected_per_office": sorted({len(run["expected_slots"][s]) for s in slugs}),
        "offices_every_slot_done": sum(1 for s in slugs if run["done_slots"][s] == run["expected_slots"][s]),
        "pushes_expected_per_office": sorted(set(expected.values())),
        "pushes_per_office": sorted(set(got.values())),
        "offices_pushes_as_expected": sum(1 for s in slugs if got[s] == expected[s]),
        "pushes_total": sum(got.values()),
        "pushes_other_channels": sum(pushes.values()) - sum(got.values()),
    }
    out["ok"] = (out["offices_every_slot_done"] == len(slugs) and out["offices_pushes_as_expected"] == len(slugs)
                 and out["pushes_other_channels"] == 0 and min(expected.values()) > 0)
    return out


def bench_clock(b: HostedBench) -> dict[str, Any]:
    """Two pretended meeting cycles one after the other: the hosted clock over N offices, then over one office
    (for the memory); each cycle's pushes counted per channel."""
    from ita_bot.schedule.jobs import cycle_for
    from ita_bot.service import Service

    service = Service(load_config(None, b.env), b.env)
    office = service.office(b.offices[0].slug)
    today = datetime.now(BANGKOK).date()
    meeting = cycle_for(office.calendar(), today).meeting
    # From the day after a meeting: the passed cycle's slots are never run, the next cycle's all fall in 35 days.
    start = datetime.combine(meeting + timedelta(days=1), datetime.min.time(), tzinfo=BANGKOK)
    days = 35
    slugs = [o.slug for o in b.offices]
    out: dict[str, Any] = {"offices": len(slugs), "days": days}
    for k, (label, which) in enumerate((("all", slugs), ("one_office", slugs[:1]))):
        window = start + timedelta(days=k * days)
        log(f"2. {b.backend}: the hosted clock over {len(which)} office(s), {window:%Y-%m-%d} + {days} days")
        b.standin.call("reset")
        run = run_clock_child(b.env, which, window, days)
        timed = [t["seconds"] for t in run["ticks"] if t["kind"] != "first"]
        out[label] = {
            "window_start": window.isoformat(), "ticks": run["ticks"],
            "first_tick_seconds": run["ticks"][0]["seconds"],
            "tick_max_seconds": max(timed),
            "tick_quiet_median_seconds": statistics.median(t["seconds"] for t in run["ticks"]
                                                           if t["kind"] in ("repeat", "quiet", "restart")),
            "exactly_once": exactly_once(b, run), "rss_mib": round(run["rss_kib"] / MIB, 1),
        }
    return out


# --- the run ------------------------------------------------------------------------------------------------


def run_backend(b: HostedBench, n: int, databases: BenchDatabases | None) -> dict[str, Any]:
    build_service(b, n, databases)
    one = web_scenario(b, "one", b.offices[:1], latency=True)
    some = web_scenario(b, "some", b.offices[:SOME], latency=False)
    every = web_scenario(b, "all", b.offices, latency=True)
    clock = bench_clock(b)
    return {"offices": n, "web": {"one": one, "some": some, "all": every}, "clock": clock}


def rows(r: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    g, n = GOALS, r["offices"]
    one, some, every, clock = r["web"]["one"], r["web"]["some"], r["web"]["all"], r["clock"]
    rate_ratio = every["burst"]["replies_per_second"] / one["burst"]["replies_per_second"]
    ok_burst = all(w["burst"]["complete"] and w["burst"]["replies_from_another_channel"] == 0
                   and w["burst"]["http_statuses"] == [200] for w in (one, some, every))
    every_c, alone = clock["all"], clock["one_office"]
    return [
        (f"reply rate, {n} offices ÷ 1 office",
         f"{rate_ratio:.2f} ({every['burst']['replies_per_second']:.1f}/s ÷ {one['burst']['replies_per_second']:.1f}/s,"
         f" {every['burst']['events']} events)", "replies all from own channel", ok_burst),
        (f"first events, {n} offices (apps built)",
         f"{every['first_events']['seconds']:.1f} s for {every['first_events']['events']} events "
         f"(1 office: {one['first_events']['seconds']:.1f} s)", "(info)", True),
        ("webhook p99, 1 office", f"{one['latency']['p99_ms']:.0f} ms (p50 {one['latency']['p50_ms']:.0f}; "
         f"in worker {one['latency']['in_worker_p50_ms']:.0f} / {one['latency']['in_worker_p99_ms']:.0f})",
         f"p99 < {g['latency_p99_ms']:.0f} ms", one["latency"]["p99_ms"] < g["latency_p99_ms"]),
        (f"webhook p99, {n} offices", f"{every['latency']['p99_ms']:.0f} ms (p50 {every['latency']['p50_ms']:.0f}; "
         f"in worker {every['latency']['in_worker_p50_ms']:.0f} / {every['latency']['in_worker_p99_ms']:.0f})",
         f"p99 < {g['latency_p99_ms']:.0f} ms", every["latency"]["p99_ms"] < g["latency_p99_ms"]),
        (f"hosted clock tick over {n} offices (max)",
         f"{every_c['tick_max_seconds']:.2f} s (quiet median {every_c['tick_quiet_median_seconds']:.2f}; first, "
         f"opening every office {every_c['first_tick_seconds']:.1f}; one office {alone['tick_max_seconds']:.2f})",
         f"< {g['tick_s']:g} s", every_c["tick_max_seconds"] < g["tick_s"]),
        ("hosted clock cycle: every push once",
         " · ".join(f"{r['exactly_once']['pushes_total']} = {r['exactly_once']['pushes_per_office']}/channel "
                    f"(expected {r['exactly_once']['pushes_expected_per_office']})" for r in (every_c, alone))
         + f", {every_c['exactly_once']['slots_expected_per_office']} slots each",
         "exactly once", all(r["exactly_once"]["ok"] for r in (every_c, alone))),
        (f"web worker, {SOME} of {n} used − 1 used",
         f"+{some['worker_mib'] - one['worker_mib']:.1f} MiB ({some['worker_mib']:.1f} − {one['worker_mib']:.1f})",
         f"< +{g['memory_mib']:g} MiB", some["worker_mib"] - one["worker_mib"] < g["memory_mib"]),
        (f"web worker, {n} of {n} used − 1 used",
         f"+{every['worker_mib'] - one['worker_mib']:.1f} MiB ({every['worker_mib']:.1f} − {one['worker_mib']:.1f})",
         f"< +{g['memory_mib']:g} MiB", every["worker_mib"] - one["worker_mib"] < g["memory_mib"]),
        (f"clock, {n} offices − 1 office",
         f"+{every_c['rss_mib'] - alone['rss_mib']:.1f} MiB ({every_c['rss_mib']:.1f} − {alone['rss_mib']:.1f})",
         f"< +{g['memory_mib']:g} MiB", every_c["rss_mib"] - alone["rss_mib"] < g["memory_mib"]),
    ]


def side_by_side(by_backend: dict[str, list[tuple[str, str, str, bool]]]) -> str:
    names = list(by_backend)
    head = ("figure", *names, "goal", "result (" + " / ".join(names) + ")")
    body = []
    for k, (figure, _, goal, _) in enumerate(by_backend[names[0]]):
        cells = [by_backend[name][k] for name in names]
        body.append((figure, *(c[1] for c in cells), goal, " / ".join("PASS" if c[3] else "FAIL" for c in cells)))
    return _grid(head, body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/hosted.py", description=__doc__.splitlines()[0])
    parser.add_argument("--offices", type=int, default=100, help="offices on the service (default 100)")
    parser.add_argument("--quick", action="store_true", help="a smaller burst and latency run")
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--database-url", default=ADMIN_URL, metavar="URL",
                        help=f"PostgreSQL server allowed to create databases (default {ADMIN_URL})")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "hosted.json")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (data, gunicorn logs)")
    args = parser.parse_args(argv)
    if args.offices < SOME:
        parser.error(f"--offices must be at least {SOME}")
    backends = list(BACKENDS) if args.backend == "both" else [args.backend]
    try:
        databases = bench_databases(args.database_url, backends)
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="ita-bench-hosted-"))
    standin = StandInProcess("benchmark-default-channel")  # every office gets a channel of its own on it
    results: dict[str, Any] = {}
    try:
        for k in range(BUSY_STAFF):
            standin.call("add_user", staff_id(k), f"พนักงาน {k + 1}")
        for backend in backends:
            b = HostedBench(standin, tmp / backend, backend, args.quick)
            results[backend] = run_backend(b, args.offices, databases if backend == "postgresql" else None)
    finally:
        clean_up(standin, databases, tmp, keep=args.keep)
    lines = {backend: rows(results[backend]) for backend in backends}
    printed = side_by_side(lines)
    print(printed)
    report = {
        "when": datetime.now(BANGKOK).isoformat(timespec="seconds"), "quick": args.quick, "offices": args.offices,
        "backends": backends, "seconds": round(time.monotonic() - started, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "clock": "ita_bot.service.clock.HostedClock (its pool of WORKERS threads), in a process of its own",
        "goals": GOALS, "results": results, "table_text": printed,
    }
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
