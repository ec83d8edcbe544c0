"""Thai text and calendar helpers: digits, month names, Buddhist Era dates, fiscal years, typed dates."""

from __future__ import annotations

import datetime as dt  # for annotations inside ThaiFormat, whose date() method hides the class
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "ARABIC",
    "BANGKOK",
    "BE_YEAR_MAX",
    "BE_YEAR_MIN",
    "CE_YEAR_MAX",
    "MONTHS_ABBR",
    "MONTHS_FULL",
    "MONTH_WITH_YEAR",
    "NUMERALS",
    "THAI",
    "WEEKDAYS",
    "WEEKDAYS_ABBR",
    "DateParseError",
    "Numerals",
    "ThaiFormat",
    "be_year",
    "ce_year",
    "fiscal_year_of",
    "fiscal_year_range",
    "format_date",
    "format_datetime",
    "format_duration",
    "format_number",
    "format_percent",
    "format_score",
    "normalize",
    "parse_be_date",
    "parse_date",
    "parse_month",
    "small_int",
    "stored_time",
    "to_arabic_digits",
    "to_thai_digits",
]

BANGKOK = ZoneInfo("Asia/Bangkok")

THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
_TO_ARABIC = str.maketrans(THAI_DIGITS, "0123456789")
_TO_THAI = str.maketrans("0123456789", THAI_DIGITS)

MONTHS_FULL = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)
MONTHS_ABBR = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)
WEEKDAYS = ("จันทร์", "อังคาร", "พุธ", "พฤหัสบดี", "ศุกร์", "เสาร์", "อาทิตย์")  # Monday first, as date.weekday()
WEEKDAYS_ABBR = ("จ.", "อ.", "พ.", "พฤ.", "ศ.", "ส.", "อา.")
BE_OFFSET = 543

#: The BE years a date typed into the console may have. Office documents of this bot are about the years
#: around now; anything outside is a slip (a CE year typed into the BE box, or a year typed twice over).
BE_YEAR_MIN = 2500
BE_YEAR_MAX = 2700
#: The latest CE year any date of this bot has: a year above it is a พ.ศ. year (2564, not 2021).
CE_YEAR_MAX = 2400

Numerals = Literal["arabic", "thai"]
"""The digits users read (config ``display.numerals``); stored data and JSON always use Arabic digits."""
NUMERALS: tuple[Numerals, ...] = ("arabic", "thai")
_LATIN_WORD = re.compile(r"(\S*[A-Za-z]\S*)")  # captured, so split() keeps these words


class DateParseError(ValueError):
    """A typed date or month could not be understood; the message is polite Thai for the user."""


def to_arabic_digits(text: str) -> str:
    """Thai digits → Arabic digits; everything else unchanged."""
    return text.translate(_TO_ARABIC)


def to_thai_digits(text: str) -> str:
    """Arabic digits → Thai digits; everything else unchanged."""
    return text.translate(_TO_THAI)


def small_int(digits: str, max_digits: int) -> int | None:
    """The value of a typed run of digits, or None when it has more than ``max_digits`` significant digits.

    Every number a person types is read through a bound: int() refuses strings over 4,300 digits with
    an error, and no measure, percent, count or year the bot asks for is anywhere near that long.
    """
    significant = digits.lstrip("0") or "0"
    return int(significant) if digits.isdecimal() and len(significant) <= max_digits else None


def normalize(text: str) -> str:
    """The form commands are matched in: Arabic digits, lower case, single spaces, trimmed.

    LINE clients on phones insert non-breaking and zero-width spaces, so those fold too.
    """
    text = to_arabic_digits(text).replace("\u200b", "").replace("\u00a0", " ").replace("\u3000", " ")
    return " ".join(text.split()).lower()


def _digits(text: str, numerals: Numerals | str) -> str:
    return to_thai_digits(text) if numerals == "thai" else text


def be_year(ce: int) -> int:
    """Buddhist Era year of a CE year."""
    return ce + BE_OFFSET


def ce_year(be: int) -> int:
    """CE year of a Buddhist Era year."""
    return be - BE_OFFSET


def fiscal_year_of(d: date) -> int:
    """The Thai fiscal year (BE) a date falls in: FY 2564 runs 1 Oct 2563 – 30 Sep 2564."""
    return be_year(d.year + 1 if d.month >= 10 else d.year)


def fiscal_year_range(fy_be: int) -> tuple[date, date]:
    """First and last day (CE dates) of a BE fiscal year."""
    end_ce = ce_year(fy_be)
    return date(end_ce - 1, 10, 1), date(end_ce, 9, 30)


def format_number(value: int | str, numerals: str = "arabic") -> str:
    """An integer (or preformatted number) in the configured numerals."""
    return _digits(str(value), numerals)


def format_percent(percent: int | None, numerals: str = "arabic") -> str:
    """"50%" or "–" when no percentage was given."""
    return "–" if percent is None else _digits(f"{percent}%", numerals)


def format_score(score: object, numerals: str = "arabic") -> str:
    """A score with two decimals, as official ITA results write them (92.65, 100.00)."""
    return _digits(f"{float(str(score)):.2f}", numerals)


def format_date(d: date, numerals: str = "arabic", *, full_month: bool = False) -> str:
    """"25 ก.พ. 2564" (or "25 กุมภาพันธ์ 2564")."""
    month = (MONTHS_FULL if full_month else MONTHS_ABBR)[d.month - 1]
    return _digits(f"{d.day} {month} {be_year(d.year)}", numerals)


def format_datetime(dt: datetime, numerals: str = "arabic") -> str:
    """"25 ก.พ. 2564 09:30 น." in Bangkok time."""
    local = dt.astimezone(BANGKOK) if dt.tzinfo else dt
    return f"{format_date(local.date(), numerals)} " + _digits(f"{local:%H:%M} น.", numerals)


def format_duration(span: timedelta, numerals: str = "arabic") -> str:
    """A time window as its rule reads: "72 ชั่วโมง" for whole hours, else "30 นาที" (whole minutes)."""
    minutes = int(span.total_seconds() // 60)
    text = f"{minutes // 60} ชั่วโมง" if minutes and minutes % 60 == 0 else f"{minutes} นาที"
    return _digits(text, numerals)


def format_month(year_ce: int, month: int, numerals: str = "arabic", *, full_month: bool = True) -> str:
    """"กุมภาพันธ์ 2564"."""
    name = (MONTHS_FULL if full_month else MONTHS_ABBR)[month - 1]
    return _digits(f"{name} {be_year(year_ce)}", numerals)


@dataclass(frozen=True)
class ThaiFormat:
    """Numbers, BE dates, weekdays, the meeting phrase, month labels and scores as users read them.

    One per office (its ``display.numerals``), carried in the chat context and handed to every
    message, page and document builder (the DOCX memo too; CSV and JSON keep Arabic digits for machines).
    """

    numerals: Numerals = "arabic"

    def digits(self, text: str) -> str:
        """Text with its digits in the configured numerals."""
        return _digits(text, self.numerals)

    def num(self, value: int | str) -> str:
        return format_number(value, self.numerals)

    def typed(self, text: str) -> str:
        """What a person typed (a report's details), its digits in the configured numerals, so one line never
        mixes ๖ and 6; a word with Latin letters (a web address, "E-service2", an e-mail) keeps its own digits."""
        convert = to_thai_digits if self.numerals == "thai" else to_arabic_digits
        return "".join(part if _LATIN_WORD.fullmatch(part) else convert(part) for part in _LATIN_WORD.split(text))

    def percent(self, value: int | None) -> str:
        """"50%" or "–" when no percentage was given."""
        return format_percent(value, self.numerals)

    def score(self, value: object) -> str:
        """A score with two decimals (92.65, 100.00)."""
        return format_score(value, self.numerals)

    def date(self, value: date | datetime, *, full_month: bool = False) -> str:
        """"25 ก.พ. 2564" (or "25 กุมภาพันธ์ 2564"); a date-time counts in Bangkok."""
        day = value.astimezone(BANGKOK).date() if isinstance(value, datetime) else value
        return format_date(day, self.numerals, full_month=full_month)

    def datetime(self, value: datetime) -> str:
        """"25 ก.พ. 2564 09:30 น." in Bangkok time."""
        return format_datetime(value, self.numerals)

    def duration(self, span: timedelta) -> str:
        """"72 ชั่วโมง" or "30 นาที": a window said from its constant, never a second copy of the number."""
        return format_duration(span, self.numerals)

    @staticmethod
    def weekday(value: dt.date) -> str:
        """"พฤหัสบดี"."""
        return WEEKDAYS[value.weekday()]

    def meeting(self, value: dt.date) -> str:
        """The meeting phrase: "วันพฤหัสบดีที่ 25 ก.พ. 2564"."""
        return f"วัน{self.weekday(value)}ที่ {self.date(value)}"

    def month(self, year_month: tuple[int, int], *, abbr: bool = False) -> str:
        """A cycle's month label from its (CE year, month): "กุมภาพันธ์ 2564" (or "ก.พ. 2564")."""
        year, month = year_month
        return format_month(year, month, self.numerals, full_month=not abbr)


ARABIC = ThaiFormat("arabic")  # the default: Arabic digits
THAI = ThaiFormat("thai")  # Thai digits (display.numerals = "thai", customary in memos)


def _month_index(word: str) -> int | None:
    """1–12 for a Thai month name, abbreviation (with or without dots) or number."""
    w = word.strip().lower()
    if w.isdecimal():
        n = small_int(w, 2)
        return n if n is not None and 1 <= n <= 12 else None
    bare = w.replace(".", "").replace(" ", "")
    for i, (full, abbr) in enumerate(zip(MONTHS_FULL, MONTHS_ABBR, strict=True), start=1):
        if bare in (full, abbr.replace(".", "")):
            return i
    return None


def _year_to_ce(text: str) -> int:
    """A typed year: 2564 or 64 (BE, the Thai habit) or 2021 (CE) → CE year."""
    y = int(text)
    if len(text) <= 2:
        return ce_year(2500 + y)
    if y > CE_YEAR_MAX:
        return ce_year(y)
    return y


DATE_FORMS_HELP = "เช่น 25/2/2564, 25 ก.พ. 64 หรือ 2021-02-25"

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_SLASH = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$")
_WORDS = re.compile(r"^(\d{1,2})\s*([^\d\s]+(?:\s*[^\d\s]+)*)\s*(\d{2}|\d{4})$")


def _shown(text: str) -> str:
    """What a person typed, quoted back in a reply: folded and cut short (a pasted page is not echoed)."""
    t = " ".join(text.split())
    return t if len(t) <= 40 else t[:40] + "…"


def _check_year(ce: int, text: str) -> None:
    """Typed dates share the console's year range: a year outside it is a slip, and far ones break date arithmetic."""
    if not BE_YEAR_MIN <= be_year(ce) <= BE_YEAR_MAX:
        raise DateParseError(f"ปี พ.ศ. {be_year(ce)} ใน “{_shown(text)}” ไม่น่าจะถูกต้อง กรุณาตรวจสอบอีกครั้ง")


def parse_date(text: str) -> date:
    """A typed date: 25/2/2564, 25/02/64, 25 ก.พ. 64, 25 กุมภาพันธ์ 2564, 2021-02-25 (Thai digits too).

    The year must fall in BE 2500–2700, as in the console."""
    t = " ".join(to_arabic_digits(text).split())
    day: date | None = None
    try:
        if m := _ISO.match(t):
            day = date(int(m[1]), int(m[2]), int(m[3]))
        elif m := _SLASH.match(t):
            day = date(_year_to_ce(m[3]), int(m[2]), int(m[1]))
        elif (m := _WORDS.match(t)) and (month := _month_index(m[2])):
            day = date(_year_to_ce(m[3]), month, int(m[1]))
    except ValueError:
        raise DateParseError(f"ไม่มีวันที่ “{_shown(text)}” ในปฏิทิน กรุณาตรวจสอบอีกครั้ง ({DATE_FORMS_HELP})") from None
    if day is None:
        raise DateParseError(f"อ่านวันที่ “{_shown(text)}” ไม่ออก กรุณาพิมพ์ {DATE_FORMS_HELP}")
    _check_year(day.year, text)
    return day


def parse_be_date(day: str, month: str, year: str) -> date | None:
    """A date typed as day, month (1–12 or a Thai month name) and พ.ศ. year → the CE date; None when all are blank.

    Thai digits are accepted and a two-digit year means 25xx (the habit "64"). A CE year in the BE box
    (2021) is refused with its BE equivalent as the hint, so a year such as 3112 can never come out of it.
    """
    d, m, y = (" ".join(to_arabic_digits(part or "").split()) for part in (day, month, year))
    if not (d or m or y):
        return None
    if not (d and m and y):
        missing = [name for name, part in (("วัน", d), ("เดือน", m), ("ปี พ.ศ.", y)) if not part]
        raise DateParseError(f"วันที่ยังไม่ครบ กรุณาระบุ{'และ'.join(missing)}")
    month_no = _month_index(m)
    if month_no is None:
        raise DateParseError("กรุณาเลือกเดือนจากรายการ")
    if not d.isdecimal():
        raise DateParseError("วันที่ต้องเป็นตัวเลข 1–31")
    if not y.isdecimal():
        raise DateParseError("กรุณากรอกปี พ.ศ. เป็นตัวเลข เช่น 2564")
    be = int(y) + 2500 if len(y) <= 2 else int(y)
    if 1900 <= be < BE_YEAR_MIN:
        raise DateParseError(f"ปี {be} เป็นปี ค.ศ. กรุณากรอกปี พ.ศ. เช่น {be_year(be)}")
    if not BE_YEAR_MIN <= be <= BE_YEAR_MAX:
        raise DateParseError(f"ปี พ.ศ. {be} ไม่น่าจะถูกต้อง กรุณากรอกปี พ.ศ. เช่น 2564")
    try:
        return date(ce_year(be), month_no, int(d))
    except ValueError:
        raise DateParseError(f"ไม่มีวันที่ {int(d)} {MONTHS_FULL[month_no - 1]} {be} ในปฏิทิน") from None


MONTH_FORMS_HELP = "เช่น ก.พ., กุมภาพันธ์, 2 หรือ 2/2564"


#: A month with its BE year: "ก.พ. 64", "2/2564" (a month alone belongs to the fiscal year of the day).
MONTH_WITH_YEAR = re.compile(r"^(\S+?)\s*[/ ]\s*(\d{2}|\d{4})$")


def parse_month(text: str, today: date) -> tuple[int, int]:
    """A typed month → (CE year, month).

    `ก.พ.`, `กุมภาพันธ์`, `2` mean that month within the fiscal year of `today`;
    `2/2564` or `ก.พ. 64` mean February of BE calendar year 2564.
    """
    t = " ".join(to_arabic_digits(text).split())
    m = MONTH_WITH_YEAR.match(t)
    if m and (month := _month_index(m[1])):
        year = _year_to_ce(m[2])
        _check_year(year, text)
        return year, month
    month = _month_index(t)
    if month is None:
        raise DateParseError(f"อ่านเดือน “{_shown(text)}” ไม่ออก กรุณาพิมพ์ {MONTH_FORMS_HELP}")
    start, _ = fiscal_year_range(fiscal_year_of(today))
    return (start.year if month >= 10 else start.year + 1), month


def stored_time(text: str) -> datetime:
    """A time kept as ISO text, aware: one written without an offset (an old or hand-edited row) is Bangkok time."""
    return bangkok_now(datetime.fromisoformat(text))


def bangkok_now(ts: datetime | None = None) -> datetime:
    """An aware Bangkok datetime; naive inputs are taken as Bangkok time (the product's rule for offset-less times)."""
    if ts is None:
        return datetime.now(BANGKOK)
    return ts.replace(tzinfo=BANGKOK) if ts.tzinfo is None else ts.astimezone(BANGKOK)


def parse_time(text: str) -> time:
    """"HH:MM" (24-hour) → time; ValueError otherwise."""
    m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", to_arabic_digits(text.strip()))
    if not m:
        raise ValueError(f"expected HH:MM (24-hour), got {text!r}")
    return time(int(m[1]), int(m[2]))


def parse_datetime(text: str) -> datetime:
    """ISO 8601 date or date-time; without an offset it is Bangkok time."""
    t = text.strip()
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise ValueError(f"expected an ISO 8601 date-time such as 2021-02-22T09:00, got {text!r}") from None
    return bangkok_now(dt)
