"""The managers' console: a private Flask blueprint under /admin, signed in from LINE with `/จัดการ`."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from ita_bot.domain.office import Office
from ita_bot.domain.signin import SESSION_TTL
from ita_bot.store.files import write_atomic

__all__ = ["CLOCK_KEY", "SECRET_ENV", "SECRET_FILE", "csrf", "init_app", "secret_key"]

SECRET_ENV = "ITA_BOT_SECRET_KEY"
SECRET_FILE = "console-secret-key"
#: app.config key of a zero-argument callable giving "now" (the demo's simulated clock, tests' fixed time).
CLOCK_KEY = "ITA_BOT_CLOCK"

csrf = CSRFProtect()


def secret_key(data_folder: Path, env: dict[str, str] | None = None) -> str:
    """The key signing console cookies: ITA_BOT_SECRET_KEY, else one generated once into the data folder (0600)."""
    env = os.environ if env is None else env  # type: ignore[assignment]
    if value := (env or {}).get(SECRET_ENV, "").strip():
        return value
    path = data_folder / SECRET_FILE
    damaged = path.is_file() and not path.read_text(encoding="ascii").strip()
    if damaged or not path.is_file():
        # Written whole to a private (0600) temp file, then linked into place: gunicorn workers starting together
        # never see a half-written key, and the first link wins, so all of them sign with the same one.
        # An empty file is replaced rather than signed with "".
        write_atomic(path, secrets.token_urlsafe(48).encode("ascii"), replace=damaged)
    return path.read_text(encoding="ascii").strip()


def init_app(
    app: Flask, office: Office, *, exempt: tuple[object, ...] = (), clock: Callable[[], datetime] | None = None
) -> None:
    """Secret key, cookie rules, CSRF protection on every POST (``exempt``: the LINE webhook) and the blueprint."""
    from ita_bot.console import auth, base, history, people, plans, redact, year  # noqa: F401  # each registers its routes

    app.secret_key = secret_key(office.store.folder)
    app.config.update(
        SESSION_COOKIE_NAME="ita_console",
        SESSION_COOKIE_PATH="/admin",  # the public pages never carry the console's cookie
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=office.config.web.base_url.lower().startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=SESSION_TTL.total_seconds()),
        # A token lives as long as the session: a form left open over lunch still saves.
        WTF_CSRF_TIME_LIMIT=None,
    )
    # The office's clock unless a test pins the console's own: one clock for console, pages and jobs.
    app.config.setdefault(CLOCK_KEY, clock or (lambda: office.now()))
    csrf.init_app(app)
    for view in exempt:
        csrf.exempt(view)
    redact.install()
    app.register_blueprint(base.bp)
    base.register_errors(app)
