"""The command table (every chat command declared once, as data), matching typed text to it, and generated help."""

from __future__ import annotations

import difflib
import re

from ita_bot.chat.commands import calendar, console, guided, info, manage, progress, reporting
from ita_bot.chat.commands.base import ChatContext, Command, Refusal, Where, Who, no_args
from ita_bot.domain.people import CODE_TTL
from ita_bot.domain.progress import REPORT_EXAMPLE, REPORT_USAGE
from ita_bot.domain.roles import managers_thai
from ita_bot.domain.signin import LINK_TTL
from ita_bot.domain.text import strip_invisible
from ita_bot.domain.thai import format_duration, to_arabic_digits
from ita_bot.line.kit import Message, text_messages

__all__ = ["COMMANDS", "find", "help_for", "permission_refusal", "place_refusal"]


def _help(ctx: ChatContext, _: None) -> list[Message]:
    return text_messages(help_for(ctx))


# Order is the order of /ช่วยเหลือ: everyday commands first, managers' last.
COMMANDS: tuple[Command, ...] = (
    Command(name="ช่วยเหลือ", alias="help", who=Who.ANYONE, handler=_help, usage="/ช่วยเหลือ",
            help="คำสั่งที่คุณใช้ได้ พร้อมตัวอย่าง", example="/ช่วยเหลือ", parse=no_args, aliases=("คำสั่ง",)),
    Command(name="ฉัน", alias="me", who=Who.ANYONE, handler=info.me, usage="/ฉัน",
            help="ดูว่าบอทรู้จักคุณว่าอย่างไร: ชื่อ กอง บทบาท", example="/ฉัน", parse=no_args),
    Command(name="รหัส", alias="claim", who=Who.ANYONE, handler=info.claim, usage="/รหัส <รหัส>",
            help="รับบทบาทในคณะกรรมการด้วยรหัสใช้ครั้งเดียวที่ได้จากเลขานุการ", example="/รหัส ABCD2345EF",
            parse=info.parse_code),
    Command(name="ลงทะเบียน", alias="register", who=Who.ANYONE, handler=info.register, usage="/ลงทะเบียน <กอง>",
            help="ลงทะเบียนเป็นเจ้าหน้าที่ของกอง (พิมพ์ในกลุ่มพนักงาน) ลงใหม่ = ย้ายกอง", example="/ลงทะเบียน สป.",
            where=Where.STAFF_GROUP, parse=info.parse_division),
    Command(name="มาตรการ", alias="measures", who=Who.ANYONE, handler=info.measures, usage="/มาตรการ",
            help="มาตรการของปีงบประมาณนี้ วิธีดำเนินการ และกองที่รับผิดชอบ", example="/มาตรการ", parse=no_args),
    Command(name="คะแนน", alias="scores", who=Who.ANYONE, handler=info.scores, usage="/คะแนน",
            help="ผลการประเมิน ITA ครั้งล่าสุด: คะแนนรวม ระดับ และ 10 ตัวชี้วัด", example="/คะแนน", parse=no_args),
    Command(name="ปฏิทิน", alias="calendar", who=Who.ANYONE, handler=calendar.calendar, usage="/ปฏิทิน",
            help="กำหนดการประเมิน ITA ของปีงบประมาณนี้ ผู้รับผิดชอบ และกำหนดการถัดไป", example="/ปฏิทิน",
            parse=no_args),
    Command(name="กลุ่มตัวอย่าง", alias="sample", who=Who.ANYONE, handler=info.sample, usage="/กลุ่มตัวอย่าง <จำนวนคน>",
            help="ขนาดกลุ่มตัวอย่างขั้นต่ำ IIT และ EIT", example="/กลุ่มตัวอย่าง 250", parse=info.parse_stakeholders),
    Command(name="รายงาน", alias="report", who=Who.STAFF, handler=reporting.report,
            usage=REPORT_USAGE,
            help="บันทึกความคืบหน้ามาตรการของกองคุณ (พิมพ์ /รายงาน อย่างเดียว = มีปุ่มให้เลือกทีละขั้น)",
            example=REPORT_EXAMPLE, parse=reporting.parse_report),
    Command(name="แก้ไข", alias="edit", who=Who.STAFF_OR_MANAGERS, handler=reporting.edit,
            usage="/แก้ไข <รายละเอียดใหม่>", help="แก้รายละเอียดของรายงานล่าสุดของคุณในรอบนี้",
            example="/แก้ไข ติดตั้งกล่องรับความคิดเห็นแล้ว", parse=reporting.parse_edit),
    Command(name="ถอนรายงาน", alias="withdraw", who=Who.STAFF_OR_MANAGERS, handler=reporting.withdraw,
            usage="/ถอนรายงาน", help="ถอนรายงานล่าสุดของคุณในรอบนี้ (ยังเก็บในประวัติ แต่ไม่แสดง)",
            example="/ถอนรายงาน", parse=no_args),
    Command(name="ยกเลิก", alias="cancel", who=Who.ANYONE, handler=guided.cancel, usage="/ยกเลิก",
            help="เลิกการรายงานแบบมีปุ่มที่ค้างอยู่", example="/ยกเลิก", parse=no_args),
    Command(name="สถานะ", alias="status", who=Who.COMMITTEE_OR_STAFF, handler=progress.status,
            usage="/สถานะ [เลขมาตรการ]", help="สถานะทุกมาตรการทุกกอง หรือมาตรการเดียวพร้อมประวัติรายงาน",
            example="/สถานะ 2", parse=progress.parse_measure_opt),
    Command(name="ค้าง", alias="pending", who=Who.COMMITTEE_OR_STAFF, handler=progress.pending, usage="/ค้าง",
            help="กองและมาตรการที่ยังไม่ได้รายงานในรอบประชุมนี้", example="/ค้าง", parse=no_args),
    Command(name="สรุป", alias="summary", who=Who.COMMITTEE_OR_STAFF, handler=progress.summary, usage="/สรุป [เดือน]",
            help="สรุปผลของรอบประชุม (ไม่ระบุ = รอบปัจจุบัน)", example="/สรุป ก.พ.", parse=progress.parse_month_opt),
    Command(name="ประชุม", alias="meeting", who=Who.MANAGERS, handler=manage.meeting,
            usage=manage.MEETING_USAGE,
            help="ตั้งวันประชุมพนักงานของรอบ (รอบของเดือนนั้น หรือเดือนที่ระบุต่อท้าย)",
            example="/ประชุม 29/1/2564 ก.พ.", parse=manage.parse_meeting),
    Command(name="รายงานแทน", alias="report-for", who=Who.MANAGERS, handler=reporting.report_for,
            usage=reporting.REPORT_FOR_USAGE,
            help="บันทึกรายงานแทนกอง (เช่น ลงจากเอกสาร) ใส่ @วันที่ ท้ายข้อความเพื่อลงวันที่ย้อนหลัง",
            example=reporting.REPORT_FOR_EXAMPLE, parse=reporting.parse_report_for,
            aliases=("reportfor", "report_for")),
    Command(name="ส่งออก", alias="export", who=Who.MANAGERS, handler=manage.export, usage="/ส่งออก [เดือน]",
            help="ลิงก์รายงานการประชุมของรอบ (หน้าเว็บ, Word, CSV) และหน้าความคืบหน้าทั้งปี", example="/ส่งออก ก.พ.",
            parse=manage.parse_export_month),
    Command(name="สมาชิก", alias="members", who=Who.MANAGERS, handler=manage.members, usage="/สมาชิก",
            help="รายชื่อเจ้าหน้าที่แยกตามกอง ผู้รออนุมัติ และผู้มีบทบาท", example="/สมาชิก", parse=no_args),
    Command(name="ลบสมาชิก", alias="remove", who=Who.MANAGERS, handler=manage.remove,
            usage="/ลบสมาชิก <#หมายเลข หรือชื่อ>", help="ลบผู้ใช้ออกจากรายชื่อ (รายงานเดิมยังอยู่ในชื่อกอง)",
            example="/ลบสมาชิก #3", parse=manage.parse_name),
    Command(name="เชิญ", alias="invite", who=Who.MANAGERS, handler=manage.invite, usage="/เชิญ <บทบาท>",
            help=f"ออกรหัสใช้ครั้งเดียว ({format_duration(CODE_TTL)}) ให้ผู้รับบทบาทในคณะกรรมการ "
                 "(รหัสประธาน/รองประธาน: ประธานออก)",
            example="/เชิญ เลขานุการ", where=Where.PRIVATE, parse=manage.parse_role),
    Command(name="รหัสเชิญ", alias="codes", who=Who.MANAGERS, handler=manage.codes,
            usage="/รหัสเชิญ [ยกเลิก #หมายเลข]", help="รหัสเชิญที่ยังไม่ได้ใช้ และยกเลิกรหัส",
            example="/รหัสเชิญ ยกเลิก #2", parse=manage.parse_codes),
    Command(name="ตั้งกลุ่ม", alias="setgroup", who=Who.MANAGERS, handler=manage.set_group, usage="/ตั้งกลุ่ม",
            help="ตั้งกลุ่มนี้เป็นกลุ่มพนักงาน (เมื่อไฟล์ตั้งค่าไม่ได้กำหนด group_id)", example="/ตั้งกลุ่ม",
            where=Where.GROUP, parse=no_args, aliases=("set-group",)),
    Command(name="อนุมัติ", alias="approve", who=Who.MANAGERS, handler=manage.approve,
            usage="/อนุมัติ <#หมายเลข หรือชื่อ>",
            help="อนุมัติคำขอลงทะเบียนกอง (เมื่อตั้งให้ต้องอนุมัติ) ไม่ระบุ = ดูคำขอที่รอ",
            example="/อนุมัติ #4", parse=manage.parse_approve_name),
    Command(name="จัดการ", alias="admin", who=Who.MANAGERS, handler=console.console_link, usage="/จัดการ",
            help=f"ลิงก์เข้าระบบจัดการบนเว็บ (แผน ผลประเมิน สมาชิก วันประชุม) ใช้ได้ครั้งเดียวภายใน {format_duration(LINK_TTL)}",
            example="/จัดการ", where=Where.PRIVATE, parse=no_args, aliases=("console",)),
)


def _index(commands: tuple[Command, ...]) -> dict[str, Command]:
    index: dict[str, Command] = {}
    for cmd in commands:
        for word in cmd.words:
            if word in index:
                raise ValueError(f"command word {word!r} declared twice")
            index[word] = cmd
    return index


_INDEX = _index(COMMANDS)
# Longest first, so "/รายงานแทน2" is not read as "/รายงาน" followed by "แทน2".
_BY_LENGTH = sorted(_INDEX, key=len, reverse=True)


def clean(text: str) -> str:
    """The text as typed minus surrounding space and the invisible characters LINE clients insert, which may
    not hide a command (line breaks and the joiners inside an emoji are kept for details)."""
    return strip_invisible(text).replace("\u3000", " ").replace("\u00a0", " ").strip()


def is_slashed(text: str) -> bool:
    return text.startswith(("/", "／"))


def find(text: str) -> tuple[Command, str] | None:
    """The command a cleaned text starts with, and the rest (as typed); case, digits and "/" do not matter."""
    body = text.lstrip("/／").strip()
    if not body:
        return None
    first, rest = [*re.split(r"\s+", body, maxsplit=1), ""][:2]
    key = to_arabic_digits(first).lower()
    if key in _INDEX:
        return _INDEX[key], rest.strip()
    # Thai needs no space: "/รายงาน๒ ๕๐%" and "/สถานะ2" name the command, then the argument.
    for word in _BY_LENGTH:
        if key.startswith(word) and key[len(word):][:1].isdecimal():
            return _INDEX[word], f"{first[len(word):]} {rest}".strip()
    return None


def suggestion(text: str) -> str | None:
    """The closest command word to a mistyped one, for the "unknown command" reply."""
    word = to_arabic_digits((text.lstrip("/／").split() or [""])[0]).lower()
    close = difflib.get_close_matches(word, list(_INDEX), n=1, cutoff=0.6)
    return f"/{_INDEX[close[0]].name}" if close else None


def unknown_command(text: str) -> list[Message]:
    word = (clean(text).split() or ["/"])[0][:40]
    hint = suggestion(text)
    maybe = f" หรือหมายถึง {hint}?" if hint else ""
    return text_messages(f"ขออภัย ไม่รู้จักคำสั่ง “{word}”{maybe}\nพิมพ์ /ช่วยเหลือ เพื่อดูคำสั่งที่ใช้ได้")


# --- permissions --------------------------------------------------------------------------------


def permission_refusal(ctx: ChatContext, cmd: Command) -> Refusal | None:
    """None when the asker may use the command, else the polite reply saying who may."""
    if cmd.who.allows(ctx):
        return None
    person = ctx.person
    if cmd.who in (Who.STAFF, Who.STAFF_OR_MANAGERS, Who.COMMITTEE_OR_STAFF) and person and person.division:
        # Registered but not yet approved: say so rather than "register first".
        return Refusal(
            f"ขออภัย คำขอลงทะเบียนกอง {ctx.division_name(person.division)} ของคุณยังรอ{managers_thai('หรือ')}อนุมัติ "
            f"จึงยังใช้ /{cmd.name} ไม่ได้"
        )
    text = f"ขออภัย คำสั่ง /{cmd.name} ใช้ได้เฉพาะ{cmd.who.value}"
    if cmd.where is Where.PRIVATE:
        text += " ในแชตส่วนตัวกับบอท (1:1)"
    if cmd.who in (Who.STAFF, Who.STAFF_OR_MANAGERS, Who.COMMITTEE_OR_STAFF):
        text += "\nเจ้าหน้าที่ลงทะเบียนได้ในกลุ่มพนักงาน โดยพิมพ์ /ลงทะเบียน <กอง> เช่น /ลงทะเบียน สป."
    if cmd.who is Who.STAFF and ctx.is_manager:
        text += "\nหากต้องการบันทึกแทนกอง ใช้ /รายงานแทน <กอง> <เลขมาตรการ> ..."
    return Refusal(text)


def place_refusal(ctx: ChatContext, cmd: Command) -> Refusal | None:
    """None when the command may be used in this chat, else the polite reply saying where."""
    if cmd.where is Where.ANY:
        return None
    if cmd.where is Where.STAFF_GROUP and not ctx.office.staff_group_id():
        # Without a staff group any group would do, and an outsider's own group would make them staff.
        return Refusal(
            f"ขออภัย ยังไม่ได้ตั้งกลุ่มพนักงาน จึงยังใช้ /{cmd.name} ไม่ได้\n"
            f"ให้{managers_thai('หรือ')}พิมพ์ /ตั้งกลุ่ม ในกลุ่ม LINE ของพนักงานก่อน แล้วจึงลงทะเบียนในกลุ่มนั้น"
        )
    if cmd.where is Where.PRIVATE:
        if ctx.in_group:
            return Refusal(
                f"ขออภัย เพื่อความปลอดภัย กรุณาใช้ /{cmd.name} ในแชตส่วนตัวกับบอท (1:1) "
                "เพราะทุกคนในกลุ่มจะเห็นรหัสหรือลิงก์ได้"
            )
        return None
    if not ctx.in_group:
        if cmd.where is Where.STAFF_GROUP:
            return Refusal(
                f"ขออภัย กรุณาพิมพ์ /{cmd.name} ในกลุ่ม LINE ของพนักงาน (ไม่ใช่แชตส่วนตัว) "
                "เพื่อให้ทุกคนเห็นว่าใครสังกัดกองไหน เช่น /ลงทะเบียน สป."
            )
        return Refusal(f"ขออภัย คำสั่ง /{cmd.name} ใช้ได้เฉพาะในกลุ่ม LINE กรุณาพิมพ์ในกลุ่มที่ต้องการ")
    if cmd.where is Where.STAFF_GROUP:
        staff_group = ctx.office.staff_group_id()
        if staff_group != ctx.chat_id:
            return Refusal(f"ขออภัย กรุณาพิมพ์ /{cmd.name} ในกลุ่ม LINE ของพนักงาน อบต. (กลุ่มนี้ไม่ใช่กลุ่มพนักงาน)")
    return None


# --- help ---------------------------------------------------------------------------------------


def help_for(ctx: ChatContext) -> str:
    """The commands this person may use, one example each; generated from the table, never hand-kept."""
    usable = [c for c in COMMANDS if c.who.allows(ctx)]
    known = ctx.is_staff or ctx.is_committee
    lines = ["คำสั่งที่คุณใช้ได้ (พิมพ์ในกลุ่มให้ขึ้นต้นด้วย / ส่วนแชตส่วนตัวไม่ต้องมี / ก็ได้)"]
    if not known:
        lines.append(
            "คุณยังไม่ได้ลงทะเบียน: เจ้าหน้าที่ อบต. พิมพ์ /ลงทะเบียน <กอง> ในกลุ่มพนักงาน "
            "เช่น /ลงทะเบียน สป. จึงจะรายงานผลและดูสถานะได้"
        )
    for cmd in usable:
        place = {
            Where.STAFF_GROUP: " [ในกลุ่มพนักงาน]",
            Where.GROUP: " [ในกลุ่ม]",
            Where.PRIVATE: " [แชตส่วนตัว]",
        }.get(cmd.where, "")
        # The English aliases still work (typed by habit) but are not taught: the users read Thai.
        lines.append(f"• {cmd.usage}{place} — {cmd.help}")
        if cmd.example != cmd.usage:
            lines.append(f"   เช่น {cmd.example}")
    return "\n".join(lines)
