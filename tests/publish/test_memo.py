"""The meeting report memo (บันทึกข้อความ DOCX): memo layout, Thai digits, and fonts that reach Thai text in Word."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, datetime
from urllib.parse import unquote

import docx
import pytest
from docx.oxml.ns import qn

from ita_bot.domain.config import Config
from ita_bot.domain.progress import Report
from ita_bot.domain.thai import BANGKOK, THAI
from ita_bot.domain.wording import NOT_THIS_CYCLE, NOTHING_OWED, PENDING_HEADING
from ita_bot.publish import disclosure
from ita_bot.publish.memo import FONT, build_memo, memo_date
from ita_bot.web import create_app
from tests.conftest import STAFF_KLANG, STAFF_SP

DOCUMENTS = {
    "office": "องค์การบริหารส่วนตำบลหนองเมือง อำเภอบ้านหมี่ จังหวัดลพบุรี",
    "reference_prefix": "ลป ๓๕๔๐๑",
    "addressee": "นายกองค์การบริหารส่วนตำบลหนองเมือง",
    "signer_name": "นายนันท์พัชร์ นามารอ่อนสี",
    "signer_position": "นักทรัพยากรบุคคล เลขานุการคณะกรรมการ",
}
ARABIC_DIGIT = re.compile(r"[0-9]")
THAI_DIGIT = re.compile(r"[๐-๙]")
THAI_MEMOS = {"numerals": "thai"}  # the customary choice for an office's memos


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BANGKOK)


@pytest.fixture
def make_office(make_config: Callable[..., Config]) -> Callable[..., object]:
    def make(**sections: dict[str, object]) -> object:
        app = create_app(make_config(documents=DOCUMENTS, **sections), start_worker=False)
        office = app.extensions["ita_bot"].office
        add = office.reports.add
        add(Report(2564, 4, "sp", "done", 100, "แต่งตั้งผู้ดูแลเว็บไซต์ 3 คน", at(2021, 1, 20, 9), at(2021, 1, 20, 9),
                   reporter_id=STAFF_SP, reporter_name="สมชาย ใจดี"))  # fmt: skip
        report = add(Report(2564, 1, "sp", "doing", 50, "ประชาสัมพันธ์ขั้นตอนการให้บริการทางเว็บไซต์แล้ว",
                            at(2021, 2, 15, 10), at(2021, 2, 15, 10), reporter_id=STAFF_SP,
                            reporter_name="สมชาย ใจดี"))  # fmt: skip
        office.reports.attach_evidence(2564, report.id, {"file": "x.jpg", "kind": "image", "name": "x.jpg",
                                                         "content_type": "image/jpeg"})  # fmt: skip
        add(Report(2564, 4, "klang", "blocked", None, "ยังไม่มีงบประมาณจ้างพัฒนาระบบ E-service",
                   at(2021, 2, 20, 9), at(2021, 2, 20, 9), reporter_id=STAFF_KLANG,
                   reporter_name="มานี มีนา"))  # fmt: skip
        return app

    return make


def memo_of(app: object, month: str = "2021-02") -> tuple[docx.document.Document, object]:
    response = app.test_client().get(f"/reports/2564/{month}.docx")  # type: ignore[attr-defined]
    assert response.status_code == 200
    return docx.Document(io.BytesIO(response.data)), response


def text_of(document: docx.document.Document) -> str:
    return "\n".join(p.text for p in document.paragraphs)


def test_memo_reads_as_a_thai_government_memo(make_office: Callable[..., object]) -> None:
    document, response = memo_of(make_office(display=THAI_MEMOS))
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    disposition = response.headers["Content-Disposition"]
    assert 'filename="ita-2564-2021-02.docx"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "รายงานผลมาตรการ ITA กุมภาพันธ์ 2564.docx"

    lines = [p.text for p in document.paragraphs]
    assert lines[0] == "บันทึกข้อความ"
    assert lines[1] == "ส่วนราชการ  องค์การบริหารส่วนตำบลหนองเมือง อำเภอบ้านหมี่ จังหวัดลพบุรี"
    # The clock is past the meeting: the memo carries the meeting's date; the number after the prefix is
    # filled in by hand when the memo is registered.
    assert lines[2] == "ที่  ลป ๓๕๔๐๑/\tวันที่  ๒๕ กุมภาพันธ์ ๒๕๖๔"
    assert lines[3] == (
        "เรื่อง  รายงานผลการดำเนินการตามมาตรการส่งเสริมคุณธรรมและความโปร่งใส ประจำเดือนกุมภาพันธ์ ๒๕๖๔"
    )
    assert "เรียน  นายกองค์การบริหารส่วนตำบลหนองเมือง" in lines
    text = text_of(document)
    assert "ประจำปีงบประมาณ พ.ศ. ๒๕๖๔" in text
    assert "การประชุมพนักงานประจำเดือนกุมภาพันธ์ ๒๕๖๔ วันที่ ๒๕ กุมภาพันธ์ ๒๕๖๔" in text
    # Each measure with its divisions' status and this cycle's work.
    assert "มาตรการที่ ๑ ให้พัฒนาคุณภาพการดำเนินงาน" in lines
    assert "- สำนักงานปลัด: กำลังดำเนินการ ร้อยละ ๕๐ (รายงานล่าสุด ๑๕ ก.พ. ๒๕๖๔)" in lines
    assert (
        "๑๕ ก.พ. ๒๕๖๔ กำลังดำเนินการ ร้อยละ ๕๐: ประชาสัมพันธ์ขั้นตอนการให้บริการทางเว็บไซต์แล้ว (หลักฐาน ๑ รายการ)"
        in lines
    )
    assert "- กองคลัง: ติดปัญหา (รายงานล่าสุด ๒๐ ก.พ. ๒๕๖๔)" in lines
    assert "- สำนักงานปลัด: เสร็จสิ้น ร้อยละ ๑๐๐ (รายงานล่าสุด ๒๐ ม.ค. ๒๕๖๔)" in lines
    assert "แต่งตั้งผู้ดูแลเว็บไซต์ ๓ คน" not in text, "January's work is not this cycle's"
    # Who is pending, the problems, the closing and the signer.
    assert "หน่วยงานที่ยังไม่ได้รายงานผลในรอบนี้: สำนักงานปลัด (มาตรการที่ ๒, ๓) กองช่าง (มาตรการที่ ๔)" in lines
    assert "ปัญหาและอุปสรรค: กองคลัง มาตรการที่ ๔ ยังไม่มีงบประมาณจ้างพัฒนาระบบ E-service" in lines
    closing = lines.index("จึงเรียนมาเพื่อโปรดทราบ")
    signer = lines.index("(นายนันท์พัชร์ นามารอ่อนสี)")
    assert closing < signer and lines[signer + 1] == "นักทรัพยากรบุคคล เลขานุการคณะกรรมการ"
    # PDPA: no names without show_names.
    assert "สมชาย ใจดี" not in text and "มานี มีนา" not in text



def test_the_memo_and_the_cycle_page_word_the_cycle_alike(make_office: Callable[..., object]) -> None:
    """A done measure with nothing this cycle, and the pending list's heading, read the same in both records
    of the meeting (the page said "(เสร็จสิ้นแล้ว)" where the memo said "(ดำเนินการเสร็จสิ้นแล้ว)")."""
    app = make_office()
    document, _ = memo_of(app)
    memo = text_of(document)
    page = app.test_client().get("/reports/2564/2021-02").get_data(as_text=True)  # type: ignore[attr-defined]
    for words in (NOTHING_OWED, PENDING_HEADING):
        assert words in memo and words in page

def add_typed_digits(app: object) -> None:
    """A staff report typed with Arabic digits and a web address, as people type in LINE."""
    office = app.extensions["ita_bot"].office  # type: ignore[attr-defined]
    office.reports.add(Report(2564, 2, "sp", "doing", 30, "ประชุมทบทวนช่องทางสื่อสาร รอบ 6 เดือน ที่ www.nongmuang2.go.th",
                              at(2021, 2, 22, 9), at(2021, 2, 22, 9)))  # fmt: skip


def test_with_thai_numerals_every_digit_in_a_memo_line_is_thai_but_web_addresses(
    make_office: Callable[..., object],
) -> None:
    app = make_office(display=THAI_MEMOS)
    add_typed_digits(app)
    document, _ = memo_of(app)
    lines = [p.text for p in document.paragraphs]
    # The bot's own figures and the staff's typed "6" alike: no "ร้อยละ ๓๐: … รอบ 6 เดือน".
    assert "๒๒ ก.พ. ๒๕๖๔ กำลังดำเนินการ ร้อยละ ๓๐: ประชุมทบทวนช่องทางสื่อสาร รอบ ๖ เดือน ที่ www.nongmuang2.go.th" \
        in lines, lines
    leftover = "\n".join(lines).replace("www.nongmuang2.go.th", "")
    assert not ARABIC_DIGIT.search(leftover), ARABIC_DIGIT.findall(leftover)


def test_with_arabic_numerals_the_memo_is_in_arabic_digits(make_office: Callable[..., object]) -> None:
    app = make_office(display={"numerals": "arabic"})
    add_typed_digits(app)
    office = app.extensions["ita_bot"].office  # type: ignore[attr-defined]
    office.reports.add(Report(2564, 3, "sp", "doing", 20, "ติดประกาศ ๒ จุด", at(2021, 2, 23, 9),
                              at(2021, 2, 23, 9)))  # fmt: skip
    document, _ = memo_of(app)
    lines = [p.text for p in document.paragraphs]
    assert "- สำนักงานปลัด: กำลังดำเนินการ ร้อยละ 30 (รายงานล่าสุด 22 ก.พ. 2564)" in lines
    assert "23 ก.พ. 2564 กำลังดำเนินการ ร้อยละ 20: ติดประกาศ 2 จุด" in lines  # typed ๒ follows too
    # (The reference prefix "ลป ๓๕๔๐๑" is the office's own configured text, shown as written, like plan text.)
    bot_and_typed = "\n".join([lines[3]] + [line for line in lines if line.startswith(("- ", "๒", "2"))])
    assert not THAI_DIGIT.search(bot_and_typed), THAI_DIGIT.findall(bot_and_typed)


def test_every_run_sets_the_complex_script_font_and_size(make_office: Callable[..., object]) -> None:
    document, _ = memo_of(make_office())
    runs = [r for p in document.paragraphs for r in p.runs]
    assert runs
    for run in runs:
        rpr = run._element.rPr
        assert rpr is not None, run.text
        fonts = rpr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:cs")) == FONT, run.text
        assert fonts.get(qn("w:ascii")) == FONT and fonts.get(qn("w:hAnsi")) == FONT
        sz, szcs = rpr.find(qn("w:sz")), rpr.find(qn("w:szCs"))
        assert szcs is not None and szcs.get(qn("w:val")) == sz.get(qn("w:val")), run.text
        if run.bold:
            assert rpr.find(qn("w:bCs")) is not None, run.text
    body_runs = [r for r in runs if r.text and not r.bold]
    assert {r.font.size.pt for r in body_runs} == {16.0}
    title = document.paragraphs[0].runs[0]
    assert title.bold and title.font.size.pt > 16
    # Defaults and the Normal style too, with no theme font that would override TH Sarabun New in Word.
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    normal = document.styles["Normal"].element.rPr
    for rpr in (defaults, normal):
        fonts = rpr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:cs")) == FONT and fonts.get(qn("w:ascii")) == FONT
        assert not any(k.endswith("Theme") or k.endswith("theme") for k in fonts.attrib)
        assert rpr.find(qn("w:szCs")).get(qn("w:val")) == "32"
    assert document.styles["Normal"].font.name == FONT and document.styles["Normal"].font.size.pt == 16


def test_memo_page_is_a4_with_official_margins(make_office: Callable[..., object]) -> None:
    document, _ = memo_of(make_office())
    section = document.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    assert round(section.left_margin.cm, 1) == 3.0


def test_names_in_the_memo_only_with_show_names(make_office: Callable[..., object]) -> None:
    document, _ = memo_of(make_office(web={"show_names": True}))
    assert "สมชาย ใจดี" in text_of(document)


def test_memo_is_dated_when_prepared_before_the_meeting(make_config: Callable[..., Config]) -> None:
    app = create_app(make_config(documents=DOCUMENTS), start_worker=False)
    office = app.extensions["ita_bot"].office
    report = disclosure.cycle_report(office, 2564, "2021-02", at(2021, 2, 24, 16))
    assert memo_date(report, date(2021, 2, 24)) == date(2021, 2, 24)
    assert memo_date(report, date(2021, 6, 1)) == date(2021, 2, 25)
    document = docx.Document(io.BytesIO(build_memo(report, office.config.documents, today=date(2021, 2, 24),
                                                    fmt=THAI)))
    assert document.paragraphs[2].text.endswith("วันที่  ๒๔ กุมภาพันธ์ ๒๕๖๔")
    # Nobody reported yet: every pair is pending and said so, in the words chat and the pages use.
    text = text_of(document)
    assert text.count(NOT_THIS_CYCLE) >= 6


def test_memo_without_documents_config_leaves_room_to_fill_in(make_config: Callable[..., Config]) -> None:
    app = create_app(make_config(), start_worker=False)
    office = app.extensions["ita_bot"].office
    report = disclosure.cycle_report(office, 2564, "2021-03", at(2021, 3, 1, 9))
    document = docx.Document(io.BytesIO(build_memo(report, office.config.documents, today=date(2021, 3, 1),
                                                    fmt=office.fmt)))
    lines = [p.text for p in document.paragraphs]
    assert lines[1].startswith("ส่วนราชการ  องค์การบริหารส่วนตำบลหนองเมือง อำเภอบ้านหมี่ จังหวัดลพบุรี")
    assert lines[2].startswith("ที่  ....")
    assert "ทุกหน่วยงานรายงานผลในรอบนี้ครบถ้วนแล้ว" not in lines
    assert any(line.startswith("(....") for line in lines), "a blank signer line to sign on"
