"""Plan editor, official results entry, next year's draft and the IT officer's plan-file page."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from flask import Response, abort, flash, redirect, request
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, NumberRange

from ita_bot.console.base import bp, clock, current_fiscal_year, local, office, page, who_name, year_arg
from ita_bot.console.plan_forms import (
    SECTIONS,
    MultiCheckbox,
    ThaiMeta,
    attach_problems,
    fields_to_fill,
    hide_guesses,
    lines,
    options,
    prepare,
    still_to_fill,
    to_fill_item,
    to_fill_link,
)
from ita_bot.domain.draft import FILL_IN, draft_plan, save_draft
from ita_bot.domain.indicators import indicator_label, nacc_numbers
from ita_bot.domain.oit import COVERS_THAI
from ita_bot.domain.plan import PlanError, PlanProblems, Problem
from ita_bot.domain.plan_book import VersionConflict
from ita_bot.domain.plan_reader import MAX_PLAN_SIZE
from ita_bot.domain.plan_writer import plan_to_data
from ita_bot.domain.results import DEFAULT_TARGET, enter_result, result_template
from ita_bot.domain.thai import BE_YEAR_MAX, BE_YEAR_MIN

__all__: list[str] = []

MAX_UPLOAD = MAX_PLAN_SIZE  # a plan file is a few tens of KB


def _book() -> Any:
    return office().plans


def _plan_or_404(fy: int) -> Any:
    plan = _book().get(fy)
    if plan is None:
        abort(404)
    return plan


# --- plans: list, one plan, a section editor ---------------------------------------------------------


@bp.get("/plans")
def plan_home() -> Any:
    book = _book()
    years = book.years()
    fy = current_fiscal_year()
    return page("plans.html", years=years, plans={y: book.get(y) for y in years}, current=fy,
                shipped={y: book.is_shipped(y) for y in years})


class UploadForm(FlaskForm):
    class Meta(ThaiMeta):
        pass

    version = HiddenField()
    toml = TextAreaField("ข้อความ TOML ของแผน")


@bp.get("/plans/<int:fy>")
def plan_page(fy: int) -> Any:
    plan = _plan_or_404(fy)
    # Every section is listed, also one the plan does not have yet (a new year's calendar starts empty).
    to_fill = [(to_fill_item(p)[0], local(to_fill_link(fy, p))) for p in plan.to_fill]
    return page("plan.html", fy=fy, plan=plan, sections=list(SECTIONS.values()), to_fill=to_fill,
                covers_thai=COVERS_THAI, active="console.plan_home")


def _section_page(status: int, fy: int, spec: Any, form: Any, data: dict[str, Any], **extra: Any) -> Any:
    """A section editor with the fields still to fill marked (the first one focused)."""
    return page("section.html", status, fy=fy, spec=spec, form=form, fill_names=fields_to_fill(spec, form, data),
                active="console.plan_home", **{"problems": [], "conflict": None, "guesses": {}, "placeholders": {},
                                               **extra})


@bp.route("/plans/<int:fy>/<section>", methods=["GET", "POST"])
def plan_section(fy: int, section: str) -> Any:
    spec = SECTIONS.get(section)
    book = _book()
    plan = _plan_or_404(fy)
    if spec is None:
        abort(404)
    data = plan_to_data(plan)
    problems: list[Problem] = []
    if request.method == "POST":
        form = spec.form()
        prepare(spec, form, data)
        if form.validate_on_submit():
            mapped = spec.read(form, data)
            new_data = {**data, spec.key: mapped.value}
            for key, value in mapped.top.items():
                if value is None:
                    new_data.pop(key, None)
                else:
                    new_data[key] = value
            left = still_to_fill(spec, form, data, new_data, FILL_IN)
            if left:
                new_data["to_fill"] = left
            else:
                new_data.pop("to_fill", None)
            try:
                book.save_data(fy, new_data, expected_version=form.version.data or "", who=who_name(),
                               section=spec.key, now=clock())
            except VersionConflict as e:
                return _section_page(409, fy, spec, form, data, conflict=str(e))
            except PlanProblems as e:
                problems = attach_problems(spec, form, mapped, e.problems)
            except PlanError as e:
                problems = attach_problems(spec, form, mapped, [Problem(e.field, e.problem)])
            else:
                flash(f"บันทึก{spec.title}ของแผนปีงบประมาณ {fy} แล้ว แชต งานตามกำหนด และหน้าเว็บใช้ฉบับใหม่ทันที", "ok")
                return redirect(_after_save(fy, spec.key, had_to_fill=bool(data.get("to_fill")), left=left), code=303)
        return _section_page(400, fy, spec, form, data, problems=problems, invalid=True)
    form = spec.form(formdata=None, version=book.version(fy))
    spec.fill(form, data)
    prepare(spec, form, data)
    guesses, placeholders = hide_guesses(spec, form, data, FILL_IN)
    return _section_page(200, fy, spec, form, data, guesses=guesses, placeholders=placeholders)


def _after_save(fy: int, section: str, *, had_to_fill: bool, left: list[str]) -> str:
    """Where a save leads: the next item still to fill (its section, at the field), else back to the section."""
    if left:
        label, _ = to_fill_item(left[0])
        flash(f"ต่อไปกรุณากรอก: {label} (ช่องที่มีกรอบสีเหลือง) ยังเหลือ {len(left)} รายการ", "next")
        return local(to_fill_link(fy, left[0]))
    if had_to_fill:
        flash("กรอกครบทุกรายการที่ร่างแผนเว้นไว้แล้ว", "ok")
        return local(f"/admin/plans/{fy}")
    return local(f"/admin/plans/{fy}/{section}")


# --- plan files (the IT officer's page) ------------------------------------------------------------------


@bp.get("/plans/<int:fy>/file")
def plan_file(fy: int, upload: UploadForm | None = None, problems: list[Problem] | None = None,
              status: int = 200) -> Any:
    _plan_or_404(fy)
    form = upload or UploadForm(version=_book().version(fy))
    return page("plan_file.html", status, fy=fy, upload=form, problems=problems or [], active="console.plan_home")


@bp.get("/plans/<int:fy>.toml")
def plan_download(fy: int) -> Any:
    _plan_or_404(fy)
    response = Response(_book().text(fy), mimetype="application/toml")
    response.headers["Content-Disposition"] = f'attachment; filename="{fy}.toml"'
    return response


@bp.post("/plans/<int:fy>/file")
def plan_upload(fy: int) -> Any:
    form = UploadForm()
    book = _book()
    upload = request.files.get("file")
    text = form.toml.data or ""
    if upload is not None and upload.filename:
        raw = upload.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            return _upload_problems(fy, form, [Problem("file", "ไฟล์ใหญ่เกินไป (ไฟล์แผนปกติไม่เกินไม่กี่สิบ KB)")])
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            return _upload_problems(fy, form, [Problem("file", f"ไฟล์ไม่ใช่ข้อความ UTF-8 (ไบต์ที่ {e.start})")])
    if not text.strip():
        return _upload_problems(fy, form, [Problem("toml", "กรุณาวางข้อความ TOML หรือเลือกไฟล์ .toml")])
    # A stale page is refused like any form; a bare upload (no version) replaces the plan as it is now.
    version = form.version.data if form.version.data is not None and "version" in request.form else book.version(fy)
    try:
        book.save_text(fy, text, expected_version=version, who=who_name(), section="all", now=clock())
    except VersionConflict as e:
        return _upload_problems(fy, form, [Problem("", str(e))], status=409)
    except PlanProblems as e:
        return _upload_problems(fy, form, e.problems)
    except PlanError as e:
        return _upload_problems(fy, form, [Problem(e.field, e.problem)])
    flash(f"แทนที่แผนปีงบประมาณ {fy} ด้วยไฟล์ที่อัปโหลดแล้ว", "ok")
    return redirect(local(f"/admin/plans/{fy}/file"), code=303)


def _upload_problems(fy: int, form: UploadForm, problems: list[Problem], status: int = 400) -> Any:
    problems = [Problem(p.field, p.in_file) for p in problems]  # an uploaded file is read in its own terms
    if _book().get(fy) is None:
        return page("upload_problems.html", status, fy=fy, problems=problems, active="console.plan_home")
    return plan_file(fy, upload=form, problems=problems, status=status)


# --- official results -----------------------------------------------------------------------------------


class IndicatorRow(Form):
    class Meta(ThaiMeta):
        pass

    instrument = StringField("แบบวัด")
    # The plan file's number within the instrument; the page shows the NACC's number (1–10) instead.
    number = HiddenField()
    name = StringField("ชื่อตัวชี้วัด")
    score = StringField("คะแนน")
    notes = TextAreaField("ข้อสังเกต/ข้อเสนอแนะ (บรรทัดละข้อ)")


#: The level the score bands give, offered first in the results form's level list.
AUTO_LEVEL = ("", "ตามเกณฑ์คะแนน (อัตโนมัติ)")


class ResultForm(FlaskForm):
    class Meta(ThaiMeta):
        pass

    ita_year = IntegerField("ผลการประเมิน ITA ปี (พ.ศ.)",
                            validators=[InputRequired("กรุณากรอกปี พ.ศ."),
                                        # Its plan is the year after, which must be a year plans may have.
                                        NumberRange(BE_YEAR_MIN - 1, BE_YEAR_MAX - 1,
                                                    "กรุณากรอกปี พ.ศ. 4 หลัก เช่น 2564")])
    total = StringField("คะแนนรวม")
    level = SelectField("ระดับ", choices=options([AUTO_LEVEL]))  # and the bands' levels: offer_levels
    target = StringField("คะแนนเป้าหมาย")
    indicators = FieldList(FormField(IndicatorRow), min_entries=0)

    def offer_levels(self, levels: list[str]) -> None:
        """The levels of the score bands the entry is checked against (the plan's data, not a fixed list)."""
        self.level.choices = options([AUTO_LEVEL, *((lv, lv) for lv in levels)])


def _default_ita_year() -> int:
    fy = current_fiscal_year()
    plan = _book().get(fy)
    done = plan is not None and plan.assessment is not None and plan.assessment.fiscal_year == fy - 1
    return fy if done else fy - 1


@bp.route("/results", methods=["GET", "POST"])
def results() -> Any:
    book = _book()
    problems: list[Problem] = []
    template = result_template(book)
    if request.method == "POST":
        form = ResultForm()
        form.offer_levels(template["levels"])
        if form.validate_on_submit():
            ita_year = int(form.ita_year.data)  # type: ignore[arg-type]
            rows = [(i, r.form) for i, r in enumerate(form.indicators)
                    if (r.form.score.data or "").strip() or (r.form.name.data or "").strip()]
            indicators = [{"instrument": (r.instrument.data or "").strip(), "number": (r.number.data or "").strip(),
                           "name": (r.name.data or "").strip(), "score": (r.score.data or "").strip(),
                           "notes": lines(r.notes.data)} for _, r in rows]
            try:
                plan = enter_result(book, ita_year, total=(form.total.data or "").strip(), indicators=indicators,
                                    level=form.level.data or None, who=who_name(), now=clock(),
                                    target=(form.target.data or "").strip() or None,
                                    organization=office().organization_name)
            except VersionConflict as e:
                problems = [Problem("", str(e))]
            except PlanProblems as e:
                problems = _result_problems(form, rows, e.problems)
            except PlanError as e:
                problems = _result_problems(form, rows, [Problem(e.field, e.problem)])
            else:
                flagged = len(plan.assessment.below_target()) if plan.assessment else 0
                flash(f"บันทึกผล ITA ปี {ita_year} เป็นข้อมูลของแผนปีงบประมาณ {plan.fiscal_year} แล้ว "
                      f"(ตัวชี้วัดต่ำกว่าเป้า {flagged} ตัว) แผนปีงบประมาณ {plan.fiscal_year} ใช้งานแล้ว "
                      "ขั้นต่อไป: เลือกมาตรการที่แนะนำเพิ่มลงในแผน", "ok")
                return redirect(local(f"/admin/draft?fy={plan.fiscal_year}"), code=303)
        numbers = _nacc_column(form, template)
        return page("results.html", 400, form=form, problems=problems, target=None, known=None, invalid=True,
                    numbers=numbers, fix=_to_fix(form, numbers))
    ita_year = request.args.get("year", type=int) or _default_ita_year()
    form = ResultForm(formdata=None, ita_year=ita_year, target=template.get("target", DEFAULT_TARGET))
    form.offer_levels(template["levels"])
    # A result already entered for that year is shown for correction; otherwise the latest indicators, unscored.
    entered = book.get(ita_year + 1)
    known = entered.assessment if entered is not None and entered.assessment is not None else None
    if known is not None and known.fiscal_year == ita_year:
        data = plan_to_data(entered)["assessment"]
        form.total.data, form.target.data = data["total"], data["target"]
        rows = data["indicators"]
    else:
        known, rows = None, template["indicators"]
    for ind in [*rows, {}]:  # the empty last row adds an indicator when the NACC adds one
        notes = ind.get("notes") or []
        form.indicators.append_entry({"instrument": ind.get("instrument", ""), "number": ind.get("number"),
                                      "name": ind.get("name", ""), "score": ind.get("score", ""),
                                      "notes": "\n".join(notes)})
    return page("results.html", form=form, problems=[], target=template.get("target"), known=known,
                numbers=_nacc_column(form, template), fix=[], first=not office().has_plan)


def _keys(form: ResultForm) -> list[tuple[str, int] | None]:
    """Each row's (instrument, number within it); None for the empty row that adds an indicator."""
    out: list[tuple[str, int] | None] = []
    for row in form.indicators:
        code, number = (row.form.instrument.data or "").strip(), str(row.form.number.data or "").strip()
        out.append((code, int(number)) if code and number.isdigit() else None)
    return out


def _nacc_column(form: ResultForm, template: dict[str, Any]) -> list[int | None]:
    """The "ที่" column: each row's number in the NACC's report (1–10 across the instruments)."""
    keys = _keys(form)
    # In the instruments' order the entry will be saved with (the latest plan's), as the public page numbers them.
    instruments = [i["code"] for i in template["instruments"]]
    numbers = nacc_numbers((k for k in keys if k is not None), instruments)
    return [numbers.get(k) if k is not None else None for k in keys]


def _to_fix(form: ResultForm, numbers: list[int | None]) -> list[tuple[str, str, str]]:
    """(what, message, field id) for every field with a message: the banner names them and links to each;
    ``numbers`` is the page's NACC column, so the banner names an indicator as its row does."""
    out = [(f.label.text, str(e), f.id) for f in (form.ita_year, form.total, form.level, form.target) for e in f.errors]
    fmt = office().fmt
    for row, number in zip(form.indicators, numbers, strict=True):
        r = row.form
        name = (r.name.data or "").strip()
        what = indicator_label(number, name, (r.instrument.data or "").strip(), fmt) if number else (
            f"ตัวชี้วัดที่เพิ่ม {name}".strip())
        for f, prefix in ((r.score, "คะแนน"), (r.name, "ชื่อ"), (r.instrument, "แบบวัดของ"), (r.number, "ลำดับของ")):
            out += [(f"{prefix}{what}", str(e), f.id) for e in f.errors]
    return out


def _result_problems(form: ResultForm, rows: list[tuple[int, Any]], problems: list[Problem]) -> list[Problem]:
    """Put each domain problem at its field (its message in field terms); those without a field are returned."""
    left = []
    for p in problems:
        m = re.match(r"^assessment\.indicators\[(\d+)\]\.?(\w+)?", p.field)
        target = None
        if m and int(m[1]) < len(rows):
            target = rows[int(m[1])][1]._fields.get(m[2] or "score")
        elif (t := re.match(r"^assessment\.(total|level|target)$", p.field)) is not None:
            target = form._fields.get(t[1])
        if target is None:
            left.append(p)
        else:
            target.errors = [*list(target.errors or []), p.message]
    return left


# --- next year's draft --------------------------------------------------------------------------------


class SuggestionRow(Form):
    class Meta(ThaiMeta):
        pass

    instrument = HiddenField()
    indicator = HiddenField()
    # Whatever is typed in the boxes is what is kept: there is no "keep as offered" that could drop an edit.
    choice = RadioField("ใช้มาตรการนี้หรือไม่", choices=options([("keep", "ใช้ในแผน (ตามข้อความในช่องด้านล่าง)"),
                                                                ("drop", "ไม่ใช้")]),
                        default="keep")
    title = StringField("ชื่อมาตรการ")
    methods = TextAreaField("วิธีดำเนินการ (บรรทัดละข้อ)")
    divisions = MultiCheckbox("กองที่รับผิดชอบ", choices=[])
    period = StringField("ระยะเวลา")
    follow_up = StringField("การติดตามผล")


class DraftForm(FlaskForm):
    class Meta(ThaiMeta):
        pass

    version = HiddenField()
    from_fy = HiddenField()
    suggestions = FieldList(FormField(SuggestionRow), min_entries=0)


def _default_draft_year() -> int:
    fy = current_fiscal_year()
    return fy if _book().get(fy) is None else fy + 1


def _kept_suggestions(form: DraftForm, the_draft: Any) -> tuple[list[tuple[Any, Any]], bool]:
    """(suggestion as typed, its form row) for each row not dropped; False when a row lacks a division."""
    # Looked up with the form's values, which WTForms types as optional.
    by_key: dict[tuple[str | None, str | None], Any] = {
        (s.instrument, str(s.indicator)): s for s in the_draft.suggestions
    }
    kept, complete = [], True
    for row in form.suggestions:
        r = row.form
        s = by_key.get((r.instrument.data, r.indicator.data))
        if s is None or r.choice.data == "drop":
            continue
        if not r.divisions.data:
            r.divisions.errors = [*list(r.divisions.errors or []), "กรุณาเลือกกองที่รับผิดชอบอย่างน้อยหนึ่งกอง"]
            complete = False
        kept.append((replace(s, title=(r.title.data or "").strip(), methods=tuple(lines(r.methods.data)),
                             divisions=tuple(r.divisions.data or ()), period=(r.period.data or "").strip(),
                             follow_up=(r.follow_up.data or "").strip()), r))
    return kept, complete


def _attach_draft_problems(problems: list[Problem], first_new: int, rows: list[Any]) -> list[Problem]:
    """Problems of the appended measures (measures[first_new + i]) beside the suggestion's own inputs."""
    left = []
    for p in problems:
        m = re.match(r"^measures\[(\d+)\]\.?(\w+)?", p.field)
        target = None
        if m and 0 <= int(m[1]) - first_new < len(rows):
            target = rows[int(m[1]) - first_new]._fields.get(m[2] or "title")
        if target is None:
            left.append(p)
        else:
            target.errors = [*list(target.errors or []), p.message]
    return left


@bp.route("/draft", methods=["GET", "POST"])
def draft() -> Any:
    book = _book()
    fy = year_arg() or _default_draft_year()
    from_fy = year_arg("from")
    try:
        the_draft = draft_plan(book, office().reports, fy, from_fy, organization=office().organization_name)
    except PlanError as e:
        return page("message.html", 400, title=f"ร่างแผนปีงบประมาณ {fy} ไม่ได้", message=e.problem,
                    hint="ร่างแผนได้เมื่อมีแผนของปีก่อนหน้าเป็นต้นแบบ", active="console.draft")
    choices = [(d.get("id", ""), d.get("name", "")) for d in the_draft.data.get("divisions", [])]
    problems: list[Problem] = []
    exists = book.get(fy) is not None
    if request.method == "POST":
        form = DraftForm()
        for row in form.suggestions:
            row.form.divisions.choices = options(choices)
        if form.validate_on_submit():
            kept, complete = _kept_suggestions(form, the_draft)
            the_draft.version = form.version.data or ""  # saved over what the manager saw, or refused
            if complete:
                try:
                    plan = save_draft(book, the_draft, [s for s, _ in kept], who=who_name(), now=clock())
                except VersionConflict as e:
                    problems = [Problem("", str(e))]
                except PlanProblems as e:
                    problems = _attach_draft_problems(e.problems, len(the_draft.data.get("measures", [])),
                                                      [r for _, r in kept])
                except PlanError as e:
                    problems = [Problem(e.field, e.problem)]
                else:
                    flash(f"บันทึกแผนปีงบประมาณ {plan.fiscal_year} แล้ว ({len(plan.measures)} มาตรการ) "
                          "เจ้าหน้าที่รายงานผลของปีนี้ใน LINE ได้ทันที", "ok")
                    return redirect(local(f"/admin/plans/{plan.fiscal_year}"), code=303)
        return page("draft.html", 400, fy=fy, draft=the_draft, form=form, problems=problems, exists=exists,
                    invalid=True)
    form = DraftForm(formdata=None, version=the_draft.version, from_fy=str(from_fy or ""))
    for s in the_draft.suggestions:
        # No division is ticked for her: a suggestion has no owner until a manager names one.
        form.suggestions.append_entry({"instrument": s.instrument, "indicator": str(s.indicator), "choice": "keep",
                                       "title": s.title, "methods": "\n".join(s.methods),
                                       "divisions": [], "period": s.period, "follow_up": s.follow_up})
    for row in form.suggestions:
        row.form.divisions.choices = options(choices)
    return page("draft.html", fy=fy, draft=the_draft, form=form, problems=[], exists=exists)
