"""The answer an office gives in ITAS for an OIT item: the page's address and how to reach it from the main website."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ItasAnswer", "itas_answer"]


@dataclass(frozen=True)
class ItasAnswer:
    """What the console shows for one OIT item: the address, the sentence to paste as-is, and what to do first."""

    url: str
    sentence: str
    advice: str = ""  # "" when the sentence is complete; else what is missing (the sentence then says less)


def itas_answer(page_url: str, site: str, *, path: tuple[str, ...] | None = None, linked_url: str = "",
                checked: bool = False, problem: str = "", frozen: tuple[str, str] | None = None) -> ItasAnswer:
    """The ITAS wording for a year page at ``page_url``.

    ``site``: the office's main website ("" when not set). ``path``: the link texts the last link check followed
    from the main site's first page to ``linked_url`` (the page, its PDF or a snapshot), None when it found none;
    ``checked``: whether a check of this site was made; ``problem``: its Thai reason when the site was unreadable.
    ``frozen``: (when, address) of the latest snapshot, the copy kept for the assessment.

    The sentence only says what is known: a menu path is named only as the check found it, never guessed.
    """
    url = linked_url or page_url
    sentence = f"เผยแพร่ที่ {url}"
    advice = ""
    if path is not None and site:
        if path and all(path):
            clicks = " › ".join(f"“{text}”" for text in path)
            sentence += f" เข้าถึงได้จากหน้าแรกของเว็บไซต์หลักของหน่วยงาน {site} โดยคลิก {clicks}"
        else:
            sentence += f" เข้าถึงได้จากหน้าแรกของเว็บไซต์หลักของหน่วยงาน {site}"
            advice = ("ลิงก์บนเว็บไซต์หลักไม่มีข้อความ (เช่น เป็นรูปภาพ) ระบบจึงบอกชื่อเมนูไม่ได้ "
                      "หากต้องการระบุทางเข้า กรุณาเติมชื่อเมนูตามที่เห็นบนเว็บไซต์หลัก")
    elif not site:
        advice = ("ยังไม่ได้ตั้งที่อยู่เว็บไซต์หลักของหน่วยงาน กรุณาแจ้งผู้ดูแลระบบให้ตั้งไว้ "
                  "แล้วกด “ตรวจลิงก์” ประโยคจะบอกทางเข้าจากเว็บไซต์หลักให้")
    elif problem:
        advice = f"ตรวจลิงก์ครั้งล่าสุดอ่านเว็บไซต์หลักไม่ได้: {problem} กรุณาลองตรวจอีกครั้ง"
    elif checked:
        advice = (f"เว็บไซต์หลัก {site} ยังไม่มีลิงก์มายังหน้านี้ สำนักงาน ป.ป.ช. ให้คะแนน OIT จากลิงก์บนเว็บไซต์หลักเท่านั้น "
                  f"กรุณาให้ผู้ดูแลเว็บไซต์หลักเพิ่มลิงก์ไปที่ {page_url} แล้วกด “ตรวจลิงก์” อีกครั้ง")
    else:
        advice = "ยังไม่ได้ตรวจลิงก์จากเว็บไซต์หลัก กด “ตรวจลิงก์” ประโยคจะบอกทางเข้าจากเว็บไซต์หลักให้"
    if frozen is not None:
        when, address = frozen
        sentence += f" ฉบับที่ใช้ประกอบการประเมินตรึงไว้เมื่อ {when} อยู่ที่ {address}"
    return ItasAnswer(url, sentence, advice)
