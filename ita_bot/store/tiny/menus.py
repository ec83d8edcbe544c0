"""The rich-menu state in the main database: the "settings" row of key "richmenu"."""

from __future__ import annotations

from collections.abc import Iterable

from tinydb import Query

from ita_bot.domain.menu_state import MenuState, relinked
from ita_bot.store.database import Store
from ita_bot.store.records import menu_state_from_record, menu_state_record

__all__ = ["STATE_KEY", "TinyMenuState"]

#: The settings row's key; its value is {"staff": menu id, "managers": menu id, "linked": [user ids]}.
STATE_KEY = "richmenu"
TABLE = "settings"


class TinyMenuState:
    """The menu-state repository over one Store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self) -> MenuState | None:
        with self.store.read() as db:
            row = db.table(TABLE).get(Query().key == STATE_KEY)
        return menu_state_from_record(row["value"]) if row else None

    def put(self, state: MenuState) -> None:
        value = menu_state_record(state)
        with self.store.write() as db:
            db.table(TABLE).upsert({"key": STATE_KEY, "value": value}, Query().key == STATE_KEY)

    def record_links(self, *, added: Iterable[str] = (), removed: Iterable[str] = ()) -> None:
        with self.store.write() as db:
            table = db.table(TABLE)
            row = table.get(Query().key == STATE_KEY)
            if row is None:
                return
            state = dict(row["value"])
            linked = relinked(state.get("linked", []), added=added, removed=removed)
            table.update({"value": {**state, "linked": linked}}, Query().key == STATE_KEY)
