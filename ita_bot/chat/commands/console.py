"""`/จัดการ`: a one-time sign-in link to the managers' web console, sent 1:1 to a manager."""

from __future__ import annotations

from ita_bot.chat.commands.acting import actions_of
from ita_bot.chat.commands.base import ChatContext, Refusal
from ita_bot.domain.actions import ActionRefused
from ita_bot.domain.links import sign_in_url
from ita_bot.domain.signin import LINK_TTL, SESSION_TTL
from ita_bot.line.kit import Message, text_messages

__all__ = ["console_link"]


def console_link(ctx: ChatContext, _: None) -> list[Message]:
    try:
        token = actions_of(ctx).sign_in_link()
    except ActionRefused as e:
        raise Refusal(str(e)) from None
    until = ctx.fmt.datetime(ctx.now + LINK_TTL)
    text = (
        "ลิงก์เข้าระบบจัดการ (สำหรับคุณคนเดียว ห้ามส่งต่อ):\n"
        f"{sign_in_url(ctx.office.config.web.base_url, token)}\n"
        f"ใช้ได้ครั้งเดียว ภายใน {ctx.fmt.duration(LINK_TTL)} (ถึง {until}) "
        f"เมื่อเปิดแล้วอยู่ในระบบได้ {ctx.fmt.duration(SESSION_TTL)} "
        "หากลิงก์หมดอายุ พิมพ์ /จัดการ เพื่อขอใหม่"
    )
    return text_messages(text)
