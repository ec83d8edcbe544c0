"""Public report pages: the fiscal year's progress page and each cycle's meeting report as HTML, JSON, CSV, DOCX."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request

from ita_bot.domain.inbox import StorageError
from ita_bot.domain.links import report_url, snapshot_of
from ita_bot.domain.office import Office
from ita_bot.domain.thai import ARABIC, BANGKOK, ThaiFormat
from ita_bot.domain.wording import (
    ALL_REPORTED,
    COUNT_ORDER,
    NOT_THIS_CYCLE,
    NOTHING_OWED,
    PENDING_HEADING,
    no_plan_yet,
    status_counts,
    status_text,
    status_words,
)
from ita_bot.publish import disclosure, formats
from ita_bot.publish.chart import STATUS_COLORS
from ita_bot.publish.disclosure import BadRequest, NotFound
from ita_bot.publish.evidence import send_evidence
from ita_bot.publish.oit_page import PdfFailed, html_to_pdf, render_year_page
from ita_bot.publish.pdf_cache import PdfCache

__all__ = ["bp", "init_app"]

bp = Blueprint("pages", __name__, template_folder="templates")
bp.add_app_template_global(status_text)
bp.add_app_template_global(status_words)
bp.add_app_template_global(status_counts)
bp.add_app_template_global(snapshot_of)
# Values, not functions: the cycle page words its record as the memo does.
bp.app_context_processor(lambda: {"NOT_THIS_CYCLE": NOT_THIS_CYCLE, "NOTHING_OWED": NOTHING_OWED,
                                  "PENDING_HEADING": PENDING_HEADING, "ALL_REPORTED": ALL_REPORTED,
                                  "COUNT_ORDER": COUNT_ORDER, "status_colors": STATUS_COLORS})

_YEAR = re.compile(r"^(?P<fy>[^./]+)(?:\.(?P<ext>json|pdf))?$")
_CYCLE = re.compile(r"^(?P<month>[^.]+)(?:\.(?P<ext>json|csv|docx))?$")
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#: PDFs of the live page this worker made, by the page's sha256: a repeated request is not rendered again.
_pdf_cache = PdfCache()


def init_app(app: Flask) -> None:
    """Register the report pages on the app."""
    app.register_blueprint(bp)


def _office() -> Office:
    return current_app.extensions["ita_bot"].office


def _now() -> datetime:
    # The edge reads the office's clock once per request; the core only ever receives it.
    return _office().now().astimezone(BANGKOK)


def _fmt() -> ThaiFormat:
    return _office().fmt


def _error(status: int, message: str) -> tuple[str, int]:
    titles = {400: "ที่อยู่ไม่ถูกต้อง", 404: "ไม่พบหน้าที่ต้องการ", 503: "ยังให้บริการไม่ได้ชั่วคราว"}
    return render_template(
        "error.html", status=status, title=titles.get(status, "เกิดข้อผิดพลาด"), message=message, fmt=_fmt(),
        root=request.script_root,
    ), status


def _json(data: dict[str, Any]) -> Response:
    # Thai stays readable (no \\u escapes); JSON numbers stay numbers whatever display.numerals says.
    return Response(json.dumps(data, ensure_ascii=False, indent=1), mimetype="application/json")


def _attachment(body: bytes, mimetype: str, ascii_name: str, thai_name: str) -> Response:
    """A download with an ASCII filename for old clients and the Thai one per RFC 5987/6266."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(thai_name, safe='')}"
    )
    return response


@bp.get("/reports")
def index() -> Any:
    """The year page of the plan in force (this fiscal year's; the latest earlier one while it has none)."""
    office = _office()
    if not office.has_plan:
        return _no_plan_yet(office)
    return redirect(_base(office.latest_plan(_now().date()).fiscal_year))


def _no_plan_yet(office: Office) -> tuple[str, int]:
    """An office with no plan yet has no report to show: said plainly, not as a missing address."""
    return render_template("error.html", status=404, title="ยังไม่มีรายงานผล",
                           message=no_plan_yet(office.organization_name, manager=False), fmt=_fmt(),
                           root=request.script_root), 404


@bp.get("/reports/<name>")
def year(name: str) -> Any:
    m = _YEAR.match(name)
    try:
        if not m:
            raise NotFound(f"ไม่พบหน้า “{name}”")
        fy = disclosure.parse_fiscal_year(m["fy"])
        if not _office().has_plan:
            return _no_plan_yet(_office())
        if m["ext"] == "json":
            return _json(formats.year_json(disclosure.year_report(_office(), fy, _now()),
                                           base_url=_office().config.web.base_url))
        html = render_year_page(_office(), fy, _now(), root=request.script_root)
    except NotFound as e:
        return _error(404, str(e))
    if m["ext"] == "pdf":
        return _year_pdf(fy, html)
    return html


def _year_pdf(fiscal_year: int, html: str) -> Any:
    """The live page as a PDF, made once per distinct page per worker; a renderer failure is a Thai 503."""
    key = hashlib.sha256(html.encode("utf-8")).hexdigest()
    body = _pdf_cache.get(key)
    if body is None:
        try:
            body = html_to_pdf(html, base_url=_office().config.web.base_url)
        except PdfFailed:
            current_app.logger.exception("PDF of the year page %s failed", fiscal_year)
            return _error(503, "ขณะนี้ยังสร้างไฟล์ PDF ไม่ได้ กรุณาลองใหม่ภายหลัง หรือเปิดหน้าเว็บแล้วสั่งพิมพ์แทน")
        _pdf_cache.put(key, body)
    # File names keep Arabic digits whatever display.numerals says: folders sort and search them.
    return _attachment(body, "application/pdf", f"ita-{fiscal_year}.pdf",
                       f"ผลการดำเนินการตามมาตรการ ITA ปีงบประมาณ {fiscal_year}.pdf")


@bp.get("/reports/<fy>/<name>")
def cycle(fy: str, name: str) -> Any:
    m = _CYCLE.match(name)
    try:
        fiscal_year = disclosure.parse_fiscal_year(fy)
        if not _office().has_plan:
            return _no_plan_yet(_office())
        if name == "snapshots":  # the list of frozen copies is on the year page
            return redirect(report_url(request.script_root, fiscal_year, anchor="snapshots"))
        if not m:
            raise BadRequest(f"รูปแบบเดือน “{name}” ไม่ถูกต้อง กรุณาระบุเป็นปี ค.ศ.-เดือน เช่น 2021-02")
        data = disclosure.cycle_report(_office(), fiscal_year, m["month"], _now())
    except NotFound as e:
        return _error(404, str(e))
    except BadRequest as e:
        return _error(400, str(e))
    ext, fmt = m["ext"], _fmt()
    stem = f"ita-{data.fiscal_year}-{data.cycle.id}"
    # File names keep Arabic digits whatever display.numerals says: folders sort and search them.
    thai_stem = f"รายงานผลมาตรการ ITA {ARABIC.month(data.cycle.month)}"
    if ext == "json":
        return _json(formats.cycle_json(data))
    if ext == "csv":
        body = ("\ufeff" + formats.cycle_csv(data)).encode("utf-8")  # the BOM makes Excel read UTF-8
        return _attachment(body, "text/csv", f"{stem}.csv", f"{thai_stem}.csv")
    if ext == "docx":
        # python-docx (with lxml) is loaded by the first export, not by every web worker: ~6 MiB each.
        from ita_bot.publish.memo import build_memo

        office = _office()
        body = build_memo(data, office.documents(), today=_now().date(), fmt=fmt)
        return _attachment(body, DOCX_TYPE, f"{stem}.docx", f"{thai_stem}.docx")
    return render_template("cycle.html", report=data, fmt=fmt, base=_base(data.fiscal_year))


_SNAPSHOT = re.compile(r"^(?P<number>[0-9]{1,6})(?:\.(?P<ext>pdf))?$")


@bp.get("/reports/<fy>/snapshots/<name>")
def snapshot(fy: str, name: str) -> Any:
    """A frozen copy of the year page (``<n>`` its HTML, ``<n>.pdf`` its PDF), served byte for byte as kept:
    its address and content never change, so browsers and caches may keep it for good."""
    not_found = "ไม่พบฉบับตรึงที่ต้องการ กรุณาตรวจสอบเลขปีงบประมาณและเลขฉบับในที่อยู่"
    m = _SNAPSHOT.match(name)
    try:
        fiscal_year = disclosure.parse_fiscal_year(fy)
    except NotFound:
        return _error(404, not_found)
    if not m:
        return _error(404, not_found)
    kind: Literal["html", "pdf"] = "pdf" if m["ext"] == "pdf" else "html"
    try:
        body = _office().publications.snapshot_file(fiscal_year, int(m["number"]), kind)
    except StorageError:
        # A kept file gone or changed on disk: never served altered; the operator finds it in the log and in
        # `python bot.py check`, the public a Thai page rather than a bare server error.
        current_app.logger.exception("snapshot %s/%s.%s could not be served", fiscal_year, m["number"], kind)
        return _error(503, "ขณะนี้ยังเปิดฉบับตรึงนี้ไม่ได้ ผู้ดูแลระบบได้รับแจ้งแล้ว กรุณาลองใหม่ภายหลัง")
    if body is None:
        return _error(404, not_found)
    if kind == "pdf":
        response = _attachment(body, "application/pdf", f"ita-{fiscal_year}-snapshot-{m['number']}.pdf",
                               f"ผลการดำเนินการตามมาตรการ ITA ปีงบประมาณ {fiscal_year} ฉบับที่ {m['number']}.pdf")
    else:
        response = Response(body, mimetype="text/html")  # the kept bytes are UTF-8, as the page declares
    response.cache_control.public = True
    response.cache_control.max_age = 31536000
    response.cache_control.immutable = True
    return response


@bp.get("/reports/<fy>/evidence/<report_id>/<int:number>")
def evidence(fy: str, report_id: str, number: int) -> Any:
    """An evidence file, only when web.public_evidence is on (PDPA); the path names the report, never a person."""
    office = _office()
    not_found = "ไม่พบไฟล์หลักฐานที่ต้องการ หรือไฟล์หลักฐานไม่ได้เปิดเผยต่อสาธารณะ"
    try:
        fiscal_year = disclosure.parse_fiscal_year(fy)
    except NotFound:
        return _error(404, not_found)
    if not office.config.web.public_evidence or office.plan_for(fiscal_year) is None:
        return _error(404, not_found)
    response = send_evidence(office, fiscal_year, report_id, number)
    if response is None:
        return _error(404, not_found)
    response.cache_control.max_age = 300  # public and unchanging: a phone may keep it a few minutes
    return response


def _base(fiscal_year: int) -> str:
    """The year page's path as the browser asks for it: under the prefix the app is mounted at (the hosted
    service's ``/o/<office>``), the bare path when it is mounted at the root."""
    return report_url(request.script_root, fiscal_year)
