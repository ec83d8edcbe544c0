"""Public disclosure data: a fiscal year's progress and one cycle's meeting report, shared by every output format."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ita_bot.domain.history import IndicatorKey, YearScores, indicator_keys, score_history
from ita_bot.domain.meetings import Cycle, MeetingCalendar, parse_cycle_id
from ita_bot.domain.milestones import Standing, standings, who_names
from ita_bot.domain.plan import Assessment, Indicator, Organization, Plan
from ita_bot.domain.progress import STATUS_THAI, STATUSES, CycleView, Report
from ita_bot.domain.thai import (
    BANGKOK,
    MONTHS_FULL,
    be_year,
    format_date,
    format_datetime,
    format_number,
    format_percent,
    format_score,
    to_arabic_digits,
)

if TYPE_CHECKING:
    from ita_bot.domain.office import Office

__all__ = [
    "AGENDA",
    "BadRequest",
    "CycleInfo",
    "CycleReport",
    "Disclosure",
    "DivisionProgress",
    "Formatter",
    "MilestoneView",
    "NotFound",
    "ReportView",
    "YearReport",
    "build_cycle",
    "build_year",
    "cycle_csv",
    "cycle_json",
    "cycle_report",
    "redact",
    "spreadsheet_safe",
    "year_json",
    "year_report",
]

#: The agenda item of the monthly staff meeting, where the plan's reporting rule has results reported each month.
AGENDA = "รายงานผลการดำเนินการตามมาตรการส่งเสริมคุณธรรมและความโปร่งใส"
NO_REPORT = "ยังไม่ได้รายงาน"
_USER_ID = re.compile(r"U[0-9a-f]{32}")


class NotFound(LookupError):
    """No such fiscal year or cycle; the message is polite Thai for the error page."""


class BadRequest(ValueError):
    """A malformed month in the address; the message is polite Thai for the error page."""


def redact(text: str) -> str:
    """Hide LINE user IDs someone may have pasted into report details (PDPA): public text never carries one."""
    return _USER_ID.sub("[ซ่อนรหัสผู้ใช้]", text)


@dataclass(frozen=True)
class Disclosure:
    """What the public may see beyond divisions and statuses (config [web], PDPA)."""

    show_names: bool = False
    public_evidence: bool = False


@dataclass(frozen=True)
class Formatter:
    """Numbers and BE dates as users read them, in the configured digits (the DOCX always uses Thai)."""

    numerals: str = "arabic"

    def num(self, value: int | str) -> str:
        return format_number(value, self.numerals)

    def date(self, value: date | datetime, *, full_month: bool = False) -> str:
        day = value.astimezone(BANGKOK).date() if isinstance(value, datetime) else value
        return format_date(day, self.numerals, full_month=full_month)

    def datetime(self, value: datetime) -> str:
        return format_datetime(value, self.numerals)

    def percent(self, value: int | None) -> str:
        return format_percent(value, self.numerals)

    def score(self, value: Decimal | float | str) -> str:
        return format_score(value, self.numerals)

    def month(self, cycle_id: str) -> str:
        """The month of a cycle as users read it: cycle 2021-02 → กุมภาพันธ์ 2564."""
        year, month = parse_cycle_id(cycle_id)
        return f"{MONTHS_FULL[month - 1]} {self.num(be_year(year))}"

    @staticmethod
    def status(value: str | None) -> str:
        return STATUS_THAI.get(value, NO_REPORT) if value else NO_REPORT


# --------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class EvidenceItem:
    """One evidence file of a report, listed only when evidence is public."""

    number: int  # 1-based position in the report's evidence list; the public URL uses it
    kind: str
    name: str
    content_type: str

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/") or self.kind == "image"


@dataclass(frozen=True)
class ReportView:
    """A report as the public sees it: the division, never a LINE user ID."""

    id: str
    measure: int
    division: str  # the Thai standard name
    status: str
    percent: int | None
    details: str
    reported_at: datetime  # Asia/Bangkok
    cycle: str
    evidence_count: int
    reporter: str | None  # only with web.show_names
    evidence: tuple[EvidenceItem, ...]  # only with web.public_evidence

    @property
    def status_thai(self) -> str:
        return STATUS_THAI.get(self.status, self.status)


@dataclass(frozen=True)
class CycleInfo:
    """A cycle and its staff-meeting date."""

    id: str
    meeting: date
    overridden: bool


@dataclass(frozen=True)
class CycleReports:
    cycle: CycleInfo
    reports: tuple[ReportView, ...]


@dataclass(frozen=True)
class DivisionProgress:
    """A division's part of one measure: its latest state and its reports."""

    division: str
    status: str | None
    percent: int | None
    updated: datetime | None
    reports: tuple[ReportView, ...]
    by_cycle: tuple[CycleReports, ...]

    @property
    def bar(self) -> int | None:
        """The progress bar's fill (0–100), or None when the latest report gave no percentage."""
        return self.percent


@dataclass(frozen=True)
class MeasureProgress:
    number: int
    title: str
    methods: tuple[str, ...]
    period: str
    follow_up: str
    divisions: tuple[str, ...]
    progress: tuple[DivisionProgress, ...]
    reports: tuple[ReportView, ...]  # every division's, oldest first


@dataclass(frozen=True)
class MilestoneView:
    """A milestone of the assessment calendar as the public page shows it."""

    date: date
    title: str
    who: tuple[str, ...]  # division names, "คณะกรรมการ", "ผู้บริหารคณะกรรมการ"
    notes: str
    standing: Standing
    days_left: int  # working days left (0 once passed)

    @property
    def passed(self) -> bool:
        return self.standing is Standing.PAST


@dataclass(frozen=True)
class YearReport:
    """The public page of a fiscal year; after the year ends it is the committee's year-end summary."""

    fiscal_year: int
    organization: Organization
    start: date
    end: date
    generated_at: datetime
    closed: bool  # the fiscal year has ended
    assessment: Assessment | None  # None until the year before's official result is entered
    below_target: tuple[Indicator, ...]
    measures: tuple[MeasureProgress, ...]
    cycles: tuple[CycleInfo, ...]
    problems: tuple[ReportView, ...]  # blocked reports: the year's problems and obstacles
    counts: dict[str, int]  # pairs at each latest status ("none" = never reported)
    reporting_rule: str
    committee_order: str
    committee_issuer: str
    disclosure: Disclosure
    milestones: tuple[MilestoneView, ...] = ()
    score_history: tuple[YearScores, ...] = ()  # every ITA year known, oldest first
    indicator_names: tuple[tuple[IndicatorKey, str], ...] = ()  # the history table's rows

    def reports_in(self, cycle_id: str) -> int:
        """How many reports the year holds for one cycle."""
        return sum(1 for m in self.measures for r in m.reports if r.cycle == cycle_id)


@dataclass(frozen=True)
class CyclePair:
    """One (measure, division) pair in a meeting report."""

    division: str
    status: str | None
    percent: int | None
    latest: ReportView | None  # latest report up to the meeting
    reports: tuple[ReportView, ...]  # this cycle's reports
    pending: bool


@dataclass(frozen=True)
class CycleMeasure:
    number: int
    title: str
    pairs: tuple[CyclePair, ...]


@dataclass(frozen=True)
class PendingDivision:
    division: str
    measures: tuple[int, ...]


@dataclass(frozen=True)
class CycleReport:
    """The monthly staff meeting's agenda item on the measures (the plan's reporting rule: every meeting)."""

    fiscal_year: int
    organization: Organization
    cycle: CycleInfo
    agenda: str
    generated_at: datetime
    measures: tuple[CycleMeasure, ...]
    pending: tuple[PendingDivision, ...]
    counts: dict[str, int]
    reports: tuple[ReportView, ...]  # this cycle's reports, oldest first
    disclosure: Disclosure

    @property
    def blocked(self) -> tuple[ReportView, ...]:
        return tuple(r for r in self.reports if r.status == "blocked")


# --------------------------------------------------------------------------------------------- building


def _cycle_info(cycle: Cycle) -> CycleInfo:
    return CycleInfo(cycle.id, cycle.meeting, cycle.overridden)


def _view(plan: Plan, calendar: MeetingCalendar, report: Report, disclosure: Disclosure) -> ReportView:
    evidence: tuple[EvidenceItem, ...] = ()
    if disclosure.public_evidence:
        evidence = tuple(
            EvidenceItem(
                n,
                str(ev.get("kind", "file")),
                redact(str(ev.get("name") or f"หลักฐาน {n}")),
                str(ev.get("content_type") or "application/octet-stream"),
            )
            for n, ev in enumerate(report.evidence, start=1)
        )
    reporter = redact(report.reporter_name) if disclosure.show_names and report.reporter_name else None
    return ReportView(
        id=report.id,
        measure=report.measure,
        division=plan.division_name(report.division),
        status=report.status,
        percent=report.percent,
        details=redact(report.details),
        reported_at=report.reported_at.astimezone(BANGKOK),
        cycle=calendar.cycle_of(report.day).id,
        evidence_count=len(report.evidence),
        reporter=reporter,
        evidence=evidence,
    )


def build_year(
    plan: Plan, calendar: MeetingCalendar, reports: Iterable[Report], *, now: datetime, disclosure: Disclosure,
    history: tuple[YearScores, ...] = (),
) -> YearReport:
    """A fiscal year's public progress: assessment, measures with each division's progress, problems."""
    live = sorted((r for r in reports if not r.withdrawn), key=lambda r: (r.reported_at, r.sent_at))
    views = [_view(plan, calendar, r, disclosure) for r in live]
    cycles = tuple(_cycle_info(c) for c in calendar.cycles(plan.fiscal_year))
    measures = []
    counts = {s: 0 for s in (*STATUSES, "none")}
    for m in plan.measures:
        mine = [(v, r.division) for v, r in zip(views, live, strict=True) if r.measure == m.number]
        # Plan divisions first, then any division that reported although the plan no longer lists it.
        progress = []
        for div_id in dict.fromkeys([*m.divisions, *(d for _, d in mine)]):
            theirs = tuple(v for v, d in mine if d == div_id)
            latest = theirs[-1] if theirs else None
            counts[latest.status if latest else "none"] += 1
            by_cycle = tuple(
                CycleReports(c, tuple(v for v in theirs if v.cycle == c.id))
                for c in cycles
                if any(v.cycle == c.id for v in theirs)
            )
            progress.append(
                DivisionProgress(
                    division=plan.division_name(div_id),
                    status=latest.status if latest else None,
                    percent=latest.percent if latest else None,
                    updated=latest.reported_at if latest else None,
                    reports=theirs,
                    by_cycle=by_cycle,
                )
            )
        measures.append(
            MeasureProgress(
                number=m.number,
                title=m.title,
                methods=m.methods,
                period=m.period,
                follow_up=m.follow_up,
                divisions=tuple(plan.division_name(d) for d in m.divisions),
                progress=tuple(progress),
                reports=tuple(v for v, _ in mine),
            )
        )
    return YearReport(
        fiscal_year=plan.fiscal_year,
        organization=plan.organization,
        start=plan.start,
        end=plan.end,
        generated_at=now.astimezone(BANGKOK),
        closed=now.astimezone(BANGKOK).date() > plan.end,
        assessment=plan.assessment,
        below_target=plan.assessment.below_target() if plan.assessment else (),
        measures=tuple(measures),
        cycles=cycles,
        problems=tuple(v for v in views if v.status == "blocked"),
        counts=counts,
        reporting_rule=plan.reporting_rule,
        committee_order=plan.committee.order,
        committee_issuer=plan.committee.issuer,
        disclosure=disclosure,
        milestones=tuple(
            MilestoneView(st.milestone.date, st.milestone.title, who_names(st.milestone, plan), st.milestone.notes,
                          st.standing, st.days_left)
            for st in standings(calendar, plan.milestones, now.astimezone(BANGKOK).date())
        ),
        score_history=history,
        indicator_names=tuple(indicator_keys(history)),
    )


def build_cycle(
    plan: Plan, calendar: MeetingCalendar, view: CycleView, *, now: datetime, disclosure: Disclosure
) -> CycleReport:
    """One cycle's meeting report: each measure/division's status, this cycle's work, who is pending."""

    def show(r: Report | None) -> ReportView | None:
        return _view(plan, calendar, r, disclosure) if r else None

    measures = []
    for m in plan.measures:
        pairs = tuple(
            CyclePair(
                division=plan.division_name(p.division),
                status=p.status,
                percent=p.percent,
                latest=show(p.latest),
                reports=tuple(_view(plan, calendar, r, disclosure) for r in p.cycle_reports),
                pending=p.pending,
            )
            for p in view.pairs
            if p.measure == m.number
        )
        measures.append(CycleMeasure(m.number, m.title, pairs))
    pending = tuple(PendingDivision(plan.division_name(d), tuple(ns)) for d, ns in view.pending_by_division().items())
    return CycleReport(
        fiscal_year=plan.fiscal_year,
        organization=plan.organization,
        cycle=_cycle_info(view.cycle),
        agenda=AGENDA,
        generated_at=now.astimezone(BANGKOK),
        measures=tuple(measures),
        pending=pending,
        counts=view.counts(),
        reports=tuple(_view(plan, calendar, r, disclosure) for r in view.reports),
        disclosure=disclosure,
    )


# --------------------------------------------------------------------------------------------- lookups


def _disclosure(office: Office) -> Disclosure:
    web = office.config.web
    return Disclosure(show_names=web.show_names, public_evidence=web.public_evidence)


def parse_fiscal_year(text: str) -> int:
    """A fiscal year typed in the address (Thai digits too) → 2564; NotFound for anything else."""
    t = to_arabic_digits(text.strip())
    if not re.fullmatch(r"\d{4}", t):
        raise NotFound(f"ไม่พบปีงบประมาณ “{text}” กรุณาระบุเป็นปี พ.ศ. เช่น /reports/2564")
    return int(t)


def _plan(office: Office, fiscal_year: int) -> Plan:
    plan = office.plan_for(fiscal_year)
    if plan is None:
        known = ", ".join(str(y) for y in office.plans.years())
        raise NotFound(f"ไม่พบแผนมาตรการของปีงบประมาณ {fiscal_year} (มีปีงบประมาณ {known})")
    return plan


def year_report(office: Office, fiscal_year: int, now: datetime) -> YearReport:
    """The fiscal year's page data; NotFound when the year has no plan file."""
    plan = _plan(office, fiscal_year)
    return build_year(plan, office.calendar(), office.reports.all(fiscal_year), now=now, disclosure=_disclosure(office),
                      history=score_history(office.plans.all()))


def cycle_report(office: Office, fiscal_year: int, month: str, now: datetime) -> CycleReport:
    """A cycle's meeting report; NotFound for an unknown year or a month outside it, BadRequest if malformed."""
    plan = _plan(office, fiscal_year)
    try:
        year, number = parse_cycle_id(to_arabic_digits(month.strip()))
    except ValueError:
        raise BadRequest(f"รูปแบบเดือน “{month}” ไม่ถูกต้อง กรุณาระบุเป็นปี ค.ศ.-เดือน เช่น 2021-02") from None
    cycle_id = f"{year:04d}-{number:02d}"
    calendar = office.calendar()
    try:
        cycle = calendar.cycle(cycle_id)
    except ValueError:  # a year the calendar cannot hold (0000, 9999): no such page
        raise NotFound(f"ไม่พบรอบการประชุมของเดือน “{month}” ในปีงบประมาณ {fiscal_year}") from None
    if cycle.fiscal_year != fiscal_year:
        raise NotFound(
            f"เดือน {Formatter().month(cycle_id)} ไม่อยู่ในปีงบประมาณ {fiscal_year} "
            f"(ต.ค. {fiscal_year - 1} – ก.ย. {fiscal_year})"
        )
    return build_cycle(plan, calendar, office.view(cycle, calendar), now=now, disclosure=_disclosure(office))


# --------------------------------------------------------------------------------------------- serializers


def _report_json(v: ReportView) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": v.id,  # a random report id (evidence URLs use it), never a person's
        "division": v.division,
        "status": v.status,
        "percent": v.percent,
        "details": v.details,
        "reported_at": v.reported_at.isoformat(timespec="seconds"),
        "cycle": v.cycle,
        "evidence": v.evidence_count,
    }
    if v.reporter is not None:
        out["reporter"] = v.reporter
    if v.evidence:
        out["evidence_files"] = [{"number": e.number, "kind": e.kind, "name": e.name} for e in v.evidence]
    return out


def year_json(year: YearReport) -> dict[str, Any]:
    """The public JSON shape (docs/product.md, "HTTP"); numbers stay numbers whatever display.numerals says."""
    a = year.assessment
    return {
        "fiscal_year": year.fiscal_year,
        "organization": year.organization.name,
        "period": {"start": year.start.isoformat(), "end": year.end.isoformat()},
        "closed": year.closed,
        "generated_at": year.generated_at.isoformat(timespec="seconds"),
        "assessment": None if a is None else {
            "fiscal_year": a.fiscal_year,
            "total": float(a.total),
            "level": a.level,
            "target": float(a.target),
            "indicators": [
                {
                    "instrument": i.instrument,
                    "number": i.number,
                    "name": i.name,
                    "score": float(i.score),
                    "below_target": i.score < a.target,
                    "notes": list(i.notes),
                }
                for i in a.indicators
            ],
        },
        "measures": [
            {
                "number": m.number,
                "title": m.title,
                "methods": list(m.methods),
                "period": m.period,
                "follow_up": m.follow_up,
                "divisions": list(m.divisions),
                "progress": [
                    {
                        "division": p.division,
                        "status": p.status,
                        "percent": p.percent,
                        "updated_at": p.updated.isoformat(timespec="seconds") if p.updated else None,
                    }
                    for p in m.progress
                ],
                "reports": [_report_json(v) for v in m.reports],
            }
            for m in year.measures
        ],
        "cycles": [{"id": c.id, "meeting": c.meeting.isoformat(), "overridden": c.overridden} for c in year.cycles],
        "problems": [{"measure": v.measure, **_report_json(v)} for v in year.problems],
        "milestones": [
            {"date": m.date.isoformat(), "title": m.title, "who": list(m.who), "notes": m.notes, "passed": m.passed}
            for m in year.milestones
        ],
        # ITA years assessed, oldest first; the contract's exact shape.
        "score_history": [
            {
                "fiscal_year": y.fiscal_year,
                "total": float(y.total),
                "level": y.level,
                "indicators": [{"instrument": i.instrument, "number": i.number, "score": float(i.score)}
                               for i in y.indicators],
            }
            for y in year.score_history
        ],
    }


def cycle_json(report: CycleReport) -> dict[str, Any]:
    """One cycle's meeting report, machine-readable."""
    return {
        "fiscal_year": report.fiscal_year,
        "organization": report.organization.name,
        "cycle": report.cycle.id,
        "meeting": report.cycle.meeting.isoformat(),
        "agenda": report.agenda,
        "generated_at": report.generated_at.isoformat(timespec="seconds"),
        "measures": [
            {
                "number": m.number,
                "title": m.title,
                "divisions": [
                    {
                        "division": p.division,
                        "status": p.status,
                        "percent": p.percent,
                        "pending": p.pending,
                        "latest": _report_json(p.latest) if p.latest else None,
                        "reports": [_report_json(v) for v in p.reports],
                    }
                    for p in m.pairs
                ],
            }
            for m in report.measures
        ],
        "pending": [{"division": d.division, "measures": list(d.measures)} for d in report.pending],
        "counts": report.counts,
    }


CSV_HEADER = (
    "มาตรการที่",
    "มาตรการ",
    "หน่วยงาน",
    "สถานะล่าสุด",
    "ร้อยละ",
    "รายงานล่าสุดเมื่อ",
    "ผลการดำเนินการในรอบนี้",
    "จำนวนหลักฐาน",
    "ค้างรายงาน",
)


# A cell starting with one of these is a formula to Excel and LibreOffice (tab and CR too, once trimmed).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """A CSV cell that opens as text: one that would start a formula gets a leading apostrophe (OWASP)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def cycle_csv(report: CycleReport, fmt: Formatter) -> str:
    """One row per (measure, division): opens in Excel with Thai intact once written as UTF-8 with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = list(CSV_HEADER)
    if report.disclosure.show_names:
        header.append("ผู้รายงาน")
    writer.writerow(header)
    for m in report.measures:
        for p in m.pairs:
            work = "\n".join(
                f"{fmt.date(v.reported_at)} {v.status_thai}"
                + (f" {fmt.percent(v.percent)}" if v.percent is not None else "")
                + (f": {v.details}" if v.details else "")
                for v in p.reports
            )
            row = [
                fmt.num(m.number),
                m.title,
                p.division,
                fmt.status(p.status),
                "" if p.percent is None else fmt.num(p.percent),
                fmt.date(p.latest.reported_at) if p.latest else "",
                work,
                fmt.num(sum(v.evidence_count for v in p.reports)),
                "ค้าง" if p.pending else "",
            ]
            if report.disclosure.show_names:
                row.append(", ".join(dict.fromkeys(v.reporter for v in p.reports if v.reporter)))
            # Every cell, not just report text: names and titles come from people and config too.
            writer.writerow([spreadsheet_safe(cell) for cell in row])
    return out.getvalue()
