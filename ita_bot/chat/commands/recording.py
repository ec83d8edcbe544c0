"""Recording a report: the responsibility check, storing it, and the confirmation reply (shared by all report paths)."""

from __future__ import annotations

from datetime import date, datetime

from ita_bot.chat.commands.base import ChatContext, Refusal
from ita_bot.chat.conversation import Conversations
from ita_bot.domain.plan import Plan
from ita_bot.domain.progress import Report, Status
from ita_bot.domain.reports import EVIDENCE_WINDOW, ReportRefused
from ita_bot.domain.thai import fiscal_year_of
from ita_bot.domain.wording import status_line
from ita_bot.line.kit import Message, text_messages

__all__ = ["check_responsible", "record", "recorded_reply", "sender_division"]



def sender_division(ctx: ChatContext) -> str:
    """The sender's division id (the who-check already made sure they are approved staff)."""
    person = ctx.person
    if person is None or not person.division or not person.approved:
        raise Refusal("ขออภัย คุณยังไม่ได้ลงทะเบียนกอง กรุณาพิมพ์ /ลงทะเบียน <กอง> ในกลุ่มพนักงานก่อน")
    return person.division


def check_responsible(ctx: ChatContext, plan: Plan, measure: int, division: str, *, yours: bool = True) -> None:
    """Refuse unless the division is responsible for the measure, naming which division(s) are."""
    m = plan.measure(measure)
    if m is None:
        numbers = ", ".join(ctx.fmt.num(x.number) for x in plan.measures)
        raise Refusal(f"ขออภัย ไม่มีมาตรการที่ {ctx.fmt.num(measure)} ในปีงบประมาณ {ctx.fmt.num(plan.fiscal_year)} "
                      f"(มีมาตรการ {numbers})")
    if division in m.divisions:
        return
    owners = " และ ".join(ctx.division_name(d) for d in m.divisions)
    own = [x.number for x in plan.measures_for(division)]
    whose = "กองของคุณ" if yours else ctx.division_name(division)
    text = f"ขออภัย มาตรการที่ {ctx.fmt.num(measure)} เป็นความรับผิดชอบของ {owners} ไม่ใช่{whose}"
    if yours:
        text += f" ({ctx.division_name(division)})"
    if own:
        text += f"\n{whose}รายงานได้ในมาตรการที่ " + ", ".join(ctx.fmt.num(n) for n in own)
    else:
        text += f"\n{whose}ไม่มีมาตรการที่ต้องรายงานในปีงบประมาณ {ctx.fmt.num(plan.fiscal_year)}"
    if yours:
        text += "\nหากย้ายกองแล้ว พิมพ์ /ลงทะเบียน <กอง> ในกลุ่มพนักงาน"
    raise Refusal(text)


def record(
    ctx: ChatContext,
    measure: int,
    division: str,
    status: Status,
    percent: int | None,
    details: str,
    *,
    reported_at: datetime | None = None,
    on_behalf: bool = False,
) -> Report:
    """Store the report (once per LINE event) and close any guided report of the sender in this chat."""
    when = reported_at or ctx.now
    report = Report(
        fiscal_year=fiscal_year_of(when.date()),
        measure=measure,
        division=division,
        status=status,
        percent=percent,
        details=details.strip(),
        reported_at=when,
        sent_at=ctx.now,
        chat_id=ctx.chat_id,
        # A manager recording for a division is not its reporter; as recorder they may edit it
        # and attach evidence to it (Report.author_id).
        reporter_id=None if on_behalf else ctx.user_id,
        reporter_name=ctx.name(),
        recorded_by=ctx.user_id if on_behalf else None,
        event_id=ctx.event_id,
    )
    try:
        stored = ctx.office.reports.add(report)
    except ReportRefused as e:  # the plan was saved without this pair since it was read
        raise Refusal(f"ขออภัย {e}") from None
    Conversations(ctx.office.repositories.conversations).clear(ctx.chat_id, ctx.user_id)
    return stored


def meeting_line(ctx: ChatContext, day: date) -> str:
    """Which staff meeting a report dated `day` goes to, in Thai."""
    cycle = ctx.office.cycle_at(day)
    label = ctx.fmt.month(cycle.month, abbr=True)
    return f"นับเข้ารอบการประชุมพนักงาน {ctx.fmt.meeting(cycle.meeting)} (รอบ {label})"


def recorded_reply(ctx: ChatContext, report: Report, *, head: str = "บันทึกรายงานแล้ว ✅") -> list[Message]:
    plan = ctx.office.plan_for(report.fiscal_year) or ctx.plan
    m = plan.measure(report.measure)
    title = f" {m.title}" if m else ""
    status = status_line(report.status, report.percent, ctx.fmt)
    lines = [
        head,
        f"มาตรการที่ {ctx.fmt.num(report.measure)}{title}",
        f"กอง: {ctx.division_name(report.division)}",
        f"สถานะ: {status}",
        f"รายละเอียด: {report.details or '-'}",
    ]
    if report.recorded_by:
        lines.append(f"บันทึกแทนกองโดย {report.reporter_name or 'ผู้จัดการ'} ลงวันที่ {ctx.fmt.date(report.day)}")
    lines.append(meeting_line(ctx, report.day))
    until = ctx.fmt.datetime(report.sent_at + EVIDENCE_WINDOW)
    lines.append(
        f"📎 ส่งรูปภาพหรือไฟล์ (PDF, Word, Excel) ในแชตนี้ภายใน {ctx.fmt.duration(EVIDENCE_WINDOW)} (ถึง {until}) "
        "จะแนบเป็นหลักฐานของรายงานนี้"
    )
    lines.append("แก้รายละเอียด: /แก้ไข <ข้อความใหม่> · ถอนรายงาน: /ถอนรายงาน")
    return text_messages("\n".join(lines))
