"""The change log of what managers do outside the plan files (members, roles, meeting dates): who, when, what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ita_bot.store.database import Store

__all__ = ["AuditEntry", "AuditLog"]

_TABLE = "audit"


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


class AuditLog:
    """Append-only records in the main database; newest first when read."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, entry: AuditEntry) -> None:
        with self.store.write() as db:
            db.table(_TABLE).insert(
                {
                    "at": entry.at.isoformat(),
                    "who": entry.who,
                    "section": entry.section,
                    "summary": entry.summary,
                    "before": entry.before,
                    "after": entry.after,
                    "fiscal_year": entry.fiscal_year,
                    "via": entry.via,
                }
            )

    def entries(self, limit: int = 200) -> list[AuditEntry]:
        with self.store.read() as db:
            rows: list[Any] = list(db.table(_TABLE).all())
        # Newest first; within one moment, the later record first (insertion order, by document id).
        rows.sort(key=lambda r: (r["at"], r.doc_id), reverse=True)
        return [
            AuditEntry(
                at=datetime.fromisoformat(r["at"]), who=r["who"], section=r["section"], summary=r["summary"],
                before=r.get("before", ""), after=r.get("after", ""), fiscal_year=r.get("fiscal_year"),
                via=r.get("via", ""),
            )
            for r in rows[:limit]
        ]
