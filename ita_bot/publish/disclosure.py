"""Public disclosure data: a fiscal year's progress and one cycle's meeting report, shared by every output format."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from ita_bot.domain.history import IndicatorKey, YearScores, indicator_keys, score_history
from ita_bot.domain.line_ids import hide_ids
from ita_bot.domain.meetings import Cycle, MeetingCalendar, cycle_id, parse_cycle_id
from ita_bot.domain.milestones import Standing, standings, time_left, who_names
from ita_bot.domain.oit import COVERS_THAI, items_covering
from ita_bot.domain.plan import Assessment, Indicator, Organization, Plan
from ita_bot.domain.progress import STATUSES, Report, Status
from ita_bot.domain.summary import CycleSummary, cycle_summary
from ita_bot.domain.thai import ARABIC, BANGKOK, ThaiFormat, fiscal_year_range, to_arabic_digits

if TYPE_CHECKING:
    from ita_bot.domain.office import Office

__all__ = [
    "AGENDA",
    "ApprovalView",
    "BadRequest",
    "CycleInfo",
    "CycleReport",
    "Disclosure",
    "DivisionProgress",
    "MilestoneView",
    "NotFound",
    "OitView",
    "ReportView",
    "SnapshotView",
    "YearReport",
    "build_cycle",
    "build_year",
    "cycle_report",
    "redact",
    "year_report",
]

#: The agenda item of the monthly staff meeting, where the plan's reporting rule has results reported each month.
AGENDA = "รายงานผลการดำเนินการตามมาตรการส่งเสริมคุณธรรมและความโปร่งใส"


class NotFound(LookupError):
    """No such fiscal year or cycle; the message is polite Thai for the error page."""


class BadRequest(ValueError):
    """A malformed month in the address; the message is polite Thai for the error page."""


def redact(text: str) -> str:
    """Hide LINE IDs someone may have pasted into report details (PDPA): public text never carries one."""
    return hide_ids(text, "[ซ่อนรหัสผู้ใช้]")


@dataclass(frozen=True)
class Disclosure:
    """What the public may see beyond divisions and statuses (config [web], PDPA)."""

    show_names: bool = False
    public_evidence: bool = False


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
    status: Status
    percent: int | None
    details: str
    reported_at: datetime  # Asia/Bangkok
    cycle: str
    evidence_count: int
    reporter: str | None  # only with web.show_names
    evidence: tuple[EvidenceItem, ...]  # only with web.public_evidence


@dataclass(frozen=True)
class CycleInfo:
    """A cycle and its staff-meeting date."""

    id: str
    meeting: date
    overridden: bool

    @property
    def month(self) -> tuple[int, int]:
        """(CE year, month) of the cycle, for month labels."""
        return parse_cycle_id(self.id)


@dataclass(frozen=True)
class CycleReports:
    cycle: CycleInfo
    reports: tuple[ReportView, ...]


@dataclass(frozen=True)
class DivisionProgress:
    """A division's part of one measure: its latest state and its reports."""

    division: str
    status: Status | None
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
    who: tuple[str, ...]  # division names, "คณะกรรมการ", "ประธานและเลขานุการ"
    notes: str
    standing: Standing
    days_left: int  # working days left (0 once passed)

    @property
    def passed(self) -> bool:
        return self.standing is Standing.PAST

    def left(self, fmt: ThaiFormat) -> str:
        """"อีก 3 วันทำการ", "ครบกำหนดวันนี้", …: said as /ปฏิทิน and the reminders say it."""
        return time_left(fmt, self.standing, self.days_left)


@dataclass(frozen=True)
class ApprovalView:
    """The executive's approval as the public page shows it: who recorded it stays in the console."""

    name: str
    position: str
    approved_on: date


@dataclass(frozen=True)
class OitView:
    """An OIT item this page answers, with the ITA year whose list names it (the plan it came from)."""

    code: str
    title: str
    covers: str  # "measures" | "report"
    listed_in: int  # the ITA (plan) year whose OIT list has the item

    @property
    def covers_thai(self) -> str:
        return COVERS_THAI.get(self.covers, self.covers)


@dataclass(frozen=True)
class SnapshotView:
    """A frozen copy of the page as its list shows it: number and time, never who froze it."""

    number: int
    taken_at: datetime  # Asia/Bangkok


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
    oit: tuple[OitView, ...] = ()  # every OIT item, from any year's plan, that this page answers
    approval: ApprovalView | None = None
    snapshots: tuple[SnapshotView, ...] = ()  # oldest first; the last one is current

    @property
    def latest_report(self) -> datetime | None:
        """When the newest report on the page was made (the data's "as of" beside the page's own time)."""
        return max((r.reported_at for m in self.measures for r in m.reports), default=None)

    def reports_in(self, cycle_id: str) -> int:
        """How many reports the year holds for one cycle."""
        return sum(1 for m in self.measures for r in m.reports if r.cycle == cycle_id)


@dataclass(frozen=True)
class CycleReport(CycleSummary[ReportView]):
    """The monthly staff meeting's agenda item on the measures: the cycle's summary as the public may see it."""

    agenda: str
    generated_at: datetime
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
            if div_id in m.divisions:  # counted as /สถานะ and the cycle pages count: the plan's own pairs
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
    plan: Plan, calendar: MeetingCalendar, summary: CycleSummary[Report], *, now: datetime, disclosure: Disclosure
) -> CycleReport:
    """One cycle's meeting report, as the public may see the cycle's summary (names and evidence per config)."""
    public = summary.map_reports(lambda r: _view(plan, calendar, r, disclosure))
    return CycleReport(
        **{f.name: getattr(public, f.name) for f in fields(public)},
        agenda=AGENDA,
        generated_at=now.astimezone(BANGKOK),
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
    plans = office.plans.all()
    data = build_year(plan, office.calendar(), office.reports.all(fiscal_year), now=now,
                      disclosure=_disclosure(office), history=score_history(plans))
    approval = office.publications.approval(fiscal_year)
    return replace(
        data,
        oit=tuple(OitView(i.code, i.title, i.covers, p.fiscal_year)
                  for p in sorted(plans, key=lambda p: p.fiscal_year) for i in items_covering([p], fiscal_year)),
        approval=ApprovalView(approval.name, approval.position, approval.approved_on) if approval else None,
        snapshots=tuple(SnapshotView(s.number, s.taken_at.astimezone(BANGKOK))
                        for s in office.publications.snapshots(fiscal_year)),
    )


def cycle_report(office: Office, fiscal_year: int, month: str, now: datetime) -> CycleReport:
    """A cycle's meeting report; NotFound for an unknown year or a month outside it, BadRequest if malformed."""
    plan = _plan(office, fiscal_year)
    try:
        year, number = parse_cycle_id(to_arabic_digits(month.strip()))
    except ValueError:
        raise BadRequest(f"รูปแบบเดือน “{month}” ไม่ถูกต้อง กรุณาระบุเป็นปี ค.ศ.-เดือน เช่น 2021-02") from None
    calendar = office.calendar()
    try:
        cycle = calendar.cycle(cycle_id(year, number))
    except ValueError:  # a year the calendar cannot hold (0000, 9999): no such page
        raise NotFound(f"ไม่พบรอบการประชุมของเดือน “{month}” ในปีงบประมาณ {fiscal_year}") from None
    if cycle.fiscal_year != fiscal_year:
        first, last = (ARABIC.month((d.year, d.month), abbr=True) for d in fiscal_year_range(fiscal_year))
        raise NotFound(f"เดือน {ARABIC.month((year, number))} ไม่อยู่ในปีงบประมาณ {fiscal_year} ({first} – {last})")
    summary = cycle_summary(plan, office.view(cycle, calendar))
    return build_cycle(plan, calendar, summary, now=now, disclosure=_disclosure(office))
