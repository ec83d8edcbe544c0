"""Managers' actions, one home each: the permission check, the change, its history entry and the roles-changed hook.

Claiming a role with a code and asking for a console sign-in link are here too: both change who may manage.

Chat commands, console pages and the command line all call these, so an action is recorded and checked the
same way wherever it is taken. Each raises ``ActionRefused`` (short polite Thai) and changes nothing when it
may not be done. A change and its history entry are one transaction (``UnitOfWork.atomic``): when the entry
cannot be written, the change is not kept either, so nothing a manager does goes unrecorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields
from datetime import date, datetime

from ita_bot.domain.audit import AuditEntry
from ita_bot.domain.config import DocumentSettings
from ita_bot.domain.meeting_dates import check_meeting_date
from ita_bot.domain.meetings import Cycle
from ita_bot.domain.office import Office
from ita_bot.domain.people import CODE_TTL, CodeError, Person
from ita_bot.domain.publication import Approval, SnapshotInfo
from ita_bot.domain.roles import (
    CHAIR_GRANTED,
    COMMITTEE,
    is_manager,
    managers_thai,
    may_grant,
    may_remove,
    thai_title,
    thai_titles,
)
from ita_bot.domain.signin import LINK_TTL, SignIn, SignInLimit

__all__ = [
    "ADMINISTRATOR",
    "VIA_CHAT",
    "VIA_CLI",
    "VIA_CONSOLE",
    "ActionRefused",
    "Actor",
    "ManagerActions",
    "OpenCode",
    "actor_label",
    "person_label",
]

#: Where an action was taken, as the change history says it.
VIA_CHAT = "แชต LINE"
VIA_CONSOLE = "ระบบจัดการ"
VIA_CLI = "คำสั่งของผู้ดูแลระบบ"
ADMINISTRATOR = "ผู้ดูแลระบบ"

MEMBERS = "สมาชิก"
ROLE_CODES = "รหัสบทบาท"
MEETINGS = "วันประชุม"
MEMO_HEADER = "หัวบันทึกรายงานประจำเดือน"
CONSOLE_SIGN_IN = "การเข้าระบบจัดการ"
OIT_PAGE = "หน้าเผยแพร่ OIT"


class ActionRefused(ValueError):
    """A manager's action that may not be done; the message is short polite Thai, and nothing was changed."""


def person_label(person: Person, roles: frozenset[str] | set[str] | None = None) -> str:
    """"#7 สมชาย (เลขานุการ)": the handle first, since display names can be shared or imitated; roles as held now."""
    held = thai_titles(person.roles if roles is None else roles)
    return person.named + (f" ({held})" if held else "")


def actor_label(office: Office, user_id: str | None) -> str:
    """How the change history names whoever acts, with the handle and roles they hold at that moment."""
    if user_id is None:
        return ADMINISTRATOR
    roles = office.roles_of(user_id)
    person = office.people.get(user_id)
    if person is None:  # bound in the config file and never spoke to the bot: no name, no handle
        return f"ผู้จัดการ ({thai_titles(roles)})" if roles else "ผู้จัดการ"
    return person_label(person, roles)


@dataclass(frozen=True)
class Actor:
    """Who takes an action: a manager (by LINE user id) or the system administrator (``user_id`` None)."""

    user_id: str | None
    roles: frozenset[str]
    label: str
    via: str

    @classmethod
    def of(cls, office: Office, user_id: str | None, via: str) -> Actor:
        if user_id is None:  # the command line may grant every role, as the config file may
            return cls(None, frozenset(COMMITTEE), ADMINISTRATOR, via)
        return cls(user_id, office.roles_of(user_id), actor_label(office, user_id), via)


@dataclass(frozen=True)
class OpenCode:
    """A role code not yet claimed nor expired, named by its short number (the code itself is never kept)."""

    number: int
    role: str
    issued_by: str
    expires_at: datetime


class ManagerActions:
    """The actions of one actor on one office, each checked, done and recorded once."""

    def __init__(self, office: Office, actor: Actor, now: datetime,
                 roles_changed: Callable[[Office], None] | None = None) -> None:
        self.office = office
        self.actor = actor
        self.now = now
        # The edge's reaction to a role change (the LINE rich menu follows who is a manager); the domain
        # knows nothing of LINE, so the edge hands it in.
        self._roles_changed = roles_changed

    def _atomic(self) -> AbstractContextManager[None]:
        """The change and its history entry as one transaction (hooks that reach LINE run after it)."""
        return self.office.repositories.unit_of_work.atomic()

    def _record(self, section: str, summary: str, *, before: str = "", after: str = "", fy: int | None = None) -> None:
        self.office.audit.record(
            AuditEntry(self.now, self.actor.label, section, summary, before=before, after=after, fiscal_year=fy,
                       via=self.actor.via)
        )

    def _division_name(self, division: str | None) -> str:
        plan = self.office.latest_plan(self.now.date())
        return plan.division_name(division) if division else "-"

    # --- members ----------------------------------------------------------------------------------

    def approve(self, person: Person) -> Person:
        if not person.division or person.approved:
            raise ActionRefused(f"{person.named} ไม่มีคำขอที่รออนุมัติ (อาจอนุมัติไปแล้ว)")
        division = self._division_name(person.division)
        with self._atomic():
            if self.office.people.approve(person.user_id) is None:
                raise ActionRefused(f"ไม่พบ {person.named} (อาจถูกลบไปแล้ว)")
            self._record(MEMBERS, f"อนุมัติ {person_label(person)} เข้า{division}", before="รออนุมัติ",
                         after="อนุมัติแล้ว")
        return person

    def remove(self, person: Person) -> Person:
        if person.user_id == self.actor.user_id:
            raise ActionRefused("ลบตัวเองออกจากรายชื่อไม่ได้ กรุณาให้ผู้จัดการคนอื่นทำ")
        if not may_remove(self.actor.roles, person.roles):
            chairs = CHAIR_GRANTED & set(person.roles)
            raise ActionRefused(
                f"{person.named} มีบทบาท{thai_titles(chairs)} เฉพาะประธานเท่านั้นที่ลบได้"
            )
        roles = thai_titles(person.roles) or "-"
        before = f"{person_label(person)} กอง {self._division_name(person.division)} บทบาท {roles}"
        with self._atomic():
            if self.office.people.remove(person.user_id) is None:
                raise ActionRefused(f"ไม่พบ {person.named} (อาจถูกลบไปแล้ว)")
            self._record(MEMBERS, f"ลบ {person_label(person)} ออกจากรายชื่อ (รายงานเดิมยังอยู่ในชื่อกอง)",
                         before=before, after="(ลบแล้ว)")
        if person.roles:
            self._fire_roles_changed()  # a removed manager's menu goes back to the staff one
        return person

    def _fire_roles_changed(self) -> None:
        if self._roles_changed is not None:
            self._roles_changed(self.office)

    # --- role codes -------------------------------------------------------------------------------

    def issue_code(self, role: str) -> str:
        """A one-time code for ``role``; shown once to the issuer, recorded without the code itself."""
        if role not in COMMITTEE:
            raise ActionRefused(f"ไม่รู้จักบทบาท “{role}”")
        if not may_grant(self.actor.roles, role):
            raise ActionRefused(
                f"รหัสสำหรับ{thai_title(role)}ออกได้เฉพาะประธาน (หรือผู้ดูแลระบบด้วยคำสั่ง bot.py invite)"
            )
        # The plain machine name: stored rows hold JSON strings, never enum objects.
        expires = self.office.fmt.datetime(self.now + CODE_TTL)
        with self._atomic():
            code, number = self.office.people.issue_code(str(role), self.actor.user_id, self.now)
            self._record(ROLE_CODES, f"ออกรหัสใช้ครั้งเดียวสำหรับบทบาท {thai_title(role)} (รหัส #{number})",
                         after=f"ใช้ได้ถึง {expires}")
        return code

    def open_codes(self) -> list[OpenCode]:
        """Codes not yet claimed nor expired, oldest first."""
        people = {p.user_id: p for p in self.office.people.all()}
        out = []
        for row in self.office.people.unused_codes(self.now):
            by = row.get("created_by")
            issued_by = person_label(people[by]) if by in people else ("ผู้จัดการ" if by else ADMINISTRATOR)
            out.append(OpenCode(int(row["number"]), str(row["role"]), issued_by,
                                datetime.fromisoformat(row["expires_at"])))
        return out

    def revoke_code(self, number: int) -> OpenCode:
        wanted = next((c for c in self.open_codes() if c.number == number), None)
        if wanted is None or not may_grant(self.actor.roles, wanted.role):
            # A chair-only role's code is revoked by the chair, as it is issued (else a manager could cancel
            # the chair's invitation of a vice chair): refused without saying it exists.
            raise ActionRefused(f"ไม่พบรหัสเชิญหมายเลข #{self.office.fmt.num(number)} ที่ยังใช้ได้")
        with self._atomic():
            if self.office.people.revoke_code(number, self.now) is None:
                raise ActionRefused(f"ไม่พบรหัสเชิญหมายเลข #{self.office.fmt.num(number)} ที่ยังใช้ได้")
            self._record(ROLE_CODES, f"ยกเลิกรหัสเชิญ #{number} บทบาท {thai_title(wanted.role)}",
                         before=f"ออกโดย {wanted.issued_by}", after="(ยกเลิกแล้ว ใช้ไม่ได้อีก)")
        return wanted

    def claim_role(self, code: str) -> str:
        """The actor takes the role a one-time code grants (anyone may, with a valid code); the role's machine
        name. The roles-changed hook runs here, once, so a new manager gets the managers' menu."""
        if self.actor.user_id is None:
            raise ActionRefused("รหัสบทบาทใช้ได้เฉพาะผู้ใช้ LINE")
        try:
            role = self.office.people.claim_code(code, self.actor.user_id, self.now)
        except CodeError as e:
            raise ActionRefused(str(e)) from None
        self._fire_roles_changed()
        return role

    # --- the console ------------------------------------------------------------------------------

    def sign_in_link(self) -> str:
        """A one-time console sign-in token for the actor (a manager), recorded in the history without the token."""
        if self.actor.user_id is None or not is_manager(self.actor.roles):
            raise ActionRefused(f"ลิงก์เข้าระบบจัดการออกให้เฉพาะ{managers_thai()}")
        until = self.office.fmt.datetime(self.now + LINK_TTL)
        try:
            with self._atomic():
                token = SignIn(self.office.repositories.signin).issue(self.actor.user_id, self.now)
                self._record(CONSOLE_SIGN_IN, "ขอลิงก์เข้าระบบจัดการ (ใช้ได้ครั้งเดียว)", after=f"ใช้ได้ถึง {until}")
        except SignInLimit as e:
            raise ActionRefused(str(e)) from None
        return token

    # --- meeting dates ----------------------------------------------------------------------------

    def move_meeting(self, cycle: Cycle, day: date) -> None:
        """Set a cycle's meeting day; MeetingDateError (Thai) when the calendar cannot mean it."""
        fmt = self.office.fmt
        check_meeting_date(self.office.calendar(), cycle, day, fmt)
        with self._atomic():
            self.office.set_meeting(cycle.id, day, self.actor.user_id, self.now)
            self._record(MEETINGS, f"ตั้งวันประชุมรอบ {fmt.month(cycle.month, abbr=True)}",
                         before=fmt.date(cycle.meeting), after=fmt.date(day), fy=cycle.fiscal_year)

    def restore_meeting(self, cycle: Cycle) -> date:
        """Back to the cycle's usual day; ActionRefused when no day was set by hand (nothing to undo)."""
        fmt = self.office.fmt
        usual = self.office.calendar().usual(cycle.id)
        with self._atomic():
            if not cycle.overridden or not self.office.clear_meeting(cycle.id):
                raise ActionRefused("รอบนี้ใช้วันปกติอยู่แล้ว (อาจมีผู้จัดการคนอื่นเปลี่ยนกลับไปแล้ว)")
            self._record(MEETINGS, f"กลับเป็นวันปกติ รอบ {fmt.month(cycle.month, abbr=True)}",
                         before=fmt.date(cycle.meeting), after=fmt.date(usual), fy=cycle.fiscal_year)
        return usual

    # --- the monthly memo's header ------------------------------------------------------------------

    def set_memo_header(self, typed: DocumentSettings, labels: Mapping[str, str]) -> None:
        """Keep the memo's header as typed (a blank entry falls back to the config's); the history names each
        field that changed by ``labels`` (the form's Thai names), before and after."""
        with self._atomic():
            before = self.office.documents()
            self.office.set_documents(typed, self.actor.user_id, self.now)
            after = self.office.documents()
            changed = [f.name for f in fields(DocumentSettings) if getattr(before, f.name) != getattr(after, f.name)]
            self._record(MEMO_HEADER,
                         "แก้" + ", ".join(labels[n] for n in changed) if changed else "บันทึกโดยไม่เปลี่ยนแปลง",
                         before="\n".join(f"{labels[n]}: {getattr(before, n)}" for n in changed),
                         after="\n".join(f"{labels[n]}: {getattr(after, n)}" for n in changed))

    # --- the year page's publication (OIT) ----------------------------------------------------------

    def _require_manager(self) -> None:
        # The administrator (no user id) may act as in every other action; a LINE user only as a manager.
        if self.actor.user_id is not None and not is_manager(self.actor.roles):
            raise ActionRefused(f"เฉพาะ{managers_thai()}เท่านั้นที่ทำรายการนี้ได้")

    def record_approval(self, fiscal_year: int, name: str, position: str, approved_on: date) -> Approval:
        """Keep the executive's approval of the year's report as the signed paper gives it (replacing any before)."""
        self._require_manager()
        name, position = " ".join(name.split()), " ".join(position.split())
        if not name or not position:
            raise ActionRefused("กรุณากรอกชื่อและตำแหน่งของผู้บริหารที่ให้ความเห็นชอบ")
        fmt = self.office.fmt
        approval = Approval(name, position, approved_on, self.actor.label, self.now)
        with self._atomic():
            before = self.office.publications.approval(fiscal_year)
            self.office.publications.set_approval(fiscal_year, approval)
            self._record(OIT_PAGE, f"บันทึกการให้ความเห็นชอบรายงานปีงบประมาณ {self.office.fmt.num(fiscal_year)}",
                         before=_approval_text(before, fmt.date) if before else "",
                         after=_approval_text(approval, fmt.date), fy=fiscal_year)
        return approval

    def withdraw_approval(self, fiscal_year: int) -> Approval:
        """Take the approval off the year's page (recorded with what it said)."""
        self._require_manager()
        with self._atomic():
            before = self.office.publications.approval(fiscal_year)
            if before is None:
                raise ActionRefused("ปีนี้ยังไม่มีการบันทึกความเห็นชอบ (อาจมีผู้จัดการคนอื่นถอนไปแล้ว)")
            self.office.publications.set_approval(fiscal_year, None)
            self._record(OIT_PAGE, f"ถอนการให้ความเห็นชอบรายงานปีงบประมาณ {self.office.fmt.num(fiscal_year)}",
                         before=_approval_text(before, self.office.fmt.date), after="(ถอนแล้ว)", fy=fiscal_year)
        return before

    def freeze_snapshot(self, fiscal_year: int, html: bytes, pdf: bytes, *, number: int | None = None) -> SnapshotInfo:
        """Keep the year page as it is now (HTML and PDF) as the next numbered snapshot, for ITAS; ``number``: the
        one its pages were rendered for (SnapshotTaken when another manager's snapshot took it first)."""
        self._require_manager()
        with self._atomic():
            info = self.office.publications.add_snapshot(fiscal_year, taken_at=self.now, taken_by=self.actor.label,
                                                         html=html, pdf=pdf, number=number)
            shown, year = self.office.fmt.num(info.number), self.office.fmt.num(fiscal_year)
            self._record(OIT_PAGE, f"ตรึงหน้าเผยแพร่ปีงบประมาณ {year} ฉบับที่ {shown} เพื่อส่ง ITAS",
                         after=f"ฉบับที่ {shown} (SHA-256 {info.sha256[:12]}…)", fy=fiscal_year)
        return info


def _approval_text(approval: Approval, date_text: Callable[[date], str]) -> str:
    return f"{approval.name} {approval.position} เห็นชอบเมื่อ {date_text(approval.approved_on)}"
