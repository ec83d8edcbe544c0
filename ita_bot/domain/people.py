"""People and roles: division staff registrations, role bindings and one-time role codes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tinydb import Query

from ita_bot.domain.thai import to_arabic_digits
from ita_bot.store.database import Store

__all__ = ["CODE_TTL", "CodeError", "People", "Person"]

CODE_TTL = timedelta(hours=72)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: people copy codes by eye
CODE_LENGTH = 10
MAX_FAILED_CLAIMS = 5  # per person per hour: codes must not be guessable by trying
FAILED_WINDOW = timedelta(hours=1)


class CodeError(ValueError):
    """A role code could not be claimed; the message is a short polite Thai reply."""


@dataclass
class Person:
    """Someone the bot knows: a registered staff member and/or a role holder."""

    user_id: str
    name: str = ""
    division: str | None = None
    approved: bool = True
    registered_at: str | None = None
    in_group: bool = True
    roles: list[str] = field(default_factory=list)  # roles bound by a claimed code
    # A short number managers use to tell people apart ("#7"): display names are chosen by their
    # owners, so two people (or an impostor) can share one. Given once, never reused.
    handle: int = 0

    @property
    def tag(self) -> str:
        return f"#{self.handle}"

    @property
    def label(self) -> str:
        """The display name as managers read it (a person who has not spoken to the bot yet has none)."""
        return self.name or "(ยังไม่ทราบชื่อ)"

    @property
    def is_staff(self) -> bool:
        return self.division is not None and self.approved


def _hash(code: str) -> str:
    # Codes are stored hashed so a leaked database file cannot be used to claim a role. Thai digits
    # count as Arabic ones, as on every input.
    return hashlib.sha256(to_arabic_digits(code).strip().upper().replace("-", "").encode()).hexdigest()


def _put(db: Any, person: Person) -> None:
    """Upsert a person inside a write transaction, giving them the next handle if they have none."""
    if not person.handle:
        counters = db.table("counters")
        row = counters.get(Query().name == "person_handle")
        taken = max([row["value"] if row else 0, *(r.get("handle") or 0 for r in db.table("people").all())])
        person.handle = taken + 1
        counters.upsert({"name": "person_handle", "value": person.handle}, Query().name == "person_handle")
    db.table("people").upsert(asdict(person), Query().user_id == person.user_id)


class People:
    """Repository of people, roles and codes in the main database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, user_id: str) -> Person | None:
        with self.store.read() as db:
            row = db.table("people").get(Query().user_id == user_id)
        return Person(**dict(row)) if row else None

    def all(self) -> list[Person]:
        with self.store.read() as db:
            people = [Person(**dict(r)) for r in db.table("people").all()]
        if all(p.handle for p in people):
            return people
        with self.store.write() as db:  # records from before handles existed get theirs once
            people = [Person(**dict(r)) for r in db.table("people").all()]
            for person in people:
                if not person.handle:
                    _put(db, person)
        return people

    def by_handle(self, handle: int) -> Person | None:
        return next((p for p in self.all() if p.handle == handle), None)

    def save(self, person: Person) -> Person:
        with self.store.write() as db:
            _put(db, person)
        return person

    def touch(self, user_id: str, name: str) -> Person:
        """Remember someone's display name (creating the record if new)."""
        with self.store.write() as db:
            table = db.table("people")
            row = table.get(Query().user_id == user_id)
            person = Person(**dict(row)) if row else Person(user_id)
            if (name and person.name != name) or not row or not person.handle:
                person.name = name or person.name
                _put(db, person)
        return person

    def register(self, user_id: str, name: str, division: str, *, approved: bool, now: datetime) -> Person:
        """Join (or move to) a division; in approve mode the person waits for a manager."""
        with self.store.write() as db:
            table = db.table("people")
            row = table.get(Query().user_id == user_id)
            person = Person(**dict(row)) if row else Person(user_id)
            person.name = name or person.name
            person.division = division
            person.approved = approved
            person.registered_at = now.isoformat()
            person.in_group = True
            _put(db, person)
        return person

    def approve(self, user_id: str) -> Person | None:
        with self.store.write() as db:
            table = db.table("people")
            if not table.get(Query().user_id == user_id):
                return None
            table.update({"approved": True}, Query().user_id == user_id)
            row = table.get(Query().user_id == user_id)
            assert isinstance(row, dict)  # just updated under the same lock
            return Person(**dict(row))

    def remove(self, user_id: str) -> Person | None:
        """Forget a person's registration and roles; their reports stay with the division."""
        with self.store.write() as db:
            table = db.table("people")
            row = table.get(Query().user_id == user_id)
            if row is None:
                return None
            table.remove(doc_ids=[row.doc_id])
        return Person(**dict(row))

    def set_in_group(self, user_id: str, in_group: bool) -> None:
        with self.store.write() as db:
            db.table("people").update({"in_group": in_group}, Query().user_id == user_id)

    def find(self, text: str) -> list[Person]:
        """People whose display name matches: exact (case-insensitive) first, else containing the text."""
        needle = " ".join(text.split()).lower()
        if not needle:
            return []
        everyone = self.all()
        exact = [p for p in everyone if p.name.lower() == needle]
        return exact or [p for p in everyone if needle in p.name.lower()]

    def staff_of(self, division: str) -> list[Person]:
        return [p for p in self.all() if p.division == division and p.approved]

    def grant_role(self, user_id: str, role: str) -> Person:
        with self.store.write() as db:
            table = db.table("people")
            row = table.get(Query().user_id == user_id)
            person = Person(**dict(row)) if row else Person(user_id)
            if role not in person.roles:
                person.roles.append(role)
            _put(db, person)
        return person

    def create_code(self, role: str, created_by: str | None, now: datetime) -> str:
        """A single-use code for a role, valid 72 hours; only its hash is stored."""
        return self.issue_code(role, created_by, now)[0]

    def issue_code(self, role: str, created_by: str | None, now: datetime) -> tuple[str, int]:
        """A new code and its short number (what lists and revocations name it by)."""
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        with self.store.write() as db:
            number = db.table("codes").insert(
                {
                    "hash": _hash(code),
                    "role": role,
                    "created_by": created_by,
                    "created_at": now.isoformat(),
                    "expires_at": (now + CODE_TTL).isoformat(),
                    "used_by": None,
                }
            )
        return code, number

    def unused_codes(self, now: datetime) -> list[dict[str, Any]]:
        """Codes not yet claimed nor expired, oldest first; each with its ``number`` (never the code itself)."""
        with self.store.read() as db:
            rows = [r for r in db.table("codes").all() if not r.get("used_by") and r["expires_at"] >= now.isoformat()]
        return [{**dict(r), "number": r.doc_id} for r in sorted(rows, key=lambda r: r.doc_id)]

    def revoke_code(self, number: int, now: datetime) -> dict[str, Any] | None:
        """Delete an unused, unexpired code by its number; None when there is no such code."""
        with self.store.write() as db:
            codes = db.table("codes")
            row = codes.get(doc_id=number)
            if row is None or row.get("used_by") or row["expires_at"] < now.isoformat():
                return None
            codes.remove(doc_ids=[number])
        return dict(row)

    def claim_code(self, code: str, user_id: str, now: datetime) -> str:
        """Bind the code's role to this person; CodeError (Thai) when wrong, used, expired or rate-limited."""
        # Check, record and claim in one transaction: with two, events processed in parallel could all
        # pass the check before any failure was recorded. A refusal leaves the transaction normally
        # (an exception inside would roll the recorded attempt back) and is raised after it.
        with self.store.write() as db:
            attempts = db.table("claim_attempts")
            since = (now - FAILED_WINDOW).isoformat()
            failed = [a for a in attempts.search(Query().user_id == user_id) if a["at"] >= since]
            codes = db.table("codes")
            row = None if len(failed) >= MAX_FAILED_CLAIMS else codes.get(Query().hash == _hash(code))
            if row is not None and row.get("used_by") == user_id and row.get("used_at") == now.isoformat():
                return str(row["role"])  # this very claim, applied before (a replayed event)
            if len(failed) >= MAX_FAILED_CLAIMS:
                problem = "ลองใส่รหัสผิดหลายครั้งเกินไป กรุณารอ 1 ชั่วโมงแล้วลองใหม่ หรือขอรหัสใหม่จากเลขานุการ"
            elif row is None:
                problem = "รหัสไม่ถูกต้อง กรุณาตรวจสอบแล้วส่งใหม่ เช่น /รหัส ABCD2345EF"
            elif row.get("used_by"):
                problem = "รหัสนี้ถูกใช้ไปแล้ว กรุณาขอรหัสใหม่จากเลขานุการ"
            elif row["expires_at"] < now.isoformat():
                problem = "รหัสนี้หมดอายุแล้ว (ใช้ได้ 72 ชั่วโมง) กรุณาขอรหัสใหม่จากเลขานุการ"
            else:
                problem = None
            if problem is None:
                assert row is not None
                codes.update({"used_by": user_id, "used_at": now.isoformat()}, doc_ids=[row.doc_id])
                table = db.table("people")
                prow = table.get(Query().user_id == user_id)
                person = Person(**dict(prow)) if prow else Person(user_id)
                if row["role"] not in person.roles:
                    person.roles.append(row["role"])
                _put(db, person)
                return str(row["role"])
            replayed = attempts.contains((Query().user_id == user_id) & (Query().at == now.isoformat()))
            # Attempts refused by the limit itself are not counted; a replayed event counts once.
            if len(failed) < MAX_FAILED_CLAIMS and not replayed:
                attempts.insert({"user_id": user_id, "at": now.isoformat()})
        raise CodeError(problem)
