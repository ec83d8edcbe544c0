"""The monthly meeting report as a Thai government memo (บันทึกข้อความ) in DOCX, built with python-docx."""

from __future__ import annotations

import io
from datetime import date

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.text.font import CT_RPr
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from ita_bot.domain.config import DocumentSettings
from ita_bot.domain.text import clean_text
from ita_bot.domain.thai import ThaiFormat
from ita_bot.domain.wording import ALL_REPORTED, NOT_THIS_CYCLE, NOTHING_OWED, PENDING_HEADING, status_words
from ita_bot.publish.disclosure import CycleReport

__all__ = ["FONT", "build_memo", "memo_date"]

FONT = "TH Sarabun New"
BODY_PT = 16
LABEL_PT = 20  # the memo form's header words (ส่วนราชการ, ที่, วันที่, เรื่อง), as in the สารบรรณ template
TITLE_PT = 29
INDENT = Cm(2.5)  # paragraph first-line indent of Thai official letters


def memo_date(report: CycleReport, today: date) -> date:
    """The memo is dated the day it is prepared; once the meeting has passed, the meeting's date."""
    return min(today, report.cycle.meeting)


def _fonts(rpr: CT_RPr, size: float | None, bold: bool | None) -> None:
    """Set TH Sarabun New for every script and the complex-script size/bold: Word shapes Thai as complex
    script, so rFonts w:cs and w:szCs are what actually reach Thai text (font.name/font.size do not)."""
    rfonts = rpr.get_or_add_rFonts()
    # Theme font attributes win over named fonts in Word, so the template's theme fonts must go.
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        rfonts.set(qn(attr), FONT)
    if bold is not None:
        rpr.get_or_add_b().set(qn("w:val"), "1" if bold else "0")
        rpr.get_or_add_bCs().set(qn("w:val"), "1" if bold else "0")
    if size is not None:
        half_points = str(round(size * 2))
        sz = rpr.get_or_add_sz()
        sz.set(qn("w:val"), half_points)
        szcs = rpr.find(qn("w:szCs"))
        if szcs is None:
            szcs = OxmlElement("w:szCs")
            sz.addnext(szcs)  # schema order: w:sz then w:szCs
        szcs.set(qn("w:val"), half_points)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath")
    lang.set(qn("w:val"), "th-TH")
    lang.set(qn("w:bidi"), "th-TH")


def _run(paragraph: Paragraph, text: str, *, size: float = BODY_PT, bold: bool = False) -> Run:
    # Text is cleaned where it enters; cleaning again here means a string stored before that (or by a
    # restored archive) can never make the document unwritable: XML has no room for a control character.
    run = paragraph.add_run(clean_text(text))
    _fonts(run._element.get_or_add_rPr(), size, bold)
    return run


def _setup(document: DocxDocument) -> None:
    """A4, the margins of Thai official letters, and TH Sarabun New 16 pt as every default."""
    for section in document.sections:
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.top_margin, section.bottom_margin = Cm(2.5), Cm(2)
        section.left_margin, section.right_margin = Cm(3), Cm(2)
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr_default = defaults.find(qn("w:rPrDefault"))
        rpr = rpr_default.find(qn("w:rPr")) if rpr_default is not None else None
        if rpr is not None:
            _fonts(rpr, BODY_PT, None)
    for name in ("Normal", "Table Grid"):
        try:
            style = document.styles[name]
        except KeyError:
            continue
        style.font.name = FONT
        style.font.size = Pt(BODY_PT)
        _fonts(style.element.get_or_add_rPr(), BODY_PT, None)
    normal = document.styles["Normal"].paragraph_format
    normal.space_before = Pt(0)
    normal.space_after = Pt(0)
    normal.line_spacing = 1.0


def _para(document: DocxDocument, *, indent: bool = False, align: WD_ALIGN_PARAGRAPH | None = None) -> Paragraph:
    p = document.add_paragraph()
    if indent:
        p.paragraph_format.first_line_indent = INDENT
        # Thai distributed justification: the customary alignment of the body of official letters.
        p.alignment = WD_ALIGN_PARAGRAPH.THAI_JUSTIFY
    if align is not None:
        p.alignment = align
    return p


def _labelled(document: DocxDocument, label: str, value: str) -> Paragraph:
    p = _para(document)
    _run(p, label, size=LABEL_PT, bold=True)
    _run(p, f"  {value}")
    return p


def build_memo(report: CycleReport, documents: DocumentSettings, *, today: date, fmt: ThaiFormat) -> bytes:
    """The cycle's meeting report as a memo ready to print and sign (TH Sarabun New 16 pt).

    Digits follow display.numerals (`fmt`; "thai" is the customary choice for memos), and so do the digits
    in what staff typed: one signed document, one kind of digit (web addresses keep theirs).
    """
    org = report.organization
    document = Document()
    _setup(document)

    title = _para(document, align=WD_ALIGN_PARAGRAPH.CENTER)
    _run(title, "บันทึกข้อความ", size=TITLE_PT, bold=True)

    office = documents.office or f"{org.name} {org.district} {org.province}"
    _labelled(document, "ส่วนราชการ", office)
    ref = _para(document)
    # "ที่" and "วันที่" share a line; the number after the prefix is filled in when the memo is registered.
    ref.paragraph_format.tab_stops.add_tab_stop(Cm(8), WD_TAB_ALIGNMENT.LEFT)
    _run(ref, "ที่", size=LABEL_PT, bold=True)
    _run(ref, f"  {documents.reference_prefix}/" if documents.reference_prefix else "  " + "." * 30)
    _run(ref, "\t")
    _run(ref, "วันที่", size=LABEL_PT, bold=True)
    _run(ref, f"  {fmt.date(memo_date(report, today), full_month=True)}")
    month = fmt.month(report.cycle.month)
    _labelled(document, "เรื่อง", f"{report.agenda} ประจำเดือน{month}")
    _para(document)
    addressee = documents.addressee or f"นายก{org.name}"
    _labelled(document, "เรียน", addressee)
    _para(document)

    intro = _para(document, indent=True)
    _run(
        intro,
        f"ตามที่{org.name} ได้กำหนดมาตรการส่งเสริมคุณธรรมและความโปร่งใส ประจำปีงบประมาณ พ.ศ. "
        f"{fmt.num(report.fiscal_year)} และกำหนดให้รายงานผลการดำเนินงานในการประชุมพนักงานทุกเดือน "
        "และแจ้งเวียนให้พนักงานทราบ นั้น",
    )
    now_para = _para(document, indent=True)
    _run(
        now_para,
        f"ในการนี้ ขอรายงานผลการดำเนินการตามมาตรการดังกล่าว เพื่อประกอบการประชุมพนักงาน"
        f"ประจำเดือน{month} วันที่ {fmt.date(report.cycle.meeting, full_month=True)} ดังนี้",
    )

    for m in report.measures:
        head = _para(document, indent=True)
        _run(head, f"มาตรการที่ {fmt.num(m.number)} {m.title}", bold=True)
        for pair in m.pairs:
            line = _para(document, indent=True)
            state = status_words(pair.status, pair.percent, fmt, formal=True)
            if pair.latest is not None:
                state += f" (รายงานล่าสุด {fmt.date(pair.latest.reported_at)})"
            _run(line, f"- {pair.division}: ", bold=True)
            _run(line, state)
            if pair.reports:
                for v in pair.reports:
                    work = _para(document)
                    work.paragraph_format.left_indent = INDENT + Cm(1)
                    text = f"{fmt.date(v.reported_at)} {status_words(v.status, v.percent, fmt, formal=True)}"
                    if v.details:
                        text += f": {fmt.typed(v.details)}"
                    if v.evidence_count:
                        text += f" (หลักฐาน {fmt.num(v.evidence_count)} รายการ)"
                    if v.reporter:
                        text += f" — {v.reporter}"
                    _run(work, text)
            else:
                none = _para(document)
                none.paragraph_format.left_indent = INDENT + Cm(1)
                _run(none, NOT_THIS_CYCLE if pair.pending else NOTHING_OWED)

    pending = _para(document, indent=True)
    if report.pending:
        listed = " ".join(
            f"{d.division} (มาตรการที่ {', '.join(fmt.num(n) for n in d.measures)})" for d in report.pending
        )
        _run(pending, f"{PENDING_HEADING}: ", bold=True)
        _run(pending, listed)
    else:
        _run(pending, ALL_REPORTED)

    if report.blocked:
        problems = _para(document, indent=True)
        _run(problems, "ปัญหาและอุปสรรค: ", bold=True)
        issues = (f"{v.division} มาตรการที่ {fmt.num(v.measure)} {fmt.typed(v.details)}".strip() for v in report.blocked)
        _run(problems, " ".join(issues))

    _para(document)
    closing = _para(document, indent=True)
    _run(closing, "จึงเรียนมาเพื่อโปรดทราบ")

    # Room for the signature, then the signer's name in parentheses and position, centred under it.
    for _ in range(3):
        _para(document)
    name = f"({documents.signer_name})" if documents.signer_name else "(" + "." * 40 + ")"
    for text in (name, documents.signer_position):
        if text:
            sign = _para(document)
            sign.paragraph_format.left_indent = Cm(7)
            sign.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(sign, text)

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
