"""Tests for the plan file `storage/plans/2564.toml` and its loader `ita_bot.domain.plan`."""

from __future__ import annotations

import dataclasses
import re
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ita_bot.domain import plan as plan_module
from ita_bot.domain.plan import Plan, PlanError, band_level
from ita_bot.domain.plan_reader import load_plan, load_plans

PLANS = Path(__file__).resolve().parents[2] / "storage" / "plans"
PLAN_FILE = PLANS / "2564.toml"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(PLAN_FILE)


# ------------------------------------------------------------------ the transcription matches the source document


def test_header(plan: Plan) -> None:
    assert plan.source == PLAN_FILE
    assert plan.fiscal_year == 2564
    assert (plan.start, plan.end) == (date(2020, 10, 1), date(2021, 9, 30))
    assert plan.set_on == date(2021, 1, 5)
    org = plan.organization
    assert (org.name, org.short_name, org.district, org.province) == (
        "องค์การบริหารส่วนตำบลหนองเมือง",
        "อบต.หนองเมือง",
        "อำเภอบ้านหมี่",
        "จังหวัดลพบุรี",
    )
    assert plan.reporting_rule.startswith("กำหนดให้รายงานผลการดำเนินงานดังกล่าวในการประชุมพนักงานทุก ๆ เดือน")
    assert plan.reporting_rule.endswith("แจ้งเวียนให้พนักงาน องค์การบริหารส่วนตำบลหนองเมืองทราบ")


def test_assessment(plan: Plan) -> None:
    a = plan.assessment
    assert a.fiscal_year == 2563
    assert a.total == Decimal("92.65")
    assert a.level == "A"
    assert a.target == Decimal("85")
    assert [(i.code, i.name) for i in a.instruments] == [
        ("IIT", "แบบวัดการรับรู้ของผู้มีส่วนได้ส่วนเสียภายใน"),
        ("EIT", "แบบวัดการรับรู้ของผู้มีส่วนได้ส่วนเสียภายนอก"),
        ("OIT", "แบบวัดการเปิดเผยข้อมูลสาธารณะ"),
    ]
    assert "แบบตรวจการเปิดเผยข้อมูลสาธารณะ" in a.instrument("OIT").other_names
    scores = [(i.instrument, i.number, i.name, i.score) for i in a.indicators]
    assert scores == [
        ("IIT", 1, "การปฏิบัติหน้าที่", Decimal("96.60")),
        ("IIT", 2, "การใช้งบประมาณ", Decimal("93.03")),
        ("IIT", 3, "การใช้อำนาจ", Decimal("92.88")),
        ("IIT", 4, "การใช้ทรัพย์สินของราชการ", Decimal("88.51")),
        ("IIT", 5, "การแก้ไขปัญหาทุจริต", Decimal("97.08")),
        ("EIT", 1, "คุณภาพการดำเนินงาน", Decimal("87.40")),
        ("EIT", 2, "ประสิทธิภาพการสื่อสาร", Decimal("81.80")),
        ("EIT", 3, "การปรับปรุงการทำงาน", Decimal("81.70")),
        ("OIT", 1, "การเปิดเผยข้อมูล", Decimal("97.50")),
        ("OIT", 2, "การป้องกันการทุจริต", Decimal("100.00")),
    ]
    # Two decimals survive loading, so "100.00" and "96.60" display as written.
    assert [str(i.score) for i in a.indicators][-1] == "100.00"
    assert [(i.instrument, i.number) for i in a.below_target()] == [("EIT", 2), ("EIT", 3)]


def test_indicator_notes_as_in_the_source_table(plan: Plan) -> None:
    notes = {(i.instrument, i.number): i.notes for i in plan.assessment.indicators}
    eit2 = notes[("EIT", 2)]
    assert len(eit2) == 3
    assert eit2[0].endswith("จึงควรดำเนินการดังนี้")
    assert eit2[1].startswith("๑) คุณภาพการดำเนินงาน")
    assert eit2[2].startswith("๒) ประสิทธิภาพการสื่อสาร")
    assert len(notes[("EIT", 3)]) == 1 and notes[("EIT", 3)][0].startswith("๓) การปรับปรุงระบบการทำงาน")
    assert len(notes[("OIT", 1)]) == 1 and "E-service" in notes[("OIT", 1)][0]
    assert not any("<p>" in n or "</p>" in n for ns in notes.values() for n in ns)
    assert sum(1 for ns in notes.values() if ns) == 3


def test_measures(plan: Plan) -> None:
    assert [m.number for m in plan.measures] == [1, 2, 3, 4]
    assert [m.divisions for m in plan.measures] == [("sp",), ("sp",), ("sp",), ("sp", "klang", "chang")]
    assert [len(m.methods) for m in plan.measures] == [1, 2, 3, 2]
    assert plan.measure(1).title == "ให้พัฒนาคุณภาพการดำเนินงาน"
    assert plan.measure(2).title == "เพิ่มประสิทธิภาพการสื่อสาร"
    assert plan.measure(3).title == "การปรับปรุงระบบการทำงาน"
    assert plan.measure(4).title.startswith("ต้องมีการพัฒนาทักษะความรู้ความสามารถ")
    assert plan.measure(5) is None
    assert all(m.period == "ปีงบประมาณ ๒๕๖๔" for m in plan.measures)
    assert all("เดือนกุมภาพันธ์ ๒๕๖๔" in m.follow_up for m in plan.measures)
    # The memo's wording, with its one obvious typo fixed, not the section-๔ copy.
    assert plan.measure(4).methods[1] == "จัดให้มีการบริการ E-service ในเว็บไซต์อย่างน้อย ๓ กระบวนงาน"
    assert plan.measure(3).methods[2] == "ให้พนักงานทุกคนยิ้มแย้มแจ่มใส และบริการประชาชนดุจญาติมิตร"
    assert not any(m.startswith(("-", " ")) for ms in plan.measures for m in ms.methods)


def test_pairs_and_measures_for(plan: Plan) -> None:
    assert plan.pairs() == ((1, "sp"), (2, "sp"), (3, "sp"), (4, "sp"), (4, "klang"), (4, "chang"))
    assert [m.number for m in plan.measures_for("sp")] == [1, 2, 3, 4]
    assert [m.number for m in plan.measures_for("klang")] == [4]
    assert plan.measures_for("suksa") == ()
    assert plan.measures_for("nope") == ()


def test_committee(plan: Plan) -> None:
    c = plan.committee
    assert c.order == "๑/๒๕๖๔"
    assert c.title.startswith("แต่งตั้งคณะกรรมการเพื่อสนับสนุนการประเมินคุณธรรมและความโปร่งใส")
    assert c.signed == date(2021, 1, 5)
    assert c.signer == "นางถาวร เหลืองทอง"
    assert c.term_end == date(2021, 9, 30)
    assert [(m.number, m.role) for m in c.members] == [
        (1, "chair"),
        (2, "vice_chair"),
        (3, "member"),
        (4, "member"),
        (5, "member"),
        (6, "member"),
        (7, "secretary"),
        (8, "assistant_secretary"),
    ]
    assert c.members[6].name == "นายนันท์พัชร์ นามารอ่อนสี"
    assert c.members[6].role_text == "คณะกรรมการและเลขานุการ"
    assert c.members[2].position == "ผอ.กองคลัง รักษาราชการแทนปลัด อบต."
    assert [d.number for d in c.duties] == ["๑", "๒", "๓", "๔", "๕", "๖"]
    assert [len(d.items) for d in c.duties] == [0, 0, 4, 0, 0, 0]
    assert c.duties[2].items[3].startswith("๓.๔ ประกาศผลคะแนนการประเมิน ITA")


def test_memo(plan: Plan) -> None:
    m = plan.memo
    assert m.reference == "ลป ๓๕๔๐๑/ว.๑"
    assert m.date == date(2021, 1, 5)
    assert m.subject.startswith("กำหนดแนวทางในการแก้ไขข้อบกพร่อง")
    assert m.office.endswith("สำนักงานปลัด")
    assert m.addressees.startswith("ปลัด อบต.หนองเมือง/")


def test_sample_rules_as_data(plan: Plan) -> None:
    iit, eit = plan.sample_rules["IIT"], plan.sample_rules["EIT"]
    assert (iit.percent, iit.minimum, iit.all_when_fewer, iit.large_over, iit.large_minimum) == (
        10, 30, True, 1000, 100,
    )  # fmt: skip
    assert (eit.percent, eit.minimum, eit.all_when_fewer, eit.large_over, eit.large_minimum) == (
        10, 30, False, 1000, 100,
    )  # fmt: skip
    assert iit.population.startswith("ผู้มีส่วนได้ส่วนเสียภายใน หมายถึง")
    assert eit.population.startswith("ผู้มีส่วนได้ส่วนเสียภายนอก หมายถึง")


def test_plan_objects_are_frozen(plan: Plan) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.measures[0].title = "x"  # type: ignore[misc]


def test_no_plan_facts_in_code() -> None:
    source = Path(plan_module.__file__).read_text(encoding="utf-8")
    for fact in ("2564", "2563", "92.65", "หนองเมือง", "สำนักงานปลัด", "กองคลัง", '"sp"'):
        assert fact not in source, fact


# ------------------------------------------------------------------ division lookup


@pytest.mark.parametrize(
    ("typed", "div_id"),
    [
        ("sp", "sp"),
        ("SP", "sp"),
        ("สำนักงานปลัด", "sp"),
        ("สป.", "sp"),
        ("สป", "sp"),
        ("  สป  ", "sp"),
        ("สำนักปลัด", "sp"),
        ("สำนักงานปลัด อบต.", "sp"),
        ("สำนักงานปลัด   อบต", "sp"),
        ("กองคลัง", "klang"),
        ("คลัง", "klang"),
        ("กองคลัง.", "klang"),
        ("กองช่าง", "chang"),
        ("ช่าง", "chang"),
        ("กองการศึกษา ศาสนาและวัฒนธรรม", "suksa"),
        ("กองการศึกษา", "suksa"),
        ("การศึกษา", "suksa"),
        ("กองการศึกษาฯ และวัฒนธรรม", "suksa"),
        ("กองการศึกษาฯและวัฒนธรรม", "suksa"),
        ("กองการศึกษาฯ", "suksa"),
    ],
)
def test_division_lookup(plan: Plan, typed: str, div_id: str) -> None:
    found = plan.division(typed)
    assert found is not None and found.id == div_id


@pytest.mark.parametrize("typed", ["", "   ", ".", "กองสาธารณสุข", "ปลัด", "x"])
def test_division_lookup_unknown(plan: Plan, typed: str) -> None:
    assert plan.division(typed) is None


def test_division_by_id(plan: Plan) -> None:
    assert plan.division_by_id("chang").name == "กองช่าง"
    with pytest.raises(KeyError):
        plan.division_by_id("กองช่าง")


def test_division_name(plan: Plan) -> None:
    assert [plan.division_name(d.id) for d in plan.divisions] == [d.name for d in plan.divisions]
    assert plan.division_name("klang") == "กองคลัง"
    # A division dropped from the plan after reports named it: its stored id is all there is to show.
    assert plan.division_name("old_division") == "old_division"


# ------------------------------------------------------------------ score bands


@pytest.mark.parametrize(
    ("score", "level"),
    [("100.00", "AA"), ("95.00", "AA"), ("94.99", "A"), ("92.65", "A"), ("85.00", "A"), ("84.99", "B"),
     ("75", "B"), ("74.99", "C"), ("65.00", "C"), ("55.00", "D"), ("54.99", "E"), ("50.00", "E"),
     ("49.99", "F"), ("0", "F"), ("94.995", "A")],
)  # fmt: skip
def test_level_of_a_score(plan: Plan, score: str, level: str) -> None:
    assert band_level(plan.score_bands, Decimal(score)) == level


def test_one_band_rule_whatever_the_order_of_the_bands(plan: Plan) -> None:
    # The reader's level check and the results entry both ask band_level: the bands' order in the file must
    # not matter, and a score under every band has no level.
    shuffled = tuple(reversed(plan.score_bands))
    for score in ("95", "94.995", "94.99", "85", "84.999", "50", "0"):
        assert band_level(shuffled, Decimal(score)) == band_level(plan.score_bands, Decimal(score))
    upper = tuple(b for b in plan.score_bands if b.low >= Decimal("85"))
    assert band_level(upper, Decimal("84.99")) is None
    assert band_level(upper, Decimal("85.00")) == "A"


# ------------------------------------------------------------------ sample sizes


@pytest.mark.parametrize(
    ("n", "iit", "eit"),
    [(1, 1, 30), (20, 20, 30), (29, 29, 30), (30, 30, 30), (250, 30, 30), (300, 30, 30), (301, 31, 31),
     (800, 80, 80), (999, 100, 100), (1000, 100, 100), (1001, 100, 100), (5000, 100, 100)],
)  # fmt: skip
def test_sample_sizes_table(plan: Plan, n: int, iit: int, eit: int) -> None:
    got_iit, got_eit = plan.sample_sizes(n)
    assert (got_iit.instrument, got_eit.instrument) == ("IIT", "EIT")
    assert (got_iit.stakeholders, got_eit.stakeholders) == (n, n)
    assert (got_iit.required, got_eit.required) == (iit, eit)


def test_sample_sizes_few_stakeholders(plan: Plan) -> None:
    iit, eit = plan.sample_sizes(20)
    assert iit.everyone and iit.required == 20 and iit.note is None
    assert not eit.everyone and eit.required == 30
    assert eit.note is not None and "EIT" in eit.note and "30" in eit.note and "20" in eit.note


@pytest.mark.parametrize("n", [0, -1, -5000])
def test_sample_sizes_need_positive(plan: Plan, n: int) -> None:
    with pytest.raises(ValueError):
        plan.sample_sizes(n)


@given(n=st.integers(min_value=1, max_value=200_000))
def test_sample_size_properties(plan: Plan, n: int) -> None:
    iit, eit = plan.sample_sizes(n)
    for size in (iit, eit):
        # Never below the 30 floor unless there are fewer people than that, never above what the
        # floor or the population asks for.
        assert min(n, 30) <= size.required <= max(n, 30)
        if n > 1000:
            assert size.required == 100
        elif n >= 30:
            # At least 10% of N, and the smallest such number unless the 30 floor lifts it.
            assert size.required * 10 >= n
            assert size.required == 30 or (size.required - 1) * 10 < n
        # Monotone: more stakeholders never need fewer samples.
        assert plan.sample_rules[size.instrument].size(n + 1).required >= size.required
    assert iit.required <= n  # internal: you can always reach everyone
    assert eit.required >= 30
    assert iit.everyone == (n < 30) and (not iit.everyone or iit.required == n)
    assert not eit.everyone
    assert iit.note is None
    assert (eit.note is not None) == (n < 30)


# ------------------------------------------------------------------ loading several years


def test_load_plans_real_folder() -> None:
    plans = load_plans(PLANS)
    assert list(plans) == [2564]
    assert plans[2564].measure(4).divisions == ("sp", "klang", "chang")


def test_load_plans_file_name_must_match(tmp_path: Path) -> None:
    shutil.copy(PLAN_FILE, tmp_path / "2565.toml")
    with pytest.raises(PlanError) as err:
        load_plans(tmp_path)
    assert err.value.file == str(tmp_path / "2565.toml")
    assert err.value.field == "fiscal_year"
    assert "2564.toml" in err.value.problem


def test_load_plans_empty_and_missing(tmp_path: Path) -> None:
    assert load_plans(tmp_path) == {}
    with pytest.raises(PlanError):
        load_plans(tmp_path / "nope")


# ------------------------------------------------------------------ broken plan files


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    """The real plan with the first occurrence of `old` replaced, written as tmp_path/2564.toml."""
    text = PLAN_FILE.read_text(encoding="utf-8")
    assert old in text, f"fixture text not in plan: {old!r}"
    path = tmp_path / "2564.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _error(path: Path) -> PlanError:
    with pytest.raises(PlanError) as err:
        load_plan(path)
    e = err.value
    assert e.file == str(path)
    assert str(e).startswith(f"{path}: {e.field}: {e.problem}")
    assert isinstance(e, ValueError)
    return e


M4 = 'number = 4\ntitle = "ต้องมี'
M4_METHODS = (
    'methods = [\n    "ให้กำหนดผู้รับผิดชอบดูแลเว็บไซต์อย่างน้อย ๓ คน",\n'
    '    "จัดให้มีการบริการ E-service ในเว็บไซต์อย่างน้อย ๓ กระบวนงาน",\n]'
)
SECRETARY = 'role_text = "คณะกรรมการและเลขานุการ"\nrole = "secretary"'

BROKEN = [
    # (id, old text, new text, field, words in the problem)
    ("missing-field", 'short_name = "อบต.หนองเมือง"\n', "", "organization.short_name", "ยังไม่ได้กรอก"),
    ("missing-top", "reporting_rule = ", "# reporting_rule = ", "reporting_rule", "ยังไม่ได้กรอก"),
    ("renamed-table", "[memo]\n", "[memo_x]\n", "memo_x", "ไม่รู้จักช่อง"),
    ("unknown-key", "[organization]\n", '[organization]\ncolour = "red"\n', "organization.colour", "ไม่รู้จักช่อง"),
    ("int-as-string", M4, 'number = "4"\ntitle = "ต้องมี', "measures[3].number", "จำนวนเต็ม"),
    ("bool-as-int", "number = 1\ntitle = ", "number = true\ntitle = ", "measures[0].number", "จำนวนเต็ม"),
    ("text-as-int", 'period = "ปีงบประมาณ ๒๕๖๔"', "period = 2564", "measures[0].period", "ข้อความ"),
    ("empty-text", 'title = "เพิ่มประสิทธิภาพการสื่อสาร"', 'title = "  "', "measures[1].title", "ว่าง"),
    ("methods-empty", M4_METHODS, "methods = []", "measures[3].methods", "ว่าง"),
    ("methods-item", '    "ให้กำหนดผู้รับผิดชอบ', '    3, "ให้กำหนดผู้รับผิดชอบ', "measures[3].methods[0]", "ข้อความ"),
    ("unknown-division", '["sp", "klang", "chang"]', '["sp", "klung", "chang"]',
     "measures[3].divisions[1]", "klung"),
    ("division-twice", '["sp", "klang", "chang"]', '["sp", "klang", "sp"]', "measures[3].divisions[2]", "ซ้ำ"),
    ("no-divisions", 'divisions = ["sp"]', "divisions = []", "measures[0].divisions", "ว่าง"),
    ("duplicate-measure", M4, 'number = 3\ntitle = "ต้องมี', "measures[3].number", "ซ้ำ"),
    # A measure numbered past what staff can type in chat (three digits) could never be reported on.
    ("measure-too-high", M4, 'number = 1000\ntitle = "ต้องมี', "measures[3].number", "ไม่เกิน 999"),
    ("duplicate-division-id", 'id = "chang"', 'id = "klang"', "divisions[2].id", "ซ้ำ"),
    ("duplicate-alias", 'aliases = ["ช่าง"]', 'aliases = ["ช่าง", "คลัง"]', "divisions[2].aliases[1]", "klang"),
    ("alias-same-after-normalizing", 'aliases = ["ช่าง"]', 'aliases = ["ช่าง", " กอง คลัง. "]',
     "divisions[2].aliases[1]", "ใช้อยู่แล้ว"),
    ("non-ascii-id", 'id = "chang"', 'id = "ช่าง"', "divisions[2].id", "ASCII"),
    ("score-one-decimal", 'score = "81.80"', 'score = "81.8"', "assessment.indicators[6].score", "ทศนิยมสองตำแหน่ง"),
    ("score-float", 'score = "81.80"', "score = 81.80", "assessment.indicators[6].score", "ทศนิยมสองตำแหน่ง"),
    ("score-text", 'score = "81.80"', 'score = "high"', "assessment.indicators[6].score", "ทศนิยมสองตำแหน่ง"),
    ("score-over-100", 'score = "100.00"', 'score = "100.50"', "assessment.indicators[9].score", "ระหว่าง 0 ถึง 100"),
    ("total-malformed", 'total = "92.65"', 'total = "92,65"', "assessment.total", "ทศนิยมสองตำแหน่ง"),
    ("band-malformed", 'low = "95.00"', 'low = "95"', "score_bands[0].low", "ทศนิยมสองตำแหน่ง"),
    ("band-gap", 'low = "85.00"', 'low = "85.50"', "score_bands", "เว้นช่องหรือซ้อนกัน"),
    ("level-unknown", 'total = "92.65"\nlevel = "A"', 'total = "92.65"\nlevel = "Z"',
     "assessment.level", "ไม่รู้จักระดับ"),
    ("level-inconsistent", 'total = "92.65"\nlevel = "A"', 'total = "92.65"\nlevel = "AA"',
     "assessment.level", "92.65"),
    ("indicator-instrument", 'instrument = "OIT"\nnumber = 1', 'instrument = "XIT"\nnumber = 1',
     "assessment.indicators[8].instrument", "XIT"),
    ("indicator-duplicate", 'instrument = "OIT"\nnumber = 2', 'instrument = "OIT"\nnumber = 1',
     "assessment.indicators[9].number", "ซ้ำ"),
    ("role-unknown", SECRETARY, 'role_text = "คณะกรรมการและเลขานุการ"\nrole = "scribe"',
     "committee.members[6].role", "scribe"),
    ("member-duplicate", "number = 8\n", "number = 7\n", "committee.members[7].number", "ซ้ำ"),
    ("date-as-string", "signed = 2021-01-05", 'signed = "2021-01-05"', "committee.signed", "วันที่"),
    ("date-time", "signed = 2021-01-05", "signed = 2021-01-05T09:00:00", "committee.signed", "วันที่"),
    ("start-wrong", "start = 2020-10-01", "start = 2020-10-02", "start", "2020-10-01"),
    ("end-wrong", "end = 2021-09-30", "end = 2022-09-30", "end", "2021-09-30"),
    ("fiscal-year-wrong", "fiscal_year = 2564", "fiscal_year = 2565", "start", "2021-10-01"),
    ("fiscal-year-ce", "fiscal_year = 2564", "fiscal_year = 2021", "fiscal_year", "ไม่น้อยกว่า"),
    ("sample-rule-missing", "[sample_rules.EIT]", "[sample_rules_EIT]", "sample_rules_EIT", "ไม่รู้จักช่อง"),
    ("sample-bool", "all_when_fewer = true", "all_when_fewer = 1", "sample_rules.IIT.all_when_fewer", "true หรือ false"),
    ("sample-percent", "percent = 10", "percent = 0", "sample_rules.IIT.percent", "ไม่น้อยกว่า 1"),
    ("notes-not-list", "notes = []", 'notes = "-"', "assessment.indicators[0].notes", "รายการ"),
]


@pytest.mark.parametrize(("old", "new", "field", "words"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_plan(tmp_path: Path, old: str, new: str, field: str, words: str) -> None:
    e = _error(_broken(tmp_path, old, new))
    assert e.field == field
    assert words.lower() in e.problem.lower()


def test_missing_eit_rule_is_named(tmp_path: Path) -> None:
    text = PLAN_FILE.read_text(encoding="utf-8")
    start = text.index("[sample_rules.EIT]")
    end = text.index("# ----", start)
    path = tmp_path / "2564.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    e = _error(path)
    assert (e.field, e.problem) == ("sample_rules.EIT", "ยังไม่ได้กรอก (ต้องมี)")


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'total = "92.65"', 'total = "92.65')
    line = next(
        i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text.startswith("total =")
    )
    e = _error(path)
    assert e.field == f"line {line}"
    assert "TOML syntax error" in e.problem
    assert re.search(r"column \d+", e.problem)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "2564.toml"
    path.write_bytes(PLAN_FILE.read_bytes().replace("หนองเมือง".encode(), "หนองเมือง".encode("tis-620"), 1))
    e = _error(path)
    assert e.field == "(file)" and "UTF-8" in e.problem


def test_missing_file(tmp_path: Path) -> None:
    e = _error(tmp_path / "2564.toml")
    assert e.field == "(file)" and "cannot read" in e.problem


def test_plan_error_attributes() -> None:
    e = PlanError(Path("a/2564.toml"), "measures[3].divisions[1]", "unknown division 'x'")
    assert (e.file, e.field, e.problem) == ("a/2564.toml", "measures[3].divisions[1]", "unknown division 'x'")
    assert str(e) == "a/2564.toml: measures[3].divisions[1]: unknown division 'x'"
