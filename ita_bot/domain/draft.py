"""Drafting a fiscal year's plan from an earlier one: copy what carries over, carry unfinished measures,
offer a measure for each indicator under target, and mark what only a manager can fill in. An office's first plan
(no earlier one) starts from the shipped starter (domain/starter) and offers its starter measures."""

from __future__ import annotations

import copy
import difflib
import functools
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from importlib import resources
from typing import Any

from ita_bot.domain.plan import Assessment, Indicator, Plan, PlanError
from ita_bot.domain.plan_book import PlanBook
from ita_bot.domain.plan_writer import plan_to_data
from ita_bot.domain.progress import Report
from ita_bot.domain.reports import ReportBook
from ita_bot.domain.thai import fiscal_year_range, to_arabic_digits, to_thai_digits

__all__ = ["FILL_IN", "FIRST_PLAN_TO_FILL", "OIT_TO_CHECK", "Draft", "SuggestedMeasure", "draft_plan", "save_draft",
           "shift_years", "similar_titles", "starter_assessment", "starter_measures"]

#: What a drafted plan writes where only a manager can know the value (a new order number).
FILL_IN = "(โปรดกรอก)"
#: Fields a draft cannot know; they are listed in the plan's `to_fill` until a manager saves them.
DRAFT_TO_FILL = ("committee.order", "committee.signed", "memo.reference", "memo.date", "memo.intro", "set_on")

#: What only a new office knows, on its first plan (no earlier plan to copy it from). The divisions are a stand-in
#: list (the three every อบต. has) until the secretary saves the office's own.
FIRST_PLAN_TO_FILL = ("organization.short_name", "organization.district", "organization.province", "divisions",
                      "committee.order", "committee.signed", "committee.signer", "committee.members",
                      "memo.reference", "memo.date", "memo.office", "memo.addressees", "memo.intro", "set_on")

#: How a drafted plan marks each copied OIT item for a manager to check against the year's list (the NACC renumbers
#: and renames its items yearly): the item's code, the field a manager checks first.
OIT_TO_CHECK = "oit[{index}].code"

_YEAR_RE = re.compile(r"(?<![0-9๐-๙])([0-9๐-๙]{4})(?![0-9๐-๙])")


def shift_years(text: str, from_fy: int, to_fy: int) -> str:
    """Move the BE years of fiscal year ``from_fy`` in a text to ``to_fy`` (Oct–Dec belong to the year
    before, so both fy and fy-1 move), keeping the text's own digits (Thai or Arabic)."""
    moves = {from_fy: to_fy, from_fy - 1: to_fy - 1}

    def repl(m: re.Match[str]) -> str:
        token = m.group(1)
        year = int(to_arabic_digits(token))
        if year not in moves:
            return token
        new = str(moves[year])
        return to_thai_digits(new) if token != to_arabic_digits(token) else new

    return _YEAR_RE.sub(repl, text)


@dataclass(frozen=True)
class SuggestedMeasure:
    """A measure offered for an indicator under target: the manager keeps, edits or drops it."""

    instrument: str
    indicator: int
    score: Decimal
    target: Decimal
    title: str
    methods: tuple[str, ...]
    divisions: tuple[str, ...]
    period: str
    follow_up: str
    indicator_name: str = ""
    #: The NACC's observations on the indicator: problems to address, shown beside the method, never as one.
    observations: tuple[str, ...] = ()
    #: Measures already in the plan on the same topic, as (number, title): keeping both would list it twice.
    similar: tuple[tuple[int, str], ...] = ()
    #: A starter measure (an office's first plan) names its theme here; it answers no indicator (score unused).
    theme: str = ""

    def to_data(self, number: int) -> dict[str, Any]:
        return {"number": number, "title": self.title, "methods": list(self.methods),
                "divisions": list(self.divisions), "period": self.period, "follow_up": self.follow_up}


@dataclass
class Draft:
    """Plan ``fiscal_year`` as drafted from plan ``from_year``: ``data`` is valid plan data without the
    suggestions; ``version`` is the plan file's version it was drafted over ("" when there was none)."""

    fiscal_year: int
    from_year: int
    data: dict[str, Any]
    suggestions: list[SuggestedMeasure] = field(default_factory=list)
    version: str = ""
    carried: list[int] = field(default_factory=list)  # the earlier year's numbers of carried measures
    assessment: Assessment | None = None  # the result the suggestions answer (labels their indicators)
    first: bool = False  # the office's first plan (no earlier one): the starter measures are among the suggestions


def _latest_states(reports: Iterable[Report]) -> dict[tuple[int, str], str]:
    state: dict[tuple[int, str], tuple[datetime, str]] = {}
    for r in reports:
        key = (r.measure, r.division)
        if key not in state or r.reported_at >= state[key][0]:
            state[key] = (r.reported_at, r.status)
    return {k: v[1] for k, v in state.items()}


def _suggestion(ind: Indicator, target: Decimal, divisions: tuple[str, ...], period: str) -> SuggestedMeasure:
    notes = tuple(n for n in ind.notes if n.strip() and n.strip() != "-")
    # The NACC's notes describe what is wrong ("ช่องทางการสื่อสารยังไม่หลากหลาย"), not what to do: they are kept
    # as observations, and the method is a starter the manager rewrites.
    return SuggestedMeasure(
        instrument=ind.instrument,
        indicator=ind.number,
        score=ind.score,
        target=target,
        title=f"พัฒนา{ind.name}",
        methods=(f"วิเคราะห์สาเหตุที่คะแนนตัวชี้วัด{ind.name}ต่ำกว่าเป้าหมาย และกำหนดแนวทางแก้ไขให้ชัดเจน",),
        divisions=divisions,
        period=period,
        follow_up="รายงานผลการดำเนินการในการประชุมพนักงานทุกเดือน",
        indicator_name=ind.name,
        observations=notes,
    )


@functools.cache
def _starter(name: str) -> dict[str, Any]:
    """A shipped starter file (domain/starter/<name>.toml), read once."""
    return tomllib.loads(resources.files("ita_bot.domain.starter").joinpath(f"{name}.toml").read_text("utf-8"))


def _fill(value: Any, words: dict[str, str]) -> Any:
    """The starter's placeholders ("{year}", "{organization}"…) replaced throughout a value."""
    if isinstance(value, str):
        for key, word in words.items():
            value = value.replace("{" + key + "}", word)
        return value
    if isinstance(value, list):
        return [_fill(v, words) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, words) for k, v in value.items()}
    return value


def starter_measures(fy: int) -> list[SuggestedMeasure]:
    """The shipped starter measures for plan ``fy``: no division (the secretary picks), the year as its period."""
    thai_fy = to_thai_digits(str(fy))
    words = {"year": thai_fy}
    return [SuggestedMeasure(instrument="", indicator=i, score=Decimal(0), target=Decimal(0),
                             title=_fill(m["title"], words), methods=tuple(_fill(m["methods"], words)),
                             divisions=(), period=f"ปีงบประมาณ {thai_fy}", follow_up=_fill(m["follow_up"], words),
                             theme=m["theme"])
            for i, m in enumerate(_starter("measures")["measures"], start=1)]


def starter_score_bands() -> list[dict[str, Any]]:
    """The NACC's score bands as shipped (an office's first plan starts from them)."""
    return copy.deepcopy(_starter("plan")["score_bands"])


def starter_assessment() -> dict[str, Any]:
    """The NACC's instruments, indicators (no scores) and target, as a first results form starts from them."""
    return copy.deepcopy(_starter("plan")["assessment"])


def _first_plan(fy: int, organization: str) -> Draft:
    """Plan ``fy`` of an office with no earlier plan: the shipped starter's common parts, the office's name, and
    every field only the office knows marked to fill in (the year's first day stands in for its dates)."""
    start, end = fiscal_year_range(fy)
    words = {"year": to_thai_digits(str(fy)), "previous": to_thai_digits(str(fy - 1)),
             "organization": organization or FILL_IN, "fill": FILL_IN}
    base = _fill(_starter("plan"), words)
    base.pop("assessment", None)  # the result entered becomes the assessment, never the starter's blank one
    data: dict[str, Any] = {
        "fiscal_year": fy,
        "start": start,
        "end": end,
        "set_on": start,
        "reporting_rule": base["reporting_rule"],
        "to_fill": ([] if organization else ["organization.name"]) + list(FIRST_PLAN_TO_FILL),
        "organization": {"name": organization or FILL_IN, **base["organization"]},
        "score_bands": base["score_bands"],
        "sample_rules": base["sample_rules"],
        "divisions": base["divisions"],
        "committee": {**base["committee"], "signed": start, "term_end": end},
        "memo": {**base["memo"], "date": start},
        "measures": [],
    }
    # The most recent OIT list known, as shipped: each item covers the plan's year or the year before.
    _with_oit(data, [{"code": o["code"], "title": o["title"], "covers": o["covers"],
                      "fiscal_year": fy - o["years_before"]} for o in base.get("oit", [])])
    return Draft(fy, fy, data)


def _with_oit(data: dict[str, Any], items: list[dict[str, Any]]) -> None:
    """Give the drafted plan ``items`` as its OIT list, each marked to check (a guess from an earlier list)."""
    if items:
        data["oit"] = items
        data["to_fill"] = [*data["to_fill"], *(OIT_TO_CHECK.format(index=i) for i in range(len(items)))]


#: Verbs a measure title starts with: "พัฒนา…" and "เพิ่ม…" of the same topic are one measure.
_TITLE_VERBS = ("การพัฒนา", "พัฒนา", "การเพิ่ม", "เพิ่ม", "ปรับปรุง", "การปรับปรุง", "ส่งเสริม", "ยกระดับ", "เสริมสร้าง")
#: difflib ratio of two topics from which they count as the same measure (explainable, and strict enough that
#: "การสื่อสาร" and "การเปิดเผยข้อมูล" stay apart).
SIMILAR_RATIO = 0.8


def _topic(title: str) -> str:
    text = re.sub(r"\s+", "", title)
    stripped = True
    while stripped:  # "พัฒนาการปรับปรุงการทำงาน" → "การทำงาน"
        stripped = False
        for verb in sorted(_TITLE_VERBS, key=len, reverse=True):
            if text.startswith(verb) and len(text) > len(verb):
                text, stripped = text[len(verb):], True
                break
    return text


def similar_titles(a: str, b: str) -> bool:
    """Two measure titles name the same topic: equal or nearly equal once the leading verb ("พัฒนา", "เพิ่ม"…)
    and spaces are dropped, or one topic contains the other."""
    ta, tb = _topic(a), _topic(b)
    if not ta or not tb:
        return False
    short, long = sorted((ta, tb), key=len)
    if len(short) >= 6 and short in long:  # a topic of a few letters ("ข้อมูล") is contained in too much
        return True
    return difflib.SequenceMatcher(None, ta, tb).ratio() >= SIMILAR_RATIO


def draft_plan(book: PlanBook, reports: ReportBook, fy: int, from_fy: int | None = None, *,
               organization: str = "") -> Draft:
    """Draft plan ``fy`` from plan ``from_fy`` (default: the newest before ``fy``).

    When plan ``fy`` already exists (e.g. made when its year's ITA result was entered) the draft starts from
    it, so nothing already decided is lost, and only the suggestions are new. With no plan before ``fy`` at all
    (an office's first plan: no plan of any other year) it starts from the shipped starter, named ``organization``,
    and the starter measures are offered as suggestions. PlanError when there is no earlier plan to copy otherwise.
    """
    existing = book.get(fy)
    base: Plan | None = book.get(from_fy) if from_fy is not None else book.latest(before=fy)
    if from_fy is not None and from_fy >= fy:
        raise PlanError(f"{fy}.toml", "from", f"ปีต้นแบบ ({from_fy}) ต้องเป็นปีก่อนปีงบประมาณ {fy}")
    # An office with no plan of any other year: its first plan, offered the starter measures until it has measures
    # of its own. (An office with plans only after ``fy`` has no plan to copy for ``fy``: refused as before.)
    only_this = set(book.years()) <= {fy}
    if base is None and existing is None and (from_fy is not None or not only_this):
        which = f"ปีงบประมาณ {from_fy}" if from_fy is not None else f"ปีก่อนปีงบประมาณ {fy}"
        raise PlanError(f"{fy}.toml", "from", f"ไม่มีแผนของ{which} ให้ใช้เป็นต้นแบบ")
    first = only_this and (existing is None or not existing.measures)
    thai_fy = to_thai_digits(str(fy))
    period = f"ปีงบประมาณ {thai_fy}"

    if existing is not None:
        data = plan_to_data(existing)
        draft = Draft(fy, base.fiscal_year if base else fy, data, version=book.version(fy))
        taken = [(m.number, m.title) for m in existing.measures]
        assessment = existing.assessment
        default_divs = (existing.divisions[0].id,)
    elif base is not None:
        draft = _copy_from(base, reports, fy, period)
        taken = [(m["number"], m["title"]) for m in draft.data["measures"]]
        assessment = None
        default_divs = (base.divisions[0].id,)
    else:
        draft = _first_plan(fy, organization)
        taken, assessment = [], None
        default_divs = (draft.data["divisions"][0]["id"],)

    draft.assessment = assessment
    # The first division stands in for unattended drafts (`plan new` keeps every suggestion); the console shows
    # no division ticked, so a manager chooses each one.
    if assessment is not None:
        for ind in assessment.below_target():
            s = _suggestion(ind, assessment.target, default_divs, period)
            if s.title in {title for _, title in taken}:
                continue  # offered before and kept: already a measure
            similar = tuple((n, t) for n, t in taken if similar_titles(s.title, t))
            draft.suggestions.append(replace(s, similar=similar) if similar else s)
    if first:
        # A first plan has no measures of its own yet: the starter measures are offered as the suggestions are.
        titles = {s.title for s in draft.suggestions}
        # The first division stands in here as for the suggestions above; the console ticks none.
        draft.suggestions += [replace(s, divisions=default_divs) for s in starter_measures(fy) if s.title not in titles]
        draft.first = True
    return draft


def _copy_from(base: Plan, reports: ReportBook, fy: int, period: str) -> Draft:
    fy0 = base.fiscal_year
    old = plan_to_data(base)
    start, end = fiscal_year_range(fy)

    def shift(text: str) -> str:
        return shift_years(text, fy0, fy)

    data: dict[str, Any] = {
        "fiscal_year": fy,
        "start": start,
        "end": end,
        # The meeting that sets the year's measures has not happened yet: the year's first day stands in.
        "set_on": start,
        "reporting_rule": shift(base.reporting_rule),
        "to_fill": list(DRAFT_TO_FILL),
        "organization": copy.deepcopy(old["organization"]),
        "score_bands": copy.deepcopy(old["score_bands"]),
        "sample_rules": copy.deepcopy(old["sample_rules"]),
        "divisions": copy.deepcopy(old["divisions"]),
    }
    if base.set_at:
        data["set_at"] = base.set_at
    for rule in data["sample_rules"].values():
        rule["population"] = shift(rule["population"])

    committee = copy.deepcopy(old["committee"])
    order_year = base.committee.order.rsplit("/", 1)[-1] if "/" in base.committee.order else ""
    committee["order"] = f"{FILL_IN}/{shift(order_year)}" if order_year else FILL_IN
    committee["title"] = shift(committee["title"])
    committee["signed"] = start
    committee["term_end"] = end
    for duty in committee["duties"]:
        duty["text"] = shift(duty["text"])
        duty["items"] = [shift(t) for t in duty["items"]]
    data["committee"] = committee

    memo = copy.deepcopy(old["memo"])
    prefix = base.memo.reference.split("/", 1)[0] if "/" in base.memo.reference else ""
    memo["reference"] = f"{prefix}/{FILL_IN}" if prefix else FILL_IN
    memo["date"] = start
    for key in ("subject", "intro", "closing"):
        if key in memo:
            memo[key] = shift(memo[key])
    data["memo"] = memo

    # Carry over each measure some division has not finished (its latest report is not "done"); only those
    # divisions keep owing it, and carried_from says where it came from.
    states = _latest_states(reports.all(fy0))
    measures: list[dict[str, Any]] = []
    carried: list[int] = []
    for m in base.measures:
        unfinished = [d for d in m.divisions if states.get((m.number, d)) != "done"]
        if not unfinished:
            continue
        carried.append(m.number)
        measures.append({
            "number": len(measures) + 1,
            "title": m.title,
            "methods": list(m.methods),
            "divisions": unfinished,
            "period": period,
            "follow_up": shift(m.follow_up),
            "carried_from": fy0,
        })
    data["measures"] = measures
    # The same items as last year, moved with the plan: one covering its year now covers this one, a report on
    # the year before it now reports on the year before this one.
    _with_oit(data, [{**item, "fiscal_year": item["fiscal_year"] + fy - fy0} for item in old.get("oit", [])])
    return Draft(fy, fy0, data, carried=carried)


def draft_data(draft: Draft, kept: Sequence[SuggestedMeasure]) -> dict[str, Any]:
    """The plan data of a draft with the kept (possibly edited) suggestions appended as new measures."""
    data = copy.deepcopy(draft.data)
    measures = data.setdefault("measures", [])
    next_number = max((m.get("number", 0) for m in measures if isinstance(m.get("number"), int)), default=0) + 1
    for i, s in enumerate(kept):
        measures.append(s.to_data(next_number + i))
    return data


def save_draft(book: PlanBook, draft: Draft, kept_suggestions: Sequence[SuggestedMeasure], *, who: str,
               now: datetime) -> Plan:
    """Save a draft with the suggestions the manager kept; refused (VersionConflict) if the plan changed since
    the draft was made, or (PlanProblems) when invalid."""
    return book.save_data(draft.fiscal_year, draft_data(draft, kept_suggestions), expected_version=draft.version,
                          who=who, section="new" if not draft.version else "measures", now=now)
