"""The Flask app factory: webhook, /healthz, report pages and the managers' console, with the journal worker."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any, ClassVar

from flask import Flask, jsonify
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from werkzeug.routing import Rule

from ita_bot.chat.dispatch import EventHandler
from ita_bot.chat.journal import Journal
from ita_bot.chat.richmenus import sync_links_in_background
from ita_bot.domain.config import Config, load_config
from ita_bot.domain.office import Office
from ita_bot.domain.plan_reader import load_plan
from ita_bot.domain.thai import BANGKOK, bangkok_now, fiscal_year_of
from ita_bot.line.client import LineClient
from ita_bot.store import open_office
from ita_bot.store.status import storage_status

__all__ = ["BotRuntime", "create_app", "create_production_app", "serve"]

log = logging.getLogger(__name__)


@dataclass
class BotRuntime:
    """What the app runs on, kept in ``app.extensions["ita_bot"]``."""

    office: Office
    line: LineClient
    journal: Journal
    handler: EventHandler
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ensure_worker(self) -> None:
        """Start this process's journal worker if it is not running (gunicorn workers start it lazily)."""
        if not self.journal.running:
            with self._lock:
                self.journal.start()
            # A role changed in config while we were down: the managers' menu follows (a no-op before
            # `python bot.py richmenu` has run, and off any request's path).
            sync_links_in_background(self.office, self.line)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the journal worker (events in progress finish; unprocessed ones wait for the next start) and let
        go of the chats it held, so another process takes them at once."""
        self.journal.stop(timeout)
        self.office.repositories.inbox.close()


class _Rule(Rule):
    """A URL rule whose URL builders are compiled once per process, not once per app.

    Werkzeug compiles two small functions per rule from a syntax tree (~0.6 ms a rule, ~40 ms for the
    console's routes), and each app compiles them again although they depend only on the rule's parts:
    the demo and the tests build hundreds of apps. The functions read the rule's converters at call time,
    so one function serves every app's copy of the rule.
    """

    _builders: ClassVar[dict[tuple[Any, ...], Callable[..., tuple[str, str]]]] = {}

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        defaults = self.defaults or {}
        if any(dynamic and part in defaults for dynamic, part in self._trace):
            return super()._compile_builder(append_unknown)  # a default turned into text by a converter: not shared
        key = (tuple(self._trace), tuple(defaults), append_unknown)
        builder = self._builders.get(key)
        if builder is None:
            builder = self._builders[key] = super()._compile_builder(append_unknown)
        return builder


class _CompiledTemplates(BytecodeCache):
    """Templates compiled once per process, not once per app (each app has its own Jinja environment).

    Compiling the console's and the report pages' templates takes ~10 ms each; the demo and the tests
    build hundreds of apps. Jinja checks each entry against the template's source, so an edited
    template is compiled again.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if (code := self._code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


class _Flask(Flask):
    url_rule_class = _Rule
    jinja_options = {**Flask.jinja_options, "bytecode_cache": _CompiledTemplates()}  # noqa: RUF012  # Flask reads it here


def create_app(
    config: Config,
    *,
    office: Office | None = None,
    line: LineClient | None = None,
    start_worker: bool = True,
    journal_poll_seconds: float | None = None,
) -> Flask:
    """Build the web app. Touches no network; starts the journal worker thread only when asked."""
    from ita_bot import console
    from ita_bot.chat import webhook
    from ita_bot.publish import pages

    office = office or open_office(config)
    line = line or LineClient.from_config(config)
    handler = EventHandler(office, line)
    # The inbox is the other repositories' write-ahead log: the journal checkpoints them for the events it applies.
    journal = (Journal(office.repositories.inbox, handler) if journal_poll_seconds is None
               else Journal(office.repositories.inbox, handler, poll_seconds=journal_poll_seconds))
    runtime = BotRuntime(office, line, journal, handler)

    app = _Flask(__name__)
    # Werkzeug refuses larger bodies itself too (e.g. chunked ones without a Content-Length).
    app.config["MAX_CONTENT_LENGTH"] = webhook.MAX_BODY
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Thai stays readable in JSON answers
    app.extensions["ita_bot"] = runtime
    app.register_blueprint(webhook.bp)
    app.add_url_rule("/healthz", "healthz", _healthz)
    pages.init_app(app)
    console.init_app(app, office, exempt=(webhook.bp,))  # LINE signs its webhook; it carries no CSRF token
    if start_worker:
        runtime.ensure_worker()
    return app


def _healthz() -> Any:
    """Public status: states, kinds and counts only — never a name, a LINE ID or a server path.

    Notices name people (an unreachable chair) and errors name files: managers get those whole in
    chat, the console gets them in the log; this page only says which kind of thing is wrong.
    200 "ok"; 200 "degraded" (with its ``problems``) when the current fiscal year has no plan, a job's
    latest run failed, the clock is late, the database's schema is not this program's or (a hosted office) LINE
    refuses the office's channel; 503 "error" when the
    plan or the store cannot be read. ``backend`` names the store ("tinydb" or "postgresql"), never its URL.
    """
    from flask import current_app

    from ita_bot.console import CLOCK_KEY
    from ita_bot.domain.plan import PlanError
    from ita_bot.schedule.clock import clock_is_late, last_runs

    runtime: BotRuntime = current_app.extensions["ita_bot"]
    office, config = runtime.office, runtime.office.config
    # The app's clock (the demo's simulated one when it runs the app), never the shipped plan's year.
    today = current_app.config[CLOCK_KEY]().astimezone(BANGKOK).date()
    fiscal_year = fiscal_year_of(today)
    body: dict[str, Any] = {"fiscal_year": fiscal_year}
    failing = "plan"  # which part is being loaded, for the answer if it fails
    try:
        if config.plan_path is not None:  # an office with no configured plan (a new hosted one) has none to read
            load_plan(config.plan_path)  # afresh: a broken edit to the plan file must show here
        # Every year's plan must load (a broken save shows here); a year without one is degraded, not a failure.
        body["has_plan"] = office.plan_for(fiscal_year) is not None
        body["plans"] = [p.fiscal_year for p in office.plans.all()]
        # The current or coming year without a plan: years only (staff cannot report until one exists).
        body["plans_missing"] = office.missing_plans(today)
        failing = "store"
        storage = storage_status(config)  # the backend's name, and whether its schema is this program's
        body["backend"] = storage.backend
        body["schema_current"] = storage.schema_current
        beat = office.repositories.heartbeats.last("clock")
        office.reports.all(fiscal_year)  # the current year's report file must load too
        warnings = Counter(n.kind for n in office.notices.active())
        runs = last_runs(office.repositories.slots)
    except Exception as e:  # any failure to load is the answer itself, not a 500
        log.error("healthz: %s failed: %s: %s", failing, type(e).__name__, e)
        body.update({"status": "error", "store": "error" if failing == "store" else "unknown", "reason": failing})
        if isinstance(e, PlanError):
            body["plan"] = PurePath(e.file).name  # which file, never where it is
        return jsonify(body), 503
    age = None
    if beat is not None and beat.at is not None:
        at = bangkok_now(beat.at)  # the product's rule: a time without an offset is Bangkok time
        # Real time on both sides: the clock writes its heartbeat in real time whatever time it pretends.
        age = max(0, round((datetime.now(UTC) - at).total_seconds()))
    late = clock_is_late(age, beat.tick_seconds if beat else None)
    try:
        pending = runtime.journal.pending()
    except OSError:
        pending = None
    problems = [name for name, wrong in (("no_plan", not body["has_plan"]),
                                         ("schema_not_current", not storage.schema_current),
                                         ("job_failed", any(r.failed for r in runs.values())),
                                         ("clock_late", late),
                                         # A hosted office's channel LINE refuses (the hosted clock posts it).
                                         ("line", config.hosted and warnings["line"] > 0)) if wrong]
    body.update(
        {
            "status": "degraded" if problems else "ok",
            "problems": problems,
            "store": "ok",
            "clock": {"heartbeat_age_seconds": age, "late": late},
            "jobs": {job: {"last_run": run.at.isoformat(timespec="seconds"), "result": "failed" if run.failed else "ok"}
                     for job, run in sorted(runs.items())},
            "warnings": dict(sorted(warnings.items())),
            "journal": {"pending": pending},
        }
    )
    return jsonify(body), 200


def create_production_app() -> Flask:
    """`bot:app` for gunicorn: config from the environment, real credentials required, worker started lazily."""
    config = load_config()
    config.require_line_credentials()
    app = create_app(config, start_worker=False)
    runtime: BotRuntime = app.extensions["ita_bot"]
    # Started in the worker process (post_worker_init, or the first request), never at import/fork time.
    app.before_request(runtime.ensure_worker)
    return app


def serve(config: Config) -> int:
    """`python bot.py serve`: the Flask development server on config.port (threaded)."""
    config.require_line_credentials()
    app = create_app(config)
    log.info("serving on 127.0.0.1 port %d", config.port)
    try:
        # Loopback only, like gunicorn: the development server is not hardened for the network, and the
        # console's sign-in links and cookies must not be reachable from the office LAN over plain HTTP.
        app.run(host="127.0.0.1", port=config.port, threaded=True, use_reloader=False)
    finally:
        app.extensions["ita_bot"].close()
    return 0
