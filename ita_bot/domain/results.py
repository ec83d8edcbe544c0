"""Official ITA results: the result of ITA year Y becomes plan Y+1's `[assessment]` (plan Y+1 drafted when missing)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ita_bot.domain.plan import Plan, PlanError, PlanProblems, Problem, ScoreBand, band_level
from ita_bot.domain.plan_book import PlanBook
from ita_bot.domain.plan_writer import plan_to_data, score_text
from ita_bot.domain.thai import to_arabic_digits

__all__ = ["DEFAULT_TARGET", "enter_result", "result_template"]

#: The NACC's national target, used when no earlier plan says otherwise.
DEFAULT_TARGET = "85.00"


def _score(value: Any) -> Any:
    """A typed score as the file keeps it ("81.80"); anything unreadable is passed on for validation to name."""
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return score_text(value)
    if isinstance(value, str):
        text = to_arabic_digits(value.strip())
        try:
            return score_text(Decimal(text))
        except (InvalidOperation, ValueError):
            return value
    return value


def _notes(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):  # a form's textarea: one note per line
        return [line.strip() for line in value.splitlines() if line.strip()]
    return [str(v) for v in value]


def _levels(bands: list[dict[str, Any]]) -> list[str]:
    """The levels a result may be given: those of the bands the entry is checked against, best first."""
    return [b["level"] for b in sorted(bands, key=lambda b: Decimal(str(b["low"])), reverse=True)]


def result_template(book: PlanBook) -> dict[str, Any]:
    """Instruments, indicators (no scores), target and bands of the latest plan: what a results form starts from
    (an office with no plan yet starts from the NACC's instruments and indicators as shipped)."""
    from ita_bot.domain.draft import starter_assessment, starter_score_bands

    latest = book.latest()
    if latest is None:
        starter = starter_assessment()
        for ind in starter["indicators"]:
            ind["score"], ind["notes"] = "", []
        return {"instruments": starter["instruments"], "indicators": starter["indicators"],
                "target": starter.get("target", DEFAULT_TARGET), "levels": _levels(starter_score_bands())}
    data = plan_to_data(latest)  # once: its bands are the ones the new plan copies
    levels = _levels(data["score_bands"])
    if latest.assessment is None:
        return {"instruments": [], "indicators": [], "target": DEFAULT_TARGET, "levels": levels}
    assessment = data["assessment"]
    for ind in assessment["indicators"]:
        ind["score"], ind["notes"] = "", []
    return {"instruments": assessment["instruments"], "indicators": assessment["indicators"],
            "target": assessment["target"], "levels": levels}


def enter_result(
    book: PlanBook,
    ita_year: int,
    *,
    total: Decimal | str,
    indicators: Sequence[Mapping[str, Any]],
    level: str | None = None,
    who: str,
    now: datetime,
    target: Decimal | str | None = None,
    instruments: Sequence[Mapping[str, Any]] | None = None,
    organization: str = "",
) -> Plan:
    """Store the official result of ITA year ``ita_year`` as plan ``ita_year + 1``'s assessment.

    ``indicators``: ``{"instrument", "number", "score", "notes"?, "name"?}`` each (a missing name is taken from
    the latest plan's indicator of the same instrument and number; a missing number is the next in its
    instrument). ``instruments`` (default: the latest plan's)
    and ``target`` (default: the latest plan's, else 85.00) may change when the NACC changes them. The level
    follows the plan's score bands unless ``level`` overrides it. Plan ``ita_year + 1`` is drafted first when
    it does not exist (an office's first plan from the shipped starter, named ``organization``). PlanProblems
    names every wrong field (``assessment.indicators[2].score``…).
    """
    from ita_bot.domain.draft import draft_plan, starter_assessment

    fy = ita_year + 1
    latest = book.latest(before=fy + 1)
    latest_a = next((p.assessment for p in reversed(book.all()) if p.assessment is not None), None)
    # Looked up with the rows' raw values (any type a form or file gave), so the key is not narrowed to (str, int).
    names: dict[tuple[Any, Any], str] = {}
    if latest_a:
        names = {(i.instrument, i.number): i.name for i in latest_a.indicators}
    if latest_a is None and not book.years():  # an office with no plan yet: the NACC's names as shipped
        names = {(i["instrument"], i["number"]): i["name"] for i in starter_assessment()["indicators"]}
    if instruments is None:
        instruments = plan_to_data(latest)["assessment"]["instruments"] if latest and latest.assessment else (
            [{"code": i.code, "name": i.name, "other_names": list(i.other_names)} for i in latest_a.instruments]
            if latest_a else starter_assessment()["instruments"])
    rows: list[dict[str, Any]] = []
    taken: dict[str, int] = {}  # the highest number given in each instrument
    for row in indicators:
        number = row.get("number")
        if isinstance(number, str) and to_arabic_digits(number.strip()).isdigit():
            number = int(to_arabic_digits(number.strip()))
        if isinstance(number, int) and not isinstance(number, bool):
            taken[row.get("instrument", "")] = max(taken.get(row.get("instrument", ""), 0), number)
    for row in indicators:
        number = row.get("number")
        if isinstance(number, str) and to_arabic_digits(number.strip()).isdigit():
            number = int(to_arabic_digits(number.strip()))
        if number in (None, ""):  # an indicator the NACC added: next in its instrument
            code = row.get("instrument", "")
            number = taken[code] = taken.get(code, 0) + 1
        name = row.get("name") or names.get((row.get("instrument"), number), "")
        rows.append({"instrument": row.get("instrument", ""), "number": number, "name": name,
                     "score": _score(row.get("score")), "notes": _notes(row.get("notes"))})
    the_target = _score(target) if target is not None else (score_text(latest_a.target) if latest_a
                                                              else DEFAULT_TARGET)
    assessment: dict[str, Any] = {
        "fiscal_year": ita_year,
        "total": _score(total),
        "level": level or "",
        "target": the_target,
        "instruments": [dict(i) for i in instruments],
        "indicators": rows,
    }

    existing = book.get(fy)
    if existing is None:
        draft = draft_plan(book, book.report_book(), fy, organization=organization)
        data, version = draft.data, draft.version
    else:
        data, version = plan_to_data(existing), book.version(fy)
    bands = data.get("score_bands", [])
    try:
        total_d = Decimal(assessment["total"])
        by_bands = band_level((ScoreBand(b["level"], Decimal(b["low"]), Decimal(b["high"])) for b in bands),
                              total_d) or ""
    except (InvalidOperation, TypeError, ValueError):
        by_bands = "-"  # the total itself is wrong; validation names it
    if not level:
        assessment["level"] = by_bands
    elif level != by_bands:
        assessment["level_override"] = True  # a level given by hand is the NACC's word, whatever the bands say
    data["assessment"] = assessment
    try:
        return book.save_data(fy, data, expected_version=version, who=who, section="assessment", now=now)
    except PlanProblems:
        raise
    except PlanError as e:
        raise PlanProblems(e.file, [Problem(e.field, e.problem)]) from e
