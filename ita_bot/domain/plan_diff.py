"""A plan change as people read it: Thai field names with the value before and after, and undoing a change."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ita_bot.domain.milestones import title_id
from ita_bot.domain.oit import COVERS_THAI
from ita_bot.domain.plan import PlanError
from ita_bot.domain.plan_book import SECTION_TOP_KEYS, WHOLE_PLAN, Change, PlanBook
from ita_bot.domain.plan_writer import data_to_toml, plan_to_data
from ita_bot.domain.thai import ThaiFormat, format_datetime

__all__ = ["SECTION_THAI", "FieldChange", "UndoRefused", "describe", "diff_data", "section_data", "show", "undo"]

#: A plan section as the console names it.
SECTION_THAI: dict[str, str] = {
    "all": "ทั้งแผน (อัปโหลดไฟล์)",
    "new": "สร้างแผนใหม่",
    "organization": "หน่วยงานและการประชุมกำหนดมาตรการ",
    "divisions": "กองและชื่อเรียก",
    "measures": "มาตรการ",
    "committee": "คณะกรรมการ",
    "memo": "หัวบันทึกข้อความ",
    "milestones": "ปฏิทินการประเมิน",
    "oit": "รายการ OIT ที่หน้ารายงานประจำปีตอบ",
    "assessment": "ผลการประเมิน ITA",
    "score_bands": "เกณฑ์ระดับคะแนน",
    "sample_rules": "กลุ่มตัวอย่างของแบบวัด",
}

#: Field names in Thai, by the table they sit in ("" = the plan's top level).
_LABELS: dict[str, dict[str, str]] = {
    "": {"fiscal_year": "ปีงบประมาณ", "start": "วันเริ่มปีงบประมาณ", "end": "วันสิ้นปีงบประมาณ",
         "set_on": "วันที่ประชุมกำหนดมาตรการ", "set_at": "สถานที่ประชุม", "reporting_rule": "ขั้นตอนการรายงานผล",
         "to_fill": "รายการที่ยังต้องกรอก"},
    "organization": {"name": "ชื่อหน่วยงาน", "short_name": "ชื่อย่อ", "district": "อำเภอ", "province": "จังหวัด"},
    "divisions": {"id": "รหัสกอง", "name": "ชื่อกอง", "aliases": "ชื่อเรียกอื่น"},
    "measures": {"number": "มาตรการที่", "title": "ชื่อมาตรการ", "methods": "วิธีดำเนินการ",
                 "divisions": "กองที่รับผิดชอบ", "period": "ระยะเวลา", "follow_up": "การติดตามผล",
                 "carried_from": "ยกมาจากปี"},
    "committee": {"issuer": "ผู้ออกคำสั่ง", "order": "คำสั่งที่", "title": "เรื่อง", "signed": "ลงวันที่",
                  "signer": "ผู้ลงนาม", "signer_position": "ตำแหน่งผู้ลงนาม", "term_end": "สิ้นสุดวาระ"},
    "members": {"number": "ลำดับ", "name": "ชื่อ", "position": "ตำแหน่ง", "role": "บทบาท",
                "role_text": "ตำแหน่งในคณะกรรมการ"},
    "duties": {"number": "ข้อ", "text": "ข้อความ", "items": "รายการย่อย"},
    "memo": {"reference": "ที่ (เลขที่หนังสือ)", "date": "วันที่", "office": "ส่วนราชการ", "subject": "เรื่อง",
             "addressees": "เรียน", "intro": "ข้อความนำ", "closing": "ข้อความปิด", "signer": "ผู้ลงนาม",
             "signer_position": "ตำแหน่งผู้ลงนาม"},
    "milestones": {"date": "วันที่", "title": "เรื่อง", "who": "ผู้รับผิดชอบ",
                   "remind_days_before": "เตือนล่วงหน้า (วันทำการ)", "notes": "หมายเหตุ"},
    "assessment": {"fiscal_year": "ผลการประเมินปี", "total": "คะแนนรวม", "level": "ระดับ",
                   "target": "คะแนนเป้าหมาย", "level_override": "ระดับตามประกาศ ป.ป.ช."},
    "instruments": {"code": "รหัสแบบวัด", "name": "ชื่อแบบวัด", "other_names": "ชื่ออื่น",
                    "english": "ชื่อภาษาอังกฤษ"},
    "indicators": {"instrument": "แบบวัด", "number": "ตัวชี้วัดที่", "name": "ชื่อตัวชี้วัด", "score": "คะแนน",
                   "notes": "ข้อสังเกต"},
    "score_bands": {"level": "ระดับ", "low": "คะแนนต่ำสุด", "high": "คะแนนสูงสุด"},
    "oit": {"code": "รหัสรายการ", "title": "ชื่อรายการ", "covers": "สิ่งที่รายการขอ",
            "fiscal_year": "ปีงบประมาณที่ครอบคลุม"},
}

# How a row of a list is known across versions (a renumbered or reordered list still pairs the same rows),
# and how it is named.
_ROW_KEY: dict[str, Callable[[dict[str, Any]], Any]] = {
    "measures": lambda r: r.get("number"),
    "divisions": lambda r: r.get("id"),
    "members": lambda r: r.get("name"),
    "duties": lambda r: r.get("number"),
    # By its kept id, so a corrected title reads as that field's change (older records have no id: the
    # id a milestone first gets is its title's hash, so they pair up too).
    "milestones": lambda r: (r.get("id") or title_id(str(r.get("title") or "")), r.get("date")),
    "instruments": lambda r: r.get("code"),
    "indicators": lambda r: (r.get("instrument"), r.get("number")),
    "score_bands": lambda r: r.get("level"),
    "oit": lambda r: r.get("code"),
}


def _row_name(table: str, row: dict[str, Any], fmt: ThaiFormat) -> str:
    if table == "measures":
        return f"มาตรการที่ {fmt.num(row.get('number', ''))}"
    if table == "divisions":
        return str(row.get("name") or row.get("id") or "กอง")
    if table == "members":
        return f"กรรมการ {row.get('name', '')}"
    if table == "duties":
        return f"หน้าที่ข้อ {fmt.num(row.get('number', ''))}"
    if table == "milestones":
        return f"กำหนดการ “{row.get('title', '')}”"
    if table == "instruments":
        return f"แบบวัด {row.get('code', '')}"
    if table == "indicators":
        return f"{row.get('instrument', '')} ตัวชี้วัดที่ {fmt.num(row.get('number', ''))} {row.get('name', '')}".strip()
    if table == "score_bands":
        return f"ระดับ {row.get('level', '')}"
    if table == "oit":
        return f"รายการ OIT {row.get('code', '')}"
    return table


def _row_title(table: str, row: dict[str, Any]) -> str:
    """What an added or removed row is about, in one line."""
    for key in ("title", "name", "text"):
        if row.get(key):
            return str(row[key])
    return ""


@dataclass(frozen=True)
class FieldChange:
    """One field that changed: where (section and row), which field, and its value before and after."""

    where: str
    field: str
    before: str  # "" = it was not there
    after: str  # "" = it is no longer there


def show(value: Any, fmt: ThaiFormat) -> str:
    """A plan value as people read it: dates in พ.ศ., lists one item per line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ใช่" if value else "ไม่ใช่"
    if isinstance(value, datetime | date):
        return fmt.date(value)
    if isinstance(value, int):
        return fmt.num(value)
    if isinstance(value, list):
        return "\n".join(show(v, fmt) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {show(v, fmt)}" for k, v in value.items())
    return str(value)


def section_data(text: str, section: str) -> dict[str, Any]:
    """The part of a plan text a change of ``section`` covers ({} when the plan did not have it).

    Older records hold the whole file as "before" when the section was new; only the section's own keys
    are taken, so the whole file never reads as the change.
    """
    if not text.strip():
        return {}
    data = tomllib.loads(text)
    if section in WHOLE_PLAN:
        return data
    keys = (section, *SECTION_TOP_KEYS.get(section, ()))
    return {k: data[k] for k in keys if k in data}


def diff_data(before: dict[str, Any], after: dict[str, Any], fmt: ThaiFormat) -> list[FieldChange]:
    """Every field that differs between two plan data dicts, in the plan's order."""
    out: list[FieldChange] = []
    _diff_table("", "", before, after, fmt, out)
    return out


def _label(table: str, key: str) -> str:
    return _LABELS.get(table, {}).get(key) or SECTION_THAI.get(key) or key


def _diff_table(table: str, where: str, before: dict[str, Any], after: dict[str, Any], fmt: ThaiFormat,
                out: list[FieldChange]) -> None:
    keys = list(after) + [k for k in before if k not in after]
    for key in keys:
        a, b = before.get(key), after.get(key)
        if a == b or (table == "milestones" and key == "id"):  # a milestone's id is the bot's, never typed
            continue
        rows_a, rows_b = a if isinstance(a, list) else [], b if isinstance(b, list) else []
        if all(isinstance(r, dict) for r in [*rows_a, *rows_b]) and (rows_a or rows_b) and not (
                isinstance(a, dict) or isinstance(b, dict)):
            _diff_rows(key, where, rows_a, rows_b, fmt, out)
        elif isinstance(a, dict) or isinstance(b, dict):
            inner = SECTION_THAI.get(key, _label(table, key)) if not where else f"{where} · {_label(table, key)}"
            _diff_table(key, inner, a if isinstance(a, dict) else {}, b if isinstance(b, dict) else {}, fmt, out)
        elif table == "oit" and key == "covers":  # the file's word, as the editor's list names it
            out.append(FieldChange(where, _label(table, key), COVERS_THAI.get(str(a), show(a, fmt)),
                                   COVERS_THAI.get(str(b), show(b, fmt))))
        else:
            out.append(FieldChange(where, _label(table, key), show(a, fmt), show(b, fmt)))


def _diff_rows(table: str, where: str, before: list[dict[str, Any]], after: list[dict[str, Any]], fmt: ThaiFormat,
               out: list[FieldChange]) -> None:
    key_of = _ROW_KEY.get(table, lambda r: None)
    keyed_a: dict[Any, dict[str, Any]] = {}
    for i, r in enumerate(before):
        keyed_a.setdefault(key_of(r) if key_of(r) is not None else ("#", i), r)
    seen: set[Any] = set()
    prefix = f"{where} · " if where else ""
    for i, r in enumerate(after):
        k = key_of(r) if key_of(r) is not None else ("#", i)
        seen.add(k)
        old = keyed_a.get(k)
        name = prefix + _row_name(table, r, fmt)
        if old is None:
            out.append(FieldChange(name, "เพิ่ม", "", _row_title(table, r)))
        elif old != r:
            _diff_table(table, name, old, r, fmt, out)
    for k, r in keyed_a.items():
        if k not in seen:
            out.append(FieldChange(prefix + _row_name(table, r, fmt), "ลบ", _row_title(table, r), ""))


def describe(change: Change, fmt: ThaiFormat) -> list[FieldChange]:
    """A saved change as Thai field changes. A new plan is one line, not every field of it."""
    after = section_data(change.after, change.section)
    if change.section == "new" or (change.section in WHOLE_PLAN and not change.before.strip()):
        measures = after.get("measures", [])
        return [FieldChange("", "สร้างแผน", "", f"แผนปีงบประมาณ {fmt.num(change.fiscal_year)} "
                                                 f"({fmt.num(len(measures))} มาตรการ)")]
    return diff_data(section_data(change.before, change.section), after, fmt)


class UndoRefused(PlanError):
    """A change that cannot be undone as it stands (a new plan, or its section changed again since)."""

    def __init__(self, fiscal_year: int, problem: str) -> None:
        super().__init__(f"{fiscal_year}.toml", "", problem)


def _normal(data: dict[str, Any]) -> dict[str, Any]:
    # The same writer on both sides: a value read back from a record compares equal to the plan's own.
    return tomllib.loads(data_to_toml(data)) if data else {}


def undo(book: PlanBook, change: Change, *, expected_version: str, who: str, now: datetime) -> Any:
    """Save, as a new change, the plan with ``change``'s section back as it was before it.

    Refused (UndoRefused) for a new plan, or when the section has changed again since (undo the later change
    first: nothing newer is silently lost); VersionConflict when the plan moved on since the page was read;
    PlanProblems when the older version is no longer valid (a measure removed that has reports since).
    """
    fy = change.fiscal_year
    plan = book.get(fy)
    if change.section == "new" or plan is None:
        raise UndoRefused(fy, "ย้อนกลับการสร้างแผนไม่ได้ (แผนที่สร้างแล้วแก้ไขได้ แต่ไม่ลบทิ้ง)")
    current = plan_to_data(plan)
    section = change.section
    before, after = section_data(change.before, section), section_data(change.after, section)
    if section in WHOLE_PLAN:
        now_part = current
    else:
        # Older records of a section hold no top-level keys: only what the record holds is compared and restored.
        keys = {section} | {k for k in SECTION_TOP_KEYS.get(section, ()) if k in before or k in after}
        now_part = {k: current[k] for k in keys if k in current}
    if _normal(now_part) != after:
        raise UndoRefused(fy, f"ส่วน{SECTION_THAI.get(section, section)}ของแผนปีงบประมาณ {fy} ถูกแก้ไขอีกหลังจาก"
                              "รายการนี้ จึงย้อนกลับรายการนี้ไม่ได้ กรุณาย้อนกลับรายการที่ใหม่กว่าก่อน")
    if section in WHOLE_PLAN:
        data = before
    else:
        data = {k: v for k, v in current.items() if k not in now_part}
        data.update(before)
    return book.save_data(fy, data, expected_version=expected_version, who=who, section=section, now=now,
                          note=f"ย้อนกลับการแก้ไขเมื่อ {format_datetime(datetime.fromisoformat(change.at))}")
