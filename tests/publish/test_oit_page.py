"""The year page the OIT items point at: items, approval, snapshots, generation time, its PDF, and snapshot routes."""

from __future__ import annotations

import html as html_lib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pytest

from ita_bot.domain.config import Config
from ita_bot.domain.links import report_pdf_url, report_url, snapshot_url
from ita_bot.domain.publication import SnapshotInfo
from ita_bot.publish import oit_page
from ita_bot.publish.disclosure import NotFound
from ita_bot.publish.oit_page import render_year_page
from ita_bot.publish.pdf_cache import PdfCache
from tests.publish.oit_site import O26, O42, O43, REPORTERS, OitSite, at

pytestmark = pytest.mark.backends("tinydb", "postgresql")
NOW = at(2021, 3, 5, 14, 30)
PDFTOTEXT = shutil.which("pdftotext")


@pytest.fixture
def site(make_config: Callable[..., Config], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> OitSite:
    s = OitSite(make_config, tmp_path, web={"public_evidence": True})
    s.office.now = lambda: NOW
    return s


def text_of(page: str) -> str:
    """The page's visible words on one line each run (tags dropped, entities and spaces folded)."""
    page = re.sub(r"(?s)<(style|script)\b.*?</\1>", " ", page)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", page)))


def freeze(site: OitSite, when: tuple[int, ...], by: str = "เลขาทดสอบ") -> SnapshotInfo:
    """Freeze the page as the console's button does: render the frozen variant, make its PDF bytes, keep both."""
    taken_at = at(*when)
    number = len(site.office.publications.snapshots(2564)) + 1
    with site.app.test_request_context("/"):
        html = render_year_page(site.office, 2564, taken_at, root="",
                                snapshot=SnapshotInfo(2564, number, taken_at, by, ""))
    return site.office.publications.add_snapshot(2564, taken_at=taken_at, taken_by=by, html=html.encode("utf-8"),
                                                 pdf=b"%PDF-1.7 frozen " + str(number).encode())


# --------------------------------------------------------------------------------------------- the page


def test_the_page_names_every_oit_item_covering_its_year_with_office_year_and_times(site: OitSite) -> None:
    site.seed()
    page = site.get("/reports/2564")
    assert page.status_code == 200
    text = text_of(page.text)
    # The OIT items of this year's list and the next year's report item, each with its exact code and title.
    for item in (O42, O43, O26):
        assert f"{item.code} {item.title}" in text
    assert text.index("O42") < text.index("O43") < text.index("O26")
    assert "แบบ OIT ปี พ.ศ. 2565: รายงานผลการดำเนินการของปีงบประมาณ พ.ศ. 2564" in text
    assert "องค์การบริหารส่วนตำบลหนองเมือง" in text and "ประจำปีงบประมาณ พ.ศ. 2564" in text
    assert "ข้อมูล ณ วันที่ 5 มี.ค. 2564 14:30 น. (รายงานผลล่าสุดเมื่อ 22 กุมภาพันธ์ 2564)" in text
    assert "สร้างหน้านี้เมื่อ 5 มี.ค. 2564 14:30 น. (เวลาประเทศไทย)" in text
    # The items come first: before the assessment and the measures.
    assert text.index("O42") < text.index("ผลการประเมิน ITA") < text.index("มาตรการที่ 1")
    assert f'href="{report_pdf_url("", 2564)}"' in page.text
    # Per measure: responsible divisions, period, the dated actions, evidence (public here) and status.
    assert "ผู้รับผิดชอบ สำนักงานปลัด, กองคลัง, กองช่าง" in text
    assert "ระยะเวลา ปีงบประมาณ" in text
    assert "15 ก.พ. 2564 กำลังดำเนินการ 50% — ประชาสัมพันธ์ขั้นตอนการให้บริการทางเว็บไซต์แล้ว" in text
    assert re.search(r'href="/reports/2564/evidence/[0-9a-f]+/1"', page.text)


def test_a_year_nothing_in_oit_points_at_has_no_oit_block(site: OitSite) -> None:
    page = site.get("/reports/2563")
    assert page.status_code == 200 and "ตัวชี้วัดการเปิดเผยข้อมูลสาธารณะ (OIT)" not in page.text


def test_the_page_never_names_staff(site: OitSite) -> None:
    site.seed()
    site.approve()
    freeze(site, (2021, 3, 3, 9))
    for path in ("/reports/2564", snapshot_url("", 2564, 1)):
        page = site.get(path).text
        for name in (*REPORTERS, "เลขาทดสอบ"):  # reporters, and who recorded the approval or froze the page
            assert name not in page, (path, name)
        assert not re.search(r"U[0-9a-f]{32}", page)


def test_reporter_names_only_with_show_names(make_config: Callable[..., Config], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    site = OitSite(make_config, tmp_path, web={"show_names": True})
    site.seed()
    assert "ผู้รายงาน: สมชาย ใจดี" in site.get("/reports/2564").text


def test_the_approval_block_once_recorded_and_a_neutral_note_before(site: OitSite) -> None:
    before = text_of(site.get("/reports/2564").text)
    assert "ความเห็นชอบของผู้บริหาร" in before and "อยู่ระหว่างเสนอผู้บริหารพิจารณาให้ความเห็นชอบ" in before
    site.approve()
    after = text_of(site.get("/reports/2564").text)
    assert "อยู่ระหว่างเสนอ" not in after
    assert "นายสมศักดิ์ รักษ์ถิ่น นายกองค์การบริหารส่วนตำบลหนองเมือง ให้ความเห็นชอบเมื่อวันที่ 1 มีนาคม 2564" in after


def test_the_snapshot_list_marks_the_latest_current_and_links_html_and_pdf(site: OitSite) -> None:
    assert 'id="snapshots"' not in site.get("/reports/2564").text  # none yet: no list
    freeze(site, (2021, 3, 3, 9))
    freeze(site, (2021, 3, 4, 16, 5))
    page = site.get("/reports/2564").text
    text = text_of(page)
    assert "ฉบับที่ 2 ตรึงเมื่อ 4 มี.ค. 2564 16:05 น. (ฉบับปัจจุบัน)" in text
    assert "ฉบับที่ 1 ตรึงเมื่อ 3 มี.ค. 2564 09:00 น. (มีฉบับใหม่กว่า)" in text
    assert text.index("ฉบับที่ 2") < text.index("ฉบับที่ 1")  # newest first
    for n in (1, 2):
        assert f'href="{snapshot_url("", 2564, n)}"' in page and f'href="{snapshot_url("", 2564, n, pdf=True)}"' in page


def test_the_year_json_carries_oit_items_approval_and_snapshots_never_who_recorded_them(site: OitSite) -> None:
    site.seed()
    before = json.loads(site.get("/reports/2564.json").data)
    assert before["approval"] is None and before["snapshots"] == []
    site.approve()
    freeze(site, (2021, 3, 3, 9), by="เลขาผู้ตรึง")
    freeze(site, (2021, 3, 4, 16, 5), by="เลขาผู้ตรึง")
    r = site.get("/reports/2564.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    data = json.loads(r.data)
    # The contract's fields are as they were.
    assert data["fiscal_year"] == 2564 and data["organization"] == "องค์การบริหารส่วนตำบลหนองเมือง"
    assert [m["number"] for m in data["measures"]] == [1, 2, 3, 4]
    assert data["oit"] == [
        {"code": "O42", "title": O42.title, "covers": "measures", "fiscal_year": 2564, "list_year": 2564},
        {"code": "O43", "title": O43.title, "covers": "report", "fiscal_year": 2564, "list_year": 2564},
        {"code": "O26", "title": O26.title, "covers": "report", "fiscal_year": 2564, "list_year": 2565},
    ]
    assert data["approval"] == {"name": "นายสมศักดิ์ รักษ์ถิ่น", "position": "นายกองค์การบริหารส่วนตำบลหนองเมือง",
                                "approved_on": "2021-03-01"}
    base = "https://ita.example.go.th"
    assert data["snapshots"] == [
        {"number": 1, "taken_at": "2021-03-03T09:00:00+07:00",
         "url": snapshot_url(base, 2564, 1), "pdf_url": snapshot_url(base, 2564, 1, pdf=True)},
        {"number": 2, "taken_at": "2021-03-04T16:05:00+07:00",
         "url": snapshot_url(base, 2564, 2), "pdf_url": snapshot_url(base, 2564, 2, pdf=True)},
    ]  # fmt: skip
    # Who recorded the approval or froze a snapshot stays in the console.
    assert "เลขาทดสอบ" not in r.text and "เลขาผู้ตรึง" not in r.text
    assert "recorded" not in r.text and "taken_by" not in r.text
    # A year nothing in OIT points at has an empty list, not a missing field.
    assert json.loads(site.get("/reports/2563.json").data)["oit"] == []


def test_the_frozen_variant_has_its_banner_and_no_snapshot_list(site: OitSite) -> None:
    freeze(site, (2021, 3, 3, 9))
    with site.app.test_request_context("/o/nongmuang/reports/2564"):
        frozen = render_year_page(site.office, 2564, at(2021, 3, 6, 8), root="/o/nongmuang",
                                  snapshot=SnapshotInfo(2564, 2, at(2021, 3, 6, 8), "เลขาทดสอบ", ""))
    text = text_of(frozen)
    assert "ฉบับตรึงเพื่อส่ง ITAS ตรึงเมื่อ 6 มี.ค. 2564 08:00 น." in text
    assert f'href="{report_url("/o/nongmuang", 2564)}"' in frozen  # the live page
    assert f'href="{snapshot_url("/o/nongmuang", 2564, 2, pdf=True)}"' in frozen  # its own PDF
    assert 'id="snapshots"' not in frozen and "ฉบับปัจจุบัน" not in frozen


def test_render_year_page_is_what_the_route_serves_and_refuses_a_year_without_plan(site: OitSite) -> None:
    site.seed()
    with site.app.test_request_context("/reports/2564"):
        assert render_year_page(site.office, 2564, NOW, root="") == site.get("/reports/2564").text
        with pytest.raises(NotFound):
            render_year_page(site.office, 2570, NOW, root="")


@pytest.mark.parametrize("path", ["/reports/2570", "/reports/2570.pdf", "/reports/abc.pdf"])
def test_a_year_without_plan_is_a_thai_404(site: OitSite, path: str) -> None:
    page = site.get(path)
    assert page.status_code == 404 and "ไม่พบ" in page.text and page.mimetype == "text/html"


# --------------------------------------------------------------------------------------------- snapshots


def test_snapshots_are_served_byte_for_byte_with_a_long_cache(site: OitSite) -> None:
    site.seed()
    first = freeze(site, (2021, 3, 3, 9))
    kept = site.office.publications.snapshot_file(2564, 1, "html")
    assert kept is not None
    # A report after the freeze changes the live page, never the snapshot.
    site.seed()
    page = site.get(snapshot_url("", 2564, first.number))
    assert page.status_code == 200 and page.data == kept and page.mimetype == "text/html"
    assert "immutable" in page.headers["Cache-Control"] and "max-age=31536000" in page.headers["Cache-Control"]
    assert page.data.decode() != site.get("/reports/2564").text
    pdf = site.get(snapshot_url("", 2564, first.number, pdf=True))
    assert pdf.status_code == 200 and pdf.data == b"%PDF-1.7 frozen 1" and pdf.mimetype == "application/pdf"
    assert "immutable" in pdf.headers["Cache-Control"]
    assert "ฉบับที่ 1.pdf" in unquote(pdf.headers["Content-Disposition"])


@pytest.mark.parametrize("path", ["/reports/2564/snapshots/2", "/reports/2564/snapshots/2.pdf",
                                  "/reports/2564/snapshots/0", "/reports/2564/snapshots/abc",
                                  "/reports/2564/snapshots/1.docx", "/reports/2563/snapshots/1",
                                  "/reports/xyz/snapshots/1"])
def test_unknown_snapshots_are_a_thai_404(site: OitSite, path: str) -> None:
    freeze(site, (2021, 3, 3, 9))
    page = site.get(path)
    assert page.status_code == 404 and "ไม่พบฉบับตรึง" in page.text


@pytest.mark.backends("tinydb")  # on PostgreSQL a kept snapshot row cannot be changed at all (a trigger)
def test_a_snapshot_changed_on_disk_is_never_served_altered(site: OitSite, caplog: pytest.LogCaptureFixture) -> None:
    freeze(site, (2021, 3, 3, 9))
    kept = Path(site.office.config.db_path).parent / "snapshots" / "2564" / "1.html"
    kept.write_bytes(kept.read_bytes().replace("สำนักงานปลัด".encode(), "กองอื่น".encode()))
    page = site.get(snapshot_url("", 2564, 1))
    assert page.status_code == 503 and "ยังเปิดฉบับตรึงนี้ไม่ได้" in page.text and "กองอื่น" not in page.text
    assert "snapshot 2564/1.html could not be served" in caplog.text
    assert site.get(snapshot_url("", 2564, 1, pdf=True)).status_code == 200  # its PDF is intact


def test_snapshot_addresses_leave_the_cycle_pages_alone(site: OitSite) -> None:
    site.seed()
    freeze(site, (2021, 3, 3, 9))
    assert site.get("/reports/2564/2021-02").status_code == 200
    assert site.get("/reports/2564/2021-02.csv").status_code == 200
    listing = site.get("/reports/2564/snapshots")
    assert listing.status_code == 302 and listing.headers["Location"].endswith("/reports/2564#snapshots")


# --------------------------------------------------------------------------------------------- the PDF


def skeleton(text: str) -> str:
    """Thai text reduced to what survives PDF text extraction with the TLWG fonts: base letters in order.

    pdftotext reads their shared glyphs back loosely (SARA AM and SARA AA swap, upper vowels and tone marks come
    out after the next letter, spaces appear around them); the letters themselves come back exactly. Rendering
    (marks in place, lines broken between words) is checked by looking at the pages, not here.
    """
    text = text.replace("\u0e33", "\u0e32")  # SARA AM → SARA AA
    text = re.sub("[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]", "", text)  # above/below vowels, tone marks
    return re.sub(r"\s+", "", text)


@pytest.mark.slow  # WeasyPrint starts ldconfig when it loads its libraries
@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (Debian poppler-utils) is not installed here")
def test_the_pdf_is_the_page_in_thai(site: OitSite, tmp_path: Path) -> None:
    site.seed()
    site.approve()
    response = site.get("/reports/2564.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    disposition = unquote(response.headers["Content-Disposition"])
    assert 'filename="ita-2564.pdf"' in disposition
    assert "ผลการดำเนินการตามมาตรการ ITA ปีงบประมาณ 2564.pdf" in disposition
    pdf = tmp_path / "year.pdf"
    pdf.write_bytes(response.data)
    extracted = subprocess.run([str(PDFTOTEXT), "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                               check=True, timeout=60).stdout
    fonts = subprocess.run([str(PDFTOTEXT).replace("pdftotext", "pdffonts"), str(pdf)], capture_output=True,
                           text=True, check=False, timeout=60).stdout
    assert "Laksaman" in fonts or "Sarabun" in fonts, fonts  # a Thai font, embedded
    got = skeleton(extracted)
    page = site.get("/reports/2564").text
    plan = site.office.plan_for(2564)
    assert plan is not None
    wanted = ["องค์การบริหารส่วนตำบลหนองเมือง", "ประจำปีงบประมาณ พ.ศ. 2564",
              *(f"{i.code} {i.title}" for i in (O42, O43, O26)),
              *(m.title for m in plan.measures),
              *{plan.division_name(d) for m in plan.measures for d in m.divisions},
              "นายสมศักดิ์ รักษ์ถิ่น", "สร้างหน้านี้เมื่อ 5 มี.ค. 2564 14:30 น."]
    for key in wanted:
        assert key in text_of(page), key  # the page has it …
        assert skeleton(key) in got, key  # … and so has its PDF
    for name in REPORTERS:
        assert skeleton(name) not in got
    if folder := os.environ.get("ITA_BOT_SCREENSHOTS"):  # the PDF's pages, for a person to look at
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(pdf, Path(folder) / "reports_2564.pdf")


@pytest.mark.slow
def test_the_pdf_is_made_once_per_page(site: OitSite, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real = oit_page.html_to_pdf

    def counting(html: str, **kwargs: str) -> bytes:
        made.append(html)
        return real(html, **kwargs)

    monkeypatch.setattr("ita_bot.publish.pages.html_to_pdf", counting)
    monkeypatch.setattr("ita_bot.publish.pages._pdf_cache", PdfCache())
    first = site.get("/reports/2564.pdf").data
    assert site.get("/reports/2564.pdf").data == first and len(made) == 1
    site.seed()  # a new report: a new page, a new PDF
    assert site.get("/reports/2564.pdf").data != first and len(made) == 2


def test_a_pdf_that_cannot_be_made_is_a_thai_503_and_the_page_still_serves(
    site: OitSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ita_bot.publish.pages._pdf_cache", PdfCache())  # not one this worker made before
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # a host without WeasyPrint: its import fails
    response = site.get("/reports/2564.pdf")
    assert response.status_code == 503 and "ยังสร้างไฟล์ PDF ไม่ได้" in response.text
    assert site.get("/reports/2564").status_code == 200


@pytest.mark.slow
def test_the_pdf_fetches_nothing(tmp_path: Path) -> None:
    """An address in the page (an evidence image, a style sheet, an internal service) is never fetched."""
    hits: list[str] = []

    class Recording(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        (tmp_path / "secret.css").write_text("body { color: red }")
        page = (f'<html><head><link rel="stylesheet" href="{url}/style.css">'
                f'<link rel="stylesheet" href="file://{tmp_path}/secret.css">'
                f'<style>@import url("{url}/import.css"); p {{ background: url("{url}/bg.png") }}</style></head>'
                f'<body><p>ทดสอบ</p><img src="{url}/evidence.png"><img src="/reports/2564/evidence/ab/1">'
                '<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Dw'
                'HwAFBQIAX8jx0gAAAABJRU5ErkJggg=="></body></html>')
        assert oit_page.html_to_pdf(page, base_url=url + "/").startswith(b"%PDF-")
    finally:
        server.shutdown()
        thread.join(10)
    assert hits == []
