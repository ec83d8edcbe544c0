"""The year page's publication record: the executive's approval, frozen snapshots for ITAS, the main-site link check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

__all__ = ["Approval", "LinkCheck", "PublicationRepository", "SnapshotFile", "SnapshotInfo", "SnapshotTaken",
           "next_snapshot_number"]

SnapshotFile = Literal["html", "pdf"]


@dataclass(frozen=True)
class Approval:
    """The executive's approval of a fiscal year's report, as a manager recorded it from the signed paper."""

    name: str  # the executive (a public office holder): shown on the public page
    position: str
    approved_on: date
    recorded_by: str  # the manager who entered it: console and audit only, never public
    recorded_at: datetime


@dataclass(frozen=True)
class SnapshotInfo:
    """A frozen copy of a year page (HTML and PDF) at its own permanent address; never changed, never deleted."""

    fiscal_year: int
    number: int  # 1, 2, … per fiscal year; the address uses it
    taken_at: datetime
    taken_by: str  # console and audit only
    sha256: str  # of the HTML, so an export or a copy can be checked


@dataclass(frozen=True)
class LinkCheck:
    """The last check of whether the office's main website links to a year page."""

    checked_at: datetime
    site: str  # the main website's address as configured
    target: str  # the page looked for
    found: bool
    #: The link texts followed from the main site's first page to the year page (how a visitor reaches it).
    path: tuple[str, ...] = ()
    problem: str = ""  # Thai, when the site could not be read


class SnapshotTaken(Exception):
    """The number a snapshot was rendered for went to another snapshot meanwhile (two managers froze at once)."""


def next_snapshot_number(fiscal_year: int, highest: int | None, asked: int | None) -> int:
    """The number the year's next snapshot is kept under (one after the highest so far, from 1), checked against
    the number it was rendered for: a page names its own number, so it is never kept under another one."""
    number = (highest or 0) + 1
    if asked is not None and asked != number:
        raise SnapshotTaken(f"snapshot {asked} of {fiscal_year} was rendered, {number} is next")
    return number


class PublicationRepository(Protocol):
    """What is kept about publishing each fiscal year's page: approval, snapshots, the last link check."""

    def approval(self, fiscal_year: int) -> Approval | None: ...

    def set_approval(self, fiscal_year: int, approval: Approval | None) -> None:
        """Record (or with None withdraw) the approval."""
        ...

    def snapshots(self, fiscal_year: int) -> list[SnapshotInfo]:
        """The year's snapshots, oldest first."""
        ...

    def add_snapshot(self, fiscal_year: int, *, taken_at: datetime, taken_by: str, html: bytes,
                     pdf: bytes, number: int | None = None) -> SnapshotInfo:
        """Keep a new snapshot under the next number, atomically: two managers freezing at once get two numbers,
        and a snapshot is listed only once both of its files are kept. ``number``: the number its pages were
        rendered for (the frozen page links to its own PDF by it); SnapshotTaken, nothing kept, when the next
        number is another one by now."""
        ...

    def snapshot_file(self, fiscal_year: int, number: int, kind: SnapshotFile) -> bytes | None: ...

    def link_check(self, fiscal_year: int) -> LinkCheck | None: ...

    def set_link_check(self, fiscal_year: int, check: LinkCheck) -> None: ...
