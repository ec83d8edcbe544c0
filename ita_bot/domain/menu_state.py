"""The rich menus in use on LINE: which menu is the staff's and the managers', and who is linked to the latter."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["MenuState", "MenuStateRepository", "relinked"]


@dataclass(frozen=True)
class MenuState:
    """What `bot.py richmenu` made, and the people the managers' menu is linked to now. Links are set from
    this record, so a role change, a config change or a failed call is put right by the next sync."""

    staff: str  # LINE rich-menu id of the default (staff) menu
    managers: str  # LINE rich-menu id of the managers' menu
    linked: tuple[str, ...] = ()  # user ids linked to the managers' menu


def relinked(linked: Iterable[str], *, added: Iterable[str] = (), removed: Iterable[str] = ()) -> list[str]:
    """The linked users after a sync: the removed ones dropped, the added ones appended (sorted, each once), the
    rest in their order. Both stores apply it under their lock, so two syncs at once lose no link."""
    gone = set(removed)
    out = [u for u in linked if u not in gone]
    return out + [u for u in sorted(set(added)) if u not in out]


class MenuStateRepository(Protocol):
    """Where the menu state is kept (one per office); None until `bot.py richmenu` has run."""

    def get(self) -> MenuState | None: ...

    def put(self, state: MenuState) -> None: ...

    def record_links(self, *, added: Iterable[str] = (), removed: Iterable[str] = ()) -> None:
        """Change the linked list in one transaction (a concurrent sync's changes are kept): ``removed`` go,
        ``added`` are appended in sorted order; nothing when there is no state yet."""
        ...
