"""Managers' commands: meeting dates, exports, members, removing and approving people, invitations, the staff group."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from ita_bot.chat.commands.acting import actions_of
from ita_bot.chat.commands.base import ChatContext, Refusal
from ita_bot.chat.commands.progress import cycle_for_month, cycle_url, year_url
from ita_bot.domain.actions import ActionRefused
from ita_bot.domain.guidance import make_plan
from ita_bot.domain.meeting_dates import MeetingDateError, check_meeting_date, same_day_cycles
from ita_bot.domain.meetings import Cycle, MeetingCalendar, cycle_id
from ita_bot.domain.office import NoPlanYet
from ita_bot.domain.people import CODE_TTL, Person
from ita_bot.domain.roles import COMMITTEE, Role, thai_title, thai_titles
from ita_bot.domain.thai import (
    MONTH_WITH_YEAR,
    DateParseError,
    fiscal_year_of,
    parse_date,
    parse_month,
    to_arabic_digits,
)
from ita_bot.line.kit import Message, text_messages

__all__ = [
    "approve",
    "codes",
    "export",
    "invite",
    "meeting",
    "members",
    "parse_codes",
    "parse_meeting",
    "parse_name",
    "parse_role",
    "remove",
    "set_group",
]

# Chair and vice-chair are granted only by the chair (or the config, or `bot.py invite`), and only the
# chair may strip them: otherwise an assistant secretary could make anyone chair, or unseat one.
MEETING_REACH = 1  # fiscal years either side of the current one whose meetings may be set
MEETING_USAGE = "/ประชุม <วันที่> [เดือนของรอบ]"
MEETING_FORM = f"{MEETING_USAGE} เช่น /ประชุม 26/2/2564 หรือ /ประชุม 29/1/2564 ก.พ."


# --- /ประชุม ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingChange:
    cycle_id: str
    day: date


def parse_meeting(ctx: ChatContext, rest: str) -> MeetingChange:
    words = rest.split()
    if not words:
        raise Refusal(f"กรุณาระบุวันประชุม รูปแบบ: {MEETING_FORM}")
    # The date may itself contain spaces ("29 ม.ค. 64"): try the longest date first, and read
    # whatever follows it as the month of the cycle.
    problem: DateParseError | None = None
    for cut in range(len(words), 0, -1):
        try:
            day = parse_date(" ".join(words[:cut]))
        except DateParseError as e:
            problem = problem or e
            continue
        _check_reach(ctx, day, day)
        month_text = " ".join(words[cut:])
        if not month_text:
            return MeetingChange(cycle_id(day.year, day.month), day)
        try:
            year, month = parse_month(month_text, day)
        except DateParseError as e:
            raise Refusal(f"ขออภัย {e}\nรูปแบบ: {MEETING_FORM}") from None
        _check_reach(ctx, date(year, month, 1), day)
        if not MONTH_WITH_YEAR.match(" ".join(to_arabic_digits(month_text).split())):
            # A month without a year names the cycle the meeting is for: the date's own month or
            # the next one (a meeting moved earlier), even across 1 Oct or 1 Jan.
            following = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
            if month == following.month:
                year = following.year
            elif month == day.month:
                year = day.year
        return MeetingChange(cycle_id(year, month), day)
    raise Refusal(f"ขออภัย {problem}\nรูปแบบ: {MEETING_FORM}")


def _check_reach(ctx: ChatContext, cycle_day: date, day: date) -> None:
    """Meetings are set for this fiscal year, the last one (a late correction) or the next one (planning
    ahead): any other year is a slip of the keyboard, and far years break the calendar's date arithmetic."""
    reach = range(ctx.fiscal_year - MEETING_REACH, ctx.fiscal_year + MEETING_REACH + 1)
    if fiscal_year_of(cycle_day) not in reach:
        first, last = ctx.fmt.num(reach[0]), ctx.fmt.num(reach[-1])
        raise Refusal(f"ขออภัย ตั้งวันประชุมได้เฉพาะปีงบประมาณ {first}–{last} (ได้รับ {ctx.fmt.date(day)})\n"
                      f"รูปแบบ: {MEETING_FORM}")


def _check_meeting(ctx: ChatContext, calendar: MeetingCalendar, cycle: Cycle, day: date) -> None:
    """A meeting moved out of its cycle's month would reorder cycles; refuse what the calendar cannot mean."""
    try:
        check_meeting_date(calendar, cycle, day, ctx.fmt)
    except MeetingDateError as e:
        raise Refusal(f"ขออภัย {e}\nรูปแบบ: {MEETING_FORM}") from None


def _same_day_note(ctx: ChatContext, calendar: MeetingCalendar, cycle: Cycle, day: date) -> str | None:
    other = same_day_cycles(calendar, cycle, day)
    if not other:
        return None
    label = ctx.fmt.month(other[0].month, abbr=True)
    return (
        f"⚠️ วันนี้ตรงกับวันประชุมรอบ {label} ด้วย รายงานที่ส่งถึงวันนั้นจะนับเข้ารอบ {label} "
        f"หากเลื่อนรอบ {label} ด้วย ให้ตั้งวันของรอบนั้นใหม่"
    )


def meeting(ctx: ChatContext, change: MeetingChange) -> list[Message]:
    calendar = ctx.office.calendar()
    cycle = calendar.cycle(change.cycle_id)
    _check_meeting(ctx, calendar, cycle, change.day)
    note = _same_day_note(ctx, calendar, cycle, change.day)
    try:
        actions_of(ctx).move_meeting(cycle, change.day)
    except MeetingDateError as e:
        raise Refusal(f"ขออภัย {e}\nรูปแบบ: {MEETING_FORM}") from None
    label = ctx.fmt.month(cycle.month, abbr=True)
    lines = [
        f"ตั้งวันประชุมพนักงานรอบ {label} เป็น{ctx.fmt.meeting(change.day)} แล้ว ✅",
        f"(เดิม {ctx.fmt.date(cycle.meeting)})" if cycle.meeting != change.day else "(วันเดิม)",
    ]
    if note:
        lines.append(note)
    if not MeetingCalendar.is_working_day(change.day):
        lines.append("⚠️ วันที่นี้เป็นวันหยุด โปรดตรวจสอบอีกครั้ง")
    lines.append("การแจ้งเตือนและสรุปของรอบนี้จะยึดวันใหม่ รายงานที่ส่งถึงวันประชุมนับเข้ารอบนี้")
    return text_messages("\n".join(lines))


# --- /ส่งออก ------------------------------------------------------------------------------------


def parse_export_month(ctx: ChatContext, rest: str) -> Cycle:
    return cycle_for_month(ctx, rest, "/ส่งออก ก.พ.")


def export(ctx: ChatContext, cycle: Cycle) -> list[Message]:
    if not ctx.office.has_plan:  # a new office: its first plan is made from the ITA result, not copied
        raise NoPlanYet(ctx.office.organization_name)
    if ctx.office.plan_for(cycle.fiscal_year) is None:  # the report pages exist only for a year with a plan
        fy = cycle.fiscal_year
        return text_messages(f"ยังไม่มีแผนมาตรการของปีงบประมาณ {ctx.fmt.num(fy)} จึงยังไม่มีรายงานของรอบ "
                             f"{ctx.fmt.month(cycle.month, abbr=True)} {make_plan(fy, ctx.fmt)}")
    url = cycle_url(ctx, cycle)
    label = ctx.fmt.month(cycle.month, abbr=True)
    text = "\n".join(
        [
            f"รายงานการประชุมรอบ {label} (ประชุม {ctx.fmt.date(cycle.meeting)})",
            f"• หน้ารายงาน: {url}",
            f"• Word (.docx): {url}.docx",
            f"• Excel (.csv): {url}.csv",
            f"• ความคืบหน้าทั้งปีงบประมาณ {ctx.fmt.num(cycle.fiscal_year)}: {year_url(ctx, cycle.fiscal_year)}",
        ]
    )
    return text_messages(text)


# --- /สมาชิก ------------------------------------------------------------------------------------


def members(ctx: ChatContext, _: None) -> list[Message]:
    office = ctx.office
    people = office.people.all()
    lines = ["รายชื่อผู้ใช้บอท (#หมายเลข ใช้แทนชื่อได้ใน /อนุมัติ และ /ลบสมาชิก)"]
    # A new office has no plan, so no divisions yet: its committee is listed all the same.
    for division in ctx.plan.divisions if office.has_plan else ():
        staff = sorted((p for p in people if p.division == division.id and p.approved), key=lambda p: p.handle)
        lines.append(f"\n{division.name} ({ctx.fmt.num(len(staff))} คน)")
        lines += [f"  • {p.named}" for p in staff] or ["  - ยังไม่มีผู้ลงทะเบียน"]
    waiting = [p for p in people if p.division and not p.approved]
    if waiting:
        lines.append(f"\nรออนุมัติ ({ctx.fmt.num(len(waiting))} คน) — อนุมัติด้วย /อนุมัติ #หมายเลข")
        lines += [f"  • {p.named} ขอเข้า {ctx.division_name(p.division)}" for p in waiting]
    lines.append("\nผู้มีบทบาท")
    by_id = {p.user_id: p for p in people}
    for role in COMMITTEE:
        holders = office.role_holders(role)
        # Names only, never LINE user IDs (PDPA); someone bound in config who has not yet
        # written to the bot has no known name.
        names = [by_id[u].named if u in by_id else "(ตั้งในไฟล์ตั้งค่า ยังไม่เคยคุยกับบอท)" for u in holders]
        lines.append(f"  {role.thai}: {', '.join(names) if names else '-'}")
    return text_messages("\n".join(lines))


# --- /ลบสมาชิก and /อนุมัติ ----------------------------------------------------------------------

_HANDLE = re.compile(r"[#＃]?\s*(\d{1,9})")


def parse_name(ctx: ChatContext, rest: str) -> str:
    if not rest.strip():
        raise Refusal("กรุณาพิมพ์ #หมายเลข (จาก /สมาชิก) หรือชื่อที่แสดงใน LINE ต่อท้ายคำสั่ง เช่น /ลบสมาชิก #3")
    return rest.strip()


def _state(ctx: ChatContext, p: Person) -> str:
    if not p.division:
        return "ไม่สังกัดกอง"
    return ctx.division_name(p.division) + ("" if p.approved else ", รออนุมัติ")


def _one(ctx: ChatContext, who: str, command: str) -> Person:
    """The person a manager means: by handle ("#7", "7"), else by a display name only one person matches."""
    people = ctx.office.people.all()
    if m := _HANDLE.fullmatch(to_arabic_digits(who)):
        found = [p for p in people if p.handle == int(m[1])]
        if not found:
            raise Refusal(f"ขออภัย ไม่พบผู้ใช้หมายเลข #{m[1]} ดูรายชื่อและหมายเลขได้ด้วย /สมาชิก")
        return found[0]
    needle = " ".join(who.split()).lower()
    found = [p for p in people if p.name.lower() == needle] or [p for p in people if needle in p.name.lower()]
    if not found:
        raise Refusal(f"ขออภัย ไม่พบผู้ใช้ชื่อ “{who}” ดูรายชื่อได้ด้วย /สมาชิก")
    if len(found) > 1:
        # Names are the owners' own choice: when several match, only the handle says who is meant.
        listed = "\n".join(f"• {p.named} ({_state(ctx, p)})" for p in sorted(found, key=lambda p: p.handle)[:20])
        raise Refusal(
            f"พบหลายคนที่ชื่อตรงกับ “{who}” กรุณาระบุหมายเลขแทนชื่อ เช่น /{command} {found[0].tag}\n{listed}"
        )
    return found[0]


def remove(ctx: ChatContext, who: str) -> list[Message]:
    person = _one(ctx, who, "ลบสมาชิก")
    try:
        actions_of(ctx).remove(person)
    except ActionRefused as e:
        raise Refusal(f"ขออภัย {e}") from None
    lines = [f"ลบ {person.named} ออกจากรายชื่อแล้ว รายงานที่เคยส่งยังอยู่ในชื่อกอง"]
    config_roles = ctx.office.config.roles.roles_of(person.user_id)
    if config_roles:
        lines.append(f"หมายเหตุ: บทบาท {thai_titles(config_roles)} ตั้งไว้ในไฟล์ตั้งค่า ต้องแก้ที่ไฟล์ตั้งค่าจึงจะหมดไป")
    return text_messages("\n".join(lines))


def parse_approve_name(ctx: ChatContext, rest: str) -> str:
    return rest.strip()


def approve(ctx: ChatContext, who: str) -> list[Message]:
    if not who:
        waiting = [p for p in ctx.office.people.all() if p.division and not p.approved]
        if not waiting:
            return text_messages("ไม่มีคำขอลงทะเบียนที่รออนุมัติ")
        listed = "\n".join(f"• {p.named} ขอเข้า {ctx.division_name(p.division)}" for p in waiting)
        return text_messages(f"คำขอที่รออนุมัติ:\n{listed}\nอนุมัติด้วย /อนุมัติ #หมายเลข เช่น /อนุมัติ {waiting[0].tag}")
    person = _one(ctx, who, "อนุมัติ")
    try:
        actions_of(ctx).approve(person)
    except ActionRefused as e:
        raise Refusal(f"{e} ดูรายชื่อได้ด้วย /สมาชิก") from None
    return text_messages(f"อนุมัติ {person.named} เป็นเจ้าหน้าที่ของ {ctx.division_name(person.division)} แล้ว ✅")


# --- /เชิญ --------------------------------------------------------------------------------------

_ROLE_WORDS: dict[str, Role] = {
    **{r.value: r for r in COMMITTEE},
    **{r.thai: r for r in COMMITTEE},
    "vice-chair": Role.VICE_CHAIR, "vicechair": Role.VICE_CHAIR,
    "assistant-secretary": Role.ASSISTANT_SECRETARY, "assistant": Role.ASSISTANT_SECRETARY,
    "ประธานกรรมการ": Role.CHAIR, "รองประธานกรรมการ": Role.VICE_CHAIR,
    "เลขา": Role.SECRETARY, "กรรมการและเลขานุการ": Role.SECRETARY,
    "ผู้ช่วยเลขา": Role.ASSISTANT_SECRETARY, "คณะกรรมการ": Role.MEMBER,
}


def parse_role(ctx: ChatContext, rest: str) -> Role:
    key = re.sub(r"\s+", "", rest.strip().lower())
    choices = f"{', '.join(r.thai for r in COMMITTEE)} (หรือ {', '.join(COMMITTEE)})"
    if not key:
        raise Refusal(f"กรุณาระบุบทบาท เช่น /เชิญ เลขานุการ\nบทบาทที่มี: {choices}")
    if key not in _ROLE_WORDS:
        raise Refusal(f"ขออภัย ไม่รู้จักบทบาท “{rest.strip()}”\nบทบาทที่มี: {choices}")
    return _ROLE_WORDS[key]


def invite(ctx: ChatContext, role: Role) -> list[Message]:
    try:
        code = actions_of(ctx).issue_code(role.value)
    except ActionRefused as e:
        raise Refusal(f"ขออภัย {e}") from None
    expires = ctx.fmt.datetime(ctx.now + CODE_TTL)
    text = (
        f"รหัสเชิญสำหรับบทบาท “{role.thai}”: {code}\n"
        f"ส่งต่อข้อความถัดไปให้ผู้ที่จะรับบทบาท ให้เขาเพิ่มบอทเป็นเพื่อนแล้วส่ง /รหัส {code} ในแชตส่วนตัวกับบอท\n"
        f"ใช้ได้ครั้งเดียว หมดอายุใน {ctx.fmt.duration(CODE_TTL)} ({expires})"
    )
    # The bare command as its own message: easy to forward as is.
    return [*text_messages(text), *text_messages(f"/รหัส {code}")]


# --- /รหัสเชิญ ------------------------------------------------------------------------------------

_REVOKE = re.compile(r"(?:ยกเลิก|revoke)\s*[#＃]?\s*(\d{1,9})", re.IGNORECASE)
CODES_FORM = "/รหัสเชิญ (ดูรหัสที่ยังไม่ได้ใช้) หรือ /รหัสเชิญ ยกเลิก #หมายเลข"


def parse_codes(ctx: ChatContext, rest: str) -> int | None:
    """None lists the unused codes; a number is the code to revoke."""
    typed = to_arabic_digits(rest).strip()
    if not typed:
        return None
    if m := _REVOKE.fullmatch(typed):
        return int(m[1])
    raise Refusal(f"ขออภัย ไม่เข้าใจ “{rest.strip()[:40]}” รูปแบบ: {CODES_FORM}")


def codes(ctx: ChatContext, number: int | None) -> list[Message]:
    actions = actions_of(ctx)
    if number is not None:
        try:
            revoked = actions.revoke_code(number)
        except ActionRefused as e:
            raise Refusal(f"ขออภัย {e} ดูรายการด้วย /รหัสเชิญ") from None
        return text_messages(f"ยกเลิกรหัสเชิญ #{ctx.fmt.num(number)} ({thai_title(revoked.role)}) แล้ว ใช้ไม่ได้อีก ✅")
    unused = actions.open_codes()
    if not unused:
        return text_messages("ไม่มีรหัสเชิญที่ยังไม่ได้ใช้")
    lines = [f"รหัสเชิญที่ยังไม่ได้ใช้ ({ctx.fmt.num(len(unused))} รหัส) — ตัวรหัสไม่แสดงซ้ำ"]
    for code in unused:
        expires = ctx.fmt.datetime(code.expires_at)
        lines.append(
            f"• #{ctx.fmt.num(code.number)} {thai_title(code.role)} — ออกโดย {code.issued_by} หมดอายุ {expires}"
        )
    lines.append("ยกเลิกด้วย /รหัสเชิญ ยกเลิก #หมายเลข")
    return text_messages("\n".join(lines))


# --- /ตั้งกลุ่ม ---------------------------------------------------------------------------------


def set_group(ctx: ChatContext, _: None) -> list[Message]:
    configured = ctx.office.config.line.group_id
    if configured:
        here = "กลุ่มนี้คือกลุ่มพนักงานอยู่แล้ว" if configured == ctx.chat_id else "กลุ่มพนักงานถูกกำหนดไว้ในไฟล์ตั้งค่าแล้ว"
        raise Refusal(f"{here} (ค่า group_id ในไฟล์ตั้งค่ามีผลเหนือ /ตั้งกลุ่ม) หากต้องการเปลี่ยน กรุณาแก้ไฟล์ตั้งค่า")
    ctx.office.set_setting("group_id", ctx.chat_id)
    return text_messages(
        "ตั้งกลุ่มนี้เป็นกลุ่มพนักงานแล้ว ✅ การแจ้งเตือนและสรุปรายเดือนจะส่งมาที่กลุ่มนี้ "
        "และเจ้าหน้าที่ลงทะเบียนได้ในกลุ่มนี้ด้วย /ลงทะเบียน <กอง>"
    )
