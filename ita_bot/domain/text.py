"""Text as it enters the domain: characters that XML (and so the DOCX memo) cannot hold never get stored."""

from __future__ import annotations

import re

__all__ = ["clean_text"]

# XML 1.0 allows tab, LF and CR among the C0 controls, no lone surrogates and not U+FFFE/U+FFFF.
# python-docx refuses a document holding any of them, so one such character in one report used
# to break the whole cycle's memo.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Text pasted from Word carries vertical tabs and form feeds where the author meant a new line.
_LINE_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n"})


def clean_text(text: str) -> str:
    """The text without XML-illegal characters (vertical tab and form feed become line breaks)."""
    return _XML_ILLEGAL.sub("", text.translate(_LINE_BREAKS))
