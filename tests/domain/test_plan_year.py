"""Plans for any fiscal year: writing round trip, all-problem validation, the plan book (versions, audit,
removal guard), drafting a year from an earlier one, and official results becoming next year's assessment."""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ita_bot.domain.draft import FILL_IN, draft_plan, save_draft, shift_years
from ita_bot.domain.notices import Notices
from ita_bot.domain.plan import PlanProblems
from ita_bot.domain.plan_book import PlanBook, VersionConflict
from ita_bot.domain.plan_reader import load_plan, parse_plan_data, parse_plan_text
from ita_bot.domain.plan_writer import plan_to_data, plan_to_toml
from ita_bot.domain.progress import Report
from ita_bot.domain.reports import ReportBook, ReportRefused
from ita_bot.domain.results import enter_result
from ita_bot.domain.thai import BANGKOK
from ita_bot.store.tiny import tinydb_repositories

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "storage" / "plans"
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=BANGKOK)


def open_book(folder: Path, shipped: Path = SHIPPED, configured: Path | None = None) -> PlanBook:
    """A plan book over the data folder's repositories, as one process opens it (its own caches)."""
    repositories = tinydb_repositories(folder)
    return PlanBook(shipped, repositories.plans, configured=configured, reports=ReportBook(repositories.reports),
                    notices=Notices(repositories.notices))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def book(folder: Path) -> PlanBook:
    return open_book(folder)


@pytest.fixture
def reports(book: PlanBook) -> ReportBook:
    return book.report_book()


def report(reports: ReportBook, fy: int, measure: int, division: str, status: str, when: str) -> None:
    moment = datetime.fromisoformat(when).replace(tzinfo=BANGKOK)
    percent = 100 if status == "done" else 50
    reports.add(Report(fy, measure, division, status, percent, "ดำเนินการ", moment, moment, reporter_name="ผู้รายงาน"))


# --- writing ----------------------------------------------------------------------------------------


def test_round_trip_of_the_shipped_plan(tmp_path: Path) -> None:
    plan = load_plan(SHIPPED / "2564.toml")
    out = tmp_path / "2564.toml"
    out.write_text(plan_to_toml(plan), encoding="utf-8")
    again = load_plan(out)
    assert plan_to_data(again) == plan_to_data(plan)
    assert again == load_plan(out) and again.measures == plan.measures and again.assessment == plan.assessment
    # And the dict form the console uses reads back equal too.
    assert parse_plan_data(plan_to_data(plan), plan.source) == plan


def test_round_trip_keeps_carried_from_to_fill_and_a_level_override(tmp_path: Path) -> None:
    data = plan_to_data(load_plan(SHIPPED / "2564.toml"))
    data["measures"][0]["carried_from"] = 2563
    data["to_fill"] = ["committee.order"]
    data["assessment"]["level"] = "B"
    data["assessment"]["level_override"] = True
    plan = parse_plan_data(data, "x.toml")
    assert plan.measures[0].carried_from == 2563 and plan.to_fill == ("committee.order",)
    assert plan.assessment is not None and plan.assessment.level == "B"
    assert parse_plan_text(plan_to_toml(plan), "x.toml") == plan


# --- validation -------------------------------------------------------------------------------------


def test_validation_names_every_problem_in_thai() -> None:
    data = plan_to_data(load_plan(SHIPPED / "2564.toml"))
    data["measures"][1]["divisions"] = ["sp", "nowhere"]
    data["measures"][2]["title"] = "  "
    data["assessment"]["indicators"][6]["score"] = "81.8"
    del data["memo"]
    data["colour"] = "red"
    with pytest.raises(PlanProblems) as err:
        parse_plan_data(data, "upload.toml")
    problems = {p.field: p.in_file for p in err.value.problems}  # in the file's terms, for whoever edits it
    fields = {p.field: p.message for p in err.value.problems}  # in a form's terms
    assert set(problems) == {
        "colour", "memo", "measures[1].divisions[1]", "measures[2].title", "assessment.indicators[6].score",
    }
    assert "nowhere" in problems["measures[1].divisions[1]"] and "ไม่รู้จักกอง" in problems["measures[1].divisions[1]"]
    assert problems["measures[2].title"] == "ต้องไม่เว้นว่าง"
    assert "ทศนิยมสองตำแหน่งในเครื่องหมายคำพูด" in problems["assessment.indicators[6].score"]
    assert fields["assessment.indicators[6].score"] == "กรุณากรอกคะแนนเป็นตัวเลขทศนิยมสองตำแหน่ง (เช่น 96.60)"
    assert str(err.value).count("เครื่องหมายคำพูด") == 1  # the exception names the file: its terms
    assert problems["memo"] == "ยังไม่ได้กรอก (ต้องมี)"  # one problem for the table, not one per field inside
    assert err.value.file == "upload.toml" and err.value.field == err.value.problems[0].field


def test_a_level_other_than_the_bands_needs_an_override() -> None:
    data = plan_to_data(load_plan(SHIPPED / "2564.toml"))
    data["assessment"]["level"] = "AA"
    with pytest.raises(PlanProblems) as err:
        parse_plan_data(data, "x.toml")
    assert err.value.problems[0].field == "assessment.level" and "level_override" in err.value.problems[0].message


def test_a_plan_without_assessment_or_measures_is_valid() -> None:
    data = plan_to_data(load_plan(SHIPPED / "2564.toml"))
    del data["assessment"]
    data["measures"] = []
    plan = parse_plan_data(data, "x.toml")
    assert plan.assessment is None and plan.measures == () and plan.pairs() == ()


# --- the plan book ----------------------------------------------------------------------------------


def test_the_book_reads_shipped_plans_and_the_data_folder_wins(book: PlanBook, folder: Path) -> None:
    assert book.years() == [2564] and book.get(2570) is None
    assert book.version(2570) == "" and book.text(2570) == ""
    shipped = book.get(2564)
    assert shipped is not None and book.is_shipped(2564)
    data = plan_to_data(shipped)
    data["organization"]["short_name"] = "อบต.ทดสอบ"
    saved = book.save_data(2564, data, expected_version=book.version(2564), who="เลขาทดสอบ", section="organization",
                           now=NOW)
    assert saved.organization.short_name == "อบต.ทดสอบ"
    assert saved.source == folder / "plans" / "2564.toml" and not book.is_shipped(2564)
    assert book.get(2564) == saved and "อบต.ทดสอบ" in book.text(2564)
    assert (SHIPPED / "2564.toml").read_text(encoding="utf-8").count("อบต.ทดสอบ") == 0  # shipped file untouched


def test_a_save_is_seen_at_once_by_another_process_book(book: PlanBook, folder: Path, tmp_path: Path) -> None:
    other = open_book(folder)  # another worker: its own store and cache
    assert other.get(2564) is not None
    plan = book.get(2564)
    assert plan is not None
    data = plan_to_data(plan)
    data["measures"][0]["title"] = "ชื่อใหม่ของมาตรการที่ 1"
    book.save_data(2564, data, expected_version=book.version(2564), who="เลขาทดสอบ", section="measures", now=NOW)
    seen = other.get(2564)
    assert seen is not None and seen.measure(1) is not None and seen.measure(1).title == "ชื่อใหม่ของมาตรการที่ 1"
    assert other.version(2564) == book.version(2564)


def test_a_stale_version_is_refused_and_nothing_changes(book: PlanBook) -> None:
    plan = book.get(2564)
    assert plan is not None
    stale = book.version(2564)
    first = plan_to_data(plan)
    first["set_at"] = "ห้องประชุมใหม่"
    book.save_data(2564, first, expected_version=stale, who="ประธานทดสอบ", section="all", now=NOW)
    second = plan_to_data(plan)
    second["reporting_rule"] = "รายงานทุกสองเดือน"
    before = book.text(2564)
    with pytest.raises(VersionConflict) as err:
        book.save_data(2564, second, expected_version=stale, who="เลขาทดสอบ", section="all", now=NOW)
    assert "ถูกแก้ไขไปแล้ว" in str(err.value)
    assert book.text(2564) == before and len(book.history()) == 1
    # A new year is created against the version "" (none yet) only.
    with pytest.raises(VersionConflict):
        book.save_data(2564, second, expected_version="", who="เลขาทดสอบ", section="all", now=NOW)


def test_every_change_is_audited(book: PlanBook) -> None:
    plan = book.get(2564)
    assert plan is not None
    v0 = book.version(2564)
    data = plan_to_data(plan)
    data["memo"]["closing"] = "จึงเรียนมาเพื่อโปรดทราบ"
    book.save_data(2564, data, expected_version=v0, who="เลขาทดสอบ", section="memo", now=NOW)
    [change] = book.history()
    assert (change.who, change.fiscal_year, change.section, change.at) == ("เลขาทดสอบ", 2564, "memo", NOW.isoformat())
    assert "จึงเรียนมาเพื่อดำเนินการ" in change.before and "จึงเรียนมาเพื่อโปรดทราบ" in change.after
    assert "measures" not in change.after  # the section only
    assert change.version_before == v0 and change.version_after == book.version(2564)


def test_removing_a_measure_or_division_with_reports_is_refused(book: PlanBook, reports: ReportBook) -> None:
    report(reports, 2564, 4, "klang", "doing", "2021-02-10T10:00")
    plan = book.get(2564)
    assert plan is not None
    data = plan_to_data(plan)
    data["measures"] = [m for m in data["measures"] if m["number"] != 4]
    with pytest.raises(PlanProblems) as err:
        book.save_data(2564, data, expected_version=book.version(2564), who="x", section="measures", now=NOW)
    assert "ให้แก้ชื่อหรือรายละเอียดแทน" in err.value.problems[0].message
    data = plan_to_data(plan)
    data["measures"][3]["divisions"] = ["sp", "chang"]
    data["divisions"] = [d for d in data["divisions"] if d["id"] != "klang"]
    with pytest.raises(PlanProblems) as err:
        book.save_data(2564, data, expected_version=book.version(2564), who="x", section="divisions", now=NOW)
    fields = [p.field for p in err.value.problems]
    assert fields == ["divisions", "measures[3].divisions"]
    # Renaming is fine, and so is removing what has no reports (measure 3, division chang from measure 4).
    data = plan_to_data(plan)
    data["measures"][3]["title"] = "พัฒนาเว็บไซต์"
    data["measures"][3]["divisions"] = ["sp", "klang"]
    data["measures"] = [m for m in data["measures"] if m["number"] != 3]
    saved = book.save_data(2564, data, expected_version=book.version(2564), who="x", section="measures", now=NOW)
    assert [m.number for m in saved.measures] == [1, 2, 4] and saved.measures[2].title == "พัฒนาเว็บไซต์"
    assert book.history()[0].section == "measures" and book.history(limit=1) == book.history()[:1]


# --- drafting ---------------------------------------------------------------------------------------


def test_shift_years_keeps_each_texts_digits() -> None:
    assert shift_years("ปีงบประมาณ พ.ศ. ๒๕๖๔ และ ๒๕๖๓", 2564, 2570) == "ปีงบประมาณ พ.ศ. ๒๕๗๐ และ ๒๕๖๙"
    assert shift_years("FY 2564, 12564, ๓๕๔๐๑, 2500", 2564, 2570) == "FY 2570, 12564, ๓๕๔๐๑, 2500"


def test_draft_copies_the_office_carries_unfinished_measures_and_marks_what_to_fill(
    book: PlanBook, reports: ReportBook
) -> None:
    report(reports, 2564, 1, "sp", "doing", "2021-02-10T10:00")
    report(reports, 2564, 1, "sp", "done", "2021-03-10T10:00")  # measure 1: done
    report(reports, 2564, 2, "sp", "done", "2021-02-10T10:00")
    report(reports, 2564, 2, "sp", "doing", "2021-04-10T10:00")  # measure 2: reopened, not done
    for div in ("sp", "klang"):
        report(reports, 2564, 4, div, "done", "2021-05-10T10:00")  # measure 4: chang has not finished
    draft = draft_plan(book, reports, 2570)
    assert (draft.fiscal_year, draft.from_year, draft.version, draft.suggestions) == (2570, 2564, "", [])
    d = draft.data
    base = load_plan(SHIPPED / "2564.toml")
    assert d["organization"] == plan_to_data(base)["organization"]
    assert d["divisions"] == plan_to_data(base)["divisions"]
    assert (d["start"].isoformat(), d["end"].isoformat()) == ("2026-10-01", "2027-09-30")
    assert [(m["number"], m["title"], m["divisions"], m["carried_from"]) for m in d["measures"]] == [
        (1, base.measures[1].title, ["sp"], 2564),
        (2, base.measures[2].title, ["sp"], 2564),
        (3, base.measures[3].title, ["chang"], 2564),
    ]
    assert draft.carried == [2, 3, 4]
    assert all(m["period"] == "ปีงบประมาณ ๒๕๗๐" for m in d["measures"])
    c = d["committee"]
    assert c["order"] == f"{FILL_IN}/๒๕๗๐" and c["title"].endswith("ประจำปีงบประมาณ พ.ศ. ๒๕๗๐")
    assert c["term_end"].isoformat() == "2027-09-30" and c["members"] == plan_to_data(base)["committee"]["members"]
    assert d["memo"]["reference"] == f"ลป ๓๕๔๐๑/{FILL_IN}" and "๒๕๖๙" in d["memo"]["subject"]
    assert {"committee.order", "memo.reference", "set_on"} <= set(d["to_fill"])
    assert "assessment" not in d  # the 2569 result is not known until a manager enters it
    plan = save_draft(book, draft, [], who="เลขาทดสอบ", now=NOW)
    assert book.get(2570) == plan and plan.to_fill and book.history()[0].section == "new"


def test_draft_needs_an_earlier_plan(book: PlanBook, reports: ReportBook) -> None:
    from ita_bot.domain.plan import PlanError

    with pytest.raises(PlanError):
        draft_plan(book, reports, 2560)
    with pytest.raises(PlanError):
        draft_plan(book, reports, 2570, from_fy=2571)


# --- official results -------------------------------------------------------------------------------


def _indicators(**scores: str) -> list[dict[str, Any]]:
    base = load_plan(SHIPPED / "2564.toml").assessment
    assert base is not None
    rows = []
    for i in base.indicators:
        rows.append({"instrument": i.instrument, "number": i.number,
                     "score": scores.get(f"{i.instrument}{i.number}", "90.00"), "notes": ""})
    return rows


def test_a_result_becomes_next_years_assessment_and_drafts_that_year(book: PlanBook, reports: ReportBook) -> None:
    rows = _indicators(EIT2="๗๘.๕")  # Thai digits, one decimal: both accepted from a form
    rows[6]["notes"] = "ปรับปรุงเว็บไซต์ให้ค้นหาง่าย\nตอบคำถามประชาชนภายใน ๓ วัน"
    plan = enter_result(book, 2569, total="84.50", indicators=rows, who="เลขาทดสอบ", now=NOW)
    assert plan.fiscal_year == 2570 and book.get(2570) == plan
    a = plan.assessment
    assert a is not None and (a.fiscal_year, a.total, a.level, a.target) == (2569, Decimal("84.50"), "B",
                                                                               Decimal("85.00"))
    assert not a.level_override
    assert [i.name for i in a.indicators] == [i.name for i in load_plan(SHIPPED / "2564.toml").assessment.indicators]
    [flagged] = a.below_target()
    assert (flagged.instrument, flagged.number, flagged.score) == ("EIT", 2, Decimal("78.50"))
    assert len(plan.measures) == 4 and all(m.carried_from == 2564 for m in plan.measures)  # drafted first
    assert book.history()[0].section == "assessment"

    # The next-year draft now offers a measure for the flagged indicator, named after it; the notes are the
    # NACC's observations (problems), offered beside a starter method rather than as the method.
    draft = draft_plan(book, reports, 2570)
    [s] = draft.suggestions
    assert s.title == "พัฒนาประสิทธิภาพการสื่อสาร" and s.title == f"พัฒนา{flagged.name}"
    assert s.observations == ("ปรับปรุงเว็บไซต์ให้ค้นหาง่าย", "ตอบคำถามประชาชนภายใน ๓ วัน")
    assert s.methods and not set(s.methods) & set(s.observations)
    assert s.indicator_name == "ประสิทธิภาพการสื่อสาร"
    assert (2, "เพิ่มประสิทธิภาพการสื่อสาร") in s.similar  # the carried measure on the same topic
    assert draft.version == book.version(2570)
    edited = dataclasses.replace(s, divisions=("sp", "klang"))  # the manager edits before keeping it
    saved = save_draft(book, draft, [edited], who="เลขาทดสอบ", now=NOW)
    assert saved.measures[-1].number == 5 and saved.measures[-1].title == s.title
    assert saved.measures[-1].carried_from is None
    # Kept once: drafting again offers nothing new.
    assert draft_plan(book, reports, 2570).suggestions == []


def test_a_result_over_an_existing_plan_keeps_its_measures_and_a_level_can_be_overridden(book: PlanBook) -> None:
    plan = enter_result(book, 2563, total="92.65", indicators=_indicators(), level="AA", who="x", now=NOW)
    assert plan.fiscal_year == 2564 and len(plan.measures) == 4
    assert plan.assessment is not None and plan.assessment.level == "AA" and plan.assessment.level_override


def test_a_wrong_result_names_the_fields_and_saves_nothing(book: PlanBook) -> None:
    rows = _indicators(IIT1="สูง")
    rows[2]["score"] = "101"
    with pytest.raises(PlanProblems) as err:
        enter_result(book, 2569, total="9x", indicators=rows, who="x", now=NOW)
    fields = {p.field for p in err.value.problems}
    assert {"assessment.total", "assessment.indicators[0].score", "assessment.indicators[2].score"} <= fields
    assert book.get(2570) is None and book.history() == []


def test_an_uploaded_text_is_checked_like_a_form(book: PlanBook) -> None:
    text = (SHIPPED / "2564.toml").read_text(encoding="utf-8")
    with pytest.raises(PlanProblems) as err:
        book.save_text(2564, text + "\n[broken\n", expected_version=book.version(2564), who="x", now=NOW)
    assert err.value.problems[0].field.startswith("line ") and "TOML" in err.value.problems[0].message
    with pytest.raises(PlanProblems) as err:
        book.save_text(2570, text, expected_version="", who="x", now=NOW)
    assert err.value.problems[0].field == "fiscal_year" and "2570" in err.value.problems[0].message
    assert book.get(2570) is None and book.history() == []
    saved = book.save_text(2564, text.replace("ห้องประชุมองค์การ", "ห้องประชุมใหญ่องค์การ"),
                           expected_version=book.version(2564), who="เลขาทดสอบ", now=NOW)
    assert saved.set_at.startswith("ห้องประชุมใหญ่") and book.history()[0].section == "all"


def test_a_section_read_in_stop_at_first_problem_style_joins_the_other_problems() -> None:
    from ita_bot.domain.plan_reader import _Reader, read_strictly

    def legacy(r: Any, top: dict[str, Any]) -> tuple[str, ...]:
        t = r.table(top["extra"], "extra", ("day", "name"))
        day = r.day(t, "extra", "day")  # used unchecked: the strict reader stops here when it is wrong
        if day.year < 2020:
            raise r.fail("extra.day", "ก่อนปี 2020")
        return (r.text(t, "extra", "name"),)

    r = _Reader()
    r.fail("other", "ปัญหาอื่น")
    assert read_strictly(r, legacy, (), {"extra": {"day": "2021-01-01", "name": "x"}}) == ()
    assert read_strictly(r, legacy, (), {"extra": {"day": datetime(2019, 1, 1).date(), "name": "y"}}) == ()
    assert read_strictly(r, legacy, ("-",), {"extra": {"day": datetime(2021, 1, 1).date(), "name": "z"}}) == ("z",)
    assert [p.field for p in r.problems] == ["other", "extra.day"]


@pytest.mark.slow  # a real process: a fresh interpreter per module
@pytest.mark.parametrize("module", ["plan", "plan_reader", "plan_writer", "plan_book", "draft", "results"])
def test_each_plan_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", f"import ita_bot.domain.{module}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_with_the_data_folder_on_the_shipped_folder_only_a_save_makes_a_plan_saved(tmp_path: Path) -> None:
    # The default ITA_BOT_DB (storage/ita-bot.json) makes storage/ the data folder: its plans/ is the shipped one.
    shipped = tmp_path / "storage" / "plans"
    shipped.mkdir(parents=True)
    (shipped / "2564.toml").write_bytes((SHIPPED / "2564.toml").read_bytes())
    book = open_book(tmp_path / "storage", shipped, configured=shipped / "2564.toml")
    assert book.is_shipped(2564) and not book.is_shipped(2570)
    data = plan_to_data(book.get(2564))
    data["organization"]["short_name"] = "อบต.ทดสอบ"
    book.save_data(2564, data, expected_version=book.version(2564), who="เลขาทดสอบ", section="organization", now=NOW)
    assert not book.is_shipped(2564)  # the file in the checkout was replaced by the secretary's save


# --- a plan save racing a report --------------------------------------------------------------------


def _race_once(folder: Path) -> tuple[bool, bool, bool, bool]:
    """One round: a save dropping division "chang" and a report for it start together. Returns (save went
    through, report stored, the saved plan has the division, a stored report is for it)."""
    book = open_book(folder)
    reports = book.report_book()
    plan = book.get(2564)
    assert plan is not None
    data = plan_to_data(plan)
    data["divisions"] = [d for d in data["divisions"] if d["id"] != "chang"]
    for m in data["measures"]:
        m["divisions"] = [d for d in m["divisions"] if d != "chang"] or ["sp"]
    measure = next(m.number for m in plan.measures if "chang" in m.divisions)
    version = book.version(2564)
    start = threading.Barrier(2)
    saved, stored = [False], [False]

    def save() -> None:
        start.wait()
        try:
            book.save_data(2564, data, expected_version=version, who="เลขาทดสอบ", section="divisions", now=NOW)
            saved[0] = True
        except PlanProblems:
            pass

    def send() -> None:
        start.wait()
        current = book.get(2564)  # what chat checks first: the division is responsible for the measure
        if current is not None and (measure, "chang") in current.pairs():
            try:
                reports.add(Report(2564, measure, "chang", "doing", 50, "ดำเนินการ", NOW, NOW, reporter_name="ผู้รายงาน"))
                stored[0] = True
            except ReportRefused:
                pass

    threads = [threading.Thread(target=save), threading.Thread(target=send)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = book.get(2564)
    assert final is not None
    has_division = any(d.id == "chang" for d in final.divisions)
    has_report = any(r.division == "chang" for r in reports.all(2564))
    return saved[0], stored[0], has_division, has_report


def test_a_plan_save_dropping_a_division_never_races_past_a_report_for_it(tmp_path: Path) -> None:
    """A report sent while the secretary saves a plan without its division never ends up belonging to nothing:
    either the report is stored and the save is refused, or the save wins and the report is refused."""
    for round_ in range(40):
        saved, stored, has_division, has_report = _race_once(tmp_path / f"round-{round_}")
        assert not (has_report and not has_division), f"round {round_}: a report for a division the plan dropped"
        assert saved != has_division and stored == has_report
        assert not (saved and stored), f"round {round_}: both went through"
