"""Members and roles (approve, remove, one-time role codes), meeting dates (move or restore a cycle's date) and
the monthly memo's header."""

from __future__ import annotations

import hashlib
from dataclasses import fields
from datetime import date
from typing import Any

from flask import flash, redirect, request
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired

from ita_bot.chat.richmenus import roles_changed
from ita_bot.console.base import bp, clock, current_fiscal_year, local, office, page, who, year_arg
from ita_bot.console.plan_forms import ThaiMeta, options
from ita_bot.console.thai_date import ThaiDateField
from ita_bot.domain.actions import VIA_CONSOLE, ActionRefused, Actor, ManagerActions, person_label
from ita_bot.domain.config import DocumentSettings
from ita_bot.domain.meeting_dates import MeetingDateError, meeting_note, same_day_cycles
from ita_bot.domain.people import CODE_TTL, Person
from ita_bot.domain.roles import COMMITTEE, thai_title
from ita_bot.domain.text import clean_text

__all__ = ["meetings", "members"]


def person_key(user_id: str) -> str:
    # Forms name a person by a digest, so no LINE user id ever reaches a page (PDPA).
    return hashlib.sha256(f"console:{user_id}".encode()).hexdigest()[:20]


def _person(key: str) -> Person | None:
    return next((p for p in office().people.all() if person_key(p.user_id) == key), None)


class PersonForm(FlaskForm):
    person = HiddenField(validators=[InputRequired("ไม่พบผู้ใช้")])
    confirm = HiddenField()  # "yes" on the confirmation page: a removal is never one stray tap


class RevokeCodeForm(FlaskForm):
    number = IntegerField(validators=[InputRequired("ไม่พบรหัส")])


class RoleCodeForm(FlaskForm):
    role = SelectField("บทบาท", choices=options((r, thai_title(r)) for r in COMMITTEE),
                       validators=[InputRequired("กรุณาเลือกบทบาท")])


def _actions() -> ManagerActions:
    """The one home of managers' actions, as the signed-in manager (checked, recorded, menus kept in step)."""
    return ManagerActions(office(), Actor.of(office(), who(), VIA_CONSOLE), clock(), roles_changed)


@bp.get("/members")
def members(code: str | None = None, code_role: str | None = None, form: RoleCodeForm | None = None) -> Any:
    o = office()
    # A new office has no plan, so no divisions yet: its managers still name the committee here first.
    plan = o.latest_plan(clock().date()) if o.has_plan else None
    people = o.people.all()
    plan_divisions = plan.divisions if plan is not None else ()
    divisions = [
        (d.name, sorted((p for p in people if p.division == d.id and p.approved), key=lambda p: p.label))
        for d in plan_divisions
    ]
    known = {d.id for d in plan_divisions}
    elsewhere = [p for p in people if p.division and p.approved and p.division not in known]
    waiting = [p for p in people if p.division and not p.approved]
    by_id = {p.user_id: p for p in people}
    holders = []
    for role in COMMITTEE:
        names = [person_label(by_id[u], frozenset()) if u in by_id else "(ตั้งในไฟล์ตั้งค่า ยังไม่เคยคุยกับบอท)"
                 for u in o.role_holders(role)]
        holders.append((thai_title(role), names))
    return page(
        "members.html",
        divisions=divisions,
        elsewhere=elsewhere,
        waiting=waiting,
        holders=holders,
        key=person_key,
        division_name=plan.division_name if plan is not None else str,
        action_form=PersonForm(),
        code_form=form or RoleCodeForm(),
        open_codes=_actions().open_codes(),
        revoke_form=RevokeCodeForm(),
        role_title=thai_title,
        code=code,
        code_role=code_role,
        code_valid=CODE_TTL,
    )


@bp.post("/members/approve")
def approve() -> Any:
    form = PersonForm()
    person = _person(form.person.data or "") if form.validate_on_submit() else None
    if person is None or not person.division:
        flash("ไม่พบคำขอลงทะเบียนนี้ (อาจอนุมัติหรือลบไปแล้ว)", "bad")
        return redirect(local("/admin/members"), code=303)
    try:
        _actions().approve(person)
    except ActionRefused as e:
        flash(str(e), "bad")
        return redirect(local("/admin/members"), code=303)
    flash(f"อนุมัติ {person.named} แล้ว", "ok")
    return redirect(local("/admin/members"), code=303)


@bp.post("/members/remove")
def remove() -> Any:
    form = PersonForm()
    person = _person(form.person.data or "") if form.validate_on_submit() else None
    if person is None:
        flash("ไม่พบผู้ใช้นี้ (อาจลบไปแล้ว)", "bad")
        return redirect(local("/admin/members"), code=303)
    if form.confirm.data != "yes":
        return page("confirm_remove.html", name=person.named, key=person_key(person.user_id),
                    form=form, active="console.members")
    try:
        _actions().remove(person)  # checks again: the roles may have changed while the page was open
    except ActionRefused as e:
        flash(str(e), "bad")
        return redirect(local("/admin/members"), code=303)
    flash(f"ลบ {person.named} ออกจากรายชื่อแล้ว รายงานที่เคยส่งยังอยู่ในชื่อกอง", "ok")
    return redirect(local("/admin/members"), code=303)


@bp.post("/members/code")
def role_code() -> Any:
    form = RoleCodeForm()
    if not form.validate_on_submit():
        return members(form=form)
    role = str(form.role.data)
    try:
        code = _actions().issue_code(role)
    except ActionRefused as e:
        form.role.errors = [str(e)]
        return members(form=form)
    # The code itself is shown once, here, and never stored or logged (only its hash is kept).
    return members(code=code, code_role=thai_title(role))


@bp.post("/members/code/revoke")
def revoke_code() -> Any:
    """Cancel an open role code by its number (the list never shows a code itself)."""
    form = RevokeCodeForm()
    if not form.validate_on_submit() or form.number.data is None:
        flash("ไม่พบรหัสเชิญนี้ (อาจถูกใช้ หมดอายุ หรือยกเลิกไปแล้ว)", "bad")
        return redirect(local("/admin/members#codes"), code=303)
    try:
        revoked = _actions().revoke_code(form.number.data)
    except ActionRefused as e:
        flash(f"{e} (อาจถูกใช้ หมดอายุ หรือยกเลิกไปแล้ว)", "bad")
        return redirect(local("/admin/members#codes"), code=303)
    flash(f"ยกเลิกรหัสเชิญ #{office().fmt.num(revoked.number)} ({thai_title(revoked.role)}) แล้ว ใช้ไม่ได้อีก", "ok")
    return redirect(local("/admin/members#codes"), code=303)


# --- meeting dates -------------------------------------------------------------------------------


class MeetingForm(FlaskForm):
    cycle = SelectField("รอบประชุม (เดือน)", validators=[InputRequired("กรุณาเลือกรอบ")])
    day = ThaiDateField("วันประชุมใหม่", required=True)

    class Meta(ThaiMeta):
        pass


class RestoreForm(FlaskForm):
    cycle = HiddenField(validators=[InputRequired("ไม่พบรอบประชุม")])


class MemoHeaderForm(FlaskForm):
    """The header of the monthly meeting report (บันทึกข้อความ): who it comes from, is addressed to and signed by."""

    office = StringField("ส่วนราชการ")
    reference_prefix = StringField("ที่ (ส่วนหน้าของเลขที่หนังสือ)")
    addressee = StringField("เรียน")
    signer_name = StringField("ผู้ลงนาม")
    signer_position = StringField("ตำแหน่งผู้ลงนาม")

    class Meta(ThaiMeta):
        pass


def _meetings_page(fy: int, form: MeetingForm, memo_form: MemoHeaderForm | None = None, status: int = 200) -> Any:
    o = office()
    calendar = o.calendar()
    fmt = o.fmt
    cycles = calendar.cycles(fy)
    rows = [(c, meeting_note(calendar, c, fmt)) for c in cycles]
    if memo_form is None:
        memo_form = MemoHeaderForm(formdata=None, obj=o.documents())
    return page("meetings.html", status, fy=fy, rows=rows, form=form, restore=RestoreForm(), memo_form=memo_form,
                label=lambda c: fmt.month(c.month, abbr=True), active="console.meetings")


def _meeting_form(fy: int) -> MeetingForm:
    calendar = office().calendar()
    fmt = office().fmt
    cycles = calendar.cycles(fy)
    form = MeetingForm()
    form.cycle.choices = options((c.id, f"รอบ {fmt.month(c.month, abbr=True)} (ตอนนี้ {fmt.date(c.meeting)})")
                                 for c in cycles)
    if request.method == "GET":
        current = calendar.cycle_of(clock().date())
        form.cycle.data = current.id if current.fiscal_year == fy else cycles[0].id  # the cycle one usually moves
    return form


@bp.route("/meetings", methods=["GET", "POST"])
def meetings() -> Any:
    o = office()
    fy = year_arg() or current_fiscal_year()
    calendar = o.calendar()
    fmt = o.fmt
    form = _meeting_form(fy)
    if request.method == "POST" and form.validate_on_submit():
        cycle = calendar.cycle(str(form.cycle.data))
        day: date = form.day.data
        try:
            _actions().move_meeting(cycle, day)
        except MeetingDateError as e:
            form.day.errors = [*form.day.errors, str(e)]
        else:
            note = ""
            if same := same_day_cycles(calendar, cycle, day):
                note = f" (ตรงกับวันประชุมรอบ {fmt.month(same[0].month, abbr=True)} ด้วย)"
            flash(f"ตั้งวันประชุมรอบ {fmt.month(cycle.month, abbr=True)} เป็น {fmt.date(day)} แล้ว{note}", "ok")
            return redirect(local(f"/admin/meetings?fy={fy}"), code=303)
    return _meetings_page(fy, form, status=400 if request.method == "POST" else 200)


@bp.post("/meetings/restore")
def restore_meeting() -> Any:
    """Undo a manual change: the cycle meets on its usual date again (audited like the move)."""
    o = office()
    fmt = o.fmt
    form = RestoreForm()
    calendar = o.calendar()
    cycle = None
    if form.validate_on_submit():
        try:
            cycle = calendar.cycle(str(form.cycle.data))
        except ValueError:
            cycle = None
    if cycle is None:
        flash("รอบนี้ใช้วันปกติอยู่แล้ว (อาจมีผู้จัดการคนอื่นเปลี่ยนกลับไปแล้ว)", "bad")
        return redirect(local("/admin/meetings"), code=303)
    try:
        usual = _actions().restore_meeting(cycle)
    except ActionRefused as e:
        flash(str(e), "bad")
        return redirect(local("/admin/meetings"), code=303)
    label = fmt.month(cycle.month, abbr=True)
    flash(f"รอบ {label} กลับมาประชุมวันปกติ {fmt.date(usual)} แล้ว", "ok")
    return redirect(local(f"/admin/meetings?fy={cycle.fiscal_year}"), code=303)


@bp.post("/meetings/memo")
def memo_header() -> Any:
    """Save the monthly memo's header; a blank entry uses the configuration's value."""
    form = MemoHeaderForm()
    fy = year_arg() or current_fiscal_year()
    if not form.validate_on_submit():
        return _meetings_page(fy, _meeting_form(fy), form, status=400)
    typed = DocumentSettings(**{f.name: clean_text(getattr(form, f.name).data or "").strip()
                                for f in fields(DocumentSettings)})
    _actions().set_memo_header(typed, {f.name: str(getattr(form, f.name).label.text) for f in fields(DocumentSettings)})
    flash("บันทึกหัวบันทึกข้อความของรายงานประจำเดือนแล้ว ใช้กับไฟล์ Word ที่ดาวน์โหลดครั้งต่อไป", "ok")
    return redirect(local(f"/admin/meetings?fy={fy}#memo"), code=303)
