"""`python bot.py demo --hosted`: the hosted service with two offices on the stand-in, each its own LINE channel."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from werkzeug.serving import make_server

from ita_bot.demo.world import PERSONAS, START, World, _id, _QuietHandler
from ita_bot.domain.config import ROOT, LineSettings, load_config
from ita_bot.domain.links import office_url
from ita_bot.domain.offices import OfficeRecord
from ita_bot.line.client import LineClient
from ita_bot.line_standin import Channel
from ita_bot.line_standin.serving import Serving
from ita_bot.service import Service
from ita_bot.service.web import HostedApp, create_hosted_app

__all__ = ["OFFICES", "HostedWorld"]

#: The demo's offices: (slug, name, staff group's name). Example names, not real organizations.
OFFICES: tuple[tuple[str, str, str], ...] = (
    ("nongmuang", "อบต.หนองเมือง (ตัวอย่าง)", "กลุ่มพนักงาน หนองเมือง"),
    ("banna", "อบต.บ้านนา (ตัวอย่าง)", "กลุ่มพนักงาน บ้านนา"),
)
PLAN_2564 = ROOT / "storage" / "plans" / "2564.toml"


@dataclasses.dataclass(frozen=True)
class _DemoOffice:
    slug: str
    name: str
    group_id: str
    group_name: str
    channel: Channel


class HostedWorld(World):
    """The hosted service (its real WSGI app, registry and sealed credentials) with two joined offices on one
    stand-in; `switch_office` points the chat at another office's webhook, channel and staff group."""

    def __init__(self, db_path: Any) -> None:
        super().__init__(db_path)
        self.service: Service
        self.hosted: HostedApp | None = None
        self.offices: dict[str, _DemoOffice] = {}
        self.current = OFFICES[0][0]

    @property
    def service_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def base_url(self) -> str:
        return office_url(self.service_url, self.current)

    @property
    def office_key(self) -> str:
        return self.current

    def start(self) -> HostedWorld:
        self.standin.start()
        for p in PERSONAS:
            self.standin.add_user(p.user_id, p.name)

        def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            return self._app(environ, start_response)

        self._server = make_server("127.0.0.1", 0, dispatch, threaded=True, request_handler=_QuietHandler)
        # A service key made for this run only: the offices' credentials are sealed with it, as in production.
        env = {"ITA_BOT_DB": str(self.db_path), "ITA_BOT_HOSTED": "1", "ITA_BOT_SECRET_KEY": secrets.token_urlsafe(48)}
        base = load_config(ROOT / "config.example.toml", env=env)
        config = dataclasses.replace(
            base, line=LineSettings(api_endpoint=self.standin.url, data_api_endpoint=self.standin.url),
            web=dataclasses.replace(base.web, base_url=self.service_url))
        self.service = Service(config, env, now=lambda: self.now)
        joined = datetime(2021, 1, 6, 9, 0, tzinfo=START.tzinfo)
        plan_text = PLAN_2564.read_text(encoding="utf-8")
        for slug, name, group_name in OFFICES:
            channel = self.standin.add_channel(name=f"บอท {name}")
            key = self.service.key
            self.service.registry.add(OfficeRecord(
                slug=slug, name=name, created_at=joined, channel_id=channel.channel_id,
                sealed_secret=key.seal(channel.channel_secret), sealed_token=key.seal(channel.access_token or ""),
                bot_user_id=channel.bot_user_id, bot_name=channel.name, joined_at=joined))
            group_id = _id("C", f"staff-group:{slug}")
            self.standin.add_group(group_id, group_name, [p.user_id for p in PERSONAS])
            office = self.service.office(slug)
            office.plans.save_text(2564, plan_text, expected_version="", who="เดโม", now=joined)
            office.set_setting("group_id", group_id)
            for p in PERSONAS:
                if p.division:
                    office.people.register(p.user_id, p.name, p.division, approved=True, now=joined)
            self.offices[slug] = _DemoOffice(slug, name, group_id, group_name, channel)
        self.hosted = create_hosted_app(config, service=self.service, start_workers=True)
        self._app = self.hosted
        self._serving = Serving(self._server, "demo-web").start()
        self.switch_office(self.current)
        return self

    def switch_office(self, key: str) -> None:
        demo = self.offices[key]
        assert self.hosted is not None
        app = self.hosted.office_app(key)
        if app is None:
            raise LookupError(key)
        self.current = key
        self.office = self.service.office(key)
        self.line = LineClient.from_config(self.office.config)
        self.app = app
        self.runtime = app.extensions["ita_bot"]
        self.group_id, self.group_name, self.channel = demo.group_id, demo.group_name, demo.channel.channel_id

    def office_names(self) -> list[tuple[str, str]]:
        return [(slug, demo.name) for slug, demo in self.offices.items()]

    def bot_label(self, channel_id: str | None) -> str:
        """Whose bot sent a bubble: the name of the channel whose token LINE (the stand-in) took it with."""
        for demo in self.offices.values():
            if demo.channel.channel_id == channel_id:
                return demo.channel.name
        return "ITA Bot"

    def stop(self) -> None:
        if self.hosted is not None:
            self.hosted.close()
        self.runtime = None  # closed above with every office's app
        super().stop()
