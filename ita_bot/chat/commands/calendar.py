"""/ปฏิทิน: this fiscal year's assessment calendar — milestones in date order, who is responsible, what is next."""

from __future__ import annotations

from typing import Any

from ita_bot.chat.commands.base import ChatContext
from ita_bot.domain.guidance import ADD_MILESTONES
from ita_bot.domain.links import report_url
from ita_bot.domain.milestones import MilestoneState, Standing, standings, time_left, who_names
from ita_bot.domain.plan import Plan
from ita_bot.line import kit
from ita_bot.line.kit import Component, Message

__all__ = ["calendar", "calendar_messages"]

_GREY, _INK, _NEXT_BG, _NEXT_INK = "#777777", "#1A1A1A", "#FFF4D6", "#8A5A00"
# A past date is only past, not done: ✅ would read as "done".
_ICON = {Standing.PAST: "⏱", Standing.TODAY: "📌", Standing.NEXT: "👉", Standing.LATER: "🗓"}


def _when(ctx: ChatContext, state: MilestoneState) -> str:
    left = time_left(ctx.fmt, state.standing, state.days_left)
    return f"{ctx.fmt.date(state.milestone.date)} · {left}" + (" (ถัดไป)" if state.standing is Standing.NEXT else "")


def _row(ctx: ChatContext, plan: Plan, state: MilestoneState) -> Component:
    m = state.milestone
    past = state.standing is Standing.PAST
    ink = _GREY if past else _INK
    lines = [
        kit.text(f"{_ICON[state.standing]} {_when(ctx, state)}", size="xs", weight="bold",
            color=_NEXT_INK if state.highlighted else ink),
        kit.text(kit.clip(m.title, 300), size="sm", weight="bold" if state.highlighted else "regular", color=ink),
        kit.text("ผู้รับผิดชอบ: " + ", ".join(who_names(m, plan)), size="xs", color=_GREY),
    ]
    if m.notes and not past:
        lines.append(kit.text(f"หมายเหตุ: {kit.clip(m.notes, 300)}", size="xs", color=_GREY))
    style: dict[str, Any] = {"spacing": "xs", "margin": "md"}
    if state.highlighted:
        style.update(backgroundColor=_NEXT_BG, cornerRadius="md", paddingAll="sm")
    return kit.box(lines, **style)


def _alt_line(ctx: ChatContext, plan: Plan, state: MilestoneState) -> str:
    who = ", ".join(who_names(state.milestone, plan))
    return f"{_ICON[state.standing]} {_when(ctx, state)}: {kit.clip(state.milestone.title, 120)} ({who})"


def calendar_messages(ctx: ChatContext, plan: Plan) -> list[Message]:
    """The calendar as Flex (rows paged to fit 30 KB bubbles) with a plain altText; a polite line when empty."""
    fy = ctx.fmt.num(plan.fiscal_year)
    if not plan.milestones:
        what = (f"{ADD_MILESTONES} (วันที่ ชื่อกำหนดการ และผู้รับผิดชอบ)" if ctx.is_manager
                else "เมื่อเลขานุการเพิ่มกำหนดการแล้ว จะดูได้ที่นี่")
        return kit.text_messages(f"ปีงบประมาณ {fy} ยังไม่มีกำหนดการประเมิน ITA ในแผน {what}")
    states = standings(ctx.office.calendar(), plan.milestones, ctx.today)
    title = f"ปฏิทินการประเมิน ITA ปีงบประมาณ {fy}"
    subtitle = f"ณ วันที่ {ctx.fmt.date(ctx.today)} · {ctx.fmt.num(len(states))} กำหนดการ"
    footer = "⏱ ผ่านมาแล้ว · 👉 กำหนดการถัดไป · นับเฉพาะวันทำการ"
    bubbles = kit.paged_bubbles(title, subtitle, [_row(ctx, plan, s) for s in states], footer, ctx.fmt.digits)
    alt = "\n".join([f"{title} ({subtitle})", *(_alt_line(ctx, plan, s) for s in states)])
    return kit.flex_messages(alt, bubbles)


def calendar(ctx: ChatContext, _: None) -> list[Message]:
    plan = ctx.year_plan
    url = report_url(ctx.office.config.web.base_url, plan.fiscal_year, anchor="milestones")
    return kit.fit_reply(calendar_messages(ctx, plan), f"ดูกำหนดการทั้งหมดได้ที่ {url}")
