"""evidence_type: the type comes from the bytes (and a file's name), never from what the sender claimed."""

from __future__ import annotations

import io
import zipfile

import pytest

from ita_bot.domain.evidence import evidence_type


def ooxml(part: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(part, "<x/>")
    return out.getvalue()


@pytest.mark.parametrize("kind,data,name,expected", [
    ("image", b"\xff\xd8\xff\xe0rest", "", ("jpg", "image/jpeg")),
    ("image", b"\x89PNG\r\n\x1a\nrest", "", ("png", "image/png")),
    ("image", b"GIF89a....", "", ("gif", "image/gif")),
    ("image", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "", ("webp", "image/webp")),
    ("file", b"%PDF-1.7\n", "a.PDF", ("pdf", "application/pdf")),
    ("file", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(8), "a.doc", ("doc", "application/msword")),
    ("file", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(8), "a.xls", ("xls", "application/vnd.ms-excel")),
    ("file", ooxml("word/document.xml"), "a.docx",
     ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")),
    ("file", ooxml("xl/workbook.xml"), "a.xlsx", ("xlsx",
                                                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
])
def test_accepted_types(kind: str, data: bytes, name: str, expected: tuple[str, str]) -> None:
    found = evidence_type(kind, data, name)
    assert found is not None and (found.ext, found.content_type) == expected


@pytest.mark.parametrize("kind,data,name", [
    ("image", b"<svg xmlns='http://www.w3.org/2000/svg'/>", ""),
    ("image", b"<!doctype html>", ""),
    ("image", b"%PDF-1.4", ""),
    ("file", b"<html><script>", "a.pdf"),
    ("file", b"%PDF-1.4", "a.html"),
    ("file", b"%PDF-1.4", "a.docx"),
    ("file", ooxml("xl/workbook.xml"), "a.docx"),
    ("file", b"PK\x03\x04 not a zip", "a.xlsx"),
    ("file", b"\xff\xd8\xff\xe0", "photo.jpg"),
    ("file", b"", "a.pdf"),
])
def test_refused(kind: str, data: bytes, name: str) -> None:
    assert evidence_type(kind, data, name) is None
