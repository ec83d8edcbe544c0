"""People and roles: division staff registrations, role bindings and one-time role codes."""

from __future__ import annotations

import hashlib
import secrets
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from ita_bot.domain.thai import format_duration, to_arabic_digits

__all__ = ["CODE_TTL", "UNKNOWN_NAME", "CodeError", "People", "PeopleRecords", "PeopleRepository", "Person", "RoleCode"]

CODE_TTL = timedelta(hours=72)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: people copy codes by eye
CODE_LENGTH = 10
MAX_FAILED_CLAIMS = 5  # per person per hour: codes must not be guessable by trying
FAILED_WINDOW = timedelta(hours=1)


class CodeError(ValueError):
    """A role code could not be claimed; the message is a short polite Thai reply."""


#: How a person with no display name yet (not spoken to the bot, or LINE gave none) is named wherever shown.
UNKNOWN_NAME = "(ยังไม่ทราบชื่อ)"


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
        return self.name or UNKNOWN_NAME

    @property
    def named(self) -> str:
        """"#7 สมชาย": how managers' lists and answers name a person, handle first (names can be shared or imitated)."""
        return f"{self.tag} {self.label}"

    @property
    def is_staff(self) -> bool:
        return self.division is not None and self.approved


def _hash(code: str) -> str:
    # Codes are stored hashed so a leaked database file cannot be used to claim a role. Thai digits
    # count as Arabic ones, as on every input.
    return hashlib.sha256(to_arabic_digits(code).strip().upper().replace("-", "").encode()).hexdigest()


@dataclass(frozen=True)
class RoleCode:
    """A one-time role code as kept: only its hash, never the code. ``number`` is what lists and revocations
    name it by (0 until stored)."""

    hash: str
    role: str
    created_by: str | None
    created_at: str
    expires_at: str
    used_by: str | None = None
    used_at: str | None = None
    number: int = 0

    def listed(self) -> dict[str, Any]:
        """The code as /รหัสเชิญ and the console list it."""
        out = {k: v for k, v in asdict(self).items() if k != "number"}
        if self.used_at is None:
            del out["used_at"]  # never claimed: as the row was written
        return {**out, "number": self.number}


class PeopleRecords(Protocol):
    """People, role codes and failed claims as one transaction sees them. Persons and codes handed out are
    copies: changing one changes nothing until it is put back."""

    def get(self, user_id: str) -> Person | None: ...

    def all(self) -> list[Person]:
        """Everyone, in the order they were first stored."""
        ...

    def put(self, person: Person) -> Person:
        """Store (insert or replace by user id) a person. One without a handle gets the next one: one more
        than the highest ever given, so a removed person's number is never given again."""
        ...

    def remove(self, user_id: str) -> Person | None:
        """Forget a person; the removed record, or None when there was none."""
        ...

    def add_code(self, code: RoleCode) -> int:
        """Keep a new code; its number (numbers grow and are never reused)."""
        ...

    def codes(self) -> list[RoleCode]:
        """Every stored code, by number."""
        ...

    def code(self, number: int) -> RoleCode | None: ...

    def code_by_hash(self, code_hash: str) -> RoleCode | None: ...

    def mark_used(self, number: int, user_id: str, at: str) -> None: ...

    def remove_code(self, number: int) -> None: ...

    def failed_claims(self, user_id: str) -> list[str]:
        """When this person's failed claims were made (ISO 8601)."""
        ...

    def add_failed_claim(self, user_id: str, at: str) -> None: ...


class PeopleRepository(Protocol):
    """Where people, role codes and failed claims are kept, in transactions over all three."""

    def read(self) -> AbstractContextManager[PeopleRecords]:
        """A consistent snapshot to read; nothing may be written through it."""
        ...

    def write(self) -> AbstractContextManager[PeopleRecords]:
        """One atomic write transaction: every change inside is kept together, or, when the block raises, none."""
        ...


class People:
    """People, roles and codes: registration, approval, handles and one-time role codes over a PeopleRepository."""

    def __init__(self, repository: PeopleRepository) -> None:
        self.repository = repository

    def get(self, user_id: str) -> Person | None:
        with self.repository.read() as db:
            return db.get(user_id)

    def all(self) -> list[Person]:
        with self.repository.read() as db:
            people = db.all()
        if all(p.handle for p in people):
            return people
        with self.repository.write() as db:  # records from before handles existed get theirs once
            people = db.all()
            for person in people:
                if not person.handle:
                    db.put(person)
        return people

    def save(self, person: Person) -> Person:
        with self.repository.write() as db:
            stored = db.put(person)
        person.handle = stored.handle
        return person

    def touch(self, user_id: str, name: str) -> Person:
        """Remember someone's display name (creating the record if new)."""
        with self.repository.write() as db:
            found = db.get(user_id)
            person = found or Person(user_id)
            if (name and person.name != name) or not found or not person.handle:
                person.name = name or person.name
                person = db.put(person)
        return person

    def register(self, user_id: str, name: str, division: str, *, approved: bool, now: datetime) -> Person:
        """Join (or move to) a division; in approve mode the person waits for a manager."""
        with self.repository.write() as db:
            person = db.get(user_id) or Person(user_id)
            person.name = name or person.name
            person.division = division
            person.approved = approved
            person.registered_at = now.isoformat()
            person.in_group = True
            return db.put(person)

    def approve(self, user_id: str) -> Person | None:
        with self.repository.write() as db:
            person = db.get(user_id)
            if person is None:
                return None
            person.approved = True
            return db.put(person)

    def remove(self, user_id: str) -> Person | None:
        """Forget a person's registration and roles; their reports stay with the division."""
        with self.repository.write() as db:
            return db.remove(user_id)

    def set_in_group(self, user_id: str, in_group: bool) -> None:
        with self.repository.write() as db:
            person = db.get(user_id)
            if person is not None:
                person.in_group = in_group
                db.put(person)

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

    def issue_code(self, role: str, created_by: str | None, now: datetime) -> tuple[str, int]:
        """A new single-use code for a role, valid for CODE_TTL (only its hash is stored), and its short number
        (what lists and revocations name it by)."""
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        stored = RoleCode(_hash(code), role, created_by, now.isoformat(), (now + CODE_TTL).isoformat())
        with self.repository.write() as db:
            number = db.add_code(stored)
        return code, number

    def unused_codes(self, now: datetime) -> list[dict[str, Any]]:
        """Codes not yet claimed nor expired, oldest first; each with its ``number`` (never the code itself)."""
        with self.repository.read() as db:
            codes = [c for c in db.codes() if not c.used_by and c.expires_at >= now.isoformat()]
        return [c.listed() for c in sorted(codes, key=lambda c: c.number)]

    def revoke_code(self, number: int, now: datetime) -> dict[str, Any] | None:
        """Delete an unused, unexpired code by its number; None when there is no such code."""
        with self.repository.write() as db:
            code = db.code(number)
            if code is None or code.used_by or code.expires_at < now.isoformat():
                return None
            db.remove_code(number)
        listed = code.listed()
        del listed["number"]
        return listed

    def claim_code(self, code: str, user_id: str, now: datetime) -> str:
        """Bind the code's role to this person; CodeError (Thai) when wrong, used, expired or rate-limited."""
        # Check, record and claim in one transaction: with two, events processed in parallel could all
        # pass the check before any failure was recorded. A refusal leaves the transaction normally
        # (an exception inside would roll the recorded attempt back) and is raised after it.
        at = now.isoformat()
        with self.repository.write() as db:
            since = (now - FAILED_WINDOW).isoformat()
            tried = db.failed_claims(user_id)
            failed = [t for t in tried if t >= since]
            row = None if len(failed) >= MAX_FAILED_CLAIMS else db.code_by_hash(_hash(code))
            if row is not None and row.used_by == user_id and row.used_at == at:
                return row.role  # this very claim, applied before (a replayed event)
            if len(failed) >= MAX_FAILED_CLAIMS:
                problem = (f"ลองใส่รหัสผิดหลายครั้งเกินไป กรุณารอ {format_duration(FAILED_WINDOW)}แล้วลองใหม่ "
                           "หรือขอรหัสใหม่จากเลขานุการ")
            elif row is None:
                problem = "รหัสไม่ถูกต้อง กรุณาตรวจสอบแล้วส่งใหม่ เช่น /รหัส ABCD2345EF"
            elif row.used_by:
                problem = "รหัสนี้ถูกใช้ไปแล้ว กรุณาขอรหัสใหม่จากเลขานุการ"
            elif row.expires_at < at:
                problem = f"รหัสนี้หมดอายุแล้ว (ใช้ได้ {format_duration(CODE_TTL)}) กรุณาขอรหัสใหม่จากเลขานุการ"
            else:
                problem = None
            if problem is None:
                assert row is not None
                db.mark_used(row.number, user_id, at)
                person = db.get(user_id) or Person(user_id)
                if row.role not in person.roles:
                    person.roles.append(row.role)
                db.put(person)
                return row.role
            # Attempts refused by the limit itself are not counted; a replayed event counts once.
            if len(failed) < MAX_FAILED_CLAIMS and at not in tried:
                db.add_failed_claim(user_id, at)
        raise CodeError(problem)
