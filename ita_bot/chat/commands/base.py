"""The command vocabulary: the chat context, who may use a command, where, and the declared command itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from ita_bot.domain.guidance import make_plan, tell_secretary
from ita_bot.domain.office import NoPlanYet, Office
from ita_bot.domain.people import Person
from ita_bot.domain.plan import Plan
from ita_bot.domain.roles import COMMITTEE, is_manager, managers_thai
from ita_bot.domain.thai import ThaiFormat, fiscal_year_of
from ita_bot.line.client import ChatType
from ita_bot.line.kit import Message

__all__ = [
    "ChatContext",
    "Command",
    "Refusal",
    "Where",
    "Who",
]

class Refusal(Exception):
    """A polite Thai answer that ends a command without storing anything (bad input, no permission)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass
class ChatContext:
    """One incoming message as the commands see it; built by the chat edge from a LINE event."""

    office: Office
    user_id: str
    chat_type: ChatType
    chat_id: str  # the user id for 1:1, else the group/room id
    now: datetime  # the LINE event's timestamp in Asia/Bangkok: "now" for everything
    display_name: Callable[[], str]  # lazily resolves the sender's display name (a LINE API call)
    event_id: str | None = None
    mentioned: bool = False
    # What keeps the managers' rich menus in step when roles change; handed in by the chat edge (dispatch), so
    # no command imports the menus, which read the command table.
    roles_changed: Callable[[Office], None] | None = None
    _person: Any = field(default=None, init=False, repr=False)  # cached lookup, see .person

    # --- who is asking ------------------------------------------------------------------------

    @property
    def person(self) -> Person | None:
        # Looked up once per message: permission checks and handlers both ask.
        if self._person is None:
            self._person = self.office.people.get(self.user_id) or False
        return self._person or None

    def forget_person(self) -> None:
        """Drop the cached record after a handler changed it (registration, claimed role)."""
        self._person = None

    @property
    def roles(self) -> frozenset[str]:
        # From the record looked up once per message (``person``), not read again for every check.
        return self.office.roles_of(self.user_id, self.person)

    @property
    def is_staff(self) -> bool:
        return bool(self.person and self.person.is_staff)

    @property
    def is_manager(self) -> bool:
        return is_manager(self.roles)

    @property
    def is_committee(self) -> bool:
        return not self.roles.isdisjoint(COMMITTEE)

    @property
    def in_group(self) -> bool:
        return self.chat_type in ("group", "room")

    def name(self) -> str:
        """The sender's name as the bot knows it, else their LINE display name."""
        if self.person and self.person.name:
            return self.person.name
        try:
            return self.display_name() or ""
        except Exception:  # a profile lookup failure must not break the command itself
            return ""

    # --- the office as of now -----------------------------------------------------------------

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def fiscal_year(self) -> int:
        return fiscal_year_of(self.today)

    @property
    def plan(self) -> Plan:
        """The plan for information (measures, scores): this fiscal year's, else the current one."""
        return self.office.latest_plan(self.today)

    @property
    def year_plan(self) -> Plan:
        """This fiscal year's plan, for reporting and follow-up: another year's measures would file reports
        against the wrong plan, so without one the command is refused."""
        fy = fiscal_year_of(self.today)
        plan = self.office.plan_for(fy)
        if plan is None and not self.office.has_plan:
            raise NoPlanYet(self.office.organization_name)  # a new office: no earlier plan to copy either
        if plan is None:
            # The secretary and the chair make the plan themselves: telling them to tell the secretary is wrong.
            what = make_plan(fy, self.fmt) if self.is_manager else tell_secretary(fy, self.fmt)
            raise Refusal(
                f"ขออภัย ยังไม่มีแผนมาตรการของปีงบประมาณ {self.fmt.num(fy)} ในระบบ จึงยังรายงานหรือติดตามผลไม่ได้ {what}"
            )
        return plan

    @property
    def fmt(self) -> ThaiFormat:
        """Numbers, dates and labels in the office's digits (display.numerals)."""
        return self.office.fmt

    def division_name(self, division_id: str | None) -> str:
        if not division_id:
            return "-"
        # This year's plan first, then any other year's (a division removed since is kept in an earlier plan).
        # An office with no plan yet has no division to name.
        if self.office.has_plan:
            plan = self.plan
            if any(d.id == division_id for d in plan.divisions):
                return plan.division_name(division_id)  # the usual case: no other year's plan is read
            for plan in self.office.plans.all():
                if any(d.id == division_id for d in plan.divisions):
                    return plan.division_name(division_id)
        return division_id


class Who(Enum):
    """Who may use a command; `thai` is how refusals and help name them."""

    ANYONE = "ทุกคน"
    STAFF = "เจ้าหน้าที่ที่ลงทะเบียนกองแล้ว"
    STAFF_OR_MANAGERS = f"เจ้าหน้าที่ที่ลงทะเบียนกองแล้ว รวมทั้ง{managers_thai()}"
    COMMITTEE_OR_STAFF = "คณะกรรมการ และเจ้าหน้าที่ที่ลงทะเบียนกองแล้ว"
    MANAGERS = managers_thai()

    def allows(self, ctx: ChatContext) -> bool:
        if self is Who.ANYONE:
            return True
        if self is Who.STAFF:
            return ctx.is_staff
        if self is Who.STAFF_OR_MANAGERS:
            return ctx.is_staff or ctx.is_manager
        if self is Who.COMMITTEE_OR_STAFF:
            return ctx.is_staff or ctx.is_committee
        return ctx.is_manager


class Where(Enum):
    """Where a command may be used."""

    ANY = "any"
    GROUP = "group"  # a group or room (not 1:1)
    STAFF_GROUP = "staff_group"  # the staff group; any group while none is set
    PRIVATE = "private"  # 1:1 with the bot only (one-time codes must stay private)


Handler = Callable[[ChatContext, Any], list[Message]]
Parser = Callable[[ChatContext, str], Any]


def no_args(ctx: ChatContext, rest: str) -> None:
    """Commands without arguments ignore trailing words (people add "ครับ"/"ค่ะ")."""
    return None


def raw_args(ctx: ChatContext, rest: str) -> str:
    return rest


@dataclass(frozen=True, kw_only=True)
class Command:
    """One chat command, declared as data: names, permission, place, parser, handler and help.

    Rows are keyword-only (``Command(name=..., alias=..., who=..., handler=..., usage=..., help=...,
    example=...)``) so a table of twenty reads without counting positions.
    """

    name: str  # Thai, without the slash
    alias: str  # English, without the slash
    who: Who
    handler: Handler
    usage: str  # the form shown in help and in usage hints, e.g. "/กลุ่มตัวอย่าง <จำนวนคน>"
    help: str  # one line of Thai
    example: str
    where: Where = Where.ANY
    parse: Parser = raw_args
    aliases: tuple[str, ...] = ()  # other accepted spellings (English variants)

    def __post_init__(self) -> None:
        # Normalized when declared, not at runtime (python-telegram-bot's rule): a name with a
        # slash, upper case or a space could never match, so it is a programming error.
        for word in (self.name, self.alias, *self.aliases):
            if not word or word != word.strip().lower() or word.startswith("/") or " " in word:
                raise ValueError(f"command names are bare lower-case words: {word!r}")
        if not self.example.startswith("/"):
            raise ValueError(f"{self.name}: the example must be a typed command")

    @property
    def words(self) -> tuple[str, ...]:
        return (self.name, self.alias, *self.aliases)
