"""The rich-menu state in PostgreSQL (table "menu_state", one row per office)."""

from __future__ import annotations

from collections.abc import Iterable

from psycopg.types.json import Jsonb

from ita_bot.domain.menu_state import MenuState, relinked
from ita_bot.store.pg.database import Database
from ita_bot.store.records import menu_state_from_record, menu_state_record

__all__ = ["PgMenuState"]


class PgMenuState:
    """The menu-state repository of one office."""

    def __init__(self, db: Database, office: str) -> None:
        self.db = db
        self.office = office

    def get(self) -> MenuState | None:
        with self.db.reading() as conn:
            row = conn.execute("SELECT data FROM menu_state WHERE office = %s", (self.office,)).fetchone()
        return menu_state_from_record(row["data"]) if row else None

    def put(self, state: MenuState) -> None:
        value = menu_state_record(state)
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO menu_state (office, data) VALUES (%s, %s) "
                         "ON CONFLICT (office) DO UPDATE SET data = EXCLUDED.data", (self.office, Jsonb(value)))

    def record_links(self, *, added: Iterable[str] = (), removed: Iterable[str] = ()) -> None:
        added, removed = list(added), list(removed)  # read once, before the row is locked
        with self.db.transaction() as conn:
            # Read, change and write under the row's lock: a sync running at the same time waits and then
            # changes the list this one wrote, so neither's links are lost.
            row = conn.execute("SELECT data FROM menu_state WHERE office = %s FOR UPDATE", (self.office,)).fetchone()
            if row is None:
                return
            state = dict(row["data"])
            linked = relinked(state.get("linked", []), added=added, removed=removed)
            conn.execute("UPDATE menu_state SET data = %s WHERE office = %s",
                         (Jsonb({**state, "linked": linked}), self.office))
