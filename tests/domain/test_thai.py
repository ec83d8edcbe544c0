"""Thai calendar and text helpers: BE/CE, fiscal years, digits, typed dates and months."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ita_bot.domain import thai


def test_be_ce_round_trip() -> None:
    assert thai.be_year(2021) == 2564
    assert thai.ce_year(2564) == 2021


@pytest.mark.parametrize(
    ("day", "fy"),
    [
        (date(2020, 9, 30), 2563),
        (date(2020, 10, 1), 2564),
        (date(2021, 2, 25), 2564),
        (date(2021, 9, 30), 2564),
        (date(2021, 10, 1), 2565),
    ],
)
def test_fiscal_year_boundaries(day: date, fy: int) -> None:
    assert thai.fiscal_year_of(day) == fy


def test_fiscal_year_range() -> None:
    assert thai.fiscal_year_range(2564) == (date(2020, 10, 1), date(2021, 9, 30))


def test_digits_both_ways() -> None:
    assert thai.to_arabic_digits("/รายงาน ๒ ๕๐%") == "/รายงาน 2 50%"
    assert thai.to_thai_digits("25 ก.พ. 2564") == "๒๕ ก.พ. ๒๕๖๔"
    assert thai.normalize("  /REPORT   ๒  ๕๐% ") == "/report 2 50%"


@given(st.text())
def test_digit_conversion_round_trips(text: str) -> None:
    arabic = thai.to_arabic_digits(text)
    assert thai.to_arabic_digits(thai.to_thai_digits(arabic)) == arabic


def test_format_date_follows_numerals() -> None:
    d = date(2021, 2, 25)
    assert thai.format_date(d) == "25 ก.พ. 2564"
    assert thai.format_date(d, "thai") == "๒๕ ก.พ. ๒๕๖๔"
    assert thai.format_date(d, full_month=True) == "25 กุมภาพันธ์ 2564"


def test_format_datetime_is_bangkok_time_whatever_the_input_zone() -> None:
    utc = datetime(2021, 2, 25, 3, 0, tzinfo=UTC)
    assert thai.format_datetime(utc) == "25 ก.พ. 2564 10:00 น."


def test_scores_show_two_decimals() -> None:
    assert thai.format_score("100.0") == "100.00"
    assert thai.format_score(92.65, "thai") == "๙๒.๖๕"


@pytest.mark.parametrize(
    "typed",
    [
        "25/2/2564",
        "25/02/64",
        "25 ก.พ. 64",
        "25 ก.พ.64",
        "25 กุมภาพันธ์ 2564",
        "2021-02-25",
        "๒๕/๒/๒๕๖๔",
        "๒๕ ก.พ. ๖๔",
        "25/2/2021",
    ],
)
def test_parse_date_forms(typed: str) -> None:
    assert thai.parse_date(typed) == date(2021, 2, 25)


@pytest.mark.parametrize("typed", ["", "พรุ่งนี้", "31/2/2564", "25/13/2564", "2021-02-30", "ก.พ. 2564"])
def test_parse_date_errors_are_polite_thai(typed: str) -> None:
    with pytest.raises(thai.DateParseError) as err:
        thai.parse_date(typed)
    assert "กรุณา" in str(err.value)


@pytest.mark.parametrize("typed", ["9999-12-31", "0001-01-01", "1/1/9999", "1/1/0001", "1 ม.ค. 2701", "31/12/2499"])
def test_parse_date_keeps_to_the_years_of_the_console(typed: str) -> None:
    """A typed date far from now (year 9999 or 1) is refused with its BE year named, as the console refuses it."""
    with pytest.raises(thai.DateParseError) as err:
        thai.parse_date(typed)
    assert "ไม่น่าจะถูกต้อง" in str(err.value)


def test_parse_month_keeps_to_the_years_of_the_console_and_never_reads_a_huge_number() -> None:
    """A month of 4,400 digits or a year such as 9999 is a polite refusal, not an int() error or year 9456."""
    for typed in ("2/9999", "ก.พ. 2701", "9" * 4400, "2/" + "9" * 4400):
        with pytest.raises(thai.DateParseError) as err:
            thai.parse_month(typed, date(2021, 2, 1))
        assert "9" * 100 not in str(err.value)


@pytest.mark.parametrize(
    ("typed", "today", "expected"),
    [
        ("ก.พ.", date(2020, 11, 3), (2021, 2)),
        ("กุมภาพันธ์", date(2021, 2, 1), (2021, 2)),
        ("2", date(2021, 8, 1), (2021, 2)),
        ("ต.ค.", date(2021, 2, 1), (2020, 10)),
        ("10", date(2021, 2, 1), (2020, 10)),
        ("2/2564", date(2025, 1, 1), (2021, 2)),
        ("ก.พ. 64", date(2025, 1, 1), (2021, 2)),
        ("๒/๒๕๖๔", date(2025, 1, 1), (2021, 2)),
    ],
)
def test_parse_month_forms(typed: str, today: date, expected: tuple[int, int]) -> None:
    assert thai.parse_month(typed, today) == expected


@pytest.mark.parametrize("typed", ["13", "0", "เดือนหน้า", ""])
def test_parse_month_errors(typed: str) -> None:
    with pytest.raises(thai.DateParseError):
        thai.parse_month(typed, date(2021, 2, 1))


def test_parse_time_and_datetime() -> None:
    assert thai.parse_time("09:00").hour == 9
    with pytest.raises(ValueError):
        thai.parse_time("9am")
    dt = thai.parse_datetime("2021-02-22T09:00")
    assert dt.utcoffset().total_seconds() == 7 * 3600  # naive means Bangkok time


# --- ThaiFormat: one formatter for every output ----------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "meeting", "month", "abbr", "score"),
    [
        (thai.ARABIC, "วันพฤหัสบดีที่ 25 ก.พ. 2564", "กุมภาพันธ์ 2564", "ก.พ. 2564", "92.65"),
        (thai.THAI, "วันพฤหัสบดีที่ ๒๕ ก.พ. ๒๕๖๔", "กุมภาพันธ์ ๒๕๖๔", "ก.พ. ๒๕๖๔", "๙๒.๖๕"),
    ],
)
def test_thai_format_writes_the_meeting_phrase_month_label_and_scores(
    fmt: thai.ThaiFormat, meeting: str, month: str, abbr: str, score: str
) -> None:
    thursday = date(2021, 2, 25)
    assert fmt.weekday(thursday) == "พฤหัสบดี"
    assert fmt.meeting(thursday) == meeting
    assert fmt.month((2021, 2)) == month
    assert fmt.month((2021, 2), abbr=True) == abbr
    assert fmt.score(92.65) == score


def test_thai_format_dates_a_datetime_in_bangkok() -> None:
    late_utc = datetime(2021, 2, 24, 20, 0, tzinfo=UTC)  # 03:00 on the 25th in Bangkok
    assert thai.ARABIC.date(late_utc) == "25 ก.พ. 2564"
    assert thai.THAI.datetime(late_utc) == "๒๕ ก.พ. ๒๕๖๔ ๐๓:๐๐ น."
    assert thai.THAI.percent(None) == "–" and thai.THAI.percent(50) == "๕๐%"
    assert thai.THAI.digits("ม.4 ข้อ 2") == "ม.๔ ข้อ ๒"


def test_typed_text_takes_the_configured_digits_but_web_addresses_keep_theirs() -> None:
    typed = "ร้อยละ 30 รอบ ๖ เดือน ที่ www.nongmuang2.go.th/ita-2564 และ E-service2 (12/2564)"
    assert thai.THAI.typed(typed) == "ร้อยละ ๓๐ รอบ ๖ เดือน ที่ www.nongmuang2.go.th/ita-2564 และ E-service2 (๑๒/๒๕๖๔)"
    assert thai.ARABIC.typed(typed) == "ร้อยละ 30 รอบ 6 เดือน ที่ www.nongmuang2.go.th/ita-2564 และ E-service2 (12/2564)"


def test_durations_are_said_from_their_constants() -> None:
    # Every window a reply names (evidence, guided report, role code, sign-in link, session) is said from its
    # timedelta: changing the constant changes the text.
    from ita_bot.chat.conversation import DRAFT_TTL
    from ita_bot.domain.people import CODE_TTL
    from ita_bot.domain.reports import EVIDENCE_WINDOW
    from ita_bot.domain.signin import LINK_TTL, SESSION_TTL

    said = {span: thai.ARABIC.duration(span) for span in (EVIDENCE_WINDOW, DRAFT_TTL, CODE_TTL, LINK_TTL, SESSION_TTL)}
    assert said == {timedelta(minutes=30): "30 นาที", timedelta(hours=72): "72 ชั่วโมง",
                    timedelta(minutes=10): "10 นาที", timedelta(hours=8): "8 ชั่วโมง"}
    assert thai.THAI.duration(timedelta(minutes=90)) == "๙๐ นาที"
    assert thai.format_duration(timedelta(hours=1)) == "1 ชั่วโมง"
