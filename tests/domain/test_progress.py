"""Report input rules, the report book, and each cycle's pending pairs over the real store."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ita_bot.domain.progress import Report, ReportInputError, parse_report_input
from ita_bot.domain.thai import BANGKOK
from tests.tiny import tiny_store

MEASURES = [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2 50%", (2, "doing", 50, "")),
        ("๒ ๕๐%", (2, "doing", 50, "")),
        ("1 เสร็จ", (1, "done", 100, "")),
        ("1เสร็จสิ้น อบรมแล้ว", (1, "done", 100, "อบรมแล้ว")),
        ("1 เสร็จแล้ว", (1, "done", 100, "")),
        ("3 ติดปัญหา 40% รองบประมาณ", (3, "blocked", 40, "รองบประมาณ")),
        ("3 ติดปัญหา", (3, "blocked", None, "")),
        ("4 กำลังดำเนินการ 30% ตั้งผู้ดูแล 3 คน", (4, "doing", 30, "ตั้งผู้ดูแล 3 คน")),
        ("4 กำลังทำ", (4, "doing", None, "")),
        ("2 ยังไม่เริ่ม", (2, "todo", 0, "")),
        ("2 0%", (2, "todo", 0, "")),
        ("2 100%", (2, "done", 100, "")),
        ("2 ทำป้ายประกาศแล้ว", (2, "doing", None, "ทำป้ายประกาศแล้ว")),
        ("2 DONE", (2, "done", 100, "")),
        ("2 doing 10 %", (2, "doing", 10, "")),
        # A measure named as /สถานะ and the guided report take it.
        ("มาตรการที่ 2 เสร็จ", (2, "done", 100, "")),
        ("มาตรการ ๓ ติดปัญหา", (3, "blocked", None, "")),
    ],
)
def test_report_input_forms(typed: str, expected: tuple[Any, ...]) -> None:
    got = parse_report_input(typed, MEASURES)
    assert (got.measure, got.status, got.percent, got.details) == expected


@pytest.mark.parametrize(
    "typed",
    ["", "x", "5", "0 50%", "1 150%", "1 -5%", "1 เสร็จ 50%", "1 กำลังทำ 100%", "1 กำลังทำ 0%",
     "1 ยังไม่เริ่ม 20%", "1 12.5%"],
)
def test_report_input_errors(typed: str) -> None:
    with pytest.raises(ReportInputError) as err:
        parse_report_input(typed, MEASURES)
    assert "/รายงาน" in str(err.value) or "%" in str(err.value)


@given(st.text(max_size=80))
def test_report_input_parser_never_crashes(text: str) -> None:
    try:
        got = parse_report_input(text, MEASURES)
    except ReportInputError:
        return
    assert got.measure in MEASURES
    assert got.status in ("todo", "doing", "done", "blocked")
    assert got.percent is None or 0 <= got.percent <= 100


def _at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, 0, tzinfo=BANGKOK)


def report(measure: int, division: str, status: str, percent: int | None, when: datetime, **kw: Any) -> Report:
    return Report(2564, measure, division, status, percent, kw.pop("details", ""), when, when, **kw)


def test_pending_follows_the_rules(office: Any) -> None:
    book = office.reports
    book.add(report(1, "sp", "done", 100, _at(2021, 1, 20)))  # done before Feb: never pending again
    book.add(report(2, "sp", "doing", 50, _at(2021, 1, 20)))  # January only: pending in Feb
    book.add(report(4, "klang", "doing", 30, _at(2021, 2, 10)))  # reported this cycle
    book.add(report(4, "chang", "todo", 0, _at(2021, 2, 25)))  # on meeting day: counts for Feb
    book.add(report(3, "sp", "doing", 20, _at(2021, 2, 26)))  # after the meeting: March's
    view = office.view(office.calendar().cycle("2021-02"))
    assert view.cycle.meeting == date(2021, 2, 25)
    pending = {(p.measure, p.division) for p in view.pending}
    assert pending == {(2, "sp"), (3, "sp"), (4, "sp")}
    assert view.pending_by_division() == {"sp": [2, 3, 4]}
    assert view.pair(4, "chang").status == "todo"
    assert view.pair(3, "sp").latest is None  # the 26 Feb report is after this meeting
    assert [r.measure for r in view.reports] == [4, 4]
    counts = view.counts()
    assert counts["pairs"] == 6 and counts["pending"] == 3 and counts["done"] == 1


def test_withdrawn_reports_are_hidden_but_kept(office: Any) -> None:
    r = office.reports.add(report(2, "sp", "doing", 50, _at(2021, 2, 10), reporter_id="U" + "1" * 32))
    office.reports.withdraw(2564, r.id, _at(2021, 2, 11))
    assert office.reports.all(2564) == []
    assert office.reports.all(2564, include_withdrawn=True)[0].withdrawn
    view = office.view(office.calendar().cycle("2021-02"))
    assert (2, "sp") in {(p.measure, p.division) for p in view.pending}


def test_edit_keeps_history_and_same_event_is_stored_once(office: Any) -> None:
    r = office.reports.add(report(2, "sp", "doing", 50, _at(2021, 2, 10), event_id="ev1", details="เดิม"))
    again = office.reports.add(report(2, "sp", "doing", 50, _at(2021, 2, 10), event_id="ev1"))
    assert again.id == r.id and len(office.reports.all(2564)) == 1
    edited = office.reports.edit_details(2564, r.id, "ใหม่", _at(2021, 2, 11))
    assert edited.details == "ใหม่" and edited.edits[0]["details"] == "เดิม"


def test_moving_a_meeting_moves_its_reports(office: Any) -> None:
    office.reports.add(report(2, "sp", "doing", 50, _at(2021, 2, 10)))
    assert office.cycle_at(_at(2021, 2, 10)).id == "2021-02"
    office.set_meeting("2021-02", date(2021, 2, 5), None, _at(2021, 2, 1))
    assert office.cycle_at(_at(2021, 2, 10)).id == "2021-03"
    view = office.view(office.calendar().cycle("2021-03"))
    assert view.pair(2, "sp").cycle_reports  # now March's report


def test_evidence_window_is_thirty_minutes_from_sending(office: Any) -> None:
    uid = "U" + "1" * 32
    sent = _at(2021, 2, 10, 9)
    # A manager's backdated report: dated 1 Feb, sent 10 Feb 09:00.
    r = Report(2564, 2, "sp", "doing", 40, "", _at(2021, 2, 1), sent, chat_id="C1", recorded_by=uid)
    office.reports.add(r)
    assert office.reports.evidence_target(2564, uid, "C1", sent.replace(minute=29)).id == r.id
    assert office.reports.evidence_target(2564, uid, "C1", sent.replace(minute=31)) is None
    assert office.reports.evidence_target(2564, uid, "C2", sent.replace(minute=5)) is None


def test_last_cycle_takes_reports_after_the_years_last_meeting(office: Any) -> None:
    office.reports.add(report(2, "sp", "done", 100, _at(2021, 9, 30)))  # after the 23 Sep meeting
    view = office.view(office.calendar().cycle("2021-09"))
    assert view.pair(2, "sp").status == "done"
    assert [r.day for r in view.pair(2, "sp").cycle_reports] == [date(2021, 9, 30)]
    assert (2, "sp") not in {(p.measure, p.division) for p in view.pending}


def test_a_years_reports_are_built_once_per_file_version(office: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from ita_bot.store import open_office

    for day in (10, 11, 12):
        office.reports.add(report(2, "sp", "doing", day, _at(2021, 2, day)))
    built: list[str] = []
    from_dict = Report.from_dict.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Report], data: dict[str, Any]) -> Report:
        built.append(data["id"])
        return from_dict(cls, data)

    monkeypatch.setattr(Report, "from_dict", classmethod(counting))
    first = office.reports.all(2564)
    assert len(built) == 3
    office.reports.all(2564)
    office.view(office.calendar().cycle("2021-02"))
    assert office.reports.get(2564, first[0].id) == first[0]
    assert len(built) == 3  # unchanged file: nothing rebuilt

    # Another process writes the file: the next read sees it, building only the row that is new.
    other = open_office(office.config)
    other.reports.add(report(3, "sp", "doing", 40, _at(2021, 2, 13)))
    assert [r.measure for r in office.reports.all(2564)] == [2, 2, 2, 3]
    assert len(built) == 3 + 1
    other.reports.withdraw(2564, first[0].id, _at(2021, 2, 14))
    built.clear()
    assert len(office.reports.all(2564)) == 3
    assert office.reports.all(2564, include_withdrawn=True)[0].withdrawn
    assert built == [first[0].id]  # the changed row was rebuilt, the others reused


def test_reports_handed_out_are_copies_of_the_cache(office: Any) -> None:
    uid = "U" + "1" * 32
    r = office.reports.add(report(2, "sp", "doing", 50, _at(2021, 2, 10), reporter_id=uid, chat_id="C1"))
    office.reports.attach_evidence(2564, r.id, {"file": "a.jpg"})
    mine = office.reports.all(2564)[0]
    mine.details = "แก้ในหน่วยความจำ"
    mine.evidence[0]["file"] = "b.jpg"
    mine.evidence.append({"file": "c.jpg"})
    mine.edits.append({"details": "x"})
    for again in (office.reports.all(2564)[0], office.reports.get(2564, r.id),
                  office.reports.latest_by(2564, uid, lambda _: True)):
        assert again.details == "" and again.evidence == [{"file": "a.jpg"}] and again.edits == []


def test_uncommitted_changes_are_seen_inside_the_write_but_never_cached(office: Any) -> None:
    office.reports.add(report(2, "sp", "doing", 50, _at(2021, 2, 10)))
    store = tiny_store(office)
    with pytest.raises(RuntimeError), store.write("reports-2564") as db:
        db.table("reports").insert(report(3, "sp", "doing", 20, _at(2021, 2, 11)).to_dict())
        assert store.version("reports-2564") is None  # this thread's uncommitted state has no version
        assert len(office.reports.all(2564)) == 2  # read() inside the write shows its changes
        raise RuntimeError("roll back")
    assert len(office.reports.all(2564)) == 1
    assert store.version("reports-2564") is not None and store.version("reports-2563") is None
    assert office.reports.all(2563) == []
