"""The plan editor's forms, one per section, and their mapping to and from the plan file's data.

Forms only collect what was typed: every rule (required texts, division ids, measures naming known
divisions, score bands…) is the domain's, and its problems come back as field paths that
``attach_problems`` puts beside the right input.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3; stubs are 3.2
from wtforms.validators import Optional as OptionalValue
from wtforms.widgets import CheckboxInput, ListWidget

from ita_bot.console.thai_date import ThaiDateField
from ita_bot.domain.milestones import COMMITTEE as WHO_COMMITTEE
from ita_bot.domain.milestones import MANAGERS, WHO_THAI
from ita_bot.domain.oit import COVERS, COVERS_THAI
from ita_bot.domain.plan import Problem
from ita_bot.domain.plan_book import SECTION_TOP_KEYS
from ita_bot.domain.plan_diff import SECTION_THAI
from ita_bot.domain.roles import COMMITTEE, thai_title
from ita_bot.domain.thai import to_arabic_digits

__all__ = ["SECTIONS", "Section", "attach_problems", "lines", "options", "words"]

_THAI_MESSAGES = {
    "Not a valid integer value.": "กรุณากรอกเป็นตัวเลขจำนวนเต็ม",
    "Not a valid date value.": "วันที่ไม่ถูกต้อง กรุณาเลือกจากปฏิทิน",
    "Not a valid choice.": "กรุณาเลือกจากรายการ",
    "'%(value)s' is not a valid choice for this field.": "ตัวเลือกไม่ถูกต้อง",
    "'%(value)s' are not valid choices for this field.": "ตัวเลือกไม่ถูกต้อง",
}


class _ThaiTranslations:
    def gettext(self, string: str) -> str:
        return _THAI_MESSAGES.get(string, string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


class ThaiMeta:
    def get_translations(self, form: Any) -> Any:
        return _ThaiTranslations()


def options(pairs: Any) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(str(value), str(label)) for value, label in pairs]


def lines(text: str | None) -> list[str]:
    """A textarea: one item per line, blank lines dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def words(text: str | None) -> list[str]:
    """A comma-separated list (Thai or ASCII commas), blanks dropped."""
    return [w.strip() for w in re.split(r"[,，、]", text or "") if w.strip()]


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VersionedForm(FlaskForm):
    """Every editor form carries the version it was read at: a save over a newer plan is refused."""

    version = HiddenField()

    class Meta(ThaiMeta):
        pass


# --- organization -------------------------------------------------------------------------------


class OrganizationForm(VersionedForm):
    name = StringField("ชื่อหน่วยงาน")
    short_name = StringField("ชื่อย่อ")
    district = StringField("อำเภอ")
    province = StringField("จังหวัด")
    set_on = ThaiDateField("วันที่ประชุมกำหนดมาตรการ")
    set_at = StringField("สถานที่ประชุม")
    reporting_rule = TextAreaField("ขั้นตอนการรายงานผล")


# --- divisions ----------------------------------------------------------------------------------


class DivisionRow(Form):
    class Meta(ThaiMeta):
        pass

    id = StringField("รหัสกอง (อังกฤษตัวเล็ก เช่น klang)")
    name = StringField("ชื่อกอง")
    aliases = StringField("ชื่อเรียกอื่น (คั่นด้วย ,)")
    remove = BooleanField("ลบกองนี้")


class DivisionsForm(VersionedForm):
    rows = FieldList(FormField(DivisionRow), min_entries=0)


# --- measures -----------------------------------------------------------------------------------


class MeasureRow(Form):
    class Meta(ThaiMeta):
        pass

    key = HiddenField()  # the row's index in the data it was read from ("" = a new measure)
    number = IntegerField("มาตรการที่", validators=[OptionalValue()])
    title = StringField("ชื่อมาตรการ")
    methods = TextAreaField("วิธีดำเนินการ (บรรทัดละหนึ่งข้อ)")
    divisions = MultiCheckbox("กองที่รับผิดชอบ", choices=[])
    period = StringField("ระยะเวลา")
    follow_up = StringField("การติดตามผล")
    remove = BooleanField("ลบมาตรการนี้")


class MeasuresForm(VersionedForm):
    rows = FieldList(FormField(MeasureRow), min_entries=0)


# --- committee ----------------------------------------------------------------------------------


class MemberRow(Form):
    class Meta(ThaiMeta):
        pass

    name = StringField("ชื่อ")
    position = StringField("ตำแหน่ง")
    role = SelectField("บทบาท", choices=options((r, thai_title(r)) for r in COMMITTEE))
    role_text = StringField("ตำแหน่งในคณะกรรมการ (ตามคำสั่ง)")
    remove = BooleanField("ลบ")


class CommitteeForm(VersionedForm):
    issuer = StringField("ผู้ออกคำสั่ง (หน่วยงาน)")
    order = StringField("คำสั่งที่")
    title = StringField("เรื่อง")
    signed = ThaiDateField("ลงวันที่")
    signer = StringField("ผู้ลงนาม")
    signer_position = StringField("ตำแหน่งผู้ลงนาม")
    term_end = ThaiDateField("สิ้นสุดวาระ")
    members = FieldList(FormField(MemberRow), min_entries=0)


# --- memo ---------------------------------------------------------------------------------------


class MemoForm(VersionedForm):
    reference = StringField("ที่ (เลขที่หนังสือ)")
    date = ThaiDateField("วันที่")
    subject = StringField("เรื่อง")
    office = StringField("ส่วนราชการ")
    addressees = StringField("เรียน")
    intro = TextAreaField("ข้อความนำ")
    closing = TextAreaField("ข้อความปิด")
    signer = StringField("ผู้ลงนาม")
    signer_position = StringField("ตำแหน่งผู้ลงนาม")


# --- milestones (the assessment calendar; a new year's plan starts with none) ------------------


class MilestoneRow(Form):
    class Meta(ThaiMeta):
        pass

    date = ThaiDateField("วันที่")
    title = StringField("เรื่อง")
    who = MultiCheckbox("ผู้รับผิดชอบ", choices=[])
    notes = StringField("หมายเหตุ")
    remove = BooleanField("ลบ")


class MilestonesForm(VersionedForm):
    rows = FieldList(FormField(MilestoneRow), min_entries=0)


# --- OIT items (the NACC's open-data items the year's page answers; renumbered yearly) -----------------


class OitRow(Form):
    class Meta(ThaiMeta):
        pass

    code = StringField("รหัสรายการ (เช่น O42)")
    title = StringField("ชื่อรายการ (ตามรายการ OIT ของ ป.ป.ช. ทุกตัวอักษร)")
    covers = SelectField("รายการนี้ขอ", choices=options((c, COVERS_THAI[c]) for c in COVERS))
    # Text, not a number field: a year typed in Thai digits (๒๕๖๙) is read as the year it is.
    fiscal_year = StringField("ของปีงบประมาณ (พ.ศ.)")
    remove = BooleanField("ลบรายการนี้")


class OitForm(VersionedForm):
    rows = FieldList(FormField(OitRow), min_entries=0)


# --- the mapping --------------------------------------------------------------------------------


@dataclass
class Mapped:
    """A section's new data and where each data row came from on the form (removed rows shift indexes)."""

    value: Any
    rows: dict[int, int] = field(default_factory=dict)  # data index → form row index
    top: dict[str, Any] = field(default_factory=dict)  # top-level keys the section also sets (None = remove)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _org_fill(form: Any, data: dict[str, Any]) -> None:
    org = data.get("organization", {})
    for key in ("name", "short_name", "district", "province"):
        getattr(form, key).data = _text(org.get(key))
    form.set_on.data = data.get("set_on") if isinstance(data.get("set_on"), date) else None
    form.set_at.data = _text(data.get("set_at"))
    form.reporting_rule.data = _text(data.get("reporting_rule"))


def _org_read(form: Any, data: dict[str, Any]) -> Mapped:
    org = {k: (getattr(form, k).data or "").strip() for k in ("name", "short_name", "district", "province")}
    top = {"set_on": form.set_on.data, "set_at": (form.set_at.data or "").strip() or None,
           "reporting_rule": (form.reporting_rule.data or "").strip()}
    return Mapped(org, top=top)


def _blank_row(form: Any, keys: tuple[str, ...]) -> bool:
    return all(not _text(getattr(form, k).data).strip() for k in keys)


#: Empty rows offered at the end of a list editor, so several members or measures take one save.
BLANK_ROWS = 3


def _div_fill(form: Any, data: dict[str, Any]) -> None:
    for d in data.get("divisions", []):
        form.rows.append_entry({"id": d.get("id", ""), "name": d.get("name", ""),
                                "aliases": ", ".join(d.get("aliases", []))})
    for _ in range(BLANK_ROWS):  # empty rows add divisions; those left empty are ignored
        form.rows.append_entry()


def _div_read(form: Any, data: dict[str, Any]) -> Mapped:
    out: list[dict[str, Any]] = []
    rows: dict[int, int] = {}
    for i, row in enumerate(form.rows):
        if row.form.remove.data or _blank_row(row.form, ("id", "name", "aliases")):
            continue
        rows[len(out)] = i
        out.append({"id": (row.form.id.data or "").strip(), "name": (row.form.name.data or "").strip(),
                    "aliases": words(row.form.aliases.data)})
    return Mapped(out, rows)


def _division_choices(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(d.get("id", ""), d.get("name", "")) for d in data.get("divisions", [])]


def _measure_fill(form: Any, data: dict[str, Any]) -> None:
    for i, m in enumerate(data.get("measures", [])):
        form.rows.append_entry({"key": str(i), "number": m.get("number"), "title": m.get("title", ""),
                                "methods": "\n".join(m.get("methods", [])), "divisions": list(m.get("divisions", [])),
                                "period": m.get("period", ""), "follow_up": m.get("follow_up", "")})
    numbers = [m.get("number") for m in data.get("measures", []) if isinstance(m.get("number"), int)]
    for n in range(1, BLANK_ROWS + 1):
        form.rows.append_entry({"key": "", "number": max(numbers, default=0) + n})


def _measure_read(form: Any, data: dict[str, Any]) -> Mapped:
    old = data.get("measures", [])
    out: list[dict[str, Any]] = []
    rows: dict[int, int] = {}
    for i, row in enumerate(form.rows):
        key = _text(row.form.key.data)
        is_new = not key.isdigit() or int(key) >= len(old)
        if row.form.remove.data or (is_new and _blank_row(row.form, ("title", "methods", "period", "follow_up"))):
            continue
        # Keys the form does not show (e.g. carried_from) stay as they were.
        measure = copy.deepcopy(old[int(key)]) if not is_new else {}
        measure.update({
            "number": row.form.number.data,
            "title": (row.form.title.data or "").strip(),
            "methods": lines(row.form.methods.data),
            "divisions": list(row.form.divisions.data or []),
            "period": (row.form.period.data or "").strip(),
            "follow_up": (row.form.follow_up.data or "").strip(),
        })
        if measure["number"] is None:
            measure.pop("number")
        rows[len(out)] = i
        out.append(measure)
    return Mapped(out, rows)


_COMMITTEE_KEYS = ("issuer", "order", "title", "signed", "signer", "signer_position", "term_end")


def _committee_fill(form: Any, data: dict[str, Any]) -> None:
    c = data.get("committee", {})
    for key in _COMMITTEE_KEYS:
        value = c.get(key)
        getattr(form, key).data = value if isinstance(value, date) else _text(value) if key not in (
            "signed", "term_end") else None
    for m in c.get("members", []):
        form.members.append_entry({"name": m.get("name", ""), "position": m.get("position", ""),
                                   "role": m.get("role", "member"), "role_text": m.get("role_text", "")})
    for _ in range(BLANK_ROWS):
        form.members.append_entry({"role": "member"})


def _committee_read(form: Any, data: dict[str, Any]) -> Mapped:
    c = copy.deepcopy(data.get("committee", {}))
    for key in _COMMITTEE_KEYS:
        value = getattr(form, key).data
        if isinstance(value, str):
            value = value.strip()
        if value in ("", None) and key in ("issuer", "signer_position"):
            c.pop(key, None)  # optional texts are left out rather than written empty
        elif value is None:
            c.pop(key, None)  # a missing date: the domain names the field
        else:
            c[key] = value
    members: list[dict[str, Any]] = []
    rows: dict[int, int] = {}
    for i, row in enumerate(form.members):
        if row.form.remove.data or _blank_row(row.form, ("name", "position", "role_text")):
            continue
        rows[len(members)] = i
        members.append({"number": len(members) + 1, "name": (row.form.name.data or "").strip(),
                        "position": (row.form.position.data or "").strip(), "role": row.form.role.data,
                        "role_text": (row.form.role_text.data or "").strip()})
    c["members"] = members
    return Mapped(c, rows)


_MEMO_KEYS = ("reference", "date", "subject", "office", "addressees", "intro", "closing", "signer", "signer_position")
_MEMO_OPTIONAL = ("intro", "closing", "signer", "signer_position")


def _memo_fill(form: Any, data: dict[str, Any]) -> None:
    memo = data.get("memo", {})
    for key in _MEMO_KEYS:
        value = memo.get(key)
        getattr(form, key).data = (value if isinstance(value, date) else None) if key == "date" else _text(value)


def _memo_read(form: Any, data: dict[str, Any]) -> Mapped:
    memo = copy.deepcopy(data.get("memo", {}))
    for key in _MEMO_KEYS:
        value = getattr(form, key).data
        if isinstance(value, str):
            value = value.strip()
        if value is None or (value == "" and key in _MEMO_OPTIONAL):
            memo.pop(key, None)  # optional texts are left out; a missing required one the domain names
        else:
            memo[key] = value
    return Mapped(memo)


def _milestone_fill(form: Any, data: dict[str, Any]) -> None:
    for m in data.get("milestones", []):
        who = m.get("who", [])
        form.rows.append_entry({"date": m.get("date"), "title": m.get("title", ""),
                                "who": list(who) if isinstance(who, list) else [_text(who)],
                                "notes": m.get("notes", "")})
    for _ in range(BLANK_ROWS):
        form.rows.append_entry()


def _milestone_read(form: Any, data: dict[str, Any]) -> Mapped:
    old = data.get("milestones", [])
    out: list[dict[str, Any]] = []
    rows: dict[int, int] = {}
    for i, row in enumerate(form.rows):
        who = list(row.form.who.data or [])
        if row.form.remove.data or (_blank_row(row.form, ("title", "notes")) and not who
                                    and row.form.date.data is None):
            continue
        item = copy.deepcopy(old[i]) if i < len(old) else {}
        item.update({"date": row.form.date.data, "title": (row.form.title.data or "").strip(), "who": who})
        if (row.form.notes.data or "").strip():
            item["notes"] = row.form.notes.data.strip()
        else:
            item.pop("notes", None)
        if item["date"] is None:
            item.pop("date")
        rows[len(out)] = i
        out.append(item)
    return Mapped(out, rows)


def _oit_fill(form: Any, data: dict[str, Any]) -> None:
    for o in data.get("oit", []):
        form.rows.append_entry({"code": o.get("code", ""), "title": o.get("title", ""),
                                "covers": o.get("covers", COVERS[0]), "fiscal_year": _text(o.get("fiscal_year"))})
    for _ in range(BLANK_ROWS):
        form.rows.append_entry({"covers": COVERS[0]})


def _oit_read(form: Any, data: dict[str, Any]) -> Mapped:
    out: list[dict[str, Any]] = []
    rows: dict[int, int] = {}
    for i, row in enumerate(form.rows):
        r = row.form
        # A row emptied of what was typed is removed, as one never filled (the select always holds a choice).
        if r.remove.data or _blank_row(r, ("code", "title", "fiscal_year")):
            continue
        item: dict[str, Any] = {"code": (r.code.data or "").strip(), "title": (r.title.data or "").strip(),
                                "covers": r.covers.data}
        year = to_arabic_digits(r.fiscal_year.data or "").strip()
        if year:  # left out when empty (the domain names the field); a non-number goes on for it to name
            item["fiscal_year"] = int(year) if re.fullmatch(r"[0-9]{1,9}", year) else year
        rows[len(out)] = i
        out.append(item)
    return Mapped(out, rows)


@dataclass(frozen=True)
class Section:
    """One editable part of a plan: its data key, Thai title, form, and how the form maps to the data."""

    key: str
    title: str
    form: type[VersionedForm]
    fill: Callable[[Any, dict[str, Any]], None]
    read: Callable[[Any, dict[str, Any]], Mapped]
    rows_field: str = "rows"  # the FieldList a "key[i].x" problem points into
    top_keys: tuple[str, ...] = ()  # top-level plan keys edited here too


# Titles and the top-level keys a section also edits are the domain's, so the history names a section as
# its editor does.
SECTIONS: dict[str, Section] = {
    s.key: s
    for s in (
        Section("organization", SECTION_THAI["organization"], OrganizationForm, _org_fill, _org_read,
                top_keys=SECTION_TOP_KEYS["organization"]),
        Section("divisions", SECTION_THAI["divisions"], DivisionsForm, _div_fill, _div_read),
        Section("measures", SECTION_THAI["measures"], MeasuresForm, _measure_fill, _measure_read),
        Section("committee", SECTION_THAI["committee"], CommitteeForm, _committee_fill, _committee_read,
                rows_field="members"),
        Section("memo", SECTION_THAI["memo"], MemoForm, _memo_fill, _memo_read),
        Section("milestones", SECTION_THAI["milestones"], MilestonesForm, _milestone_fill, _milestone_read),
        Section("oit", SECTION_THAI["oit"], OitForm, _oit_fill, _oit_read),
    )
}

_PATH = re.compile(r"^(?P<section>[a-z_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<rest>.+))?$")


def who_choices(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Who a milestone can name, by Thai name; the plan keeps the codes ("committee", "managers", division ids)."""
    return [(WHO_COMMITTEE, WHO_THAI[WHO_COMMITTEE]), (MANAGERS, WHO_THAI[MANAGERS]), *_division_choices(data)]


def prepare(section: Section, form: Any, data: dict[str, Any]) -> None:
    """Division choices for measure rows and recipients for milestones come from the plan being edited."""
    if section.key == "measures":
        choices = _division_choices(data)
        for row in form.rows:
            row.divisions.choices = options(choices)
    if section.key == "milestones":
        who = who_choices(data)
        for row in form.rows:
            row.who.choices = options(who)


def attach_problems(section: Section, form: Any, mapped: Mapped, problems: list[Problem]) -> list[Problem]:
    """Put each domain problem beside its input; those without one (another section, the whole list) are returned."""
    left = []
    for problem in problems:
        target = _field_for(section, form, mapped, problem.field)
        if target is None:
            left.append(problem)
        else:
            target.errors = [*list(target.errors or []), problem.message]
    return left


def _field_for(section: Section, form: Any, mapped: Mapped, path: str) -> Any:
    if path in section.top_keys:
        return form._fields.get(path)
    m = _PATH.match(path)
    if not m:
        return None
    if section.key == "committee" and m["section"] == "committee" and m["rest"]:
        sub = _PATH.match(m["rest"])
        if sub and sub["section"] == "members" and sub["index"] is not None:
            row = mapped.rows.get(int(sub["index"]))
            key = (sub["rest"] or "name").split(".")[0].split("[")[0]
            if row is not None and row < len(form.members):
                entry = form.members[row].form
                return entry._fields.get(key if key != "number" else "name")
            return None
        key = m["rest"].split(".")[0].split("[")[0]
        return getattr(form, key, None)
    if m["section"] != section.key:
        return None
    if m["index"] is None:
        if not m["rest"]:
            return None
        key = m["rest"].split(".")[0].split("[")[0]
        return getattr(form, key, None) if key not in ("version", "rows") else None
    row = mapped.rows.get(int(m["index"]))
    rows = getattr(form, section.rows_field)
    if row is None or row >= len(rows):
        return None
    key = (m["rest"] or "").split(".")[0].split("[")[0] or ("title" if section.key != "divisions" else "id")
    return rows[row].form._fields.get(key)


#: What a draft leaves for a manager to fill in, as the secretary reads it, and where to fill it.
TO_FILL_THAI: dict[str, tuple[str, str]] = {
    "committee.order": ("เลขที่คำสั่งแต่งตั้งคณะกรรมการ", "committee"),
    "committee.signed": ("วันที่ลงนามคำสั่งแต่งตั้งคณะกรรมการ", "committee"),
    "memo.reference": ("เลขที่หนังสือของบันทึกข้อความ", "memo"),
    "memo.date": ("วันที่ของบันทึกข้อความ", "memo"),
    "memo.intro": ("ข้อความนำของบันทึกข้อความ", "memo"),
    "set_on": ("วันที่ประชุมกำหนดมาตรการ", "organization"),
    "set_at": ("สถานที่ประชุมกำหนดมาตรการ", "organization"),
    # An office's first plan (drafted with no earlier plan) leaves these too.
    "organization.name": ("ชื่อหน่วยงาน", "organization"),
    "organization.short_name": ("ชื่อย่อของหน่วยงาน", "organization"),
    "organization.district": ("อำเภอ", "organization"),
    "organization.province": ("จังหวัด", "organization"),
    "divisions": ("รายชื่อกองของหน่วยงาน (ตรวจและแก้รายชื่อตั้งต้นให้ตรงกับหน่วยงาน)", "divisions"),
    "committee.signer": ("ผู้ลงนามคำสั่งแต่งตั้งคณะกรรมการ", "committee"),
    "committee.members": ("รายชื่อคณะกรรมการ", "committee"),
    "memo.office": ("ส่วนราชการในบันทึกข้อความ", "memo"),
    "memo.addressees": ("ผู้รับบันทึกข้อความ (เรียน)", "memo"),
}


#: A `to_fill` path into one row of a list section ("oit[0].code"): a draft's copy of a row for a manager to check.
_ROW_PATH = re.compile(r"^(?P<section>[a-z_]+)\[(?P<index>\d+)\]\.(?P<field>[a-z_]+)$")


def to_fill_item(path: str) -> tuple[str, str]:
    """(Thai label, section key) of a `to_fill` path."""
    if path in TO_FILL_THAI:
        return TO_FILL_THAI[path]
    row = _ROW_PATH.match(path)
    if row and row["section"] == "oit":
        return (f"รายการ OIT แถวที่ {int(row['index']) + 1} (ตรวจรหัส ชื่อรายการ และปีงบประมาณให้ตรงกับรายการ OIT "
                "ของปีที่ประเมิน)", "oit")
    head = path.split(".", 1)[0].split("[", 1)[0]
    key = head if head in SECTIONS else "organization"
    return (f"{SECTIONS[key].title}: {path}", key)


def to_fill_field(path: str) -> str:
    """The form field a `to_fill` path is typed into (its last part: "committee.signed" → "signed"; a row's field
    as the row list names it: "oit[0].code" → "rows-0-code")."""
    row = _ROW_PATH.match(path)
    if row and row["section"] in SECTIONS:
        return f"{SECTIONS[row['section']].rows_field}-{row['index']}-{row['field']}"
    return path.rsplit(".", 1)[-1]


def to_fill_link(fy: int, path: str) -> str:
    """Where a `to_fill` item is typed: its section, scrolled to the field (the path inside the app)."""
    return f"/admin/plans/{fy}/{to_fill_item(path)[1]}#fill-{to_fill_field(path)}"


def _value_at(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _set_at(data: dict[str, Any], path: str, value: Any) -> None:
    *heads, last = path.split(".")
    node = data
    for part in heads:
        node = node.setdefault(part, {})
    node[last] = value


def fields_to_fill(section: Section, form: Any, data: dict[str, Any]) -> list[str]:
    """Names of this section's form fields the plan still lists in `to_fill`, in the order the form shows them."""
    wanted = {to_fill_field(p) for p in data.get("to_fill", []) if to_fill_item(p)[1] == section.key}
    names = []
    for name, f in form._fields.items():
        if name in wanted:
            names.append(name)
        elif isinstance(f, FieldList):  # rows a draft copied for checking ("rows-0-code"), filled in data order
            names += [sub.name for entry in f for sub in getattr(entry, "form", ()) if sub.name in wanted]
    return names


def hide_guesses(section: Section, form: Any, data: dict[str, Any],
                 fill_in: str) -> tuple[dict[str, date], dict[str, str]]:
    """Empty the fields a draft only guessed, so they do not look filled in.

    A to-fill date (the draft puts the year's first day there, since the plan needs one) is shown empty
    with the guess as a note; a text holding the "(โปรดกรอก)" mark is shown empty with its pattern as the
    placeholder ("ลป ๓๕๔๐๑/…"). Returns (guessed dates, placeholders) by field name.
    """
    dates: dict[str, date] = {}
    placeholders: dict[str, str] = {}
    for name in fields_to_fill(section, form, data):
        f = form._fields.get(name)  # a row's field (a copied OIT item) holds a real value, never a guess
        if f is None:
            continue
        if isinstance(f, ThaiDateField):
            if isinstance(f.data, date):
                dates[name] = f.data
            f.data = None
        elif isinstance(f.data, str) and fill_in in f.data:
            pattern = f.data.replace(fill_in, "…").strip()
            placeholders[name] = pattern if pattern != "…" else ""
            f.data = ""
    return dates, placeholders


def still_to_fill(section: Section, form: Any, old: dict[str, Any], new: dict[str, Any], fill_in: str) -> list[str]:
    """The plan's `to_fill` after saving this section, and the draft's guesses kept where nothing was typed.

    A to-fill field of this section that was typed in is done; one left empty keeps the draft's value
    (the plan needs one) and stays on the list, so saving other changes never forces a guess.
    """
    left = []
    for path in new.get("to_fill", []):
        if to_fill_item(path)[1] == section.key and _ROW_PATH.match(path):
            continue  # a copied row to check: saving its section, where every row was shown, checks it
        if to_fill_item(path)[1] == section.key:
            typed = form._fields.get(to_fill_field(path))
            # A list (committee members, divisions) is judged as saved: its form also holds removed rows.
            listed = typed is None or isinstance(typed, FieldList)
            value = _value_at(new, path) if listed else typed.data
            if isinstance(value, str):
                value = value.strip()
            if value not in (None, "") and fill_in not in str(value):
                continue
            guess = _value_at(old, path)
            # A list keeps what was typed (its rows still marked stay on the list); a blank field keeps the guess.
            if guess is not None and not isinstance(value, list):
                _set_at(new, path, guess)
        left.append(path)
    return left
