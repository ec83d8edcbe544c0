"""The managers' console: a private Flask blueprint under /admin, signed in from LINE with `/จัดการ`."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

from ita_bot.domain.office import Office
from ita_bot.domain.sealing import SERVICE_KEY_ENV
from ita_bot.domain.secret_keys import SecretKeyRepository
from ita_bot.domain.signin import SESSION_TTL

__all__ = ["CLOCK_KEY", "SECRET_ENV", "SECRET_NAME", "csrf", "init_app", "secret_key"]

# One variable for both secrets: in the hosted service it is the service key, which also seals credentials.
SECRET_ENV = SERVICE_KEY_ENV
SECRET_NAME = "console-secret-key"  # its name among the kept keys (a file of that name on TinyDB)
#: app.config key of a zero-argument callable giving "now" (the demo's simulated clock, tests' fixed time).
CLOCK_KEY = "ITA_BOT_CLOCK"

csrf = CSRFProtect()


def secret_key(keys: SecretKeyRepository, env: dict[str, str] | None = None) -> str:
    """The key signing console cookies: ITA_BOT_SECRET_KEY, else the one kept as "console-secret-key" (made once,
    the same for every worker and after a restart)."""
    env = os.environ if env is None else env  # type: ignore[assignment]
    if value := (env or {}).get(SECRET_ENV, "").strip():
        return value
    return keys.get_or_create(SECRET_NAME)


class _MountedSessions(SecureCookieSessionInterface):
    """The console's cookie path under the prefix the app is mounted at (``request.script_root``: the hosted
    service's ``/o/<office>``), so it is sent to this console only: never to the public pages, nor to another
    office's console on the same host."""

    def get_cookie_path(self, app: Flask) -> str:
        return request.script_root + super().get_cookie_path(app)


def init_app(
    app: Flask, office: Office, *, exempt: tuple[object, ...] = (), clock: Callable[[], datetime] | None = None
) -> None:
    """Secret key, cookie rules, CSRF protection on every POST (``exempt``: the LINE webhook) and the blueprint."""
    from ita_bot.console import auth, base, history, oit, people, plans, redact, year  # noqa: F401  # each registers its routes

    hosted = office.config.hosted
    # In the hosted service ITA_BOT_SECRET_KEY is the service key: each office signs its cookies with its own kept
    # key instead, so a session of one office is no session in another.
    app.secret_key = secret_key(office.repositories.secret_keys, env={} if hosted else None)
    app.config.update(
        SESSION_COOKIE_NAME="ita_console",
        # The public pages never carry the console's cookie. The path is inside the app: _MountedSessions puts the
        # mount prefix before it, so a hosted office's cookie is /o/<office>/admin and never sent to another's.
        SESSION_COOKIE_PATH="/admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=office.config.web.base_url.lower().startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=SESSION_TTL.total_seconds()),
        # A token lives as long as the session: a form left open over lunch still saves.
        WTF_CSRF_TIME_LIMIT=None,
    )
    # The office's clock unless a test pins the console's own: one clock for console, pages and jobs.
    app.config.setdefault(CLOCK_KEY, clock or (lambda: office.now()))
    app.session_interface = _MountedSessions()
    csrf.init_app(app)
    for view in exempt:
        csrf.exempt(view)
    redact.install()
    app.register_blueprint(base.bp)
    base.register_errors(app)
