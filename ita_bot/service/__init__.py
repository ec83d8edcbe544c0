"""The hosted service: many offices on one deployment, each built from the service's config and its registry record."""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from ita_bot.domain.config import Config, LineSettings, RoleSettings, with_office_settings
from ita_bot.domain.links import office_url
from ita_bot.domain.office import Office
from ita_bot.domain.offices import OfficeRecord, OfficeRegistry
from ita_bot.domain.sealing import ServiceKey
from ita_bot.store import office_folder, open_office, open_registry

__all__ = ["PAGE_HEADERS", "SERVICE_KEY", "Service", "UnknownOffice", "same_office"]

#: app.extensions key of the Service in the service's own Flask app (its /healthz, the onboarding wizard).
SERVICE_KEY = "ita_bot_service"

#: Every page of the service's own (the wizard holds a one-time link and a channel secret): never cached, never
#: framed, no referrer to leak the link, no type sniffing.
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
                "X-Content-Type-Options": "nosniff"}


class UnknownOffice(LookupError):
    """No such office in the service, or it is disabled or has not joined yet (answered as a stranger's request)."""


class Service:
    """The offices of one hosted service: their configs, offices and LINE clients, each built on first use and
    kept (an idle office costs nothing until someone writes to it)."""

    def __init__(self, config: Config, env: Mapping[str, str] | None = None, *,
                 now: Callable[[], datetime] | None = None, registry: OfficeRegistry | None = None) -> None:
        env = os.environ if env is None else env
        self.config = config
        self.key = ServiceKey.from_env(env)
        self.registry = registry or open_registry(config)
        self.now = now
        self._offices: dict[str, tuple[OfficeRecord, Office]] = {}
        self._lock = threading.Lock()

    def base_url(self, slug: str) -> str:
        """Where the office's pages and webhook live: the service's base URL and ``/o/<slug>``."""
        return office_url(self.config.web.base_url, slug)

    def webhook_url(self, slug: str) -> str:
        """The office's webhook address, as its LINE channel must be set to."""
        return f"{self.base_url(slug)}/callback"

    def office_config(self, record: OfficeRecord) -> Config:
        """The office's config: the service's defaults, the office's own channel, data and name."""
        line = self.config.line
        secret = self.key.open(record.sealed_secret) if record.sealed_secret else ""
        token = self.key.open(record.sealed_token) if record.sealed_token else ""
        # The office's own settings over the service's defaults (checked when they were set with `office set`).
        base = with_office_settings(self.config, record.settings, f"office {record.slug}")
        return dataclasses.replace(
            base,
            office=record.slug,
            db_path=office_folder(self.config, record.slug) / "ita-bot.json",
            plan_path=None,  # an office's plans are its own, made in its console: none ship with the service
            organization_name=record.name,
            line=LineSettings(channel_secret=secret, channel_access_token=token, channel_id=record.channel_id,
                              bot_user_id=record.bot_user_id, api_endpoint=line.api_endpoint,
                              data_api_endpoint=line.data_api_endpoint),
            roles=RoleSettings(),  # roles are claimed with one-time codes, never written in a shared file
            web=dataclasses.replace(base.web, base_url=self.base_url(record.slug)),
        )

    def record(self, slug: str, *, joined: bool = True) -> OfficeRecord:
        """The office's record; UnknownOffice when there is none, it is disabled, or (``joined``) it has not joined."""
        record = self.registry.get(slug)
        if record is None or record.disabled or (joined and not record.joined):
            raise UnknownOffice(slug)
        return record

    def office(self, slug: str) -> Office:
        """The office, opened once per process and re-opened when its record changed (new credentials)."""
        record = self.record(slug)
        with self._lock:
            kept = self._offices.get(slug)
            if kept is not None and same_office(kept[0], record):
                return kept[1]
        office = open_office(self.office_config(record), now=self.now)
        with self._lock:
            self._offices[slug] = (record, office)
        return office

    def offices(self) -> list[OfficeRecord]:
        """The offices that are served: joined and not disabled."""
        return [r for r in self.registry.all() if r.joined and not r.disabled]


def same_office(kept: OfficeRecord, now: OfficeRecord) -> bool:
    """Whether an opened office still stands for the record: what the clock notes about LINE's answers (and
    other bookkeeping) changes no credential and no setting, so it reopens nothing."""
    keep = ("line_problem", "line_problem_at", "exported_on")
    return dataclasses.replace(kept, **{k: getattr(now, k) for k in keep}) == now
