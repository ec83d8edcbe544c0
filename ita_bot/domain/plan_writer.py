"""Writing a plan back: Plan → the dict the reader accepts → TOML text (tomli-w), so load → write → load is equal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import tomli_w

from ita_bot.domain.plan import Assessment, Committee, Measure, Memo, Plan

__all__ = ["plan_to_data", "plan_to_toml", "score_text"]

HEADER = (
    "# ITA plan for fiscal year {fy}, written by the ITA follow-up bot (the managers' console or `plan new`).\n"
    "# Dates are CE ISO dates; scores are quoted numbers with two decimals. `python bot.py plan check` checks it.\n\n"
)


def score_text(value: Decimal | str | float | int) -> str:
    """A score as the file keeps it: two decimals in a string ("96.60"), so trailing zeros survive."""
    return f"{Decimal(str(value)).quantize(Decimal('0.01'))}"


def _drop_empty(table: dict[str, Any], *keys: str) -> dict[str, Any]:
    # Optional texts the reader treats as absent when missing; writing "" would fail "must not be empty".
    for key in keys:
        if table.get(key) in ("", None):
            table.pop(key, None)
    return table


def _assessment(a: Assessment) -> dict[str, Any]:
    data: dict[str, Any] = {
        "fiscal_year": a.fiscal_year,
        "total": score_text(a.total),
        "level": a.level,
        "target": score_text(a.target),
        "instruments": [
            _drop_empty({"code": i.code, "name": i.name, "other_names": list(i.other_names), "english": i.english},
                        "english")
            for i in a.instruments
        ],
        "indicators": [
            {"instrument": i.instrument, "number": i.number, "name": i.name, "score": score_text(i.score),
             "notes": list(i.notes)}
            for i in a.indicators
        ],
    }
    if a.level_override:
        data["level_override"] = True
    return data


def _committee(c: Committee) -> dict[str, Any]:
    return _drop_empty({
        "issuer": c.issuer,
        "order": c.order,
        "title": c.title,
        "signed": c.signed,
        "signer": c.signer,
        "signer_position": c.signer_position,
        "term_end": c.term_end,
        "members": [
            {"number": m.number, "name": m.name, "position": m.position, "role_text": m.role_text, "role": m.role}
            for m in c.members
        ],
        "duties": [{"number": d.number, "text": d.text, "items": list(d.items)} for d in c.duties],
    }, "issuer", "signer_position")


def _memo(m: Memo) -> dict[str, Any]:
    return _drop_empty({
        "reference": m.reference,
        "date": m.date,
        "office": m.office,
        "subject": m.subject,
        "addressees": m.addressees,
        "intro": m.intro,
        "closing": m.closing,
        "signer": m.signer,
        "signer_position": m.signer_position,
    }, "intro", "closing", "signer", "signer_position")


def _measure(m: Measure) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": m.number,
        "title": m.title,
        "methods": list(m.methods),
        "divisions": list(m.divisions),
        "period": m.period,
        "follow_up": m.follow_up,
    }
    if m.carried_from is not None:
        data["carried_from"] = m.carried_from
    return data


def plan_to_data(plan: Plan) -> dict[str, Any]:
    """The plan as the plain dict the file holds (and ``parse_plan_data`` reads): dates as dates, scores as
    two-decimal strings, optional empty texts left out."""
    data: dict[str, Any] = {
        "fiscal_year": plan.fiscal_year,
        "start": plan.start,
        "end": plan.end,
        "set_on": plan.set_on,
        "set_at": plan.set_at,
        "reporting_rule": plan.reporting_rule,
    }
    _drop_empty(data, "set_at")
    if plan.to_fill:
        data["to_fill"] = list(plan.to_fill)
    o = plan.organization
    data["organization"] = {"name": o.name, "short_name": o.short_name, "district": o.district,
                            "province": o.province}
    if plan.assessment is not None:
        data["assessment"] = _assessment(plan.assessment)
    data["score_bands"] = [
        {"level": b.level, "low": score_text(b.low), "high": score_text(b.high)} for b in plan.score_bands
    ]
    data["sample_rules"] = {
        code: _drop_empty({
            "percent": r.percent, "minimum": r.minimum, "all_when_fewer": r.all_when_fewer,
            "large_over": r.large_over, "large_minimum": r.large_minimum, "population": r.population,
            "text": r.text,
        }, "text")
        for code, r in plan.sample_rules.items()
    }
    data["divisions"] = [{"id": d.id, "name": d.name, "aliases": list(d.aliases)} for d in plan.divisions]
    data["committee"] = _committee(plan.committee)
    data["memo"] = _memo(plan.memo)
    data["measures"] = [_measure(m) for m in plan.measures]
    # The assessment calendar, when the plan model has one: written in the shape its reader takes.
    milestones = getattr(plan, "milestones", ())
    if milestones:
        data["milestones"] = [
            _drop_empty({"id": m.id, "date": m.date, "title": m.title, "who": list(m.who),
                         "remind_days_before": list(m.remind_days_before), "notes": m.notes}, "notes", "id")
            for m in milestones
        ]
    # The OIT items the year's page answers; a plan without them (written before the list) stays without.
    if plan.oit:
        data["oit"] = [{"code": o.code, "title": o.title, "covers": o.covers, "fiscal_year": o.fiscal_year}
                       for o in plan.oit]
    return data


def data_to_toml(data: dict[str, Any]) -> str:
    """TOML text for a plan dict (validate it first: this only formats)."""
    fy = data.get("fiscal_year", "")
    # Long Thai texts stay on one line each; arrays of strings get one item per line to be readable.
    return HEADER.format(fy=fy) + tomli_w.dumps(data, multiline_strings=False, indent=4)


def plan_to_toml(plan: Plan) -> str:
    """The plan as TOML text the loader reads back into an equal Plan."""
    return data_to_toml(plan_to_data(plan))
