"""The demo's simulated clock: which of the clock process's job slots fall between two moments."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from ita_bot.domain.office import Office
from ita_bot.schedule.jobs import OUTCOME_TEXT, RecipientResult
from ita_bot.schedule.slots import Slot, job_slots

__all__ = ["JOB_THAI", "due_slots", "job_line_thai", "next_slots"]

JOB_THAI = {
    "reminder": "แจ้งเตือนกลุ่มพนักงาน",
    "digest": "สรุปส่งประธาน",
    "summary": "สรุปประจำเดือนสำหรับที่ประชุม",
    "milestone": "แจ้งเตือนกำหนดการประเมิน",
    "plan": "แจ้งผู้จัดการเมื่อปีงบประมาณยังไม่มีแผน",
}


def due_slots(office: Office, after: datetime, upto: datetime) -> list[Slot]:
    """Every slot with `after < at <= upto`, in time order: what a clock running all along would have run.

    The slots are the clock process's own (`slots.job_slots`), from the calendar afresh, so a meeting
    moved by /ประชุม moves its slots too.
    """
    if upto <= after:
        return []
    return [s for s in job_slots(office, office.calendar(), after.date(), upto.date()) if after < s.at <= upto]


def next_slots(office: Office, after: datetime, count: int = 4) -> list[Slot]:
    """The next few slots after a moment (for the demo's :time)."""
    found: list[Slot] = []
    span = timedelta(days=35)
    while len(found) < count and span < timedelta(days=800):
        found = due_slots(office, after, after + span)
        span *= 2
    return found[:count]


# The job lines the clock logs are for the operator (English details); the demo shows them in Thai.
_RECIPIENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^“(?P<title>.*)” \(\d{4}-\d{2}-\d{2}, \d+ wd before\) → "), r"“\g<title>” → "),
    (re.compile(r"staff group"), "กลุ่มพนักงาน"),
    (re.compile(r" \(part (\d+)\)"), r" (ส่วนที่ \1)"),
    (re.compile(r"\bchair \d+"), "ประธาน"),
    (re.compile(r"\bchair\b"), "ประธาน"),
    (re.compile(r"\bmanagers\b"), "ผู้จัดการ"),
    (re.compile(r"\bmanager \d+"), "ผู้จัดการ"),
    (re.compile(r"\bperson \d+"), "ผู้รับ"),
    (re.compile(r" staff \d+"), ""),
    (re.compile(r"^staff$"), "พนักงาน"),
    (re.compile(r"^ปฏิทินการประเมิน \(milestones\)$"), "ปฏิทินการประเมิน"),
    (re.compile(r"^—$"), ""),
)
_DETAILS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^no plan file for fiscal year (\d+)$"), r"ปีงบประมาณ \1 ยังไม่มีแผนมาตรการในระบบ"),
    (re.compile(r"^fiscal year (\d+) has a plan$"), r"ปีงบประมาณ \1 มีแผนมาตรการแล้ว"),
    (re.compile(r"^fiscal year (\d+) has no plan and there is no manager to tell$"),
     r"ปีงบประมาณ \1 ยังไม่มีแผนมาตรการ และยังไม่มีผู้จัดการที่จะแจ้ง"),
    (re.compile(r"^no staff group"), "ยังไม่ได้ตั้งกลุ่มพนักงาน (พิมพ์ /ตั้งกลุ่ม ในกลุ่มพนักงาน)"),
    (re.compile(r"^no chair"), "ยังไม่มีผู้ได้รับบทบาทประธาน"),
    (re.compile(r"^nobody holds these roles"), "ยังไม่มีผู้ได้รับบทบาทที่กำหนด"),
    (re.compile(r"^no registered staff to remind$"), "ยังไม่มีเจ้าหน้าที่ลงทะเบียน"),
    (re.compile(r"^quota: needs (\d+), (\d+) of (\d+) left this month$"),
     r"ต้องใช้ \1 ข้อความ เหลือ \2 จาก \3 ข้อความในเดือนนี้"),
)


def job_line_thai(line: RecipientResult) -> str:
    """One recipient's outcome in Thai: who, what happened and, where the demo can say it in Thai, why."""
    who = line.recipient
    for pattern, thai in _RECIPIENTS:
        who = pattern.sub(thai, who)
    outcome = OUTCOME_TEXT.get(line.outcome, str(line.outcome)).split(" / ")[0]
    why = ""
    for pattern, thai in _DETAILS:
        if found := pattern.search(line.detail):
            why = ": " + found.expand(thai)
            break
    return f"{who} — {outcome}{why}" if who else f"{outcome}{why}"
