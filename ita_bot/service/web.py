"""The hosted service's WSGI app: ``/o/<office>/…`` to that office's own app, built when first asked for."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.wrappers import Request

from ita_bot.chat.webhook import refusal_to_stranger
from ita_bot.domain.config import Config, load_config
from ita_bot.domain.links import OFFICE_PREFIX
from ita_bot.domain.offices import OfficeRecord
from ita_bot.domain.sealing import SealError
from ita_bot.service import Service, UnknownOffice, same_office
from ita_bot.web import BotRuntime, create_app
from ita_bot.web import create_production_app as create_office_app

__all__ = ["HostedApp", "create_hosted_app", "create_production_app"]

log = logging.getLogger(__name__)

#: How often each office's journal looks for entries other workers left. A worker's own events wake its journal
#: at once; the poll only finds what another worker accepted and did not apply (it died, or holds the chat), and a
#: hundred offices polling twice a second cost a worker two hundred inbox listings or queries a second.
OFFICE_POLL_SECONDS = 5.0

_OFFICE_PATH = re.compile(re.escape(OFFICE_PREFIX) + r"([^/]+)(/.*)?")
StartResponse = Callable[..., Any]


class HostedApp:
    """Routes each request to its office's app (a whole single-office app mounted at ``/o/<slug>``, so every
    link, redirect and cookie it makes stays under that prefix), and the service's own pages to ``service_app``.

    Offices are isolated by construction: each app has its own store, secret, console key and cookie path, so
    nothing one office issued (a sign-in link, a session, an evidence id) exists in another. An unknown, disabled
    or not yet joined office gets exactly the answer a known office gives a request with a bad signature.
    """

    def __init__(self, service: Service, service_app: Flask, *, start_workers: bool = True) -> None:
        self.service = service
        self.service_app = service_app
        self.start_workers = start_workers
        self._apps: dict[str, tuple[OfficeRecord, Flask]] = {}
        self._lock = threading.Lock()
        self._swept = False

    def sweep_pending(self) -> list[str]:
        """Open the offices whose acknowledged events wait to be applied (a restart between the 200 and the
        apply), so their journal workers finish them now, not on the office's next request. Idle offices with
        nothing pending stay unopened. Returns the slugs opened."""
        from ita_bot.store import offices_with_pending_events

        slugs = offices_with_pending_events(self.service.config, [r.slug for r in self.service.offices()])
        for slug in slugs:
            self.office_app(slug)
        if slugs:
            log.info("opened %d office(s) with events waiting to be applied", len(slugs))
        return slugs

    def sweep_once(self) -> None:
        # In the worker process (never at import or fork time), once, off the request's path.
        with self._lock:
            if self._swept or not self.start_workers:
                return
            self._swept = True

        def run() -> None:
            try:
                self.sweep_pending()
            except Exception:  # the sweep is a courtesy: each office's next request starts its worker anyway
                log.exception("sweep of pending events failed")

        threading.Thread(target=run, name="pending-sweep", daemon=True).start()

    def office_app(self, slug: str) -> Flask | None:
        """The office's app, built once (and again when its record changed); None when it is not served."""
        try:
            record = self.service.record(slug)
        except UnknownOffice:
            return None
        with self._lock:
            kept = self._apps.get(slug)
            if kept is not None and same_office(kept[0], record):
                return kept[1]
            try:
                office = self.service.office(slug)
            except SealError:
                log.error("office %s: its credentials cannot be opened with the service key", slug)
                return None
            app = create_app(office.config, office=office,
                             start_worker=self.start_workers, journal_poll_seconds=OFFICE_POLL_SECONDS)
            old = self._apps.get(slug)
            self._apps[slug] = (record, app)
        if old is not None:
            old[1].extensions["ita_bot"].close()
        return app

    def apps(self) -> list[Flask]:
        with self._lock:
            return [app for _, app in self._apps.values()]

    def close(self) -> None:
        for app in self.apps():
            runtime: BotRuntime = app.extensions["ita_bot"]
            runtime.close()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not self._swept:
            self.sweep_once()
        path = environ.get("PATH_INFO", "") or "/"
        match = _OFFICE_PATH.fullmatch(path)
        if match is None:
            return self.service_app(environ, start_response)
        slug, rest = match.group(1), match.group(2) or "/"
        app = self.office_app(slug)
        if app is None:
            return self._stranger(environ, rest, start_response)
        # A copy: gunicorn's access log reads the server's environ after the request, and should name the office.
        mounted = {**environ, "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + OFFICE_PREFIX + slug, "PATH_INFO": rest}
        return app(mounted, start_response)

    def _stranger(self, environ: dict[str, Any], rest: str, start_response: StartResponse) -> Iterable[bytes]:
        """What a request for an office the service does not serve gets: for the webhook, byte for byte the known
        office's answer to a bad signature (missing or wrong), so probing tells nothing; elsewhere the service's own
        Thai not-found page (a person may have mistyped the address), the same as for any address it lacks."""
        if rest == "/callback" and environ.get("REQUEST_METHOD") == "POST":
            request = Request(environ)
            answer = refusal_to_stranger(request.content_length, request.headers.get("X-Line-Signature", ""))
            return answer(environ, start_response)
        # The service has no /o/ routes, so its app answers its not-found page, whatever the method.
        return self.service_app(environ, start_response)


def create_hosted_app(config: Config, *, service: Service | None = None, start_workers: bool = True) -> HostedApp:
    """The hosted service's app: the offices under /o/, the onboarding wizard and the service's /healthz."""
    from ita_bot.service.pages import create_service_app

    service = service or Service(config)
    return HostedApp(service, create_service_app(service), start_workers=start_workers)


def create_production_app() -> Any:
    """`bot:app` for gunicorn: one office's app (single-office mode), or in hosted mode the service's app over
    every office, each office's app and journal worker built in the worker process on its first request."""
    config = load_config()
    if not config.hosted:
        return create_office_app()
    return create_hosted_app(config)
