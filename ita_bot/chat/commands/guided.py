"""The guided report: buttons for the measure, then the status, then the details as the next message."""

from __future__ import annotations

from urllib.parse import urlencode

from ita_bot.chat.commands.base import ChatContext, Refusal
from ita_bot.chat.commands.recording import check_responsible, record, recorded_reply, sender_division
from ita_bot.chat.conversation import DRAFT_TTL, Conversations, Draft
from ita_bot.domain.progress import (
    MEASURE_DIGITS,
    PERCENT_DIGITS,
    STATUS_ICON,
    STATUS_THAI,
    STATUSES,
    ReportInputError,
    Status,
    match_status,
    measure_number,
    parse_percent,
    resolve_status,
)
from ita_bot.domain.thai import small_int, to_arabic_digits
from ita_bot.domain.wording import status_line, status_words
from ita_bot.line.kit import Button, Message, text_messages

__all__ = ["cancel", "cancel_words", "followup", "postback", "start"]

# Percent choices offered for "doing"; any other value can be typed.
DOING_CHOICES = (25, 50, 75)
NO_DETAILS = "ไม่มีรายละเอียด"


def cancel_words() -> tuple[str, ...]:
    """Command names that leave a guided report even when typed without "/"."""
    return ("ยกเลิก",)


def _data(draft: Draft, step: str, **values: object) -> str:
    return urlencode({"r": step, "d": draft.id, **{k: v for k, v in values.items() if v is not None}})


def _cancel_button(draft: Draft) -> Button:
    return Button("ยกเลิก", _data(draft, "cancel"), "ยกเลิกการรายงาน")


# --- the three prompts --------------------------------------------------------------------------


def ask_measure(ctx: ChatContext, draft: Draft, division: str) -> list[Message]:
    measures = ctx.year_plan.measures_for(division)
    lines = [f"รายงานผลของ {ctx.division_name(division)}: เลือกมาตรการ (แตะปุ่มด้านล่าง หรือพิมพ์เลขมาตรการ)"]
    lines += [f"{ctx.fmt.num(m.number)}. {m.title}" for m in measures]
    # 12 measures + "cancel" = LINE's 13 quick-reply items; more can still be typed by number.
    buttons = [
        # The label is only the number: a title cut at 20 characters breaks Thai mid-word; titles are listed above.
        Button(f"มาตรการที่ {ctx.fmt.num(m.number)}", _data(draft, "measure", n=m.number),
               f"มาตรการที่ {ctx.fmt.num(m.number)}")
        for m in measures[:12]
    ]
    lines.append("พิมพ์ /ยกเลิก เพื่อเลิกรายงาน")
    return text_messages("\n".join(lines), [*buttons, _cancel_button(draft)])


def ask_status(ctx: ChatContext, draft: Draft) -> list[Message]:
    assert draft.measure is not None
    m = ctx.year_plan.measure(draft.measure)
    title = f" {m.title}" if m else ""
    buttons = [Button(f"{STATUS_ICON['todo']} {STATUS_THAI['todo']}", _data(draft, "status", s="todo"))]
    buttons += [
        Button(f"{STATUS_ICON['doing']} กำลังทำ {ctx.fmt.percent(p)}", _data(draft, "status", s="doing", p=p),
               status_words("doing", p, ctx.fmt))
        for p in DOING_CHOICES
    ]
    buttons += [
        Button(f"{STATUS_ICON['doing']} {STATUS_THAI['doing']}", _data(draft, "status", s="doing")),
        Button(f"{STATUS_ICON['done']} {STATUS_THAI['done']}", _data(draft, "status", s="done")),
        Button(f"{STATUS_ICON['blocked']} {STATUS_THAI['blocked']}", _data(draft, "status", s="blocked")),
        _cancel_button(draft),
    ]
    text = (
        f"มาตรการที่ {ctx.fmt.num(draft.measure)}{title}\nสถานะตอนนี้เป็นอย่างไร? แตะปุ่มด้านล่าง "
        "หรือพิมพ์ เช่น กำลังทำ 60%"
    )
    return text_messages(text, buttons)


def ask_details(ctx: ChatContext, draft: Draft) -> list[Message]:
    assert draft.status is not None
    text = (
        f"มาตรการที่ {ctx.fmt.num(draft.measure or 0)}: {status_line(draft.status, draft.percent, ctx.fmt)}\n"
        f"พิมพ์รายละเอียดการดำเนินงานส่งมาเป็นข้อความถัดไป (ภายใน {ctx.fmt.duration(DRAFT_TTL)}) "
        f"หรือแตะ “{NO_DETAILS}” เพื่อบันทึกเลย"
    )
    return text_messages(text, [Button(NO_DETAILS, _data(draft, "done")), _cancel_button(draft)])


# --- starting, moving on, finishing -------------------------------------------------------------


def start(ctx: ChatContext, measure: int | None = None) -> list[Message]:
    """Open a guided report (at the status step when the measure was typed)."""
    division = sender_division(ctx)
    if not ctx.year_plan.measures_for(division):
        raise Refusal(
            f"ขออภัย {ctx.division_name(division)} ไม่มีมาตรการที่ต้องรายงานในปีงบประมาณ "
            f"{ctx.fmt.num(ctx.year_plan.fiscal_year)}"
        )
    if measure is not None:
        check_responsible(ctx, ctx.year_plan, measure, division)
    drafts = Conversations(ctx.office.repositories.conversations)
    draft = drafts.start(ctx.chat_id, ctx.user_id, ctx.now, measure=measure, event_id=ctx.event_id)
    return ask_status(ctx, draft) if measure is not None else ask_measure(ctx, draft, division)


def _choose_measure(ctx: ChatContext, draft: Draft, measure: int) -> list[Message]:
    check_responsible(ctx, ctx.year_plan, measure, sender_division(ctx))
    draft.measure, draft.status, draft.percent, draft.step = measure, None, None, "status"
    Conversations(ctx.office.repositories.conversations).save(draft, ctx.now)
    return ask_status(ctx, draft)


def _choose_status(ctx: ChatContext, draft: Draft, status: Status | None, percent: int | None) -> list[Message]:
    try:
        status, percent = resolve_status(status, percent)
    except ReportInputError as e:
        raise Refusal(f"ขออภัย {e}") from None
    draft.status, draft.percent, draft.step = status, percent, "details"
    Conversations(ctx.office.repositories.conversations).save(draft, ctx.now)
    return ask_details(ctx, draft)


def _complete(ctx: ChatContext, draft: Draft, details: str) -> list[Message]:
    assert draft.measure is not None and draft.status is not None
    division = sender_division(ctx)
    # Checked again: the person may have moved division while the draft was open.
    check_responsible(ctx, ctx.year_plan, draft.measure, division)
    report = record(ctx, draft.measure, division, draft.status, draft.percent, details)
    return recorded_reply(ctx, report)


def cancel(ctx: ChatContext, _: object = None) -> list[Message]:
    if Conversations(ctx.office.repositories.conversations).clear(ctx.chat_id, ctx.user_id):
        return text_messages("ยกเลิกการรายงานแล้ว ไม่ได้บันทึกอะไรไว้ เริ่มใหม่ได้ด้วย /รายงาน")
    return text_messages("ตอนนี้ไม่มีการรายงานที่ค้างอยู่ให้ยกเลิก")


def followup(ctx: ChatContext, draft: Draft, text: str) -> list[Message]:
    """A plain message while a guided report is open: the answer to the step it waits at."""
    typed = to_arabic_digits(text).strip()
    if not ctx.is_staff:
        Conversations(ctx.office.repositories.conversations).clear(ctx.chat_id, ctx.user_id)
        raise Refusal("ขออภัย คุณไม่ได้เป็นเจ้าหน้าที่ที่ลงทะเบียนแล้ว จึงปิดการรายงานนี้")
    if draft.step == "measure":
        number = measure_number(typed)
        if number is None:
            raise Refusal("กรุณาแตะปุ่มเลือกมาตรการ หรือพิมพ์เลขมาตรการ เช่น 2 (พิมพ์ /ยกเลิก เพื่อเลิกรายงาน)")
        return _choose_measure(ctx, draft, number)
    if draft.step == "status":
        status, rest = match_status(typed)
        try:
            percent, rest = parse_percent(rest)
        except ReportInputError as e:
            raise Refusal(f"ขออภัย {e}") from None
        if status is None and percent is None:
            raise Refusal(
                "กรุณาแตะปุ่มสถานะ หรือพิมพ์สถานะ เช่น “กำลังทำ 60%”, “เสร็จแล้ว”, “ติดปัญหา” "
                "(พิมพ์ /ยกเลิก เพื่อเลิกรายงาน)"
            )
        reply = _choose_status(ctx, draft, status, percent)
        # "กำลังทำ 60% ติดตั้งป้ายแล้ว": status and details in one message finish the report.
        return _complete(ctx, draft, text_after(text, rest)) if rest else reply
    return _complete(ctx, draft, text)


def text_after(original: str, rest_arabic: str) -> str:
    """The details as the person typed them (their own digits), given the parsed remainder."""
    return original.strip()[len(original.strip()) - len(rest_arabic):] if rest_arabic else ""


def postback(ctx: ChatContext, fields: dict[str, str]) -> list[Message]:
    """A tapped guided-report button."""
    step = fields.get("r", "")
    draft = Conversations(ctx.office.repositories.conversations).get(ctx.chat_id, ctx.user_id, ctx.now)
    if draft is None:
        if step == "cancel":
            return text_messages("ตอนนี้ไม่มีการรายงานที่ค้างอยู่ให้ยกเลิก")
        return text_messages(
            f"การรายงานนี้ปิดไปแล้วหรือหมดเวลา ({ctx.fmt.duration(DRAFT_TTL)}) ไม่ได้บันทึกอะไรไว้ กรุณาเริ่มใหม่ด้วย /รายงาน"
        )
    if fields.get("d") != draft.id:
        return text_messages("ปุ่มนี้มาจากการรายงานครั้งก่อน กรุณาใช้ปุ่มของข้อความล่าสุด หรือเริ่มใหม่ด้วย /รายงาน")
    if step == "cancel":
        return cancel(ctx)
    if not ctx.is_staff:
        Conversations(ctx.office.repositories.conversations).clear(ctx.chat_id, ctx.user_id)
        raise Refusal("ขออภัย คุณไม่ได้เป็นเจ้าหน้าที่ที่ลงทะเบียนแล้ว จึงปิดการรายงานนี้")
    # Button data comes back from the phone, so it is read like typed text: bounded numbers only.
    measure = small_int(fields.get("n", ""), MEASURE_DIGITS)
    if step == "measure" and measure is not None:
        return _choose_measure(ctx, draft, measure)
    tapped = next((s for s in STATUSES if s == fields.get("s")), None)  # one of the statuses, else None
    if step == "status" and tapped is not None and draft.measure is not None:
        p = fields.get("p", "")
        percent = small_int(p, PERCENT_DIGITS)
        if p and percent is None:
            raise Refusal("ขออภัย ร้อยละต้องอยู่ระหว่าง 0 ถึง 100 กรุณาแตะปุ่มสถานะอีกครั้ง")
        return _choose_status(ctx, draft, tapped, percent)
    if step == "done" and draft.step == "details":
        return _complete(ctx, draft, "")
    # A button of a step already passed or not reached: show where the report stands.
    if draft.step == "measure":
        return ask_measure(ctx, draft, sender_division(ctx))
    return ask_status(ctx, draft) if draft.step == "status" else ask_details(ctx, draft)
