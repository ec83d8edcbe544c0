"""Evidence: which files are accepted, what type they are (from their bytes and name), and attaching them."""

from __future__ import annotations

import contextlib
import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from ita_bot.domain.office import Office
from ita_bot.domain.progress import Report
from ita_bot.domain.text import clean_text
from ita_bot.domain.thai import BANGKOK, fiscal_year_of, format_number
from ita_bot.line.client import LineApiError, LineClient

__all__ = [
    "BAD_FILE_TEXT",
    "FILE_TYPES",
    "IMAGE_TYPES",
    "EvidenceDesk",
    "EvidenceType",
    "evidence_type",
    "file_allowed",
]

log = logging.getLogger(__name__)

# The files the product accepts as evidence: images, PDF and Office documents. LINE's file events carry
# only a name, and the type LINE's content API reports is whatever the sender's client said, so the
# type is always decided here, from the bytes and the name.
FILE_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
IMAGE_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file of .doc and .xls
_ZIP = b"PK\x03\x04"  # .docx and .xlsx are ZIP packages
_OOXML_PART = {"docx": "word/", "xlsx": "xl/"}

NO_TARGET_TEXT = (
    "ได้รับไฟล์แล้วแต่ยังไม่พบรายงานที่จะแนบหลักฐานค่ะ "
    "กรุณารายงานก่อน (เช่น /รายงาน 2 กำลังทำ 50%) แล้วส่งรูปหรือไฟล์ภายใน 30 นาที"
)
BAD_FILE_TEXT = "แนบหลักฐานได้เฉพาะรูปภาพ และไฟล์ PDF, Word (.doc/.docx) หรือ Excel (.xls/.xlsx) ค่ะ"
FETCH_FAILED_TEXT = "ขออภัยค่ะ ดาวน์โหลดไฟล์จาก LINE ไม่สำเร็จ กรุณาส่งใหม่อีกครั้ง"


@dataclass(frozen=True)
class EvidenceType:
    """What an evidence file is: its extension, its MIME type, and whether it is an image."""

    ext: str
    content_type: str

    @property
    def is_image(self) -> bool:
        return self.ext in IMAGE_TYPES


def _image_ext(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _ooxml_is(data: bytes, ext: str) -> bool:
    """A ZIP package holding the parts of a Word (word/) or Excel (xl/) document."""
    with contextlib.suppress(zipfile.BadZipFile, ValueError, OSError):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
        return "[Content_Types].xml" in names and any(n.startswith(_OOXML_PART[ext]) for n in names)
    return False


def _file_ext(data: bytes, file_name: str) -> str | None:
    ext = PurePosixPath(file_name).suffix.lower().lstrip(".")
    if ext == "pdf" and data.startswith(b"%PDF-"):
        return ext
    if ext in ("doc", "xls") and data.startswith(_OLE):
        return ext
    if ext in _OOXML_PART and data.startswith(_ZIP) and _ooxml_is(data, ext):
        return ext
    return None


def file_allowed(file_name: str) -> bool:
    """Whether a file event's name is of an accepted kind (checked before its content is downloaded)."""
    return PurePosixPath(file_name).suffix.lower().lstrip(".") in FILE_TYPES


def evidence_type(kind: str, data: bytes, file_name: str = "") -> EvidenceType | None:
    """The file's type from its bytes (and, for files, its name), or None when it is not accepted evidence.

    ``kind`` is "image" (a LINE image message: any accepted image format) or "file" (the name's
    extension must be accepted and the bytes must be that format). HTML, SVG or scripts never pass.
    """
    if kind == "image":
        image = _image_ext(data)
        return EvidenceType(image, IMAGE_TYPES[image]) if image else None
    ext = _file_ext(data, file_name)
    return EvidenceType(ext, FILE_TYPES[ext]) if ext else None


class EvidenceDesk:
    """Attaches images and files sent in a chat to the sender's report of the last 30 minutes."""

    def __init__(self, office: Office, line: LineClient) -> None:
        self.office, self.line = office, line

    def _target(self, user_id: str, chat_id: str, now: datetime) -> Report | None:
        fy = fiscal_year_of(now.date())
        target = self.office.reports.evidence_target(fy, user_id, chat_id, now)
        if target is None and now - timedelta(minutes=30) < datetime(now.year, 10, 1, tzinfo=BANGKOK) <= now:
            # Just after 1 Oct the report may still sit in the previous fiscal year's book.
            target = self.office.reports.evidence_target(fy - 1, user_id, chat_id, now)
        return target

    def receive(self, message: dict[str, Any], *, user_id: str, chat_id: str, now: datetime, private: bool,
                reply: Callable[[str], None]) -> None:
        """Store one image or file message as evidence and answer through ``reply`` (when it should)."""
        message_id = str(message.get("id") or "")
        image_set = message.get("imageSet") if isinstance(message.get("imageSet"), dict) else None
        # An image set arrives as one event per image, each with its own reply token; answering only
        # the last keeps the chat quiet (nicer in 1:1, and groups must never be spammed).
        answer = image_set is None or image_set.get("index") == image_set.get("total")
        kind = "image" if message.get("type") == "image" else "file"
        file_name = clean_text(str(message.get("fileName") or ""))
        if kind == "file" and not file_allowed(file_name):
            if private:
                reply(BAD_FILE_TEXT)
            return
        target = self._target(user_id, chat_id, now)
        if target is None:
            if private and answer:
                reply(format_number(NO_TARGET_TEXT, self.office.config.numerals))
            return
        if not any(e.get("message_id") == message_id for e in target.evidence):  # a re-run attaches once
            try:
                data, _ = self.line.content(message_id)  # LINE's content type is the sender's claim: unused
            except LineApiError as e:
                if e.retryable:
                    from ita_bot.chat.journal import RetryLater

                    raise RetryLater(f"content download: LINE {e.status or 'unreachable'}") from None
                log.warning("evidence content not available: LINE %s", e.status)
                if answer:
                    reply(FETCH_FAILED_TEXT)
                return
            found = evidence_type(kind, data, file_name)
            if found is None:
                log.info("evidence refused: the %s's bytes are not an accepted type", kind)
                if private:
                    reply(BAD_FILE_TEXT)
                return
            relative = PurePosixPath(str(target.fiscal_year), target.id, f"{message_id}.{found.ext}")
            self.office.store.write_file(self.office.store.evidence_dir / relative, data)
            evidence: dict[str, Any] = {
                "file": str(relative),  # relative to office.store.evidence_dir
                "kind": kind,
                "name": f"{message_id}.{found.ext}" if kind == "image" else file_name,
                "content_type": found.content_type,
                "size": len(data),
                "message_id": message_id,
                "received_at": now.isoformat(),
            }
            if image_set is not None:
                evidence["image_set"] = str(image_set.get("id") or "")
            target = self.office.reports.attach_evidence(target.fiscal_year, target.id, evidence)
            log.info("evidence (%s) attached to a report", kind)
        if answer:
            reply(self._confirmation(target, kind, file_name, image_set))

    def _confirmation(self, report: Report, kind: str, file_name: str, image_set: dict[str, Any] | None) -> str:
        numerals = self.office.config.numerals
        division = report.division
        plan = self.office.plan_for(report.fiscal_year) or self.office.plan
        with contextlib.suppress(KeyError):  # a division no longer in the plan: show its id
            division = plan.division_by_id(report.division).name
        where = f"รายงานมาตรการที่ {format_number(report.measure, numerals)} ({division})"
        total = len(report.evidence)
        if kind == "file":
            what = f"แนบไฟล์ “{file_name}”"
        elif image_set is not None:
            count = sum(1 for e in report.evidence if e.get("image_set") == str(image_set.get("id") or ""))
            what = f"แนบรูปภาพ {format_number(count, numerals)} รูป"
        else:
            what = "แนบรูปภาพ"
        return f"✅ {what} กับ{where}แล้วค่ะ (หลักฐานทั้งหมด {format_number(total, numerals)} รายการ)"
