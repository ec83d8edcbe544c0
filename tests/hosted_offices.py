"""Test helpers for the hosted service: a service config, joined offices with plans and staff groups, and a LINE
stand-in channel of its own for each office."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ita_bot.domain.config import Config, load_config
from ita_bot.domain.offices import OfficeRecord
from ita_bot.domain.sealing import ServiceKey
from ita_bot.line_standin import LineStandIn
from ita_bot.service import Service
from tests.conftest import NAMES, PLAN_2564, STRANGER, write_config

__all__ = ["PUSH", "SERVICE_KEY", "HostedOffice", "add_office",
           "authorised_as", "hosted_config", "hosted_env", "pushes_of"]

SERVICE_KEY = "a-service-key-for-tests-only-" + "k" * 20
PUSH = "/v2/bot/message/push"


@dataclass(frozen=True)
class HostedOffice:
    """An office of the test service: its slug, token, staff group and its channel's id on the stand-in."""

    slug: str
    token: str
    group: str
    channel_id: str = ""


def hosted_env(folder: Path, standin: LineStandIn, storage: dict[str, str]) -> dict[str, str]:
    """The service's environment (as its processes get it): its data, the stand-in, the service key, the backend."""
    return {"ITA_BOT_DB": str(folder / "db" / "ita-bot.json"), "LINE_API_ENDPOINT": standin.url,
            "LINE_DATA_API_ENDPOINT": standin.url, "ITA_BOT_SECRET_KEY": SERVICE_KEY, "ITA_BOT_HOSTED": "1",
            **storage}


def hosted_config(folder: Path, env: dict[str, str]) -> Config:
    return load_config(write_config(folder, {"service": {"hosted": True}}), env)


def add_office(service: Service, standin: LineStandIn, slug: str, *, meeting: tuple[str, str] | None = None,
               joined_at: datetime) -> HostedOffice:
    """Register a joined office with its own channel on the stand-in, give it the 2564 plan and a staff group of
    its own in the stand-in's world (the test world's people), and its meeting of one month moved when asked."""
    key = ServiceKey(SERVICE_KEY)
    channel = standin.add_channel(name=f"บอต {slug}")
    assert channel.access_token is not None
    token = channel.access_token
    service.registry.add(OfficeRecord(slug=slug, name=f"สำนักงาน {slug}", created_at=joined_at,
                                      channel_id=channel.channel_id, sealed_secret=key.seal(channel.channel_secret),
                                      sealed_token=key.seal(token), bot_user_id=channel.bot_user_id,
                                      joined_at=joined_at))
    group = "C" + hashlib.sha256(b"group:" + slug.encode()).hexdigest()[:32]
    for uid, name in NAMES.items():
        standin.add_user(uid, name)
    standin.add_group(group, f"พนักงาน {slug}", [u for u in NAMES if u != STRANGER])
    office = service.office(slug)
    office.plans.save_text(2564, PLAN_2564.read_text(encoding="utf-8"), expected_version="", who="test",
                           now=joined_at)
    office.set_setting("group_id", group)
    if meeting is not None:
        cycle, day = meeting
        office.set_meeting(cycle, datetime.fromisoformat(day).date(), None, joined_at)
    return HostedOffice(slug, token, group, channel.channel_id)


def authorised_as(call: Any) -> str:
    return str(call.headers.get("authorization", "")).partition(" ")[2]


def pushes_of(standin: LineStandIn, office: HostedOffice) -> list[tuple[str, str]]:
    """(recipient, first text) of each push LINE accepted with the office's token."""
    out = []
    for call in standin.calls:
        if call.path == PUSH and call.status == 200 and authorised_as(call) == office.token:
            messages = call.json["messages"]
            out.append((call.json["to"], messages[0].get("text") or messages[0].get("altText") or ""))
    return out
