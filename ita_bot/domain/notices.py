"""Notices for the managers: problems the bot could not tell anyone else (quota, unreachable chair, uncertain sends).

A notice caused by a fiscal year without a plan names that year; it retires itself once the year has a plan
(checked whenever notices are shown, and when a plan is saved), so nobody is warned about a fixed problem.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

__all__ = ["Notice", "NoticeKind", "NoticeRecord", "NoticeRepository", "Notices"]

NoticeKind = Literal["quota", "unreachable_chair", "uncertain_send", "failed_send", "richmenu", "line"]
"""What a notice is about: LINE's message quota, a chair the bot cannot reach, a push that may or may not have
arrived, a push that failed, rich-menu links LINE would not update, the office's LINE channel refused by LINE (a
hosted office's revoked token: resolved once LINE takes the channel again)."""


@dataclass(frozen=True)
class Notice:
    id: str
    kind: NoticeKind
    text: str  # polite Thai, shown to managers as is; never contains LINE user IDs
    at: str
    plan_year: int | None = None  # the fiscal year whose missing plan caused it


@dataclass(frozen=True)
class NoticeRecord:
    """A notice as kept: with the key that makes posting it idempotent and who has been shown it."""

    notice: Notice
    key: str
    told: frozenset[str]


class NoticeRepository(Protocol):
    """Where notices are kept. Every method is one transaction."""

    def post(self, notice: Notice, key: str) -> Notice:
        """Keep a new, unresolved notice nobody has seen; when one with ``key`` exists already (resolved or not),
        keep nothing and return that one."""
        ...

    def unresolved(self) -> list[NoticeRecord]:
        """Notices not resolved yet, in the order they were posted."""
        ...

    def tell(self, user_id: str, retire: Callable[[Notice], bool]) -> list[Notice]:
        """In one transaction: resolve the unresolved notices ``retire`` picks, mark the others as seen by
        ``user_id`` and return those this person had not seen before, in posting order."""
        ...

    def resolve(self, which: Callable[[NoticeRecord], bool]) -> int:
        """Resolve the unresolved notices ``which`` picks; how many were resolved."""
        ...


def _cause_gone(notice: Notice, has_plan: Callable[[int], bool] | None) -> bool:
    """A notice about a year without a plan, whose year has one by now."""
    year = notice.plan_year
    return has_plan is not None and year is not None and has_plan(int(year))


class Notices:
    """A small board of notices: each manager sees each notice once, in their next reply."""

    def __init__(self, repository: NoticeRepository) -> None:
        self.repository = repository

    def add(self, kind: NoticeKind, text: str, now: datetime, *, key: str | None = None,
            plan_year: int | None = None) -> Notice:
        """Post a notice; the same key posts only once (a rerun must not repeat itself). ``plan_year``: the
        notice is about that fiscal year having no plan, and retires once it has one."""
        notice = Notice(uuid.uuid4().hex, kind, text, now.isoformat(), plan_year)
        return self.repository.post(notice, key or uuid.uuid4().hex)

    def active(self, has_plan: Callable[[int], bool] | None = None) -> list[Notice]:
        """Unresolved notices (shown on /healthz); with ``has_plan``, those whose year now has a plan retire first."""
        if has_plan is not None:
            self.settle_plans(has_plan)
        return [r.notice for r in self.repository.unresolved()]

    def take_for(self, user_id: str, has_plan: Callable[[int], bool] | None = None) -> list[Notice]:
        """Notices this manager has not seen yet, marked as seen by them. With ``has_plan``, a notice about a
        year that has a plan by now is retired instead of shown: its cause is gone."""
        return self.repository.tell(user_id, lambda n: _cause_gone(n, has_plan))

    def settle_plans(self, has_plan: Callable[[int], bool]) -> None:
        """Retire the notices about a year without a plan whose year has one now."""
        self.repository.resolve(lambda r: _cause_gone(r.notice, has_plan))

    def resolve(self, kind: NoticeKind, *, key_prefix: str = "") -> None:
        """Retire notices of a kind (only those whose key starts with key_prefix, when given)."""
        self.repository.resolve(lambda r: r.notice.kind == kind and r.key.startswith(key_prefix))
