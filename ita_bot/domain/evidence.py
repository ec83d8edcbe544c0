"""Evidence: which files are accepted (decided from their bytes and name, never a claim) and where they are kept."""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, Protocol

__all__ = ["FILE_TYPES", "IMAGE_TYPES", "EvidenceFile", "EvidenceRepository", "EvidenceType", "StoredEvidence",
           "evidence_file", "evidence_name", "evidence_type", "file_allowed", "safe_name"]

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


def evidence_name(fiscal_year: int, report_id: str, file_name: str) -> str:
    """The name an evidence file is kept under: "<fiscal year>/<report id>/<file name>" (a report's evidence
    entry's "file")."""
    return str(PurePosixPath(str(fiscal_year), report_id, file_name))


def safe_name(name: str) -> bool:
    """Whether ``name`` can name a kept evidence file: a relative path of plain parts, none of them "." or "..",
    so no backend can be led outside its evidence (a stored entry's "file" is data, and data can be hostile)."""
    parts = name.split("/")
    return bool(name) and "\\" not in name and "\0" not in name and all(p not in ("", ".", "..") for p in parts)


@dataclass(frozen=True)
class StoredEvidence:
    """An evidence file as kept: its bytes and when they were saved."""

    data: bytes
    saved_at: datetime


class EvidenceRepository(Protocol):
    """Where evidence files' bytes are kept, each under its name (``evidence_name``); written once, never changed."""

    def save(self, name: str, data: bytes) -> None:
        """Keep ``data`` under ``name``, durably and whole (a reader never sees part of it); ValueError for a name
        that is not ``safe_name``. Saving the same name again replaces it (a replayed event's same bytes)."""
        ...

    def open(self, name: str) -> StoredEvidence | None:
        """The file kept under ``name``, or None when there is none (or the name is not ``safe_name``)."""
        ...


@dataclass(frozen=True)
class EvidenceFile:
    """A kept evidence file ready to serve: its bytes, what they are, and when they were saved."""

    data: bytes
    type: EvidenceType
    saved_at: datetime


def evidence_file(evidence: EvidenceRepository, item: Mapping[str, Any]) -> EvidenceFile | None:
    """A report's evidence entry as a file to serve, or None when it must not be served.

    The entry's name must be a safe one, and the type comes from the bytes, never from what was stored with
    the file: entries from before the type check kept the sender's claim (e.g. text/html).
    """
    name = str(item.get("file", ""))
    kept = evidence.open(name) if safe_name(name) else None
    if kept is None:
        return None
    found = evidence_type(str(item.get("kind") or "file"), kept.data, str(item.get("name") or ""))
    return EvidenceFile(kept.data, found, kept.saved_at) if found else None
