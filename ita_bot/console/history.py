"""The change history: plan changes as Thai field changes (before → after), other changes as recorded, and undo."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, flash, redirect
from flask_wtf import FlaskForm
from wtforms import HiddenField

from ita_bot.console.base import bp, clock, formatter, local, office, page, who_name
from ita_bot.console.plan_forms import ThaiMeta
from ita_bot.domain.plan import PlanError, PlanProblems
from ita_bot.domain.plan_book import Change, VersionConflict
from ita_bot.domain.plan_diff import SECTION_THAI, FieldChange, describe, undo

__all__ = ["history", "undo_change"]

LIMIT = 300


class UndoForm(FlaskForm):
    class Meta(ThaiMeta):
        pass

    version = HiddenField()  # the plan as the manager saw it: an undo over a newer plan is refused
    confirm = HiddenField()


def _undoable(changes: list[Change]) -> set[int]:
    """The changes an undo can apply to: the latest of each plan section (a later one would be undone with it)."""
    out: set[int] = set()
    seen: set[tuple[int, str]] = set()
    whole: set[int] = set()  # years with a later whole-plan change or any later change (for an upload)
    for c in changes:  # newest first
        key = (c.fiscal_year, c.section)
        if c.section != "new" and key not in seen and c.fiscal_year not in whole and (
                c.section != "all" or not any(y == c.fiscal_year for y, _ in seen)):
            out.add(c.id)
        seen.add(key)
        if c.section in ("all", "new"):
            whole.add(c.fiscal_year)
    return out


def _audit_fields(before: str, after: str) -> list[FieldChange]:
    return [FieldChange("", "", before, after)] if before or after else []


@bp.get("/history")
def history() -> Any:
    book = office().plans
    fmt = formatter()
    changes = book.history(limit=LIMIT)
    undoable = _undoable(changes)
    entries: list[dict[str, Any]] = []
    for c in changes:
        entries.append({"at": datetime.fromisoformat(c.at), "who": c.who,
                        "what": f"แผนปีงบประมาณ {fmt.num(c.fiscal_year)}",
                        "section": SECTION_THAI.get(c.section, c.section), "summary": c.note,
                        "fields": describe(c, fmt), "undo": c.id if c.id in undoable else None,
                        "version": book.version(c.fiscal_year)})
    for a in office().audit.entries(LIMIT):
        entries.append({"at": a.at, "who": a.who, "via": a.via, "what": a.section, "section": "", "summary": a.summary,
                        "fields": _audit_fields(a.before, a.after), "undo": None, "version": ""})
    entries.sort(key=lambda e: e["at"], reverse=True)  # stable: each log's own newest-first order is kept
    return page("history.html", entries=entries[:LIMIT], form=UndoForm())


@bp.post("/history/<int:change_id>/undo")
def undo_change(change_id: int) -> Any:
    """First POST: what the undo would do, to confirm; the confirmed POST saves it as a new, recorded change."""
    book = office().plans
    change = book.change(change_id)
    if change is None:
        abort(404)
    form = UndoForm()
    fmt = formatter()
    if not form.validate_on_submit():
        abort(400)
    reverted = [FieldChange(f.where, f.field, f.after, f.before) for f in describe(change, fmt)]
    context: dict[str, Any] = {
        "change": change, "at": datetime.fromisoformat(change.at), "fields": reverted, "form": form,
        "section": SECTION_THAI.get(change.section, change.section), "active": "console.history",
    }
    if form.confirm.data != "yes":
        return page("confirm_undo.html", problem=None, **context)
    try:
        undo(book, change, expected_version=form.version.data or "", who=who_name(), now=clock())
    except VersionConflict as e:
        return page("confirm_undo.html", 409, problem=str(e), **context)
    except PlanProblems as e:
        return page("confirm_undo.html", 400, problem=" ".join(p.message for p in e.problems), **context)
    except PlanError as e:
        return page("confirm_undo.html", 400, problem=e.problem, **context)
    flash(f"ย้อนกลับ{context['section']}ของแผนปีงบประมาณ {change.fiscal_year} แล้ว (บันทึกเป็นการแก้ไขใหม่ในประวัติ) "
          "แชต งานตามกำหนด และหน้าเว็บใช้ฉบับนี้ทันที", "ok")
    return redirect(local("/admin/history"), code=303)
