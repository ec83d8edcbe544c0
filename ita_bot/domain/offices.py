"""Offices of the hosted service: who has joined, their sealed LINE credentials and state, and the registry."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

__all__ = ["ONBOARDING_TTL", "RESERVED_SLUGS", "SLUG", "OfficeExists", "OfficeRecord", "OfficeRegistry",
           "check_slug", "onboarding_token", "token_hash"]

#: An office's slug in the hosted service: 3 to 40 lower-case letters, digits and hyphens (it is a URL part).
SLUG = re.compile(r"[a-z0-9-]{3,40}")
#: Slugs that would read as something else (the single-office deployment's, or a service path).
RESERVED_SLUGS = frozenset({"default", "admin", "onboard", "healthz", "static", "reports", "callback"})
#: How long an onboarding link opens the wizard (the contract's 72 hours), counted from `office add`.
ONBOARDING_TTL = timedelta(hours=72)


class OfficeExists(ValueError):
    """An office of that slug is already registered (or was, and its data is still kept)."""


def check_slug(slug: str) -> str:
    """The slug itself, or ValueError in words an operator acts on."""
    if not SLUG.fullmatch(slug) or slug.strip("-") != slug:
        raise ValueError(f"office slug {slug!r}: expected 3 to 40 lower-case letters, digits and hyphens "
                         "(a-z, 0-9, -), not starting or ending with a hyphen")
    if slug in RESERVED_SLUGS:
        raise ValueError(f"office slug {slug!r} is reserved; choose another")
    return slug


def token_hash(token: str) -> str:
    """What the registry keeps of a one-time link's token: its sha256 (a stolen registry opens no wizard)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def onboarding_token() -> str:
    """A fresh one-time onboarding token (URL-safe, 256 bits)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class OfficeRecord:
    """One office of the service as the registry keeps it. Credentials are sealed with the service key (see
    :mod:`ita_bot.domain.sealing`); nothing here is ever shown in clear after onboarding."""

    slug: str
    name: str
    created_at: datetime
    disabled: bool = False
    # The one-time onboarding link: its token's hash and when it stops opening; cleared once used.
    onboarding_hash: str = ""
    onboarding_expires: datetime | None = None
    # The LINE Messaging API channel, once the wizard verified it.
    channel_id: str = ""
    sealed_secret: str = ""
    sealed_token: str = ""  # empty for a channel on stateless tokens (issued from the id and secret)
    bot_user_id: str = ""  # the bot's own user ID: every webhook's `destination` must name it
    bot_name: str = ""  # the LINE account's display name, for the operator's list
    joined_at: datetime | None = None
    # The last day the office's data was exported (`office remove` requires one the same day).
    exported_on: date | None = None
    # The last refusal LINE gave this office's credentials (revoked token, …), until a call succeeds again.
    line_problem: str = ""
    line_problem_at: datetime | None = None
    # The office's own settings over the service's defaults (schedule, display, documents), as config keys.
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def joined(self) -> bool:
        """Whether the office's LINE channel is set up (the wizard finished)."""
        return bool(self.channel_id and self.sealed_secret and self.bot_user_id)

    @property
    def stateless(self) -> bool:
        return self.joined and not self.sealed_token

    def onboarding_open(self, now: datetime) -> bool:
        return bool(self.onboarding_hash) and self.onboarding_expires is not None and now < self.onboarding_expires


class OfficeRegistry(Protocol):
    """Where the service keeps its offices (TinyDB: a file beside the offices' folders; PostgreSQL: table
    ``offices``). Every change is one atomic write, safe across processes."""

    def get(self, slug: str) -> OfficeRecord | None: ...

    def all(self) -> list[OfficeRecord]:
        """Every office, by slug."""
        ...

    def add(self, record: OfficeRecord) -> None:
        """Register a new office; OfficeExists when the slug is taken."""
        ...

    def update(self, slug: str, **changes: Any) -> OfficeRecord:
        """Change fields of an office atomically and return it; KeyError when there is no such office."""
        ...

    def change(self, slug: str, edit: Callable[[OfficeRecord], Mapping[str, Any]]) -> OfficeRecord:
        """Read-modify-write in one step: ``edit`` gets the record as it is now (under the registry's lock or row
        lock) and returns the fields to change; no other writer's change in between is lost."""
        ...

    def remove(self, slug: str) -> None:
        """Forget the office (its data is removed separately, first)."""
        ...
