"""Chat commands: what a text or postback from LINE does. The chat edge decides *when* text is a command."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from ita_bot.chat.commands.base import ChatContext, Command, Refusal, Where, Who
from ita_bot.chat.commands.registry import (
    COMMANDS,
    clean,
    find,
    help_for,
    is_slashed,
    permission_refusal,
    place_refusal,
    unknown_command,
)
from ita_bot.chat.conversation import Conversations
from ita_bot.domain.office import NoPlanYet
from ita_bot.domain.wording import no_plan_yet
from ita_bot.line.kit import MAX_MESSAGES, MAX_TEXT, Message, clip, fit_reply, text_message, text_messages

__all__ = [
    "COMMANDS",
    "ChatContext",
    "Command",
    "Refusal",
    "Where",
    "Who",
    "handle_postback",
    "handle_text",
    "help_for",
    "wants_followup",
]

log = logging.getLogger(__name__)


def wants_followup(ctx: ChatContext) -> bool:
    """True while this person has a guided report open in this chat: their next plain text is its details."""
    return Conversations(ctx.office.repositories.conversations).get(ctx.chat_id, ctx.user_id, ctx.now) is not None


def handle_text(ctx: ChatContext, text: str) -> list[Message]:
    """The reply (0–5 LINE messages, as data) to a text the edge passed on (mention already stripped, "/" optional)."""
    typed = clean(text)
    slashed = is_slashed(typed)
    found = find(typed)
    if not slashed and not ctx.mentioned:
        # While a guided report is open, the next plain message (no "/", no mention) is its details.
        draft = Conversations(ctx.office.repositories.conversations).get(ctx.chat_id, ctx.user_id, ctx.now)
        if draft is not None:
            from ita_bot.chat.commands.guided import cancel_words, followup

            if found and found[0].name in cancel_words():
                return _finish(ctx, run(ctx, found[0], found[1]))
            return _finish(ctx, _answer(ctx, lambda: followup(ctx, draft, typed)))
    if found:
        return _finish(ctx, run(ctx, *found))
    if not typed.lstrip("/／"):
        # A bare mention or a lone "/": point at the help rather than saying nothing.
        return _finish(ctx, text_messages("พิมพ์ /ช่วยเหลือ เพื่อดูคำสั่งที่ใช้ได้"))
    if slashed or ctx.mentioned or not ctx.in_group:
        return _finish(ctx, unknown_command(typed))
    return []  # ordinary group conversation (the edge should not have passed it on)


def handle_postback(ctx: ChatContext, data: str) -> list[Message]:
    """The reply to a tapped postback button (guided report steps, or `cmd=` from a rich menu)."""
    fields = {k: v[0] for k, v in parse_qs(data, keep_blank_values=True).items() if v}
    if "cmd" in fields:
        found = find(clean(fields["cmd"]))
        return _finish(ctx, run(ctx, *found)) if found else []
    if "r" in fields:
        from ita_bot.chat.commands.guided import postback

        return _finish(ctx, _answer(ctx, lambda: postback(ctx, fields)))
    log.info("ignored a postback with unknown data (%d chars)", len(data))
    return []


#: Commands of staff reporting and follow-up: all of them need a plan (measures and divisions).
_STAFF_WORK = frozenset({Who.STAFF, Who.STAFF_OR_MANAGERS, Who.COMMITTEE_OR_STAFF})


def run(ctx: ChatContext, cmd: Command, rest: str) -> list[Message]:
    """Check who and where, parse the arguments, run the handler; a Refusal becomes its polite reply."""

    def call() -> list[Message]:
        if cmd.who in _STAFF_WORK and not ctx.office.has_plan:
            # Before an office's first plan nobody can register a division, so "register first" would mislead.
            raise NoPlanYet(ctx.office.organization_name)
        refusal = permission_refusal(ctx, cmd) or place_refusal(ctx, cmd)
        if refusal:
            raise refusal
        _learn_name(ctx)
        return cmd.handler(ctx, cmd.parse(ctx, rest))

    return _answer(ctx, call)


def _learn_name(ctx: ChatContext) -> None:
    """Role holders bound in config get a name the first time they write, so /สมาชิก can list them."""
    person = ctx.person
    if (person is None or not person.name) and ctx.office.config.roles.roles_of(ctx.user_id):
        name = ctx.name()
        if name:
            ctx.office.people.touch(ctx.user_id, name)
            ctx.forget_person()


def _answer(ctx: ChatContext, call: object) -> list[Message]:
    try:
        return call()  # type: ignore[operator]
    except Refusal as r:
        return text_messages(r.text)
    except NoPlanYet:
        # A new office before its first plan: whatever needs a plan says so, and what to do about it.
        return text_messages(no_plan_yet(ctx.office.organization_name, manager=ctx.is_manager))


def _finish(ctx: ChatContext, messages: list[Message]) -> list[Message]:
    """Fit the reply into one Reply API call; managers also get pending notices (quota, unreachable chair)."""
    messages = fit_reply(messages)
    if messages and len(messages) < MAX_MESSAGES and ctx.is_manager:
        # Taken only when there is room: a notice taken is marked as told.
        # A notice whose cause is gone (the year has a plan by now) is retired, not shown.
        office = ctx.office
        notices = office.notices.take_for(ctx.user_id, has_plan=lambda fy: office.plan_for(fy) is not None)
        if notices:
            text = "แจ้งเพื่อทราบ:\n" + "\n".join(f"• {n.text}" for n in notices)
            messages = [text_message(clip(text, MAX_TEXT)), *messages]
    return messages
