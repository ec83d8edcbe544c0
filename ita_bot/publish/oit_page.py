"""The year page as the OIT items point at it: its HTML (live or frozen for ITAS) and the same page as a PDF."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import render_template
from markupsafe import Markup

from ita_bot.domain.links import report_pdf_url, report_url
from ita_bot.domain.office import Office
from ita_bot.domain.publication import SnapshotInfo
from ita_bot.domain.thai import BANGKOK
from ita_bot.publish import disclosure
from ita_bot.publish.chart import history_chart, history_series

__all__ = ["PDF_CSS", "PdfFailed", "html_to_pdf", "render_year_page"]

#: What the PDF sets differently from the page (a user style sheet: !important to win over the page's own).
#: Fontconfig answers "TH Sarabun New", when it is not installed,
#: with Laksaman scaled by a font matrix, which WeasyPrint does not apply (glyphs overlap): the PDF names the
#: real fonts, at the size that matches TH Sarabun's 16pt (Laksaman is TH Sarabun's design at 0.66 of its
#: size). Evidence photos are not fetched; their names stand in for them. The score chart is left out:
#: WeasyPrint draws SVG text glyph by glyph, which detaches Thai vowel and tone marks; the table above it
#: carries every figure.
PDF_CSS = """
html { font-size: 10.5pt !important; }
body { font-family: "Sarabun", "Laksaman", "Garuda", "Noto Sans Thai", sans-serif !important; }
.evidence img { display: none !important; }
.pdf-only { display: inline !important; }
figure.chart { display: none !important; }
"""


class PdfFailed(RuntimeError):
    """WeasyPrint could not make the PDF (the page itself is fine); the web answers 503 in Thai."""


def render_year_page(office: Office, fiscal_year: int, now: datetime, *, root: str,
                     snapshot: SnapshotInfo | None = None) -> str:
    """The year page's HTML exactly as ``/reports/<fy>`` serves it (inside the office app's request context).

    ``root`` is the prefix the app is mounted at (``request.script_root``: "" or the hosted ``/o/<slug>``).
    With ``snapshot`` the frozen variant: a banner with its freeze time and a link to the live page, a link to
    its own PDF, and no snapshot list, since a frozen copy never changes. Only ``taken_at`` and ``number`` are
    read, so the caller may pass the snapshot before it is kept: the number it will ask ``add_snapshot`` to keep
    it under (the last one's plus one; refused if another snapshot took it meanwhile). Raises
    ``disclosure.NotFound`` for a year with no plan.
    """
    data = disclosure.year_report(office, fiscal_year, now)
    fmt = office.fmt
    series = history_series(data.score_history, data.indicator_names, fmt)
    # Built from numbers and escaped text only, so it is safe to embed as markup.
    chart = Markup(history_chart(data.score_history, series, score=fmt.score, number=fmt.num))
    context: dict[str, Any] = {
        "year": data, "fmt": fmt, "base": report_url(root, fiscal_year), "pdf": report_pdf_url(root, fiscal_year),
        "root": root, "chart": chart, "series": series,
        "frozen_at": snapshot.taken_at.astimezone(BANGKOK) if snapshot else None,
        "frozen_number": snapshot.number if snapshot else None,
    }
    return render_template("year.html", **context)


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """The page as an A4 PDF by WeasyPrint (Pango and libthai break Thai lines between words).

    ``base_url`` (the office's ``web.base_url``) only makes the page's links absolute in the PDF, so they work
    when clicked there: its scheme and host, since the page's links already carry any mount prefix. Nothing is
    ever fetched from it. WeasyPrint is imported here, not at start-up: it is
    heavy and only PDF requests need it. Raises PdfFailed when WeasyPrint cannot make it.
    """
    try:
        from weasyprint import CSS, HTML, URLFetcher

        # data: URLs only, so a PDF can never make the server fetch an address (an internal one included);
        # evidence images appear in print as their names instead.
        fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
        page = HTML(string=html, url_fetcher=fetcher, base_url=_server(base_url) if base_url else "about:blank")
        pdf = page.write_pdf(stylesheets=[CSS(string=PDF_CSS, url_fetcher=fetcher)])
    except Exception as e:  # any failure inside the renderer is the PDF's, never the page's
        raise PdfFailed(f"PDF rendering failed: {type(e).__name__}") from e
    if not isinstance(pdf, bytes):
        raise PdfFailed("PDF rendering returned no bytes")
    return pdf


def _server(base_url: str) -> str:
    """The public server's own address ("https://host/") of an office's base URL (which may end in /o/<slug>)."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}/"
