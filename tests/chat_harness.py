"""Chat test harness: the real app behind signed webhooks, the LINE stand-in recording what the bot answers.

The root conftest loads it as a plugin, so any test can ask for these fixtures::

    def test_help(bot):
        replies = bot.send("/ช่วยเหลือ", user=STAFF_SP)           # 1:1
        assert "/รายงาน" in replies.text
        assert bot.send("สวัสดี", user=STAFF_SP, group=True) == []  # group chatter: no reply

Fixtures: ``bot`` (the default config) and ``make_bot(**sections)`` (TOML sections, as conftest's
``make_config``). Every event is built with the stand-in's builders, signed with the channel secret,
POSTed to /callback (asserting 200), and once the journal is idle the messages the stand-in recorded
as the reply to that event's reply token are returned as ``Replies`` (a list of message dicts).

Time: events without ``at`` happen at ``bot.now``, which starts at 2021-02-15 10:00 Bangkok (FY 2564,
cycle 2021-02) and moves on 1 second per event; an explicit ``at`` (naive = Bangkok) sets the clock
there (an ``at`` in the past starts a new timeline: the journal forgets its newest event, so the
earlier events are not refused as too old). ``bot.advance(minutes=31)`` moves it on.

Storage: the bot stores where its config says: TinyDB files, or an office in PostgreSQL for tests marked
``@pytest.mark.backends("tinydb", "postgresql")`` (see conftest). Its helpers work on both backends.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql
from werkzeug.test import TestResponse

from ita_bot.domain.thai import BANGKOK
from ita_bot.line.client import LineClient
from ita_bot.line_standin import TINY_JPEG, LineStandIn
from ita_bot.store.pg.database import Database
from ita_bot.store.pg.inbox import PgInbox
from ita_bot.store.tiny.inbox import NEWEST_FILE, FileInbox
from ita_bot.web import BotRuntime, create_app

__all__ = ["START", "ChatBot", "Replies", "bot", "make_bot"]

START = datetime(2021, 2, 15, 10, 0, tzinfo=BANGKOK)
DEFAULT_USER = "U" + "1" * 32  # conftest.STAFF_SP
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
IDLE_TIMEOUT = 10.0

ChatTarget = str | bool | None


def _strings(node: Any, keys: tuple[str, ...] = ("text", "altText", "label", "displayText")) -> Iterator[str]:
    """Every human-readable string in a message (text, Flex contents, quick-reply labels)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in keys and isinstance(value, str):
                yield value
            else:
                yield from _strings(value, keys)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item, keys)


class Replies(list):  # type: ignore[type-arg]
    """The message objects (dicts in LINE's JSON) of one or more replies, with text helpers."""

    @property
    def texts(self) -> list[str]:
        """Per message: `text` of text messages, `altText` of Flex and template messages."""
        return [m.get("text") or m.get("altText") or "" for m in self]

    @property
    def text(self) -> str:
        """All messages' `texts`, one per line."""
        return "\n".join(self.texts)

    @property
    def all_text(self) -> str:
        """Everything readable, Flex bubble contents and quick-reply labels included."""
        return "\n".join(_strings(list(self)))

    def quick_replies(self) -> list[dict[str, Any]]:
        """The quick-reply items' actions of all messages."""
        return [item.get("action", {}) for m in self for item in (m.get("quickReply") or {}).get("items", [])]


class ChatBot:
    """One app over a config and the stand-in; send events as people in chats and read the replies."""

    def __init__(self, standin: LineStandIn, config: Any, *, start_worker: bool = True, line: LineClient | None = None,
                 registry: list[ChatBot] | None = None) -> None:
        self.standin = standin
        self.config = config
        self.app = create_app(config, line=line, start_worker=start_worker)
        self.runtime: BotRuntime = self.app.extensions["ita_bot"]
        self.office = self.runtime.office
        self.journal = self.runtime.journal
        self.client = self.app.test_client()
        self.now = START
        self._registry = registry if registry is not None else []
        self._registry.append(self)

    # -- lifecycle ----------------------------------------------------------------------------------

    def close(self) -> None:
        self.runtime.close()
        # The rich menus' link syncs run on threads of their own: let them finish, or one would write to this
        # test's store after its end (on PostgreSQL: through a pool closed meanwhile).
        for thread in threading.enumerate():
            if thread.name == "richmenu-links":
                thread.join(IDLE_TIMEOUT)

    def restart(self, *, start_worker: bool = True) -> ChatBot:
        """Tear this app down and build a new one over the same config and folder (a process restart)."""
        self.close()
        again = ChatBot(self.standin, self.config, start_worker=start_worker, registry=self._registry)
        again.now = self.now
        return again

    def wait_idle(self, timeout: float = IDLE_TIMEOUT) -> None:
        assert self.journal.wait_idle(timeout), f"journal not idle after {timeout} s ({self.journal.pending()} pending)"

    # -- time and chats -----------------------------------------------------------------------------

    def advance(self, **delta: float) -> datetime:
        """Move the clock on, e.g. ``bot.advance(minutes=31)``; returns the new now."""
        self.now += timedelta(**delta)
        return self.now

    def _at(self, at: datetime | None) -> datetime:
        if at is not None:
            at = at if at.tzinfo else at.replace(tzinfo=BANGKOK)
            if at < self.now:
                self._forget_newest()
            self.now = at
        moment = self.now
        self.now = moment + timedelta(seconds=1)  # strictly increasing timestamps keep the order clear
        return moment

    def _forget_newest(self) -> None:
        """Pretend time jumps back: a new timeline, so the journal's newest-event mark (against which too-old
        events are refused) starts over, as in a rehearsal on a fresh folder or office."""
        inbox = self.office.repositories.inbox
        if isinstance(inbox, PgInbox):
            with inbox.db.transaction() as conn:
                conn.execute("DELETE FROM inbox_marks WHERE office = %s", (inbox.office,))
        else:
            assert isinstance(inbox, FileInbox), type(inbox)
            (inbox.folder / NEWEST_FILE).unlink(missing_ok=True)

    def _group(self, group: ChatTarget) -> str | None:
        if group is True:
            assert self.config.line.group_id, "group=True needs [line] group_id in the config"
            return self.config.line.group_id
        return group or None

    # -- HTTP ---------------------------------------------------------------------------------------

    def post(self, body: bytes, signature: str | None = "sign", headers: dict[str, str] | None = None) -> TestResponse:
        """POST raw bytes to /callback; ``signature="sign"`` signs them correctly, None sends no header."""
        sent = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        if signature == "sign":
            sent["X-Line-Signature"] = self.standin.signature(body)
        elif signature is not None:
            sent["X-Line-Signature"] = signature
        return self.client.post("/callback", data=body, headers=sent)

    def post_events(self, events: Iterable[dict[str, Any]], *, expect: int | None = 200) -> TestResponse:
        """POST events signed (without waiting for processing)."""
        response = self.post(self.standin.webhook_body(list(events)))
        if expect is not None:
            assert response.status_code == expect, response.get_data(as_text=True)
        return response

    def deliver(self, *events: dict[str, Any]) -> Replies:
        """POST prebuilt events (stand-in builders) in one webhook, wait, return all their replies."""
        self.post_events(events)
        self.wait_idle()
        out = Replies()
        for event in events:
            out += self.replies_to(event)
        return out

    def memo_xml(self, path: str = "/reports/2564/2021-02.docx") -> str:
        """The text XML of a cycle's DOCX memo as served (asserting 200)."""
        response = self.client.get(path)
        assert response.status_code == 200, response.status_code
        with zipfile.ZipFile(io.BytesIO(response.data)) as z:
            return z.read("word/document.xml").decode("utf-8")

    def replies_to(self, event: dict[str, Any]) -> Replies:
        """What the bot replied to an event (recorded by the stand-in)."""
        token = event.get("replyToken")
        return Replies(
            m for r in self.standin.replies() if token and r.get("replyToken") == token for m in r["messages"]
        )

    # -- events -------------------------------------------------------------------------------------

    def text_event(self, text: str, *, user: str = DEFAULT_USER, group: ChatTarget = None, room: str | None = None,
                   at: datetime | None = None, mention: bool = False, mode: str = "active",
                   redelivery: bool = False) -> dict[str, Any]:
        return self.standin.text_event(
            text, user_id=user, group_id=self._group(group), room_id=room, timestamp=self._at(at),
            mention_self=mention, mode=mode, redelivery=redelivery,
        )

    def send(self, text: str, *, user: str = DEFAULT_USER, group: ChatTarget = None, room: str | None = None,
             at: datetime | None = None, mention: bool = False, mode: str = "active") -> Replies:
        """A person sends a text (1:1 unless group/room; ``group=True`` is the config's staff group)."""
        return self.deliver(self.text_event(text, user=user, group=group, room=room, at=at, mention=mention,
                                            mode=mode))

    def send_image(self, *, user: str = DEFAULT_USER, group: ChatTarget = None, room: str | None = None,
                   at: datetime | None = None, data: bytes = TINY_JPEG, content_type: str = "image/jpeg",
                   image_set: tuple[str, int, int] | None = None) -> Replies:
        return self.deliver(self.standin.image_event(
            user_id=user, group_id=self._group(group), room_id=room, timestamp=self._at(at), data=data,
            content_type=content_type, image_set=image_set,
        ))

    def send_images(self, count: int, *, user: str = DEFAULT_USER, group: ChatTarget = None,
                    room: str | None = None, at: datetime | None = None, set_id: str = "set-1") -> Replies:
        """An image set of ``count`` images sent together (one webhook per image, as LINE does)."""
        out = Replies()
        for i in range(1, count + 1):
            out += self.send_image(user=user, group=group, room=room, at=at if i == 1 else None,
                                   data=TINY_JPEG + bytes([i]), image_set=(set_id, i, count))
        return out

    def send_file(self, name: str = "หลักฐาน.pdf", data: bytes = PDF_BYTES, *, content_type: str = "application/pdf",
                  user: str = DEFAULT_USER, group: ChatTarget = None, room: str | None = None,
                  at: datetime | None = None) -> Replies:
        return self.deliver(self.standin.file_event(
            user_id=user, file_name=name, data=data, content_type=content_type, group_id=self._group(group),
            room_id=room, timestamp=self._at(at),
        ))

    def postback(self, data: str, *, user: str = DEFAULT_USER, group: ChatTarget = None, room: str | None = None,
                 at: datetime | None = None, params: dict[str, str] | None = None) -> Replies:
        """A person presses a button with a postback action."""
        return self.deliver(self.standin.postback_event(
            data, user_id=user, group_id=self._group(group), room_id=room, timestamp=self._at(at), params=params,
        ))

    def join(self, *, group: ChatTarget = True, room: str | None = None, at: datetime | None = None) -> Replies:
        """The bot is invited into a group (default: the staff group) or a room."""
        group_id = None if room else self._group(group)
        return self.deliver(self.standin.join_event(group_id=group_id, room_id=room, timestamp=self._at(at)))

    def follow(self, user: str = DEFAULT_USER, *, at: datetime | None = None) -> Replies:
        return self.deliver(self.standin.follow_event(user, timestamp=self._at(at)))

    def member_joined(self, *users: str, group: ChatTarget = True, at: datetime | None = None) -> Replies:
        return self.deliver(self.standin.member_joined_event(self._group(group), users, timestamp=self._at(at)))

    def member_left(self, *users: str, group: ChatTarget = True, at: datetime | None = None) -> Replies:
        return self.deliver(self.standin.member_left_event(self._group(group), users, timestamp=self._at(at)))

    # -- looking at what was stored -----------------------------------------------------------------

    def reports(self, fiscal_year: int = 2564) -> list[Any]:
        return self.office.reports.all(fiscal_year)

    def journal_files(self) -> list[str]:
        """The entries accepted but not yet done, as ``<event id>.json``: on TinyDB the journal's pending lines
        read afresh from its segments, on PostgreSQL the inbox's pending rows."""
        inbox = self.office.repositories.inbox
        if isinstance(inbox, FileInbox):
            inbox = FileInbox(inbox.folder)  # what is on disk, not this process's memory
        return sorted(f"{event_id}.json" for event_id in inbox.pending())

    def stored_text(self) -> str:
        """Everything this office keeps, as text: on TinyDB every file of its data folder, on PostgreSQL every
        row of the office in every table (for asserting that something, e.g. a secret, is never stored)."""
        if not self.config.database_url:
            folder = Path(self.config.db_path).parent
            return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.rglob("*"))
                             if p.is_file())
        db = Database.shared(self.config.database_url)
        with db.transaction() as conn:
            tables = [r["table_name"] for r in conn.execute(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND column_name = 'office' ORDER BY table_name").fetchall()]
            assert "signin_links" in tables, tables  # the query finds the office's tables
            rows = [r["row"] for table in tables for r in conn.execute(
                sql.SQL("SELECT t::text AS row FROM {} AS t WHERE office = %s").format(sql.Identifier(table)),
                (self.config.office,)).fetchall()]
        return "\n".join(rows)

    def healthz(self) -> tuple[int, dict[str, Any]]:
        response = self.client.get("/healthz")
        return response.status_code, json.loads(response.get_data())


@pytest.fixture
def make_bot(standin: LineStandIn, make_config: Callable[..., Any]) -> Iterator[Callable[..., ChatBot]]:
    """``make_bot(**sections)``: a ChatBot over a config with these TOML sections (see conftest.make_config);
    ``start_worker=False`` leaves events unprocessed in the journal, ``line=`` swaps the LINE client."""
    bots: list[ChatBot] = []

    def make(*, start_worker: bool = True, line: LineClient | None = None, **sections: dict[str, Any]) -> ChatBot:
        return ChatBot(standin, make_config(**sections), start_worker=start_worker, line=line, registry=bots)

    yield make
    for b in bots:
        b.close()


@pytest.fixture
def bot(make_bot: Callable[..., ChatBot]) -> ChatBot:
    """A ChatBot over the default test config (staff group set, chair and secretary bound)."""
    return make_bot()
