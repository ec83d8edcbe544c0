"""Commands anyone may use: who am I, claim a role, register, the measures, last year's scores, sample sizes."""

from __future__ import annotations

import re

from ita_bot.chat.commands.acting import actions_of
from ita_bot.chat.commands.base import ChatContext, Refusal
from ita_bot.domain.actions import ActionRefused
from ita_bot.domain.history import NOTABLE_CHANGE, changes_since, score_history
from ita_bot.domain.people import UNKNOWN_NAME
from ita_bot.domain.plan import Assessment, Division
from ita_bot.domain.roles import managers_thai, thai_title, thai_titles
from ita_bot.domain.thai import small_int, to_arabic_digits
from ita_bot.line.kit import Message, text_messages

__all__ = ["claim", "me", "measures", "parse_stakeholders", "register", "sample", "scores"]

REGISTER_FORM = "/ลงทะเบียน <กอง> เช่น /ลงทะเบียน สป."


def divisions_list(ctx: ChatContext) -> str:
    lines = []
    for d in ctx.plan.divisions:
        aliases = [a for a in d.aliases if a != d.name]
        lines.append(f"• {d.name}" + (f" (พิมพ์ {', '.join(aliases)} ก็ได้)" if aliases else ""))
    return "\n".join(lines)


# --- /ฉัน ---------------------------------------------------------------------------------------


def me(ctx: ChatContext, _: None) -> list[Message]:
    person = ctx.person
    roles = ctx.roles
    # The handle is what managers type in /อนุมัติ and /ลบสมาชิก, so people can tell them theirs.
    tag = f" ({person.tag})" if person and person.handle else ""
    lines = [f"คุณ {ctx.name() or UNKNOWN_NAME}{tag}"]
    if person and person.division and person.approved:
        lines.append(f"สังกัด: {ctx.division_name(person.division)} (เจ้าหน้าที่ผู้รายงานผล)")
        measures = ctx.plan.measures_for(person.division)
        if measures:
            lines.append("มาตรการที่กองรับผิดชอบ: " + ", ".join(ctx.fmt.num(m.number) for m in measures))
        else:
            lines.append("กองนี้ไม่มีมาตรการที่ต้องรายงานในปีงบประมาณนี้")
    elif person and person.division:
        lines.append(f"ขอลงทะเบียนกอง {ctx.division_name(person.division)} แล้ว รอเลขานุการอนุมัติ")
    else:
        lines.append("ยังไม่ได้ลงทะเบียนกอง")
    if roles:
        lines.append(f"บทบาทในคณะกรรมการ: {thai_titles(roles)}")
    if not (person and person.division) and not roles:
        lines.append(f"เจ้าหน้าที่ลงทะเบียนได้ในกลุ่มพนักงาน โดยพิมพ์ {REGISTER_FORM}")
        lines.append("ผู้ได้รับรหัสบทบาทจากเลขานุการ พิมพ์ /รหัส <รหัส> ในแชตกับบอท")
    return text_messages("\n".join(lines))


# --- /รหัส --------------------------------------------------------------------------------------


def parse_code(ctx: ChatContext, rest: str) -> str:
    code = re.sub(r"[\s-]", "", to_arabic_digits(rest)).upper()
    if not code:
        raise Refusal("กรุณาพิมพ์รหัสที่ได้รับต่อท้ายคำสั่ง เช่น /รหัส ABCD2345EF")
    return code


def claim(ctx: ChatContext, code: str) -> list[Message]:
    try:
        role = actions_of(ctx).claim_role(code)  # a new manager gets the managers' menu there
    except ActionRefused as e:
        raise Refusal(ctx.fmt.num(f"ขออภัย {e}")) from None
    name = ctx.name()
    if name:
        ctx.office.people.touch(ctx.user_id, name)
    ctx.forget_person()
    text = f"รับบทบาท “{thai_title(role)}” เรียบร้อยแล้ว\nพิมพ์ /ช่วยเหลือ เพื่อดูคำสั่งที่ใช้ได้"
    return text_messages(text)


# --- /ลงทะเบียน ---------------------------------------------------------------------------------


def parse_division(ctx: ChatContext, rest: str) -> Division:
    if not rest.strip():
        raise Refusal(f"กรุณาระบุกองที่สังกัด รูปแบบ: {REGISTER_FORM}\nกองที่มี:\n{divisions_list(ctx)}")
    division = ctx.plan.division(rest.strip())
    if division is None:
        raise Refusal(
            f"ขออภัย ไม่รู้จักกอง “{rest.strip()}” กรุณาเลือกจากรายชื่อนี้:\n{divisions_list(ctx)}\n"
            f"รูปแบบ: {REGISTER_FORM}"
        )
    return division


def register(ctx: ChatContext, division: Division) -> list[Message]:
    office = ctx.office
    before = ctx.person
    # Managers approve others, so waiting for their own approval would be pointless.
    approved = office.config.registration_mode == "open" or ctx.is_manager
    if before and before.division == division.id and (before.approved or not approved):
        state = "" if before.approved else " (รอเลขานุการอนุมัติ)"
        return text_messages(f"คุณ {ctx.name()} ลงทะเบียนกับ {division.name} ไว้แล้ว{state}")
    person = office.people.register(ctx.user_id, ctx.name(), division.id, approved=approved, now=ctx.now)
    ctx.forget_person()
    moved_from = before.division if before and before.division and before.division != division.id else None
    head = (
        f"ย้ายคุณ {person.name} จาก {ctx.division_name(moved_from)} ไป {division.name} แล้ว"
        if moved_from
        else f"ลงทะเบียนคุณ {person.name} กับ {division.name} แล้ว"
    )
    if not approved:
        return text_messages(
            f"รับคำขอแล้ว: {head.replace(' แล้ว', '')}\n"
            f"รอ{managers_thai('หรือ')}อนุมัติด้วย /อนุมัติ {person.tag} ({person.name}) "
            "เมื่ออนุมัติแล้วจึงรายงานผลได้"
        )
    measures = ctx.plan.measures_for(division.id)
    if measures:
        numbers = ", ".join(ctx.fmt.num(m.number) for m in measures)
        tail = f"กองนี้รับผิดชอบมาตรการที่ {numbers}\nรายงานผลได้ด้วย /รายงาน (มีปุ่มให้เลือก) หรือ /รายงาน 2 กำลังทำ 50% ..."
    else:
        tail = "กองนี้ไม่มีมาตรการที่ต้องรายงานในปีงบประมาณนี้ แต่จะได้รับข่าวสารการติดตามผล"
    return text_messages(f"{head} ✅\n{tail}")


# --- /มาตรการ -----------------------------------------------------------------------------------


def measures(ctx: ChatContext, _: None) -> list[Message]:
    plan = ctx.plan
    lines = [f"มาตรการส่งเสริมคุณธรรมและความโปร่งใส ปีงบประมาณ {ctx.fmt.num(plan.fiscal_year)}"]
    for m in plan.measures:
        lines.append("")
        lines.append(f"มาตรการที่ {ctx.fmt.num(m.number)} {m.title}")
        lines += [f"  - {method}" for method in m.methods]
        lines.append("  ผู้รับผิดชอบ: " + ", ".join(ctx.division_name(d) for d in m.divisions))
        lines.append(f"  ระยะเวลา: {m.period}")
        lines.append(f"  การติดตามผล: {m.follow_up}")
    lines.append("")
    lines.append(plan.reporting_rule)
    return text_messages("\n".join(lines))


# --- /คะแนน -------------------------------------------------------------------------------------


def scores(ctx: ChatContext, _: None) -> list[Message]:
    # The newest official result known up to this year (a new year's plan may not have its result yet).
    a = next((p.assessment for p in reversed(ctx.office.plans.all())
              if p.assessment is not None and p.fiscal_year <= ctx.fiscal_year), ctx.plan.assessment)
    if a is None:
        return text_messages("ยังไม่มีผลการประเมิน ITA อย่างเป็นทางการในระบบ ผู้จัดการบันทึกผลได้ที่หน้าจัดการ (/จัดการ)")
    sc = ctx.fmt.score
    lines = [
        f"ผลการประเมิน ITA ปี {ctx.fmt.num(a.fiscal_year)}",
        f"คะแนนรวม {sc(a.total)} ระดับ {a.level} (เป้าหมาย {sc(a.target)} คะแนนขึ้นไป)",
    ]
    for inst in a.instruments:
        items = [i for i in a.indicators if i.instrument == inst.code]
        if not items:
            continue
        lines.append("")
        lines.append(f"{inst.code} {inst.name}")
        for i in items:
            flag = "  ⚠️ ต่ำกว่าเป้าหมาย" if a.is_below(i) else ""
            lines.append(f"  {ctx.fmt.num(a.nacc_number(i) or i.number)}. {i.name} {sc(i.score)}{flag}")
    below = a.below_target()
    lines.append("")
    if below:
        names = ", ".join(a.label(i, ctx.fmt) for i in below)
        lines.append(f"ตัวชี้วัดที่ต่ำกว่า {sc(a.target)} คะแนน ({ctx.fmt.num(len(below))} ตัว): {names}")
        lines.append("พิมพ์ /มาตรการ เพื่อดูมาตรการแก้ไขของปีนี้")
    else:
        lines.append(f"ทุกตัวชี้วัดได้ {sc(a.target)} คะแนนขึ้นไป")
    lines += _moves(ctx, a)
    return text_messages("\n".join(lines))


def _moves(ctx: ChatContext, a: Assessment) -> list[str]:
    """One line per indicator that moved by more than 2 points since the year before, when that year is known."""
    year = a.fiscal_year
    moved = changes_since(score_history(ctx.office.plans.all()), year)
    if moved is None:
        return []
    sc = ctx.fmt.score
    head = f"เทียบกับผลปี {ctx.fmt.num(year - 1)}:"
    if not moved:
        return ["", f"{head} ไม่มีตัวชี้วัดใดเปลี่ยนแปลงเกิน {sc(NOTABLE_CHANGE)} คะแนน"]
    out = ["", head]
    for c in moved:
        way = "📈 เพิ่มขึ้น" if c.delta > 0 else "📉 ลดลง"
        out.append(f"  {way} {a.label(c.indicator, ctx.fmt)} {sc(abs(c.delta))} คะแนน ({sc(c.before)} → {sc(c.after)})")
    return out


# --- /กลุ่มตัวอย่าง -----------------------------------------------------------------------------

SAMPLE_FORM = "/กลุ่มตัวอย่าง <จำนวนผู้มีส่วนได้ส่วนเสีย> เช่น /กลุ่มตัวอย่าง 250"


def parse_stakeholders(ctx: ChatContext, rest: str) -> int:
    t = to_arabic_digits(rest).strip().replace(",", "")
    t = re.sub(r"\s*คน$", "", t)
    if not t:
        raise Refusal(f"กรุณาระบุจำนวนผู้มีส่วนได้ส่วนเสีย รูปแบบ: {SAMPLE_FORM}")
    if not re.fullmatch(r"\d+", t) or not t.strip("0"):
        raise Refusal(
            f"ขออภัย จำนวนคนต้องเป็นจำนวนเต็มตั้งแต่ 1 ขึ้นไป (ได้รับ “{rest.strip()[:40]}”) กรุณาพิมพ์ตามรูปแบบ: {SAMPLE_FORM}"
        )
    n = small_int(t, 9)
    if n is None:
        raise Refusal(f"ขออภัย จำนวนคนมากเกินไป กรุณาตรวจสอบตัวเลขอีกครั้ง รูปแบบ: {SAMPLE_FORM}")
    return n


def sample(ctx: ChatContext, n: int) -> list[Message]:
    iit, eit = ctx.plan.sample_sizes(n)
    lines = [f"ขนาดกลุ่มตัวอย่างขั้นต่ำ สำหรับผู้มีส่วนได้ส่วนเสีย {ctx.fmt.num(f'{n:,}')} คน"]
    for size, label in ((iit, "IIT ผู้มีส่วนได้ส่วนเสียภายใน"), (eit, "EIT ผู้มีส่วนได้ส่วนเสียภายนอก")):
        if size.everyone:
            lines.append(f"• {label}: เก็บจากทุกคน ({ctx.fmt.num(f'{size.required:,}')} คน)")
        else:
            lines.append(f"• {label}: อย่างน้อย {ctx.fmt.num(f'{size.required:,}')} ตัวอย่าง")
        if size.note:
            note = ctx.fmt.digits(size.note)
            lines.append(f"  หมายเหตุ: {note}")
    # The rule as this year's plan states it: one line when IIT and EIT share it, else one each.
    rules = {code: ctx.plan.sample_rules[code].summary(ctx.fmt) for code in ("IIT", "EIT")}
    if rules["IIT"] == rules["EIT"]:
        lines.append(f"({rules['IIT']})")
    else:
        lines += [f"({code}: {rule})" for code, rule in rules.items()]
    return text_messages("\n".join(lines))
