"""The public reports' machine formats: the fiscal year and the cycle report as JSON, the cycle report as CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from ita_bot.domain.links import snapshot_url
from ita_bot.domain.thai import ARABIC
from ita_bot.domain.wording import status_text, status_words
from ita_bot.publish.disclosure import CycleReport, ReportView, YearReport

__all__ = ["CSV_HEADER", "cycle_csv", "cycle_json", "spreadsheet_safe", "year_json"]


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


def year_json(year: YearReport, *, base_url: str = "") -> dict[str, Any]:
    """The fiscal year as the public JSON contract has it (numbers stay numbers whatever display.numerals says).

    ``base_url``: the office's public address, which the snapshots' links start with ("" gives paths alone).
    """
    a = year.assessment
    fy = year.fiscal_year
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
                    "nacc_number": a.nacc_number(i),  # 1-10 as the NACC's report numbers it; number is per instrument
                    "name": i.name,
                    "score": float(i.score),
                    "below_target": a.is_below(i),
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
        # The OIT items this page answers, from every plan whose list names it (list_year).
        "oit": [
            {"code": i.code, "title": i.title, "covers": i.covers, "fiscal_year": fy, "list_year": i.listed_in}
            for i in year.oit
        ],
        # The executive (a public office holder) only: who recorded it stays in the console.
        "approval": None if year.approval is None else {
            "name": year.approval.name,
            "position": year.approval.position,
            "approved_on": year.approval.approved_on.isoformat(),
        },
        # Oldest first, the last one current; who froze them stays in the console.
        "snapshots": [
            {
                "number": s.number,
                "taken_at": s.taken_at.isoformat(timespec="seconds"),
                "url": snapshot_url(base_url, fy, s.number),
                "pdf_url": snapshot_url(base_url, fy, s.number, pdf=True),
            }
            for s in year.snapshots
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


def cycle_csv(report: CycleReport) -> str:
    """One row per (measure, division): opens in Excel with Thai intact once written as UTF-8 with a BOM.

    Numbers and dates in Arabic digits whatever display.numerals says (spreadsheets sum and sort them);
    what staff typed is kept as typed.
    """
    fmt = ARABIC
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = list(CSV_HEADER)
    if report.disclosure.show_names:
        header.append("ผู้รายงาน")
    writer.writerow(header)
    for m in report.measures:
        for p in m.pairs:
            work = "\n".join(
                f"{fmt.date(v.reported_at)} {status_words(v.status, v.percent, fmt)}"
                + (f": {v.details}" if v.details else "")
                for v in p.reports
            )
            row = [
                fmt.num(m.number),
                m.title,
                p.division,
                status_text(p.status),
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
