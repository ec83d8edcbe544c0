"""gunicorn settings for the web process (`python bot.py web` runs `gunicorn -c gunicorn.conf.py bot:app`)."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from ita_bot.console.gunicorn_log import AccessLogger
from ita_bot.deploy import LOG_DATEFMT, LOG_FORMAT, SettingError, web_settings

try:
    _settings = web_settings()
except SettingError as _e:
    sys.exit(f"error: {_e}")  # one line, not gunicorn's config traceback
# Loopback only: the TLS front (deploy/nginx/ita-bot.conf) is what faces the internet. It reads whole
# requests before passing them on; gunicorn's few threads would otherwise be held by any client that
# opens a connection and sends slowly or nothing. `GUNICORN_CMD_ARGS="--bind ..."` overrides this.
bind = f"127.0.0.1:{_settings.port}"
workers = _settings.workers
# Threads: a slow page (DOCX export) must not hold up LINE's webhook, which has to answer within a second.
worker_class = "gthread"
threads = _settings.threads
timeout = 30
graceful_timeout = 15
# No preload: each worker imports the app itself after the fork, so no thread, lock or open file is
# shared by accident, and building the app starts no scheduler (web workers never run jobs).
preload_app = False
# Explicit request limits (gunicorn's defaults, kept even if those change): the front has the same or tighter.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"
# The path without its query string, never bodies or headers (LINE user IDs are personal data).
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


class Logger(AccessLogger):  # type: ignore[misc]
    """gunicorn's own lines and its access log in the format of the app's and the clock's (one zone, one shape).

    Its parent cuts the console's one-time sign-in links out of the logged path.
    """

    error_fmt = LOG_FORMAT
    datefmt = LOG_DATEFMT

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        # gunicorn gives its access log a formatter without a date format of its own: set both logs' alike.
        for handler in (*self.error_log.handlers, *self.access_log.handlers):
            handler.setFormatter(logging.Formatter(LOG_FORMAT, LOG_DATEFMT))


logger_class = Logger
# gunicorn's control socket (for `gunicornc`) defaults to ~/.gunicorn/, which the service's system user has no
# home for: under systemd it goes into the unit's RuntimeDirectory (systemd names it in RUNTIME_DIRECTORY);
# elsewhere (by hand, tests) it is off, so that several gunicorns never fight over one socket.
_runtime_dir = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
if _runtime_dir:
    control_socket = os.path.join(_runtime_dir, "gunicorn.ctl")
else:
    control_socket_disable = True


def post_worker_init(worker: Any) -> None:
    """Start this worker's journal thread (events accepted before a restart are picked up at once)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, datefmt=LOG_DATEFMT)
    from ita_bot.service.web import HostedApp

    if isinstance(worker.wsgi, HostedApp):
        # Each office's app starts its own worker when first built; those with events left waiting by a restart
        # are built now, in the background, so nothing acknowledged waits for that office's next request.
        worker.wsgi.sweep_once()
        return
    runtime = getattr(worker.wsgi, "extensions", {}).get("ita_bot")
    if runtime is not None:
        runtime.ensure_worker()


def worker_exit(server: Any, worker: Any) -> None:
    """Let the event in progress finish; the rest stay in the journal for the other workers or the next start."""
    from ita_bot.service.web import HostedApp

    app = getattr(worker, "wsgi", None)
    if isinstance(app, HostedApp):  # every office's app this worker built
        app.close()
        return
    runtime = app.extensions.get("ita_bot") if app is not None else None
    if runtime is not None:
        runtime.close(timeout=10)


def on_starting(server: Any) -> None:
    """Refuse to start (one clear line, no worker tracebacks) when config, plan or credentials are unusable."""
    from ita_bot.domain.config import ConfigError, load_config
    from ita_bot.domain.plan import PlanError
    from ita_bot.domain.plan_reader import load_plan
    from ita_bot.domain.sealing import SealError, ServiceKey
    from ita_bot.store.database import Store, StoreError

    try:
        config = load_config()
        if config.hosted:  # each office brings its own channel and plans; the service needs its key
            ServiceKey.from_env(os.environ)
        else:
            config.require_line_credentials()
            load_plan(config.plan_path)
        Store(config.db_path)  # the data folder must exist or be creatable
    except (ConfigError, PlanError, StoreError, SealError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
