"""Progress on the measures: report input rules, statuses, and each cycle's view (latest, pending)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Literal

from ita_bot.domain.meetings import Cycle, MeetingCalendar
from ita_bot.domain.thai import BANGKOK, small_int, to_arabic_digits

__all__ = [
    "REPORT_ID",
    "STATUSES",
    "STATUS_THAI",
    "CycleView",
    "LatestStatus",
    "PairState",
    "Report",
    "ReportInput",
    "ReportInputError",
    "Status",
    "cycle_view",
    "measure_number",
    "parse_percent",
    "parse_report_input",
    "without_measure_word",
]

Status = Literal["todo", "doing", "done", "blocked"]
"""A report's status: not started, in progress, done, blocked (stored as these words)."""
STATUSES: tuple[Status, ...] = ("todo", "doing", "done", "blocked")
STATUS_THAI = {"todo": "ยังไม่เริ่ม", "doing": "กำลังดำเนินการ", "done": "เสร็จสิ้น", "blocked": "ติดปัญหา"}
STATUS_ICON = {"todo": "⚪", "doing": "🟡", "done": "🟢", "blocked": "🔴", None: "⏳"}
# Longest first, so "เสร็จสิ้น" wins over "เสร็จ" (Thai needs no space after a word).
_WORDS: dict[str, Status] = {
    "ยังไม่เริ่ม": "todo", "กำลังดำเนินการ": "doing", "กำลังทำ": "doing",
    "เสร็จสิ้น": "done", "เสร็จแล้ว": "done", "เสร็จ": "done", "ติดปัญหา": "blocked",
    "todo": "todo", "doing": "doing", "done": "done", "blocked": "blocked",
}
STATUS_WORDS: tuple[tuple[str, Status], ...] = tuple(sorted(_WORDS.items(), key=lambda kv: -len(kv[0])))
REPORT_USAGE = "/รายงาน <เลขมาตรการ> [สถานะ] [ร้อยละ%] [รายละเอียด]"
REPORT_EXAMPLE = "/รายงาน 2 กำลังทำ 50% อัปเดตเว็บไซต์แล้ว"
#: The command's form as refusals and help quote it.
REPORT_FORM = f"{REPORT_USAGE} เช่น {REPORT_EXAMPLE}"
_PERCENT = re.compile(r"^(-?)(\d+)(?:\.(\d+))?\s*%")
#: A report's id as addresses carry it (uuid4 hex; never a name or a LINE ID), checked before any lookup.
REPORT_ID = re.compile(r"[0-9a-f]{8,64}")
MEASURE_DIGITS = 3  # measure numbers are typed with at most this many digits (plans number them 1, 2, 3 …)
PERCENT_DIGITS = 3  # 0–100
# People name a measure "2", "มาตรการ 2" or "มาตรการที่ 2"; every command that takes one reads all three.
_MEASURE_WORD = re.compile(r"^มาตรการ(?:ที่)?\s*")
_MEASURE_NUMBER = re.compile(rf"\d{{1,{MEASURE_DIGITS}}}")
# "<word> NN%" where a status belongs: the word was meant as the status, so it is never kept as details.
_WORD_THEN_PERCENT = re.compile(r"^(\S+)\s+-?\d+(?:\.\d+)?\s*%")
STATUS_HELP = "ยังไม่เริ่ม, กำลังทำ (หรือ กำลังดำเนินการ), เสร็จ (หรือ เสร็จแล้ว, เสร็จสิ้น), ติดปัญหา"


class ReportInputError(ValueError):
    """Report input that breaks the rules; the message is a short polite Thai reply."""


@dataclass(frozen=True)
class ReportInput:
    """What a person typed after /รายงาน, parsed and checked."""

    measure: int
    status: Status
    percent: int | None
    details: str


def match_status(text: str) -> tuple[Status | None, str]:
    """The longest known status word at the start of text, and the rest."""
    low = text.lower()
    for word, status in STATUS_WORDS:
        if low.startswith(word):
            return status, text[len(word):].strip()
    return None, text


def parse_percent(text: str) -> tuple[int | None, str]:
    """A percent at the start of text ("50%", "50.0 %") and the rest; (None, text) when there is none.

    Read from the digits, never through float: 400 nines would be infinity and 5.999…9 would round to 6.
    """
    m = _PERCENT.match(text)
    if not m:
        return None, text
    if (m[3] or "").strip("0"):
        raise ReportInputError("กรุณาระบุร้อยละเป็นจำนวนเต็ม 0–100 เช่น 50%")
    value = small_int(m[2], PERCENT_DIGITS)
    if value is None:
        raise ReportInputError("ร้อยละต้องอยู่ระหว่าง 0 ถึง 100 เช่น 50%")
    return (-value if m[1] else value), text[m.end():].strip()  # resolve_status names a value out of range


def resolve_status(status: Status | None, percent: int | None) -> tuple[Status, int | None]:
    """Apply the status/percent rules (docs/product.md, "Reports"); ReportInputError when they contradict."""
    if percent is not None and not 0 <= percent <= 100:
        raise ReportInputError(f"ร้อยละต้องอยู่ระหว่าง 0 ถึง 100 (ได้รับ {percent}%)")
    if status is None:
        status = "doing" if percent is None else ("todo" if percent == 0 else "done" if percent == 100 else "doing")
    fixed = {"done": 100, "todo": 0}
    if status in fixed:
        if percent is not None and percent != fixed[status]:
            raise ReportInputError(
                f"สถานะ “{STATUS_THAI[status]}” ต้องเป็น {fixed[status]}% (ได้รับ {percent}%) "
                "กรุณาแก้สถานะหรือร้อยละให้ตรงกัน"
            )
        percent = fixed[status]
    elif status == "doing" and percent is not None and not 1 <= percent <= 99:
        raise ReportInputError(
            f"สถานะ “กำลังดำเนินการ” ใช้ร้อยละ 1–99 (ได้รับ {percent}%) ถ้าเสร็จแล้วพิมพ์ “เสร็จ” หรือ 100%"
        )
    return status, percent


def without_measure_word(text: str) -> str:
    """"มาตรการที่ 2 เสร็จ" → "2 เสร็จ": the words before a measure's number, dropped."""
    return _MEASURE_WORD.sub("", text, count=1)


def measure_number(text: str) -> int | None:
    """A measure typed alone ("2", "มาตรการที่ ๒"), or None when the text is not one."""
    typed = without_measure_word(to_arabic_digits(text).strip())
    return int(typed) if _MEASURE_NUMBER.fullmatch(typed) else None


def parse_report_input(text: str, valid_measures: Iterable[int]) -> ReportInput:
    """Parse "<n> [status] [NN%] [details]" (Thai or Arabic digits; "มาตรการที่ <n>" too); ReportInputError if wrong."""
    rest = without_measure_word(" ".join(to_arabic_digits(text).split()))
    m = re.match(r"^(\d+)\s*", rest)
    if not m:
        raise ReportInputError(f"กรุณาระบุเลขมาตรการ รูปแบบ: {REPORT_FORM}")
    number, rest = small_int(m[1], MEASURE_DIGITS), rest[m.end():]
    measures = sorted(valid_measures)
    if number is None or number not in measures:
        listed = ", ".join(str(n) for n in measures)
        which = f"ที่ {number} " if number is not None else "เลขนี้"
        raise ReportInputError(f"ไม่มีมาตรการ{which}ในปีนี้ (มีมาตรการ {listed}) รูปแบบ: {REPORT_FORM}")
    status, rest = match_status(rest)
    if status is None and (unknown := _WORD_THEN_PERCENT.match(rest)):
        word = unknown[1] if len(unknown[1]) <= 30 else unknown[1][:30] + "…"
        raise ReportInputError(
            f"ไม่เข้าใจสถานะ “{word}” สถานะที่ใช้ได้: {STATUS_HELP} "
            f"เช่น /รายงาน {number} กำลังทำ 50% (ถ้าเป็นรายละเอียด ให้ใส่สถานะก่อน)"
        )
    percent, rest = parse_percent(rest)
    status, percent = resolve_status(status, percent)
    return ReportInput(number, status, percent, rest.strip())


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value).astimezone(BANGKOK)


@dataclass
class Report:
    """One progress report on a (measure, division) pair; kept forever, withdrawn ones hidden."""

    fiscal_year: int
    measure: int
    division: str
    status: Status
    percent: int | None
    details: str
    reported_at: datetime  # what the report is dated (the event's timestamp, or a manager's @date)
    sent_at: datetime  # when the message was sent (evidence window counts from here)
    chat_id: str = ""
    reporter_id: str | None = None
    reporter_name: str = ""
    recorded_by: str | None = None  # a manager who recorded it on the division's behalf
    evidence: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    withdrawn_at: datetime | None = None
    event_id: str | None = None
    withdrawn_event: str | None = None  # the LINE event that withdrew it: a replay withdraws nothing more
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def author_id(self) -> str | None:
        """Who may edit or withdraw it: the manager who recorded it, else the reporter."""
        return self.recorded_by or self.reporter_id

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def day(self) -> date:
        return self.reported_at.astimezone(BANGKOK).date()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, datetime) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in data.items() if k in known}
        for key in ("reported_at", "sent_at", "withdrawn_at"):
            kw[key] = _dt(kw.get(key))
        return cls(**kw)


class LatestStatus:
    """A pair's status and percent, read from its latest report (None when it never reported)."""

    latest: Any  # a Report, or a view of one that has .status and .percent

    @property
    def status(self) -> Status | None:
        return self.latest.status if self.latest else None

    @property
    def percent(self) -> int | None:
        return self.latest.percent if self.latest else None


@dataclass
class PairState(LatestStatus):
    """A (measure, division) pair as of one cycle."""

    measure: int
    division: str
    latest: Report | None  # latest report up to the cycle's meeting
    cycle_reports: list[Report]  # this cycle's reports, oldest first
    pending: bool


@dataclass
class CycleView:
    """Everything a reply, reminder, digest or meeting report needs about one cycle."""

    cycle: Cycle
    pairs: list[PairState]

    @property
    def pending(self) -> list[PairState]:
        return [p for p in self.pairs if p.pending]

    def pending_by_division(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for p in self.pending:
            out.setdefault(p.division, []).append(p.measure)
        return out

    @property
    def reports(self) -> list[Report]:
        return sorted((r for p in self.pairs for r in p.cycle_reports), key=lambda r: r.reported_at)

    def pair(self, measure: int, division: str) -> PairState:
        return next(p for p in self.pairs if p.measure == measure and p.division == division)

    def counts(self) -> dict[str, int]:
        """How many pairs stand at each status (None = never reported), and how many are pending."""
        out = {s: 0 for s in (*STATUSES, "none")}
        for p in self.pairs:
            out[p.status or "none"] += 1
        out["pending"] = len(self.pending)
        out["pairs"] = len(self.pairs)
        return out


def cycle_view(
    pairs: Iterable[tuple[int, str]], calendar: MeetingCalendar, reports: Iterable[Report], cycle: Cycle,
    *, owed: bool = True,
) -> CycleView:
    """Latest state and pending pairs of a cycle, from all of a fiscal year's reports.

    Cycles are derived from the calendar (not stored), so moving a meeting moves its reports. ``owed`` False (a
    cycle whose meeting came before the year's measures were set, ``Plan.before_set``): no pair is pending in
    it, whatever it reported, so no page, reply, reminder or memo counts it as overdue.
    """
    # Sorting an already sorted list (the report book's order) is linear; it keeps this safe for any input.
    live = sorted((r for r in reports if not r.withdrawn), key=lambda r: r.reported_at)
    by_pair: dict[tuple[int, str], list[Report]] = {}
    own: set[str] = set()
    cycle_of_day: dict[date, str] = {}  # many reports share a day: look each day up once
    for r in live:
        day = r.day
        if day not in cycle_of_day:
            cycle_of_day[day] = calendar.cycle_of(day).id
        # Up to the meeting, plus the year's last cycle's reports made after its meeting.
        mine = cycle_of_day[day] == cycle.id
        if mine:
            own.add(r.id)
        if day <= cycle.meeting or mine:
            by_pair.setdefault((r.measure, r.division), []).append(r)
    states = []
    for measure, division in pairs:
        upto = by_pair.get((measure, division), [])
        in_cycle = [r for r in upto if r.id in own]
        latest = upto[-1] if upto else None
        pending = owed and not in_cycle and (latest is None or latest.status != "done")
        states.append(PairState(measure, division, latest, in_cycle, pending))
    return CycleView(cycle, states)
