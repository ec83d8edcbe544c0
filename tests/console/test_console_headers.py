"""Every console answer carries a CSP and nosniff, and an evidence file never runs as a page under /admin."""

from __future__ import annotations

from typing import Any

import pytest

from ita_bot.domain.reports import Report
from tests.conftest import SECRETARY, STAFF_SP
from tests.console_harness import Browser

pytestmark = pytest.mark.backends("tinydb", "postgresql")

PAGE = b"<!doctype html><html><body><script>fetch('/admin/members')</script>evidence</body></html>"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def stored_report(bot: Any, files: list[tuple[str, bytes, dict[str, str]]]) -> Report:
    """A report with evidence written straight to the store, as data from before the type check was."""
    report = bot.office.reports.add(Report(2564, 1, "sp", "doing", 50, "ทดสอบ", bot.now, bot.now,
                                           chat_id="C1", reporter_id=STAFF_SP, reporter_name="สมชาย สป"))
    for n, (name, data, item) in enumerate(files, start=1):
        rel = f"2564/{report.id}/{n}-{name}"
        bot.office.repositories.evidence.save(rel, data)
        report = bot.office.reports.attach_evidence(2564, report.id, {"file": rel, "name": name, **item})
    return report


def assert_console_headers(response: Any) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    for rule in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"):
        assert rule in csp, (rule, csp)
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]


def test_evidence_stored_as_a_web_page_never_runs_in_the_console(bot: Any) -> None:
    """A file stored as text/html before the type check is never served as a page: refused, or sandboxed."""
    report = stored_report(bot, [("page.html", PAGE, {"kind": "file", "content_type": "text/html"}),
                                 ("photo.png", PNG, {"kind": "image", "content_type": "text/html"})])
    browser = Browser(bot)
    browser.sign_in(SECRETARY)

    html = browser.get(f"/admin/evidence/2564/{report.id}/1")
    assert html.status_code == 404
    assert PAGE not in html.get_data()

    photo = browser.get(f"/admin/evidence/2564/{report.id}/2")
    assert photo.status_code == 200 and photo.get_data() == PNG
    assert photo.headers["Content-Type"] == "image/png"  # from the bytes, not the stored claim
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in photo.headers["Content-Security-Policy"]
    assert "default-src 'none'" in photo.headers["Content-Security-Policy"]


def test_a_pdf_evidence_downloads_rather_than_opens(bot: Any) -> None:
    """Only images open in the browser; any other evidence is a download."""
    report = stored_report(bot, [("plan.pdf", b"%PDF-1.4\n%%EOF\n", {"kind": "file", "content_type": "text/html"})])
    browser = Browser(bot)
    browser.sign_in(SECRETARY)
    pdf = browser.get(f"/admin/evidence/2564/{report.id}/1")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"


def test_an_evidence_file_carries_validators_a_conditional_request_honours(bot: Any) -> None:
    """Served with its length and validators: a request naming the same version gets 304, not the file."""
    report = stored_report(bot, [("photo.png", PNG, {"kind": "image", "content_type": "image/png"})])
    browser = Browser(bot)
    browser.sign_in(SECRETARY)
    photo = browser.get(f"/admin/evidence/2564/{report.id}/1")
    assert photo.status_code == 200 and photo.headers["ETag"]
    assert photo.headers["Content-Length"] == str(len(PNG)) and photo.headers["Last-Modified"]
    again = browser.get(f"/admin/evidence/2564/{report.id}/1", headers={"If-None-Match": photo.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    since = browser.get(f"/admin/evidence/2564/{report.id}/1",
                        headers={"If-Modified-Since": photo.headers["Last-Modified"]})
    assert since.status_code == 304


def test_every_console_answer_has_a_csp_and_nosniff(bot: Any) -> None:
    """Pages, the sign-in help, an unknown address and a refused form all carry the console's CSP and nosniff."""
    browser = Browser(bot)
    assert_console_headers(browser.get("/admin/login"))
    browser.sign_in(SECRETARY)
    for path in ("/admin", "/admin/members", "/admin/meetings", "/admin/history", "/admin/plans", "/admin/nothing"):
        response = browser.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
        assert_console_headers(response)
        assert "<script>" not in response.get_data(as_text=True)  # no inline script: the CSP would block it
    assert_console_headers(browser.post("/admin/members/approve", {"person": "x"}, token=None))
