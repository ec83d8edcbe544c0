"""Evidence types: which files are accepted as evidence, decided from their bytes and name (never a claim)."""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = ["FILE_TYPES", "IMAGE_TYPES", "EvidenceFile", "EvidenceType", "evidence_file", "evidence_type",
           "file_allowed"]

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


@dataclass(frozen=True)
class EvidenceFile:
    """A stored evidence file ready to serve: where it is and what its bytes are."""

    path: Path
    type: EvidenceType


def evidence_file(root: Path, item: Mapping[str, Any]) -> EvidenceFile | None:
    """A report's stored evidence entry as a file to serve, or None when it must not be served.

    The stored path must stay inside the evidence folder, and the type comes from the bytes, never from what
    was stored with the file: entries from before the type check kept the sender's claim (e.g. text/html).
    """
    folder = root.resolve()
    path = (folder / str(item.get("file", ""))).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        return None
    found = evidence_type(str(item.get("kind") or "file"), path.read_bytes(), str(item.get("name") or ""))
    return EvidenceFile(path, found) if found else None
