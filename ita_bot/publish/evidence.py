"""Serving an evidence file: one header policy for the public pages and the managers' console."""

from __future__ import annotations

import hashlib
import io

from flask import Response, send_file

from ita_bot.domain.evidence import evidence_file
from ita_bot.domain.office import Office
from ita_bot.domain.progress import REPORT_ID

__all__ = ["EVIDENCE_CSP", "send_evidence"]

# An evidence file opened on its own runs nothing and loads nothing (GitHub serves raw files alike).
EVIDENCE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def send_evidence(office: Office, fiscal_year: int, report_id: str, number: int, *,
                  withdrawn: bool = False) -> Response | None:
    """The response for a report's ``number``-th evidence file, or None when there is none to serve.

    Only accepted evidence types are served, typed from their bytes; an image opens in the browser,
    anything else downloads; every answer is sandboxed and never sniffed into a page. ``withdrawn``:
    whether a withdrawn report's files may be served (managers see them; the public does not).
    """
    if not REPORT_ID.fullmatch(report_id):
        return None
    report = office.reports.get(fiscal_year, report_id)
    if report is None or (report.withdrawn and not withdrawn) or not 1 <= number <= len(report.evidence):
        return None
    found = evidence_file(office.repositories.evidence, report.evidence[number - 1])
    if found is None:
        return None
    # Bytes, not a path, so any backend can serve them; the validators a path gave (Last-Modified, an ETag)
    # come from the kept file's time and its content, so a browser's revalidation still gets a 304.
    response = send_file(io.BytesIO(found.data), mimetype=found.type.content_type, max_age=0,
                         as_attachment=not found.type.is_image, download_name=f"evidence-{number}.{found.type.ext}",
                         last_modified=found.saved_at, etag=hashlib.sha256(found.data).hexdigest())
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = EVIDENCE_CSP
    return response
