"""The stored shape of each record, one home for both backends: a PostgreSQL row's ``data`` is the TinyDB row.

Each pair turns a domain value into the plain-JSON record both backends keep and back. Readers accept the
older layouts found in existing data folders (missing optional fields); health checks and moves between the
backends read records through the same functions the repositories use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields
from datetime import date, datetime
from typing import Any

from ita_bot.domain.audit import AuditEntry
from ita_bot.domain.conversations import Draft
from ita_bot.domain.heartbeats import Heartbeat
from ita_bot.domain.menu_state import MenuState
from ita_bot.domain.notices import Notice, NoticeRecord
from ita_bot.domain.offices import OfficeRecord
from ita_bot.domain.people import Person, RoleCode
from ita_bot.domain.plan_book import Change
from ita_bot.domain.publication import Approval, LinkCheck, SnapshotInfo
from ita_bot.domain.signin import SignInLink, StoredSession

__all__ = [
    "CODE_COUNTER", "HANDLE_COUNTER", "approval_from_record", "approval_record", "audit_from_record",
    "audit_record",
    "change_from_record",
    "change_record",
    "code_from_record",
    "code_record",
    "draft_from_record",
    "heartbeat_from_record",
    "heartbeat_record",
    "link_check_from_record",
    "link_check_record",
    "link_from_record",
    "link_record",
    "menu_state_from_record",
    "menu_state_record",
    "notice_entry",
    "notice_from_record",
    "notice_record",
    "office_from_record",
    "office_record",
    "person_from_record",
    "publication_from_record",
    "session_from_record",
    "session_record",
    "snapshot_from_record", "snapshot_number",
    "snapshot_record",
]

# The counters' names (the next person's handle, the next role code's number), the same on both backends, so a
# moved office keeps counting where it was.
HANDLE_COUNTER = "person_handle"
CODE_COUNTER = "code_number"

_CODE_FIELDS = frozenset(f.name for f in fields(RoleCode)) - {"number"}
_CHANGE_FIELDS = tuple(f.name for f in fields(Change) if f.name != "id")


# -- the change log ---------------------------------------------------------------------------------------

def audit_record(entry: AuditEntry) -> dict[str, Any]:
    return {"at": entry.at.isoformat(), "who": entry.who, "section": entry.section, "summary": entry.summary,
            "before": entry.before, "after": entry.after, "fiscal_year": entry.fiscal_year, "via": entry.via}


def audit_from_record(r: Mapping[str, Any]) -> AuditEntry:
    """An entry as stored, older ones (without before/after/via) included."""
    return AuditEntry(at=datetime.fromisoformat(r["at"]), who=r["who"], section=r["section"], summary=r["summary"],
                      before=r.get("before", ""), after=r.get("after", ""), fiscal_year=r.get("fiscal_year"),
                      via=r.get("via", ""))


# -- plan changes -----------------------------------------------------------------------------------------

def change_record(change: Change) -> dict[str, Any]:
    """A change without its id (the row's number is its id); a note only when there is one, as always written."""
    record = {k: v for k, v in asdict(change).items() if k != "id"}
    if not record["note"]:
        del record["note"]
    return record


def change_from_record(r: Mapping[str, Any], change_id: int) -> Change:
    return Change(**{k: r.get(k, "") for k in _CHANGE_FIELDS}, id=change_id)


# -- people and role codes --------------------------------------------------------------------------------

def person_from_record(r: Mapping[str, Any]) -> Person:
    # Its own roles list: the record may be a cached one, which nothing may change.
    return Person(**{**r, "roles": list(r.get("roles") or [])})


def code_record(code: RoleCode) -> dict[str, Any]:
    """A code without its number (the row's key is its number); a new code's record has no used_at (the layout
    older records have)."""
    record = {k: v for k, v in asdict(code).items() if k != "number"}
    if record["used_at"] is None:
        del record["used_at"]
    return record


def code_from_record(r: Mapping[str, Any], number: int) -> RoleCode:
    return RoleCode(**{k: v for k, v in r.items() if k in _CODE_FIELDS}, number=number)


# -- notices ----------------------------------------------------------------------------------------------

def notice_record(notice: Notice, key: str) -> dict[str, Any]:
    """A new notice: nobody told yet, not resolved."""
    return {**notice.__dict__, "key": key, "told": [], "resolved": False}


def notice_from_record(r: Mapping[str, Any]) -> Notice:
    return Notice(r["id"], r["kind"], r["text"], r["at"], r.get("plan_year"))


def notice_entry(r: Mapping[str, Any]) -> NoticeRecord:
    """The notice with its key and who was told."""
    return NoticeRecord(notice_from_record(r), str(r.get("key", "")), frozenset(r.get("told", ())))


# -- console sign-in ----------------------------------------------------------------------------------------

def link_record(link: SignInLink) -> dict[str, Any]:
    return {"hash": link.hash, "user_id": link.user_id, "created_at": link.created_at.isoformat(),
            "expires_at": link.expires_at.isoformat(), "used_at": link.used_at.isoformat() if link.used_at else None}


def link_from_record(r: Mapping[str, Any]) -> SignInLink:
    """KeyError/ValueError/TypeError when damaged."""
    used = r.get("used_at")
    return SignInLink(str(r["hash"]), str(r["user_id"]), datetime.fromisoformat(r["created_at"]),
                      datetime.fromisoformat(r["expires_at"]), datetime.fromisoformat(used) if used else None)


def session_record(session: StoredSession) -> dict[str, Any]:
    return {"hash": session.hash, "user_id": session.user_id, "started_at": session.started_at.isoformat(),
            "expires_at": session.expires_at.isoformat()}


def session_from_record(r: Mapping[str, Any]) -> StoredSession:
    """KeyError/ValueError/TypeError when damaged."""
    return StoredSession(str(r["hash"]), str(r["user_id"]), datetime.fromisoformat(r["started_at"]),
                         datetime.fromisoformat(r["expires_at"]))


# -- the processes' own state -------------------------------------------------------------------------------

def draft_from_record(r: Mapping[str, Any]) -> Draft:
    """The draft's fields; keys this version does not know are ignored."""
    return Draft(**{k: v for k, v in dict(r).items() if k in Draft.__dataclass_fields__})


def heartbeat_record(beat: Heartbeat) -> dict[str, Any]:
    return {"name": beat.name, "at": beat.at.isoformat() if beat.at else None,
            "as_of": beat.as_of.isoformat() if beat.as_of else None, "pid": beat.pid,
            "tick_seconds": beat.tick_seconds}


def heartbeat_from_record(name: str, r: Mapping[str, Any]) -> Heartbeat:
    """Unreadable parts are None: a heartbeat is advice, never a reason to fail."""
    tick = r.get("tick_seconds")
    pid = r.get("pid")
    return Heartbeat(name, _moment(r.get("at")), _moment(r.get("as_of")),
                     pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
                     float(tick) if isinstance(tick, int | float) and not isinstance(tick, bool) else None)


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def menu_state_record(state: MenuState) -> dict[str, Any]:
    """{"staff": menu id, "managers": menu id, "linked": [user ids]} (TinyDB keeps it as the value of its
    "richmenu" settings row)."""
    return {"staff": state.staff, "managers": state.managers, "linked": list(state.linked)}


def menu_state_from_record(value: Any) -> MenuState | None:
    """None when it names no managers' menu."""
    if not isinstance(value, dict) or not value.get("managers"):
        return None
    return MenuState(str(value.get("staff") or ""), str(value["managers"]),
                     tuple(str(u) for u in value.get("linked", [])))


def office_record(record: OfficeRecord) -> dict[str, Any]:
    """An office of the hosted service as both backends keep it (credentials stay sealed)."""
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif f.name == "settings":
            value = dict(value)
        out[f.name] = value
    return out


def office_from_record(row: Mapping[str, Any]) -> OfficeRecord:
    values: dict[str, Any] = {}
    for f in fields(OfficeRecord):
        if f.name not in row:
            continue  # an older record: the field's default
        value = row[f.name]
        if f.name in ("created_at", "onboarding_expires", "joined_at", "line_problem_at") and value:
            value = datetime.fromisoformat(value)
        elif f.name == "exported_on" and value:
            value = date.fromisoformat(value)
        values[f.name] = value
    return OfficeRecord(**values)


# -- the year pages' publication record ----------------------------------------------------------------------

def _aware(moment: datetime, what: str) -> str:
    """An instant as ISO 8601 with its offset; a naive time is refused (it could be read as any zone's)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must carry its time zone (Bangkok time), not be naive: {moment.isoformat()}")
    return moment.isoformat()


def approval_record(fiscal_year: int, approval: Approval) -> dict[str, Any]:
    """The approval with its key (kind and fiscal year: the row is found by them on both backends)."""
    return {"kind": "approval", "fiscal_year": fiscal_year, "name": approval.name, "position": approval.position,
            "approved_on": approval.approved_on.isoformat(), "recorded_by": approval.recorded_by,
            "recorded_at": _aware(approval.recorded_at, "an approval's recorded_at")}


def approval_from_record(r: Mapping[str, Any]) -> Approval:
    """KeyError/ValueError/TypeError when damaged."""
    return Approval(str(r["name"]), str(r["position"]), date.fromisoformat(r["approved_on"]), str(r["recorded_by"]),
                    datetime.fromisoformat(r["recorded_at"]))


def link_check_record(fiscal_year: int, check: LinkCheck) -> dict[str, Any]:
    return {"kind": "link_check", "fiscal_year": fiscal_year,
            "checked_at": _aware(check.checked_at, "a link check's checked_at"), "site": check.site,
            "target": check.target, "found": check.found, "path": list(check.path), "problem": check.problem}


def link_check_from_record(r: Mapping[str, Any]) -> LinkCheck:
    """KeyError/ValueError/TypeError when damaged."""
    path = r.get("path", [])
    if not isinstance(path, list):
        raise TypeError("a link check's path is not a list")
    found = r["found"]
    if not isinstance(found, bool):
        raise TypeError("a link check's found is not true or false")
    return LinkCheck(datetime.fromisoformat(r["checked_at"]), str(r["site"]), str(r["target"]), found,
                     tuple(str(p) for p in path), str(r.get("problem", "")))


def snapshot_number(n: object) -> bool:
    """Whether ``n`` can be a snapshot's fiscal year or number as both backends keep it (a PostgreSQL integer),
    never a bool or text: anything else names no snapshot."""
    return type(n) is int and 0 <= n < 2**31


def snapshot_record(info: SnapshotInfo, pdf_sha256: str) -> dict[str, Any]:
    """A snapshot's row: what it is, and the digests its two files must have (checked when read and moved)."""
    return {"fiscal_year": info.fiscal_year, "number": info.number,
            "taken_at": _aware(info.taken_at, "a snapshot's taken_at"), "taken_by": info.taken_by,
            "sha256": info.sha256, "pdf_sha256": pdf_sha256}


def snapshot_from_record(r: Mapping[str, Any]) -> SnapshotInfo:
    """KeyError/ValueError/TypeError when damaged."""
    fiscal_year, number = r["fiscal_year"], r["number"]
    if type(fiscal_year) is not int or type(number) is not int or number < 1:
        raise ValueError("a snapshot's fiscal year and number are not whole numbers")
    if not isinstance(r["sha256"], str) or not isinstance(r["pdf_sha256"], str):
        raise TypeError("a snapshot's digests are not text")
    return SnapshotInfo(fiscal_year, number, datetime.fromisoformat(r["taken_at"]), str(r["taken_by"]),
                        r["sha256"])


def publication_from_record(r: Mapping[str, Any]) -> Approval | LinkCheck:
    """A row of the publications table, by its kind (for checks that read every row)."""
    kind = r.get("kind")
    if kind == "approval":
        return approval_from_record(r)
    if kind == "link_check":
        return link_check_from_record(r)
    raise ValueError(f"unknown publication record kind {kind!r}")
