"""The chat's door to the domain's actions: whoever sent the message acts, via LINE chat, menus kept in step."""

from __future__ import annotations

from ita_bot.chat.commands.base import ChatContext
from ita_bot.domain.actions import VIA_CHAT, Actor, ManagerActions

__all__ = ["actions_of"]


def actions_of(ctx: ChatContext) -> ManagerActions:
    """The one home of managers' actions, as this person in this chat (checked, recorded, menus kept in step)."""
    return ManagerActions(ctx.office, Actor.of(ctx.office, ctx.user_id, VIA_CHAT), ctx.now, ctx.roles_changed)
