"""The demo's world: personas, the stand-in, the real app on a local port, the config and the sample reports."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ita_bot.domain.config import ROOT, Config, LineSettings, RoleSettings, load_config
from ita_bot.domain.office import Office
from ita_bot.domain.progress import Report, Status
from ita_bot.domain.thai import BANGKOK
from ita_bot.line.client import LineClient
from ita_bot.line_standin import LineStandIn
from ita_bot.line_standin.serving import Serving
from ita_bot.store import open_office

__all__ = ["DEMO_SECRET", "GROUP_NAME", "PERSONAS", "START", "Persona", "World"]

log = logging.getLogger(__name__)

DEMO_SECRET = "demo-channel-secret"  # a stand-in secret: the demo talks to no real LINE channel
DEMO_TOKEN = "demo-channel-access-token"
GROUP_NAME = "กลุ่มพนักงาน"
# Monday 22 Feb 2564, half an hour before the first reminder of the 25 Feb staff meeting
# (26 Feb is Makha Bucha, so the "last friday" meeting moves to Thursday 25 Feb).
START = datetime(2021, 2, 22, 8, 30, tzinfo=BANGKOK)
SEEDED = "demo_seeded"
# The assessment calendar of the demo's year, marked as examples: the shipped plan holds no milestones
# (the organization's document gives no dates), so the demo adds these to its own copy of the plan.
EXAMPLE_MILESTONES = """
# Examples added by `python bot.py demo` only; not part of the organization's plan.
[[milestones]]
date = 2021-01-05
title = "(ตัวอย่าง) ประชุมวิเคราะห์ผล ITA 2563 และกำหนดมาตรการ"
who = "committee"

[[milestones]]
date = 2021-03-05
title = "(ตัวอย่าง) ส่งรายชื่อผู้มีส่วนได้ส่วนเสียภายนอก (EIT) ให้ ป.ป.ช."
who = ["sp", "klang"]
notes = "รวบรวมชื่อและช่องทางติดต่อผู้มารับบริการในปีงบประมาณนี้"

[[milestones]]
date = 2021-03-31
title = "(ตัวอย่าง) ตรวจความครบถ้วนข้อมูล OIT บนเว็บไซต์ก่อนส่ง"
who = "managers"
notes = "ตรวจลิงก์ทุกข้อของแบบ OIT"
"""


def _id(prefix: str, key: str) -> str:
    # Stable across runs, so `--db PATH` finds the same people next time; never a real LINE user.
    return prefix + hashlib.sha256(f"ita-bot-demo:{key}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Persona:
    """Someone to type as: a role label (not a committee member's real name) and their binding."""

    key: str
    name: str  # LINE display name
    about: str  # what they are, for the banner and :who
    user_id: str
    role: str | None = None  # bound in config
    division: str | None = None  # pre-registered division id

    @classmethod
    def make(cls, key: str, name: str, about: str, *, role: str | None = None, division: str | None = None) -> Persona:
        return cls(key, name, about, _id("U", key), role, division)


PERSONAS: tuple[Persona, ...] = (
    Persona.make("secretary", "เลขานุการ", "เลขานุการคณะกรรมการ (ผู้จัดการ)", role="secretary"),
    Persona.make("chair", "ประธาน", "ประธานคณะกรรมการ (รับสรุปก่อนประชุม)", role="chair"),
    Persona.make("sp", "เจ้าหน้าที่ สป.", "เจ้าหน้าที่สำนักงานปลัด", division="sp"),
    Persona.make("klang", "เจ้าหน้าที่ คลัง", "เจ้าหน้าที่กองคลัง", division="klang"),
    Persona.make("chang", "เจ้าหน้าที่ ช่าง", "เจ้าหน้าที่กองช่าง", division="chang"),
    Persona.make("suksa", "เจ้าหน้าที่ การศึกษา", "เจ้าหน้าที่กองการศึกษาฯ", division="suksa"),
    Persona.make("new", "พนักงานใหม่", "ยังไม่ลงทะเบียน: ลอง /ลงทะเบียน ช่าง"),
)
GROUP_ID = _id("C", "staff-group")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Silent: request lines would interleave with the chat transcript."""


def demo_plans(plan_path: Path, folder: Path) -> Path:
    """The shipped plans copied into the demo's data folder, the configured year's with the example milestones."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in plan_path.parent.glob("*.toml"):
        text = source.read_text(encoding="utf-8")
        if source.name == plan_path.name and "[[milestones]]" not in text:
            text += EXAMPLE_MILESTONES
        (folder / source.name).write_text(text, encoding="utf-8")
    return folder / plan_path.name


def demo_config(db_path: Path, standin_url: str, base_url: str) -> Config:
    """The example config (schedule, memo header) with the demo's secret, stand-in endpoints, roles and group.

    The user's own config.toml and LINE_* environment are deliberately not read: the demo must
    never talk to a real channel.
    """
    base = load_config(ROOT / "config.example.toml", env={"ITA_BOT_DB": str(db_path)})
    assert base.plan_path is not None  # a config file always names its plan (load_config requires it)
    base = dataclasses.replace(base, plan_path=demo_plans(base.plan_path, db_path.parent / "demo-plans"))
    roles: dict[str, tuple[str, ...]] = {}
    for p in PERSONAS:
        if p.role:
            roles[p.role] = (*roles.get(p.role, ()), p.user_id)
    return dataclasses.replace(
        base,
        line=LineSettings(
            channel_secret=DEMO_SECRET,
            channel_access_token=DEMO_TOKEN,
            group_id=GROUP_ID,
            api_endpoint=standin_url,
            data_api_endpoint=standin_url,
        ),
        roles=RoleSettings(**roles),
        web=dataclasses.replace(base.web, base_url=base_url),
    )


class World:
    """Starts and stops everything the demo runs on, in one process."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.standin = LineStandIn(DEMO_SECRET)
        self._server: BaseWSGIServer | None = None
        self._serving: Serving | None = None
        self._app: Any = None
        self.office: Office
        self.line: LineClient
        self.runtime: Any = None
        self.app: Any = None  # the Flask app
        # The simulated time, the office's one clock: chat, console, public pages, /healthz and jobs all read it.
        self.now: datetime = START
        # The chat's office, as the session sees it: its staff group, and the stand-in channel its bot is
        # (None: the stand-in's default channel). The hosted demo switches them with the office.
        self.group_id = GROUP_ID
        self.group_name = GROUP_NAME
        self.channel: str | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def webhook_url(self) -> str:
        return self.base_url + "/callback"

    def start(self) -> World:
        from ita_bot.web import create_app

        self.standin.start()
        for p in PERSONAS:
            self.standin.add_user(p.user_id, p.name)
        self.standin.add_group(GROUP_ID, GROUP_NAME, [p.user_id for p in PERSONAS])

        # The server is bound before the app exists, so the app's base_url can name the real port.
        def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            return self._app(environ, start_response)

        self._server = make_server("127.0.0.1", 0, dispatch, threaded=True, request_handler=_QuietHandler)
        config = demo_config(self.db_path, self.standin.url, self.base_url)
        self.office = open_office(config, now=lambda: self.now)
        self.line = LineClient(DEMO_TOKEN, self.standin.url, self.standin.url)
        self._app = create_app(config, office=self.office, line=self.line, start_worker=True)
        self.runtime = self._app.extensions["ita_bot"]
        self.app = self._app
        self._serving = Serving(self._server, "demo-web").start()
        self.seed()
        self.install_menus()
        return self

    def install_menus(self) -> None:
        """The rich menus, as `python bot.py richmenu` makes them, on the stand-in (`:menu` shows them)."""
        from ita_bot.chat.richmenus import install
        from ita_bot.line.client import LineApiError

        try:
            install(self.office, self.line, self.now)
        except (LineApiError, FileNotFoundError) as e:  # the demo works without menus
            log.warning("demo rich menus not installed: %s", e)

    def stop(self) -> None:
        if self.runtime is not None:
            self.runtime.close()
        if self._server is not None:
            if self._serving is not None:
                self._serving.stop()
            self._server.server_close()
        self.standin.stop()

    def seed(self) -> None:
        """Register the personas and make a few earlier reports, once per database, so status,
        pending and the digest have something real to show."""
        people = self.office.people
        joined = datetime(2021, 1, 6, 9, 0, tzinfo=BANGKOK)
        for p in PERSONAS:
            if p.division and people.get(p.user_id) is None:
                people.register(p.user_id, p.name, p.division, approved=True, now=joined)
            elif people.get(p.user_id) is None:
                people.touch(p.user_id, p.name)
        if self.office.setting(SEEDED):
            return
        by_key = {p.key: p for p in PERSONAS}
        seed: list[tuple[str, int, Status, int, str, datetime]] = [
            # (persona, measure, status, percent, details, when)
            ("sp", 1, "done", 100, "จัดทำคู่มือการปฏิบัติงานและเผยแพร่บนเว็บไซต์แล้ว", datetime(2021, 1, 20, 10, 15)),
            ("sp", 2, "doing", 40, "ปรับปรุงหน้าเว็บไซต์ ช่องทางติดต่อสื่อสาร", datetime(2021, 1, 22, 14, 0)),
            ("klang", 4, "doing", 30, "ส่งเจ้าหน้าที่เข้าอบรมการดูแลเว็บไซต์", datetime(2021, 2, 10, 11, 0)),
        ]
        for key, measure, status, percent, details, when in seed:
            p = by_key[key]
            at = when.replace(tzinfo=BANGKOK)
            assert p.division is not None
            self.office.reports.add(
                Report(
                    fiscal_year=2564, measure=measure, division=p.division, status=status, percent=percent,
                    details=details, reported_at=at, sent_at=at, chat_id=GROUP_ID, reporter_id=p.user_id,
                    reporter_name=p.name,
                )
            )
        self.office.set_setting(SEEDED, True)

    def bot_label(self, channel_id: str | None) -> str:
        """Who a bubble is from: the bot (one office, one bot)."""
        return "ITA Bot"

    def office_names(self) -> list[tuple[str, str]]:
        """The offices the chat can switch between, (key, name); none in the one-office demo."""
        return []

    def switch_office(self, key: str) -> None:
        raise LookupError(key)

    @property
    def office_key(self) -> str:
        """The office shown in the prompt ("" with one office)."""
        return ""

    def name_of(self, user_id: str) -> str:
        for p in PERSONAS:
            if p.user_id == user_id:
                return p.name
        person = self.office.people.get(user_id)
        return person.name if person and person.name else "ผู้ใช้"
