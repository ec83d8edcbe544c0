"""The benchmarks: `python benchmarks/run.py [--quick] [--backend B]` prints a table and writes JSON.

Every figure is a ratio or a count measured side by side in this one run, on 127.0.0.1, against
the LINE stand-in (its own process), with the bot under gunicorn with the Procfile's settings
(`gunicorn -c gunicorn.conf.py bot:app`, WEB_CONCURRENCY as set, else the config's default):

1. reply rate: replies delivered per second for a burst of signed 1:1 /สถานะ and /รายงาน events,
   divided by the same for benchmarks/floor_app.py (verify, parse, reply once) under the same settings;
   with each party's CPU per event in both bursts (web workers, stand-in, load generator), the workers' ÷
   the floor's, and the stand-in's load (flagged when it nears a full core and may bound the rate);
2. webhook answer latency p50/p99 with 50 concurrent senders while every LINE call takes 3 s;
3. growth: /สถานะ, /ค้าง and a new /รายงาน with ten fiscal years of history (5,000 reports) divided by
   the same with 20 reports (both bots running at once, commands alternated between them);
4. memory: RSS of a web worker after the burst and of the clock, minus a process that only imports
   Flask and line-bot-sdk;
5. LINE cost: messages counted against the quota for one full cycle (reminders, digest, summary)
   for a 20-person group with 3 pending divisions, with the defaults and with reminder_to = "direct".

`--backend` picks where the bot keeps its data: TinyDB files in a temp folder (the default), PostgreSQL (each bot a
fresh database `ita_bench_<pid>_<bot>` on the server of `--database-url`, migrated first and dropped at the end),
or both, one after the other, in one table side by side against the same floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql as pg_sql

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/run.py` puts benchmarks/, not the checkout, on the path
    sys.path.insert(0, str(ROOT))

from benchmarks.load import Sent, post_one, send_all, webhook_body  # noqa: E402
from benchmarks.procs import CpuClock, Gunicorn, baseline_rss_kib, cores, rss_kib, toml_config  # noqa: E402
from benchmarks.standin_host import StandInProcess  # noqa: E402
from ita_bot.domain.config import load_config  # noqa: E402
from ita_bot.domain.office import Office  # noqa: E402
from ita_bot.domain.progress import Report  # noqa: E402
from ita_bot.domain.thai import BANGKOK, fiscal_year_of  # noqa: E402
from ita_bot.store import open_office  # noqa: E402
from ita_bot.store.pg import Database  # noqa: E402
from ita_bot.store.pg.database import redact_url  # noqa: E402
from ita_bot.store.pg.schema import migrate  # noqa: E402

SECRET = "benchmark-channel-secret"
TOKEN = "benchmark-channel-token"
PLAN = ROOT / "storage" / "plans" / "2564.toml"
# Every event is dated mid-February 2564 (cycle 2021-02 of the 2564 plan), as a real office's would be.
T0 = datetime(2021, 2, 15, 10, 0, tzinfo=BANGKOK)
DIVISIONS = ("sp", "klang", "chang")  # the divisions the 2564 plan makes responsible (measure 4 is shared)
CHAIR = "U" + "c" * 32
SECRETARY = "U" + "5" * 32
STAFF_GROUP = "C" + "b" * 32
COST_GROUP = "C" + "d" * 32
FREE_PLAN_TH = 300  # LINE Official Account free ("Communication") plan in Thailand: messages a month
MIB = 1024.0
BACKENDS = ("tinydb", "postgresql")
#: The PostgreSQL server the benchmark's databases are made on (an admin URL: it may CREATE and DROP DATABASE).
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"

GOALS = {
    "reply_rate": 0.5, "reply_rate_aim": 0.8, "latency_p99_ms": 100.0, "growth": 2.0, "memory_mib": 30.0,
    "cost_group": 75, "cost_direct": 30, "cpu_per_event_ratio": 2.0,
    # Not a goal of the bot's: above this share of one core during a burst the stand-in (one Python process, one
    # GIL) may be what bounds the reply rate, and the run says so instead of blaming the bot or flattering it.
    "standin_cores_max": 0.8,
}


def staff_id(i: int) -> str:
    return f"U{i + 0xB000:032x}"


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0–100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class BenchDatabases:
    """The benchmark's own PostgreSQL databases, one per bot (a single-office deployment's office is "default",
    so two bots need two databases): made and migrated on the server of ``admin_url``, dropped by ``drop_all``."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.urls: list[str] = []

    def check(self) -> None:
        """RuntimeError naming the server (never its password) when it does not answer."""
        try:
            with psycopg.connect(self.admin_url, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise RuntimeError(f"no PostgreSQL at {redact_url(self.admin_url)}: {first}") from None

    def create(self, label: str) -> str:
        """A new, migrated database ``ita_bench_<pid>_<label>``; its URL."""
        name = f"ita_bench_{os.getpid()}_{label.replace('-', '_')}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(pg_sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pg_sql.Identifier(name)))
            conn.execute(pg_sql.SQL("CREATE DATABASE {}").format(pg_sql.Identifier(name)))
        url = urlunsplit(urlsplit(self.admin_url)._replace(path="/" + name))
        self.urls.append(url)
        db = Database(url, max_size=1)
        try:
            migrate(db)  # what `python bot.py migrate` does
        finally:
            db.close()
        return url

    def drop_all(self) -> None:
        for url in self.urls:
            Database.shared(url).close()  # this process's pool (seeding, registering), if one was opened
            name = urlsplit(url).path.lstrip("/")
            try:
                with psycopg.connect(self.admin_url, autocommit=True) as conn:
                    conn.execute(pg_sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pg_sql.Identifier(name)))
            except psycopg.Error as e:
                log(f"could not drop database {name}: {type(e).__name__}")
        self.urls.clear()


def bot_config(path: Path, *, group: str = STAFF_GROUP, schedule: dict[str, Any] | None = None) -> Path:
    return toml_config(path, {
        "organization": {"plan": str(PLAN)},
        "line": {"channel_secret": SECRET, "channel_access_token": TOKEN, "group_id": group},
        "roles": {"chair": [CHAIR], "secretary": [SECRETARY]},
        "schedule": schedule or {},
        "web": {"base_url": "https://ita.example.go.th"},
    })


@dataclass
class Bench:
    """What every benchmark shares: the stand-in, the temp folder, the environment and the sizes; and the backend
    the bots keep their data on (``databases`` makes their PostgreSQL databases)."""

    standin: StandInProcess
    tmp: Path
    quick: bool
    staff: list[str]
    backend: str = "tinydb"
    databases: BenchDatabases | None = None
    urls: dict[Path, str] = field(default_factory=dict)  # a bot's config -> its database URL (PostgreSQL)

    # -- the bot's data and processes -----------------------------------------------------------

    def folder(self, name: str) -> Path:
        """A bot's folder: config, TinyDB data, logs (per backend, so both can run in one temp folder)."""
        return self.tmp / f"{self.backend}-{name}"

    def env(self, config: Path | None = None, db: Path | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "ITA_BOT_"))}
        env.update(LINE_API_ENDPOINT=self.standin.url, LINE_DATA_API_ENDPOINT=self.standin.url,
                   LINE_CHANNEL_ACCESS_TOKEN=TOKEN, PYTHONUNBUFFERED="1")
        if config is not None and db is not None:
            env.update(ITA_BOT_CONFIG=str(config), ITA_BOT_DB=str(db))
            if config in self.urls:
                env.update(ITA_BOT_DATABASE_URL=self.urls[config])
        return env

    def bot_folder(self, name: str, *, group: str = STAFF_GROUP, schedule: dict[str, Any] | None = None,
                   staff: list[str] | None = None) -> tuple[Path, Path, Office]:
        """A config and an empty database with `staff` registered (round-robin over the divisions)."""
        folder = self.folder(name)
        (folder / "db").mkdir(parents=True)
        config = bot_config(folder / "config.toml", group=group, schedule=schedule)
        db = folder / "db" / "ita-bot.json"
        if self.backend == "postgresql":
            assert self.databases is not None
            self.urls[config] = self.databases.create(name)
        office = open_office(load_config(config, self.env(config, db)))
        registered = self.staff if staff is None else staff
        for i, uid in enumerate(registered):
            office.people.register(uid, f"พนักงาน {i + 1}", DIVISIONS[i % 3], approved=True, now=T0 - timedelta(days=30))
        return config, db, office

    def bot(self, name: str, config: Path, db: Path) -> Gunicorn:
        return Gunicorn("bot:app", self.env(config, db), self.folder(name) / "gunicorn.log")

    # -- events -----------------------------------------------------------------------------------

    def events(self, specs: list[tuple[str, str]], start: datetime) -> list[dict[str, Any]]:
        """1:1 text events [(user, text)], one second apart from `start`, built (with reply tokens) by the stand-in."""
        built = self.standin.call("text_events", [(text, {"user_id": uid, "timestamp": start + timedelta(seconds=i)})
                                                  for i, (uid, text) in enumerate(specs)])
        return list(built)

    def signed(self, events: list[dict[str, Any]]) -> list[tuple[bytes, str]]:
        return [webhook_body(SECRET, self.standin.bot_user_id, [e]) for e in events]

    def mixed(self, users: list[str], count: int) -> list[tuple[str, str]]:
        """Alternating /สถานะ and a typed /รายงาน on measure 4 (every division shares it), round-robin over users."""
        out = []
        for i in range(count):
            uid = users[i % len(users)]
            text = "/สถานะ" if i % 2 == 0 else f"/รายงาน 4 กำลังทำ {1 + i % 98}% ปรับปรุงข้อมูลบนเว็บไซต์ ครั้งที่ {i}"
            out.append((uid, text))
        return out


# --- 1. reply rate -------------------------------------------------------------------------------------------


def burst(b: Bench, url: str, count: int, senders: int, start: datetime, pids: list[int]) -> dict[str, Any]:
    """Send a burst and time it from the first send to the last reply the stand-in recorded; also the CPU time
    per event of each party over the same interval (what the rate is bound by on a machine as busy as this one):
    the web workers (their journal threads included), the stand-in's process and this one (the load generator),
    and how much of the machine the stand-in took (a saturated stand-in, not the bot, may bound the rate)."""
    warm = b.events(b.mixed(b.staff, 12), start - timedelta(minutes=5))  # imports, caches, pools: not measured
    send_all(url, b.signed(warm), senders)
    if not b.standin.call("wait_replies", len(warm), 60):
        raise RuntimeError("warm-up replies did not arrive within 60 s")
    b.standin.call("reset")
    events = b.events(b.mixed(b.staff, count), start)
    requests = b.signed(events)
    clock = CpuClock({"workers": pids, "standin": [b.standin.pid], "load_generator": [os.getpid()]}).start()
    first = time.time()
    sent = send_all(url, requests, senders)
    complete = b.standin.call("wait_replies", count, 180)
    times = [at for _, at in b.standin.call("reply_times")]
    last = max(times) if times else time.time()
    clock.stop()
    cpu = clock.cpu["workers"]
    standin_cores = clock.cpu["standin"] / clock.wall
    statuses = sorted({s.status for s in sent})
    return {
        "events": count, "senders": senders, "replies": len(times), "complete": bool(complete),
        "http_statuses": statuses, "seconds": round(last - first, 3),
        "replies_per_second": round(len(times) / (last - first), 2),
        "webhook_p50_ms": ms(percentile([s.latency for s in sent], 50)),
        "worker_cpu_ms_per_event": round(cpu * 1000 / count, 2),
        "cpu_ms_per_event": {name: round(seconds * 1000 / count, 2) for name, seconds in clock.cpu.items()},
        "cpu_seconds": {name: round(seconds, 3) for name, seconds in clock.cpu.items()},
        "cpu_wall_seconds": round(clock.wall, 3),
        "standin": {
            "cores_used": round(standin_cores, 3),  # stand-in CPU seconds ÷ wall seconds
            "machine_share": round(standin_cores / cores(), 3),  # ... ÷ the cores of the machine
            "cores": cores(),
            "saturated": standin_cores > GOALS["standin_cores_max"],
        },
    }


def burst_size(b: Bench) -> tuple[int, int]:
    """(events, concurrent senders) of the reply-rate burst."""
    return (120 if b.quick else 400), 32


def bench_reply_rate_latency_memory(b: Bench, results: dict[str, Any]) -> None:
    count, senders = burst_size(b)
    config, db, _ = b.bot_folder("burst")
    bot = b.bot("burst", config, db)
    try:
        log(f"1. reply rate: bot ({b.backend}), {count} events from {len(b.staff)} staff, {senders} senders")
        bot_burst = burst(b, bot.url + "/callback", count, senders, T0, bot.workers())
        workers = {pid: rss_kib(pid) for pid in bot.workers()}
        results["memory_after_burst_kib"] = {"bot_workers": list(workers.values())}
        bench_latency(b, bot, results)
    finally:
        bot.stop()
    results["reply_rate"] = {"bot": bot_burst}  # the ratio is taken once the floor has run (compare_to_floor)


def bench_floor(b: Bench) -> dict[str, Any]:
    """The floor app's burst (the same as the bot's) and its workers' memory; measured once for every backend."""
    count, senders = burst_size(b)
    # The floor never reads the bot's config, but gunicorn.conf.py may check it at start-up: give it a valid one.
    config = bot_config(b.tmp / "floor-config.toml")
    floor_env = {**b.env(config, b.tmp / "floor-db" / "unused.json"), "FLOOR_CHANNEL_SECRET": SECRET}
    floor = Gunicorn("benchmarks.floor_app:app", floor_env, b.tmp / "floor.log")
    try:
        log("1. reply rate: floor app, same burst")
        floor_burst = burst(b, floor.url + "/callback", count, senders, T0 + timedelta(hours=1), floor.workers())
        workers = [rss_kib(pid) for pid in floor.workers()]
    finally:
        floor.stop()
    return {"burst": floor_burst, "workers_mib": [round(k / MIB, 1) for k in workers]}


def compare_to_floor(results: dict[str, Any], floor: dict[str, Any]) -> None:
    bot_burst, floor_burst = results["reply_rate"]["bot"], floor["burst"]
    cpu_ratio = round(bot_burst["worker_cpu_ms_per_event"] / floor_burst["worker_cpu_ms_per_event"], 2)
    results["reply_rate"].update({
        "floor": floor_burst,
        "ratio": round(bot_burst["replies_per_second"] / floor_burst["replies_per_second"], 3),
        "cpu_per_event_ratio": cpu_ratio,
    })
    # Each party's CPU per event in the bot's burst and in the floor's, side by side.
    results["cpu_per_event"] = {
        "ms": {party: {"bot_burst": bot_burst["cpu_ms_per_event"][party],
                       "floor_burst": floor_burst["cpu_ms_per_event"][party]}
               for party in bot_burst["cpu_ms_per_event"]},
        "worker_ratio": cpu_ratio,
        "standin_cores_used": {"bot_burst": bot_burst["standin"]["cores_used"],
                               "floor_burst": floor_burst["standin"]["cores_used"]},
        "standin_saturated": {"bot_burst": bot_burst["standin"]["saturated"],
                              "floor_burst": floor_burst["standin"]["saturated"]},
    }
    results["memory"]["floor_workers_mib"] = floor["workers_mib"]


# --- 2. webhook latency with a slow LINE ---------------------------------------------------------------------


def server_times_ms(log_text: str) -> list[float]:
    """Time inside the worker per POST /callback, from gunicorn's access log (`%(M)sms`): no queueing in it."""
    return [float(line.rsplit(" ", 1)[1][:-2]) for line in log_text.splitlines()
            if '"POST /callback ' in line and line.endswith("ms")]


def bench_latency(b: Bench, bot: Gunicorn, results: dict[str, Any]) -> None:
    url = bot.url + "/callback"
    senders, per_sender = 50, (4 if b.quick else 10)
    users = b.staff[:senders]
    log(f"2. latency: {senders} concurrent senders × {per_sender}, every LINE call delayed 3 s")
    b.standin.call("reset")
    b.standin.call("delay", 3.0, "")
    specs = [(users[i % senders], text) for i, (_, text) in enumerate(b.mixed(users, senders * per_sender))]
    events = b.events(specs, T0 + timedelta(minutes=30))
    journal = b.folder("burst") / "db" / "journal"
    # The journal keeps entries 7 days: lines of its segments and done-log (an event has one of each once
    # applied, until compaction drops the first), or files in the earlier layout (on PostgreSQL, rows of the
    # inbox table).
    retained = sum(p.read_bytes().count(b"\n") if p.suffix == ".log" else 1
                   for folder in (journal, journal / "done") if folder.is_dir()
                   for p in folder.iterdir() if p.suffix in (".json", ".log"))
    if b.backend == "postgresql":
        with psycopg.connect(b.urls[b.folder("burst") / "config.toml"]) as conn:
            row = conn.execute("SELECT count(*) FROM inbox WHERE office = 'default'").fetchone()
            retained += int(row[0]) if row else 0
    log_before = len(bot.log.read_text(errors="replace"))
    sent: list[Sent] = send_all(url, b.signed(events), senders)
    latencies = [s.latency for s in sent]
    inside = server_times_ms(bot.log.read_text(errors="replace")[log_before:])
    done_while_slow = len(b.standin.call("reply_times"))
    b.standin.call("reset")  # LINE is fast again: let the backlog drain so the worker stops cleanly
    drained = b.standin.call("wait_replies", len(events) - done_while_slow, 120)
    results["latency"] = {
        "senders": senders, "requests": len(sent), "line_delay_s": 3.0,
        "http_statuses": sorted({s.status for s in sent}),
        "p50_ms": ms(percentile(latencies, 50)), "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(max(latencies)), "replies_during_slow_line": done_while_slow, "backlog_drained": bool(drained),
        "journal_entries_before": retained,
        "in_worker_p50_ms": percentile(inside, 50) if inside else None,
        "in_worker_p99_ms": percentile(inside, 99) if inside else None,
    }


# --- 3. growth -----------------------------------------------------------------------------------------------


def seed_reports(office: Office, total: int, author: str) -> dict[int, int]:
    """`total` reports spread evenly over ten fiscal years (2555–2564), each year's in its own file."""
    years = list(range(2555, 2565))
    per_year: dict[int, int] = {}
    for k in range(total):
        fy = years[k % len(years)]
        per_year[fy] = per_year.get(fy, 0) + 1
    for fy, n in per_year.items():
        start = datetime(fy - 544, 10, 1, 9, 0, tzinfo=BANGKOK)  # 1 Oct of the year before, CE
        end = T0 - timedelta(days=1) if fy == fiscal_year_of(T0.date()) else datetime(fy - 543, 9, 30, tzinfo=BANGKOK)
        step = (end - start) / n
        # A year with a plan takes reports only for the pairs it makes responsible (the report book refuses
        # others); older years have no plan file here, so any measure and division will do.
        plan = office.plan_for(fy)
        pairs = plan.pairs() if plan is not None else None
        # One transaction per year file (add() joins it), so seeding 5,000 is one write per year, not 5,000.
        with office.reports.hold(fy):
            for j in range(n):
                at = start + step * j
                if pairs:
                    measure, division = pairs[j % len(pairs)]
                else:
                    division, measure = DIVISIONS[j % 3], 4 if j % 2 else (1 + j % 3)
                status, percent = ("done", 100) if j % 7 == 0 else ("doing", 1 + j % 98)
                office.reports.add(Report(
                    fiscal_year=fy, measure=measure, division=division, status=status, percent=percent,
                    details=f"ดำเนินการตามแผน ปรับปรุงข้อมูลและเผยแพร่บนเว็บไซต์ ครั้งที่ {j + 1}",
                    reported_at=at, sent_at=at, chat_id=author, reporter_id=author, reporter_name="พนักงาน 1",
                ))
    return per_year


def bench_growth(b: Bench, results: dict[str, Any]) -> None:
    rounds = 5 if b.quick else 15
    user = b.staff[0]
    instances = {}
    seeded = {}
    try:
        # 50,000: where a year's reports outgrow what one read can copy cheaply (not in --quick: seeding takes
        # a minute or two).
        sizes = (("small", 20), ("big", 5000)) + (() if b.quick else (("huge", 50_000),))
        for label, total in sizes:
            config, db, office = b.bot_folder(f"growth-{label}")
            seeded[label] = seed_reports(office, total, user)
            instances[label] = b.bot(f"growth-{label}", config, db)
        log(f"3. growth ({b.backend}): {rounds} rounds of /สถานะ, /ค้าง, /รายงาน, "
            f"alternating the {', '.join(f'{total:,}' for _, total in sizes)}-report bots")
        b.standin.call("reset")
        commands = ("/สถานะ", "/ค้าง", "/รายงาน")
        latencies: dict[str, dict[str, list[float]]] = {lb: {c: [] for c in commands} for lb in instances}
        at = T0 + timedelta(hours=2)
        for r in range(-2, rounds):  # two warm-up rounds, not counted
            for command in commands:
                text = command if command != "/รายงาน" else f"/รายงาน 4 กำลังทำ {10 + r % 80}% ติดตามรอบที่ {r}"
                for label, bot in instances.items():
                    at += timedelta(seconds=1)
                    [event] = b.events([(user, text)], at)
                    body, signature = webhook_body(SECRET, b.standin.bot_user_id, [event])
                    sent = post_one(bot.url + "/callback", body, signature)
                    replied = b.standin.call("wait_reply", event["replyToken"], 30)
                    if sent.status != 200 or replied is None:
                        raise RuntimeError(f"growth: {command} on the {label} bot got no reply (HTTP {sent.status})")
                    if r >= 0:
                        latencies[label][command].append(replied - sent.started)
    finally:
        for bot in instances.values():
            bot.stop()
    out: dict[str, Any] = {"rounds": rounds, "reports_per_fiscal_year": seeded}
    for command in commands:
        small = statistics.median(latencies["small"][command])
        big = statistics.median(latencies["big"][command])
        out[command] = {"small_ms": ms(small), "big_ms": ms(big), "ratio": round(big / small, 2)}
        if "huge" in latencies:
            huge = statistics.median(latencies["huge"][command])
            out[command].update({"huge_ms": ms(huge), "huge_ratio": round(huge / small, 2)})
    results["growth"] = out


# --- 4. memory -----------------------------------------------------------------------------------------------


def bench_memory(b: Bench, results: dict[str, Any]) -> None:
    log(f"4. memory ({b.backend}): the clock process and a Flask + line-bot-sdk import baseline")
    config = b.folder("burst") / "config.toml"
    db = b.folder("burst") / "db" / "ita-bot.json"
    env = {**b.env(config, db), "ITA_BOT_CLOCK_TICK": "1", "ITA_BOT_CLOCK_START": "2021-02-15T10:00"}
    clock_log = b.folder("burst") / "clock.log"
    with open(clock_log, "wb") as out:
        clock = subprocess.Popen([sys.executable, "bot.py", "clock"], cwd=ROOT, env=env, stdout=out,
                                 stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "next summary" not in clock_log.read_text(errors="replace"):  # started and planned its slots
            if clock.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"clock did not start: {clock_log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        time.sleep(3)  # a few ticks (1 s each) so the figure is a running clock's, not a starting one's
        clock_kib = rss_kib(clock.pid)
    finally:
        clock.send_signal(signal.SIGTERM)
        try:
            clock.wait(timeout=20)
        except subprocess.TimeoutExpired:
            clock.kill()
            clock.wait(5)
    base = baseline_rss_kib()
    mem = results.pop("memory_after_burst_kib")
    worker = max(mem["bot_workers"])
    results["memory"] = {
        "baseline_python_mib": round(base["python"] / MIB, 1),
        "baseline_flask_linebot_mib": round(base["flask_linebot"] / MIB, 1),
        "web_worker_mib": round(worker / MIB, 1),
        "web_workers_mib": [round(k / MIB, 1) for k in mem["bot_workers"]],
        "clock_mib": round(clock_kib / MIB, 1),
        "web_worker_added_mib": round((worker - base["flask_linebot"]) / MIB, 1),
        "clock_added_mib": round((clock_kib - base["flask_linebot"]) / MIB, 1),
    }


# --- 5. LINE cost --------------------------------------------------------------------------------------------


def bench_cost(b: Bench, results: dict[str, Any]) -> None:
    log(f"5. LINE cost ({b.backend}): one cycle's jobs for a 20-person group with 3 pending divisions")
    pending_staff = b.staff[:6]  # two per division (register() goes round-robin over the three)
    others = [f"U{i + 0xD000:032x}" for i in range(20 - len(pending_staff))]
    for i, uid in enumerate(others):
        b.standin.call("add_user", uid, f"เจ้าหน้าที่ {i + 1}")
    b.standin.call("add_group", COST_GROUP, "พนักงาน อบต.หนองเมือง", [*pending_staff, *others])
    out: dict[str, Any] = {"group_members": 20, "pending_divisions": 3, "registered_staff_per_division": 2}
    # Direct reminders cost one message per registered reporter of a pending division, so the option's
    # figure depends on how many are registered: measured with 2 each, and with 1 (a focal person per division).
    scenarios = (("group", pending_staff), ("direct", pending_staff), ("direct_one_reporter", pending_staff[:3]))
    for mode, staff in scenarios:
        config, db, office = b.bot_folder(f"cost-{mode}", group=COST_GROUP,
                                          schedule={"reminder_to": mode.split("_")[0]}, staff=staff)
        s = office.config.schedule
        cycle = office.calendar().cycle("2021-02")
        cal = office.calendar()
        runs = [("reminder", datetime.combine(cal.working_days_before(cycle.meeting, n), s.reminder_time), n)
                for n in s.reminder_days_before]
        runs.append(("digest", datetime.combine(cal.working_days_before(cycle.meeting, s.digest_days_before),
                                                s.digest_time), s.digest_days_before))
        runs.append(("summary", datetime.combine(cycle.meeting, s.summary_time), 0))
        jobs = []
        for name, moment, n in runs:
            before = b.standin.call("consumption")
            command = [sys.executable, "bot.py", "job", name, "--now", moment.isoformat(timespec="minutes")]
            done = subprocess.run(command, cwd=ROOT, env=b.env(config, db), capture_output=True, text=True, timeout=60)
            if done.returncode != 0:
                raise RuntimeError(f"bot.py job {name} failed: {done.stderr[-2000:]}")
            jobs.append({"job": name, "at": moment.isoformat(timespec="minutes"), "working_days_before": n,
                         "messages": b.standin.call("consumption") - before})
        out[mode] = {"messages": sum(j["messages"] for j in jobs), "jobs": jobs, "meeting": cycle.meeting.isoformat(),
                     "registered_staff": len(staff)}
    results["line_cost"] = out


# --- the table -----------------------------------------------------------------------------------------------


#: A table row: figure, value, goal, and PASS (True), FAIL (False) or None for a figure shown without a goal.
Row = tuple[str, str, str, bool | None]


def cpu_rows(rr: dict[str, Any]) -> list[Row]:
    """CPU per event of each party in both bursts, the workers' ratio to the floor's, and the stand-in's load."""
    g, bot, floor = GOALS, rr["bot"], rr["floor"]
    per_event = ", ".join(f"{label} {bot['cpu_ms_per_event'][party]:.2f} / {floor['cpu_ms_per_event'][party]:.2f}"
                          for party, label in (("workers", "workers"), ("standin", "stand-in"),
                                               ("load_generator", "load")))
    bot_in, floor_in = bot["standin"], floor["standin"]
    saturated = [name for name, s in (("bot's", bot_in), ("floor's", floor_in)) if s["saturated"]]
    load = (f"{bot_in['cores_used']:.2f} / {floor_in['cores_used']:.2f} core "
            f"({bot_in['machine_share']:.0%} / {floor_in['machine_share']:.0%} of {bot_in['cores']} cores)")
    if saturated:  # one Python process near a full core: the stand-in, not the app, may bound that burst's rate
        load += f" SATURATED ({' and '.join(saturated)} burst)"
    return [
        ("1. CPU per event (ms), bot's burst / floor's", per_event, "", None),
        ("1. worker CPU per event ÷ floor's",
         f"{rr['cpu_per_event_ratio']:.2f} ({bot['worker_cpu_ms_per_event']:.2f} ms ÷ "
         f"{floor['worker_cpu_ms_per_event']:.2f} ms)",
         f"≤ {g['cpu_per_event_ratio']:g}", rr["cpu_per_event_ratio"] <= g["cpu_per_event_ratio"]),
        ("1. stand-in's load, bot's burst / floor's", load, f"≤ {g['standin_cores_max']:g} core", not saturated),
    ]


def rows(results: dict[str, Any]) -> list[Row]:
    g, latency = GOALS, results["latency"]
    rr = results["reply_rate"]
    standin_note = " (stand-in saturated)" if rr["bot"]["standin"]["saturated"] or rr["floor"]["standin"][
        "saturated"] else ""
    out: list[Row] = [(
        "1. reply rate, bot ÷ floor",
        f"{rr['ratio']:.2f} ({rr['bot']['replies_per_second']:.1f}/s ÷ {rr['floor']['replies_per_second']:.1f}/s, "
        f"{rr['bot']['events']} events){standin_note}",
        f"≥ {g['reply_rate']} (aim {g['reply_rate_aim']})",
        rr["ratio"] >= g["reply_rate"] and rr["bot"]["complete"],
    ), *cpu_rows(rr), (
        "2. webhook answer p50 / p99",
        f"{latency['p50_ms']:.0f} / {latency['p99_ms']:.0f} ms ({latency['senders']} senders, LINE +3 s; "
        f"in worker {latency['in_worker_p50_ms']:.0f} / {latency['in_worker_p99_ms']:.0f})",
        f"p99 < {g['latency_p99_ms']:.0f} ms",
        latency["p99_ms"] < g["latency_p99_ms"] and latency["http_statuses"] == [200],
    )]
    for command in ("/สถานะ", "/ค้าง", "/รายงาน"):
        c = results["growth"][command]
        out.append((f"3. growth {command}, 5,000 ÷ 20 reports",
                    f"{c['ratio']:.2f} ({c['big_ms']:.0f} ms ÷ {c['small_ms']:.0f} ms)",
                    f"≤ {g['growth']:g}", c["ratio"] <= g["growth"]))
        if "huge_ratio" in c:
            out.append((f"3. growth {command}, 50,000 ÷ 20 reports",
                        f"{c['huge_ratio']:.2f} ({c['huge_ms']:.0f} ms ÷ {c['small_ms']:.0f} ms)",
                        f"≤ {g['growth']:g}", c["huge_ratio"] <= g["growth"]))
    m = results["memory"]
    out.append(("4. memory, web worker after burst", f"+{m['web_worker_added_mib']:.1f} MiB "
                f"({m['web_worker_mib']:.1f} − {m['baseline_flask_linebot_mib']:.1f})",
                f"< {g['memory_mib']:g} MiB added", m["web_worker_added_mib"] < g["memory_mib"]))
    out.append(("4. memory, clock", f"+{m['clock_added_mib']:.1f} MiB "
                f"({m['clock_mib']:.1f} − {m['baseline_flask_linebot_mib']:.1f})",
                f"< {g['memory_mib']:g} MiB added", m["clock_added_mib"] < g["memory_mib"]))
    lc = results["line_cost"]
    for mode, label, goal in (("group", "defaults", g["cost_group"]),
                              ("direct", 'reminder_to="direct", 2 staff/division', g["cost_direct"]),
                              ("direct_one_reporter", 'reminder_to="direct", 1 staff/division', g["cost_direct"])):
        n = lc[mode]["messages"]
        out.append((f"5. LINE cost / cycle, {label}", f"{n} messages ({n / FREE_PLAN_TH:.0%} of 300 free/month)",
                    f"≤ {goal}", n <= goal))
    return out


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else "PASS" if ok else "FAIL"


def table(lines: list[Row]) -> str:
    head = ("figure", "value", "goal", "result")
    body = [(a, b, c, verdict(ok)) for a, b, c, ok in lines]
    return _grid(head, body)


def side_by_side(by_backend: dict[str, list[Row]]) -> str:
    """One row per figure, a value column per backend, the goal, and each backend's PASS/FAIL in turn."""
    names = list(by_backend)
    head = ("figure", *names, "goal", "result (" + " / ".join(names) + ")")
    body = []
    for k, (figure, _, goal, _) in enumerate(by_backend[names[0]]):
        cells = [by_backend[n][k] for n in names]
        body.append((figure, *(c[1] for c in cells), goal, " / ".join(verdict(c[3]) for c in cells)))
    return _grid(head, body)


def _grid(head: tuple[str, ...], body: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    fmt = " | ".join(f"{{:<{w}}}" for w in widths)
    sep = "-+-".join("-" * w for w in widths)
    return "\n".join([fmt.format(*head), sep, *(fmt.format(*r) for r in body)])


def bench_databases(url: str, backends: Sequence[str]) -> BenchDatabases | None:
    """The PostgreSQL server the runs make their databases on, checked (RuntimeError naming the problem); None
    when no backend run needs one."""
    if "postgresql" not in backends:
        return None
    databases = BenchDatabases(url)
    databases.check()
    return databases


def clean_up(standin: StandInProcess, databases: BenchDatabases | None, tmp: Path, *, keep: bool) -> None:
    """Stop the stand-in, drop the run's databases and remove its folder (unless ``keep``: it is named instead)."""
    standin.close()
    if databases is not None:
        databases.drop_all()
    if keep:
        log(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def write_report(out: Path, report: dict[str, Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nJSON: {out}  ({report['seconds']:.0f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller burst and fewer rounds (about a minute)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "latest.json")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (databases, gunicorn logs)")
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="tinydb",
                        help="where the bots keep their data; both: one after the other, side by side in one table")
    parser.add_argument("--database-url", default=ADMIN_URL, metavar="URL",
                        help="the PostgreSQL server (a URL allowed to create databases) the postgresql backend's "
                             f"databases are made on and dropped from (default {ADMIN_URL})")
    args = parser.parse_args(argv)
    backends = list(BACKENDS) if args.backend == "both" else [args.backend]
    started = time.monotonic()
    try:
        databases = bench_databases(args.database_url, backends)
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="ita-bench-"))
    standin = StandInProcess(SECRET)
    results: dict[str, Any] = {}
    try:
        staff = [staff_id(i) for i in range(60)]
        for i, uid in enumerate(staff):
            standin.call("add_user", uid, f"พนักงาน {i + 1}")
        for uid, name in ((CHAIR, "ประธาน"), (SECRETARY, "เลขานุการ")):
            standin.call("add_user", uid, name)
        standin.call("add_group", STAFF_GROUP, "พนักงาน", [*staff, CHAIR, SECRETARY])
        steps: list[Callable[[Bench, dict[str, Any]], None]] = [
            bench_reply_rate_latency_memory, bench_growth, bench_memory, bench_cost,
        ]
        for backend in backends:
            b = Bench(standin, tmp, args.quick, staff, backend, databases)
            results[backend] = {}
            for step in steps:
                step(b, results[backend])
        # One floor for every backend: the same burst against the same minimal app.
        floor = bench_floor(Bench(standin, tmp, args.quick, staff))
        for backend in backends:
            compare_to_floor(results[backend], floor)
    finally:
        clean_up(standin, databases, tmp, keep=args.keep)
    lines = {backend: rows(results[backend]) for backend in backends}
    printed = table(lines[backends[0]]) if len(backends) == 1 else side_by_side(lines)
    print(printed)
    report = {
        "when": datetime.now(BANGKOK).isoformat(timespec="seconds"),
        "quick": args.quick,
        "backends": backends,
        "seconds": round(time.monotonic() - started, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "gunicorn": {"command": "gunicorn -c gunicorn.conf.py bot:app (bound to 127.0.0.1)",
                     "workers": int(os.environ.get("WEB_CONCURRENCY", "2")),
                     "threads": int(os.environ.get("GUNICORN_THREADS", "4"))},
        "standin": "own process (benchmarks/standin_host.py)",
        "goals": GOALS,
        "results": results,
        "table": {backend: [{"figure": a, "value": v, "goal": g, "pass": ok} for a, v, g, ok in lines[backend]]
                  for backend in backends},
        "table_text": printed,
    }
    write_report(args.out, report)
    return 0  # a missed goal is a finding shown in the table, not a failure of the run


if __name__ == "__main__":
    sys.exit(main())
