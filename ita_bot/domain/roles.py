"""Committee roles: the machine names config, plans and role codes use, their Thai titles, and who manages."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = ["CHAIR_GRANTED", "COMMITTEE", "MANAGERS", "Role", "is_manager", "managers_thai", "may_grant", "may_remove",
           "thai_title", "thai_titles"]


class Role(StrEnum):
    """A committee role. The value is the machine name (config `[roles]`, plan files, stored role codes)."""

    CHAIR = "chair"
    VICE_CHAIR = "vice_chair"
    SECRETARY = "secretary"
    ASSISTANT_SECRETARY = "assistant_secretary"
    MEMBER = "member"

    @property
    def thai(self) -> str:
        """The title as the committee's appointment order writes it."""
        return _THAI[self]


_THAI: dict[Role, str] = {
    Role.CHAIR: "ประธาน",
    Role.VICE_CHAIR: "รองประธาน",
    Role.SECRETARY: "เลขานุการ",
    Role.ASSISTANT_SECRETARY: "ผู้ช่วยเลขานุการ",
    Role.MEMBER: "กรรมการ",
}

#: Every committee role, in the committee's order (lists, menus and error messages follow it).
COMMITTEE: tuple[Role, ...] = tuple(Role)

#: The roles that manage the bot for the committee (meeting dates, invitations, members, the staff group,
#: reports on a division's behalf); the vice chair and members see the committee's views only.
MANAGERS: tuple[Role, ...] = (Role.CHAIR, Role.SECRETARY, Role.ASSISTANT_SECRETARY)


def is_manager(roles: Iterable[str]) -> bool:
    """Whether any of these roles manages the bot (MANAGERS): the one test behind every manager-only action."""
    return not set(MANAGERS).isdisjoint(roles)


def managers_thai(conjunction: str = "และ") -> str:
    """The managing roles as one phrase, from MANAGERS: "ประธาน เลขานุการ และผู้ช่วยเลขานุการ" (or "… หรือผู้ช่วย…")."""
    *first, last = (r.thai for r in MANAGERS)
    return " ".join(first) + f" {conjunction}{last}"


def thai_title(role: str) -> str:
    """The Thai title of a role name; a name this version does not know (an old stored row) as it is."""
    try:
        return Role(role).thai
    except ValueError:
        return role


def thai_titles(roles: Iterable[str]) -> str:
    """Roles in committee order as Thai titles joined by commas; names this version does not know are left out."""
    held = set(roles)
    return ", ".join(r.thai for r in COMMITTEE if r in held)


#: Roles only the chair may hand out by code or take away (config and `bot.py invite` still can): otherwise any
#: manager could make themselves or a friend chair, or strip the chair of a code-claimed role.
CHAIR_GRANTED: frozenset[Role] = frozenset({Role.CHAIR, Role.VICE_CHAIR})


def may_grant(granter_roles: Iterable[str], role: str) -> bool:
    """Whether someone holding ``granter_roles`` may issue a one-time code for ``role``."""
    return role not in CHAIR_GRANTED or Role.CHAIR in set(granter_roles)


def may_remove(remover_roles: Iterable[str], person_roles: Iterable[str]) -> bool:
    """Whether someone holding ``remover_roles`` may remove a person who claimed ``person_roles``."""
    return not (CHAIR_GRANTED & set(person_roles)) or Role.CHAIR in set(remover_roles)
