"""Notices for the managers: problems the bot could not tell anyone else (quota, unreachable chair, uncertain sends).

A notice caused by a fiscal year without a plan names that year; it retires itself once the year has a plan
(checked whenever notices are shown, and when a plan is saved), so nobody is warned about a fixed problem.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from tinydb import Query

from ita_bot.store.database import Store

__all__ = ["Notice", "NoticeKind", "Notices"]

NoticeKind = Literal["quota", "unreachable_chair", "uncertain_send", "failed_send", "richmenu"]
"""What a notice is about: LINE's message quota, a chair the bot cannot reach, a push that may or may not have
arrived, a push that failed, rich-menu links LINE would not update."""


@dataclass(frozen=True)
class Notice:
    id: str
    kind: NoticeKind
    text: str  # polite Thai, shown to managers as is; never contains LINE user IDs
    at: str
    plan_year: int | None = None  # the fiscal year whose missing plan caused it


def _notice(row: Any) -> Notice:
    return Notice(row["id"], row["kind"], row["text"], row["at"], row.get("plan_year"))


def _cause_gone(row: Any, has_plan: Callable[[int], bool] | None) -> bool:
    """A notice about a year without a plan, whose year has one by now."""
    year = row.get("plan_year")
    return has_plan is not None and year is not None and has_plan(int(year))


class Notices:
    """A small board of notices: each manager sees each notice once, in their next reply."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, kind: NoticeKind, text: str, now: datetime, *, key: str | None = None,
            plan_year: int | None = None) -> Notice:
        """Post a notice; the same key posts only once (a rerun must not repeat itself). ``plan_year``: the
        notice is about that fiscal year having no plan, and retires once it has one."""
        key = key or uuid.uuid4().hex
        with self.store.write() as db:
            table = db.table("notices")
            row = table.get(Query().key == key)
            if row:
                return _notice(row)
            notice = Notice(uuid.uuid4().hex, kind, text, now.isoformat(), plan_year)
            table.insert({**notice.__dict__, "key": key, "told": [], "resolved": False})
        return notice

    def active(self, has_plan: Callable[[int], bool] | None = None) -> list[Notice]:
        """Unresolved notices (shown on /healthz); with ``has_plan``, those whose year now has a plan retire first."""
        if has_plan is not None:
            self.settle_plans(has_plan)
        with self.store.read() as db:
            rows = db.table("notices").search(Query().resolved == False)  # noqa: E712 (TinyDB query)
        return [_notice(r) for r in rows]

    def take_for(self, user_id: str, has_plan: Callable[[int], bool] | None = None) -> list[Notice]:
        """Notices this manager has not seen yet, marked as seen by them. With ``has_plan``, a notice about a
        year that has a plan by now is retired instead of shown: its cause is gone."""
        with self.store.write() as db:
            table = db.table("notices")
            out = []
            for row in table.search(Query().resolved == False):  # noqa: E712
                if _cause_gone(row, has_plan):
                    table.update({"resolved": True}, doc_ids=[row.doc_id])
                    continue
                if user_id not in row["told"]:
                    table.update({"told": [*row["told"], user_id]}, doc_ids=[row.doc_id])
                    out.append(_notice(row))
        return out

    def settle_plans(self, has_plan: Callable[[int], bool]) -> None:
        """Retire the notices about a year without a plan whose year has one now."""
        with self.store.read() as db:  # most calls find nothing to retire: no write then
            stale = [r.doc_id for r in db.table("notices").search(Query().resolved == False)  # noqa: E712
                     if _cause_gone(r, has_plan)]
        if stale:
            with self.store.write() as db:
                db.table("notices").update({"resolved": True}, doc_ids=stale)

    def resolve(self, kind: NoticeKind, *, key_prefix: str = "") -> None:
        """Retire notices of a kind (only those whose key starts with key_prefix, when given)."""
        with self.store.write() as db:
            table = db.table("notices")
            for row in table.search((Query().kind == kind) & (Query().resolved == False)):  # noqa: E712
                if str(row.get("key", "")).startswith(key_prefix):
                    table.update({"resolved": True}, doc_ids=[row.doc_id])
