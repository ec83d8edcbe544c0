"""Text as it enters the domain: one cleaner for every door (chat, console forms, plan files, restore)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_text", "strip_invisible"]

# XML 1.0 allows tab, LF and CR among the C0 controls, no lone surrogates and not U+FFFE/U+FFFF.
# python-docx refuses a document holding any of them, so one such character in one report or plan
# field used to break the whole cycle's memo.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Text pasted from Word carries vertical tabs (Shift+Enter) and form feeds (page breaks) where the
# author meant a new line; a single-line field later folds the line break into a space.
_LINE_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n"})
# SARA AM typed as NIKHAHIT + SARA AA looks exactly like U+0E33 but matches no word that has it
# ("กําลังทํา" is not "กำลังทำ"). A tone mark typed between the two belongs before SARA AM.
_SARA_AM = re.compile("\u0e4d([\u0e48-\u0e4b]?)\u0e32")
# Two SARA E look exactly like SARA AE; no Thai word has two SARA E in a row, so this is always a
# keyboard habit, never meant ("เสร็จเเล้ว" is "เสร็จแล้ว").
_DOUBLE_SARA_E = "\u0e40\u0e40"
# Invisible characters LINE clients and copy-paste insert: zero-width space, non-joiner, joiner, word
# joiner, byte-order mark.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE_RUN = re.compile(f"[{_INVISIBLE}]+")


def clean_text(text: str) -> str:
    """The text in one canonical form: XML-illegal characters dropped (vertical tab and form feed become line
    breaks), Unicode NFC, and Thai typed as look-alike sequences composed (SARA AM, SARA AE)."""
    text = _XML_ILLEGAL.sub("", text.translate(_LINE_BREAKS))
    if "\u0e4d" in text:
        text = _SARA_AM.sub("\\1\u0e33", text)
    return unicodedata.normalize("NFC", text.replace(_DOUBLE_SARA_E, "\u0e41"))


def _shapes_other_script(ch: str) -> bool:
    """Whether an invisible character next to `ch` may carry meaning: an emoji's ZWJ sequence, a variation
    selector, or a joiner inside a script that uses them (Devanagari, Arabic...), but not Thai or ASCII."""
    return bool(ch) and not (ch.isspace() or ch.isascii() or "\u0e00" <= ch <= "\u0e7f")


def strip_invisible(text: str) -> str:
    """The text without the invisible characters that could hide a command word, a number or a status word.

    An invisible character is dropped where it touches Thai, ASCII or space (what commands, numbers and status
    words are made of) and kept elsewhere, so a family emoji keeps the zero-width joiners that make it one
    picture and scripts that need a joiner keep it.
    """

    def keep_or_drop(m: re.Match[str]) -> str:
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        return m[0] if _shapes_other_script(before) and _shapes_other_script(after) else ""

    return _INVISIBLE_RUN.sub(keep_or_drop, text)
