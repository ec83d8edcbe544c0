"""A year's OIT page in the console: the address and ITAS sentence per OIT item, the executive's approval, the
snapshots frozen for ITAS and the check that the office's main website links to the page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, flash, redirect, request
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ita_bot.console.base import bp, clock, current_fiscal_year, local, office, page, who
from ita_bot.console.plan_forms import ThaiMeta
from ita_bot.console.thai_date import ThaiDateField
from ita_bot.domain.actions import VIA_CONSOLE, ActionRefused, Actor, ManagerActions
from ita_bot.domain.itas import ItasAnswer, itas_answer
from ita_bot.domain.links import report_pdf_url, report_url, snapshot_in, snapshot_url
from ita_bot.domain.office import Office
from ita_bot.domain.oit import COVERS_THAI, OitItem, items_covering
from ita_bot.domain.plan import Plan
from ita_bot.domain.publication import Approval, LinkCheck, SnapshotInfo, SnapshotTaken, next_snapshot_number
from ita_bot.domain.thai import BE_YEAR_MAX, BE_YEAR_MIN
from ita_bot.publish.site_check import TIMEOUT, Found, Targets, check_site

__all__ = ["SITE_CHECK_TIMEOUT", "OitView", "oit_home", "oit_page", "oit_view"]

#: app.config key: seconds the link check waits for each page of the main site (tests shorten it).
SITE_CHECK_TIMEOUT = "ITA_BOT_SITE_CHECK_TIMEOUT"
FOUND_THAI: dict[str, str] = {"page": "หน้าเผยแพร่ของปี", "pdf": "ไฟล์ PDF ของหน้าเผยแพร่", "snapshot": "ฉบับที่ตรึงไว้"}


def _one_line(value: str | None) -> str | None:
    """Spaces as typed on a phone (doubled, leading, a line break) become single spaces."""
    return " ".join(value.split()) if value else value


class ApprovalForm(FlaskForm):
    class Meta(ThaiMeta):
        pass

    name = StringField("ชื่อผู้บริหารที่ให้ความเห็นชอบ", filters=[_one_line], validators=[
        DataRequired("กรุณากรอกชื่อผู้บริหาร"), Length(max=120, message="ชื่อยาวเกิน 120 ตัวอักษร")])
    position = StringField("ตำแหน่ง", filters=[_one_line], validators=[
        DataRequired("กรุณากรอกตำแหน่ง"), Length(max=200, message="ตำแหน่งยาวเกิน 200 ตัวอักษร")])
    approved_on = ThaiDateField("วันที่ให้ความเห็นชอบ (ตามเอกสารที่ลงนาม)", required=True)


class ActionForm(FlaskForm):
    """A button's form: the CSRF token only."""


@dataclass(frozen=True)
class ItemAnswer:
    item: OitItem
    covers: str  # in Thai
    answer: ItasAnswer


@dataclass(frozen=True)
class Snapshot:
    info: SnapshotInfo
    html: str  # console links (under the mount prefix)
    pdf: str
    address: str  # the permanent public address, absolute
    current: bool


@dataclass(frozen=True)
class OitView:
    """Everything the page shows about one fiscal year's publication."""

    fiscal_year: int
    page_url: str  # absolute: what goes into ITAS
    site: str
    items: tuple[ItemAnswer, ...]
    answer: ItasAnswer  # the same wording, for a plan that lists no OIT item yet
    approval: Approval | None
    snapshots: tuple[Snapshot, ...]  # newest first
    check: LinkCheck | None  # the last check of this site (a check of a site since changed is not shown)
    check_found: Found | None


def oit_view(office: Office, fiscal_year: int, plans: Iterable[Plan], *, root: str = "") -> OitView:
    """The page's data from ``plans`` (every year's: a later year's report item may point at this year) and the
    office's publication record. ``root``: the console's mount prefix, for its own links."""
    base = office.config.web.base_url
    page_url, pdf_url = report_url(base, fiscal_year), report_pdf_url(base, fiscal_year)
    site = office.config.web.office_site
    pub = office.publications
    kept = pub.snapshots(fiscal_year)
    snapshots = tuple(
        Snapshot(s, snapshot_url(root, fiscal_year, s.number), snapshot_url(root, fiscal_year, s.number, pdf=True),
                 snapshot_url(base, fiscal_year, s.number), s is kept[-1])
        for s in reversed(kept)
    )
    check = pub.link_check(fiscal_year)
    if check is not None and check.site != site:
        check = None  # checked another address: says nothing of the one set now
    found = Targets(page_url, pdf_url).match(check.target) if check is not None and check.found else None
    latest = snapshots[0] if snapshots else None
    answer = itas_answer(
        page_url, site,
        path=check.path if check is not None and found is not None else None,
        linked_url=_canonical(base, fiscal_year, found, check.target if check is not None else ""),
        checked=check is not None, problem=check.problem if check is not None else "",
        frozen=(office.fmt.datetime(latest.info.taken_at), latest.address) if latest else None,
    )
    covering = items_covering(plans, fiscal_year)
    items = tuple(ItemAnswer(i, COVERS_THAI.get(i.covers, i.covers), answer) for i in covering)
    return OitView(fiscal_year, page_url, site, items, answer, pub.approval(fiscal_year), snapshots, check, found)


def _canonical(base: str, fiscal_year: int, found: Found | None, linked: str) -> str:
    """What the main site links to, as this server spells it (https, no trailing slash): the address to give."""
    if found == "page":
        return report_url(base, fiscal_year)
    if found == "pdf":
        return report_pdf_url(base, fiscal_year)
    if found == "snapshot" and (snapshot := snapshot_in(linked)):
        return snapshot_url(base, fiscal_year, snapshot[0], pdf=snapshot[1])
    return ""


def _actions() -> ManagerActions:
    return ManagerActions(office(), Actor.of(office(), who(), VIA_CONSOLE), clock())


def _plan(fy: int) -> Plan:
    if not BE_YEAR_MIN <= fy <= BE_YEAR_MAX:
        abort(404)
    plan = office().plan_for(fy)
    if plan is None:
        abort(404)
    return plan


def _approval_form(plan: Plan, approval: Approval | None) -> ApprovalForm:
    """On GET the recorded approval, else a suggestion from the plan's memo signer (the executive who signs)."""
    if request.method == "POST":
        return ApprovalForm()
    if approval is not None:
        return ApprovalForm(name=approval.name, position=approval.position, approved_on=approval.approved_on)
    docs = office().documents()
    return ApprovalForm(name=plan.memo.signer or docs.signer_name,
                        position=plan.memo.signer_position or docs.signer_position)


def _show(fy: int, form: ApprovalForm | None = None, status: int = 200) -> Any:
    plan = _plan(fy)
    o = office()
    view = oit_view(o, fy, o.plans.all(), root=request.script_root)
    return page("oit.html", status, fy=fy, view=view, plan=plan, known=o.plans.years(),
                form=form or _approval_form(plan, view.approval), button=ActionForm(), found_thai=FOUND_THAI,
                active="console.oit_home")


@bp.get("/oit")
def oit_home() -> Any:
    """The OIT page of this fiscal year, or of the latest year with a plan."""
    o = office()
    fy = current_fiscal_year()
    years = [y for y in o.plans.years() if y <= fy] or o.plans.years()
    if o.plan_for(fy) is None and years:
        fy = max(years)
    if o.plan_for(fy) is None:
        return page("no_plan.html", fy=fy, known=o.plans.years(), first=not o.has_plan, active="console.oit_home")
    return _show(fy)


@bp.get("/oit/<int:fy>")
def oit_page(fy: int) -> Any:
    return _show(fy)


@bp.post("/oit/<int:fy>/approval")
def oit_approval(fy: int) -> Any:
    _plan(fy)
    form = ApprovalForm()
    if not form.validate_on_submit():
        return _show(fy, form, 400)
    assert form.approved_on.data is not None  # required=True
    try:
        _actions().record_approval(fy, form.name.data or "", form.position.data or "", form.approved_on.data)
    except ActionRefused as e:
        form.name.errors = [*form.name.errors, str(e)]
        return _show(fy, form, 400)
    flash("บันทึกการให้ความเห็นชอบแล้ว หน้าเผยแพร่แสดงชื่อ ตำแหน่ง และวันที่นี้ทันที "
          "(ฉบับที่ตรึงไว้ก่อนหน้านี้ไม่เปลี่ยน หากต้องการฉบับที่มีความเห็นชอบ กรุณาตรึงฉบับใหม่)", "ok")
    return redirect(local(f"/admin/oit/{fy}#approval"), code=303)


@bp.post("/oit/<int:fy>/approval/withdraw")
def oit_withdraw(fy: int) -> Any:
    _plan(fy)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        _actions().withdraw_approval(fy)
    except ActionRefused as e:
        flash(str(e), "bad")
    else:
        flash("ถอนการให้ความเห็นชอบแล้ว หน้าเผยแพร่ไม่แสดงส่วนนี้อีก (ฉบับที่ตรึงไว้แล้วไม่เปลี่ยน)", "ok")
    return redirect(local(f"/admin/oit/{fy}#approval"), code=303)


@bp.post("/oit/<int:fy>/freeze")
def oit_freeze(fy: int) -> Any:
    """Freeze the year page as it is now: its HTML and PDF kept as the next snapshot, never changed after."""
    _plan(fy)
    if not ActionForm().validate_on_submit():
        abort(400)
    # The page's other helper owns the page itself; imported here so the console's other pages never load it.
    from ita_bot.publish.oit_page import PdfFailed, html_to_pdf, render_year_page

    o, now = office(), clock()
    actions = _actions()
    done = "#snapshots"
    # The frozen page links to its own PDF by its number, so it is rendered for the next number and kept only
    # under that one; should another manager's snapshot take it meanwhile, it is rendered again for the next.
    for _attempt in range(3):
        kept = o.publications.snapshots(fy)
        number = next_snapshot_number(fy, max((s.number for s in kept), default=None), None)
        provisional = SnapshotInfo(fy, number, now, actions.actor.label, "")
        html = render_year_page(o, fy, now, root=request.script_root, snapshot=provisional)
        try:
            pdf = html_to_pdf(html, base_url=o.config.web.base_url)
        except PdfFailed:
            flash("ทำไฟล์ PDF ไม่สำเร็จ ระบบจึงยังไม่ได้ตรึงฉบับใด กรุณาลองอีกครั้ง", "bad")
            return redirect(local(f"/admin/oit/{fy}{done}"), code=303)
        try:
            info = actions.freeze_snapshot(fy, html.encode("utf-8"), pdf, number=provisional.number)
            break
        except SnapshotTaken:
            continue
        except ActionRefused as e:
            flash(str(e), "bad")
            return redirect(local(f"/admin/oit/{fy}{done}"), code=303)
    else:
        flash("มีผู้จัดการท่านอื่นกำลังตรึงฉบับของปีนี้พร้อมกัน ระบบยังไม่ได้ตรึงฉบับใด กรุณาลองอีกครั้ง", "bad")
        return redirect(local(f"/admin/oit/{fy}{done}"), code=303)
    flash(f"ตรึงฉบับที่ {o.fmt.num(info.number)} แล้ว ที่อยู่ของฉบับนี้ไม่เปลี่ยนและเนื้อหาไม่เปลี่ยนตามรายงานที่เข้ามาภายหลัง", "ok")
    return redirect(local(f"/admin/oit/{fy}{done}"), code=303)


@bp.post("/oit/<int:fy>/check")
def oit_check(fy: int) -> Any:
    """Read the main website now and keep what was found (the ITAS sentence names the path it found)."""
    _plan(fy)
    if not ActionForm().validate_on_submit():
        abort(400)
    o = office()
    site = o.config.web.office_site
    if not site:
        flash("ยังไม่ได้ตั้งที่อยู่เว็บไซต์หลักของหน่วยงาน กรุณาแจ้งผู้ดูแลระบบ", "bad")
        return redirect(local(f"/admin/oit/{fy}#check"), code=303)
    base = o.config.web.base_url
    page_url = report_url(base, fy)
    timeout = float(current_app.config.get(SITE_CHECK_TIMEOUT, TIMEOUT))
    result = check_site(site, Targets(page_url, report_pdf_url(base, fy)), timeout=timeout)
    check = LinkCheck(clock(), site, result.url or page_url, result.found is not None, result.path, result.problem)
    o.publications.set_link_check(fy, check)
    flash(_check_words(result.found, result.path, result.problem), "ok" if result.found else "bad")
    return redirect(local(f"/admin/oit/{fy}#check"), code=303)


def _check_words(found: Found | None, path: tuple[str, ...], problem: str) -> str:
    if problem:
        return f"อ่านเว็บไซต์หลักไม่ได้: {problem}"
    if found is None:
        return "ไม่พบลิงก์จากเว็บไซต์หลักมายังหน้าเผยแพร่ของปีนี้ (ตรวจหน้าแรกและเมนูที่เกี่ยวกับ ITA หนึ่งชั้น)"
    steps = " › ".join(f"“{t}”" if t else "(ลิงก์ไม่มีข้อความ)" for t in path)
    return f"พบลิงก์ไปยัง{FOUND_THAI[found]} จากหน้าแรกของเว็บไซต์หลัก: {steps}"
