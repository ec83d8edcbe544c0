"""What one webhook event costs on PostgreSQL, in-process: statements, transactions and round trips, wall and CPU.

`python benchmarks/pg_events.py [--events 500] [--database-url URL]` makes a database of its own on the server
(an admin URL that may CREATE DATABASE; default 127.0.0.1:5432, trust auth), runs the bot's Flask app and journal
in this process against the LINE stand-in (also in this process), and drops the database at the end.

Phases, each over the same number of events (half `/สถานะ`, half `/รายงาน 4 …`, one event per webhook, from 20
staff): *accept* posts them with the journal stopped (the webhook's part); *apply* starts the journal and waits
until every one is applied and replied to (the worker's part). Counted per event by `benchmarks/pg_spy.py`:
statements sent, BEGIN/COMMIT/SAVEPOINT, statements run prepared, and round trips (waits for the server). Then
one `/รายงาน` and one `/สถานะ` alone (worker running, warm) list their statements with `--show`.
CPU is this process's (the stand-in's threads included, the same in every run)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.pg_spy import Counts, StatementSpy  # noqa: E402
from ita_bot.domain.config import load_config  # noqa: E402
from ita_bot.domain.thai import BANGKOK  # noqa: E402
from ita_bot.line_standin import LineStandIn  # noqa: E402
from ita_bot.store import open_office  # noqa: E402
from ita_bot.store.pg import Database  # noqa: E402
from ita_bot.store.pg.schema import migrate  # noqa: E402
from ita_bot.web import create_app  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
SECRET, TOKEN = "pg-events-secret", "pg-events-token"
PLAN = ROOT / "storage" / "plans" / "2564.toml"
T0 = datetime(2021, 2, 15, 10, 0, tzinfo=BANGKOK)
DIVISIONS = ("sp", "klang", "chang")
STAFF = [f"U{i:032x}" for i in range(1, 21)]
CHAIR, SECRETARY, GROUP = "U" + "c" * 32, "U" + "5" * 32, "C" + "b" * 32


def text(i: int) -> str:
    return "/สถานะ" if i % 2 == 0 else f"/รายงาน 4 กำลังทำ {1 + i % 98}% ปรับปรุงข้อมูลบนเว็บไซต์ ครั้งที่ {i}"


class Run:
    def __init__(self, url: str, folder: Path, standin: LineStandIn) -> None:
        self.standin = standin
        (folder / "config.toml").write_text("\n".join([
            "[organization]", f'plan = "{PLAN}"',
            "[line]", f'channel_secret = "{SECRET}"', f'channel_access_token = "{TOKEN}"', f'group_id = "{GROUP}"',
            "[roles]", f'chair = ["{CHAIR}"]', f'secretary = ["{SECRETARY}"]',
            "[web]", 'base_url = "https://ita.example.go.th"', ""]), encoding="utf-8")
        env = {"ITA_BOT_DB": str(folder / "db" / "ita-bot.json"), "LINE_API_ENDPOINT": standin.url,
               "LINE_DATA_API_ENDPOINT": standin.url, "ITA_BOT_DATABASE_URL": url}
        self.config = load_config(folder / "config.toml", env)
        office = open_office(self.config)
        for i, uid in enumerate(STAFF):
            office.people.register(uid, f"พนักงาน {i + 1}", DIVISIONS[i % 3], approved=True,
                                   now=T0 - timedelta(days=30))
        self.app = create_app(self.config, start_worker=False)
        self.runtime = self.app.extensions["ita_bot"]
        self.client = self.app.test_client()
        self.at = T0

    def post(self, count: int, offset: int, only: str | None = None) -> None:
        for i in range(offset, offset + count):
            body = text(i) if only is None else only
            event = self.standin.text_event(body, user_id=STAFF[i % len(STAFF)], timestamp=self.at)
            self.at += timedelta(seconds=1)
            raw = self.standin.webhook_body([event])
            response = self.client.post("/callback", data=raw, headers={
                "Content-Type": "application/json; charset=utf-8", "X-Line-Signature": self.standin.signature(raw)})
            assert response.status_code == 200, response.status_code

    def apply(self) -> None:
        self.runtime.journal.start()
        assert self.runtime.journal.wait_idle(300.0), "journal not idle"
        self.runtime.journal.stop()


def per_event(counts: Counts, n: int, threads: str) -> dict[str, float]:
    """The counts of the webhook's thread (``main``) or of every other (``worker``), per event."""
    main = threading.main_thread().name
    sub = counts.only(lambda t: (t == main) == (threads == "main"))
    return {k: round(v, 2) for k, v in sub.summary(n).items()}


def phase(run: Run, n: int, offset: int) -> dict[str, Any]:
    cpu, wall = time.process_time(), time.perf_counter()
    with StatementSpy() as accepted:
        run.post(n, offset)
    accept = {"wall_s": round(time.perf_counter() - wall, 3), "cpu_s": round(time.process_time() - cpu, 3)}
    replies_before = len(run.standin.replies())
    cpu, wall = time.process_time(), time.perf_counter()
    with StatementSpy() as applied:
        run.apply()
    apply = {"wall_s": round(time.perf_counter() - wall, 3), "cpu_s": round(time.process_time() - cpu, 3)}
    assert len(run.standin.replies()) - replies_before == n, "every event answered once"
    return {"accept": {**accept, **per_event(accepted, n, "main")},
            "apply": {**apply, **per_event(applied, n, "worker")}}


def single(run: Run, body: str, offset: int, show: bool) -> dict[str, Any]:
    run.runtime.journal.start()
    with StatementSpy() as counts:
        run.post(1, offset, only=body)
        assert run.runtime.journal.wait_idle(30.0)
    run.runtime.journal.stop()
    out: dict[str, Any] = {"accept": per_event(counts, 1, "main"), "apply": per_event(counts, 1, "worker")}
    if show:
        main = threading.main_thread().name
        out["statements"] = [f"{'webhook' if t == main else 'worker '} {'P' if p else ' '} {s}" for t, s, p in
                             zip(counts.threads, counts.statements, counts.prepared_flags, strict=True)]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--database-url", default=ADMIN_URL)
    parser.add_argument("--show", action="store_true", help="list the statements of the single events")
    args = parser.parse_args(argv)
    name = f"ita_pgevents_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(args.database_url)._replace(path="/" + name))
    try:
        db = Database(url, max_size=1)
        migrate(db)
        db.close()
        with tempfile.TemporaryDirectory() as tmp, LineStandIn(SECRET) as standin:
            for uid in (*STAFF, CHAIR, SECRETARY):
                standin.add_user(uid, "ทดสอบ")
            standin.add_group(GROUP, "พนักงาน", [*STAFF, CHAIR, SECRETARY])
            run = Run(url, Path(tmp), standin)
            run.post(20, 0)  # warm-up: imports, templates, the pool's connections
            run.apply()
            report = {"events": args.events, **phase(run, args.events, 20)}
            report["one_report"] = single(run, text(1), 20 + args.events, args.show)
            report["one_status"] = single(run, text(0), 21 + args.events, args.show)
            run.runtime.close()
            Database.shared(url).close()
        print(json.dumps(report, ensure_ascii=False, indent=1))
    finally:
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
