"""The change log of what managers do outside the plan files (members, roles, meeting dates): who, when, what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = ["AuditEntry", "AuditLog", "AuditRepository"]


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    who: str  # "#7 สมชาย (เลขานุการ)": handle, name and roles at the time (never a LINE user id)
    section: str  # what was changed, in Thai: "สมาชิก", "วันประชุม", "รหัสบทบาท"
    summary: str
    before: str = ""
    after: str = ""
    fiscal_year: int | None = None
    via: str = ""  # where it was done: LINE chat, the console or the command line ("" in older entries)


class AuditRepository(Protocol):
    """Where the change log is kept: append-only."""

    def add(self, entry: AuditEntry) -> None: ...

    def newest(self, limit: int) -> list[AuditEntry]:
        """At most ``limit`` entries, newest first; within one moment, the later recorded first."""
        ...


class AuditLog:
    """Append-only records; newest first when read."""

    def __init__(self, repository: AuditRepository) -> None:
        self.repository = repository

    def record(self, entry: AuditEntry) -> None:
        self.repository.add(entry)

    def entries(self, limit: int = 200) -> list[AuditEntry]:
        return self.repository.newest(limit)
