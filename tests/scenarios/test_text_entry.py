"""Text and plans entering through every door: cleaned once, bounded, and never able to break a page or the memo."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from ita_bot.domain.config import DocumentSettings
from ita_bot.domain.plan import PlanProblems
from ita_bot.domain.plan_reader import MAX_PROBLEMS, parse_plan_text
from ita_bot.domain.progress import Report
from ita_bot.domain.thai import BANGKOK
from tests.conftest import GROUP, STAFF_KLANG, STAFF_SP
from tests.console_harness import Browser
from tests.tiny import tiny_store

DOCX = "/reports/2564/2021-02.docx"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one picture made of three emoji and two joiners


@pytest.fixture
def staff(bot: Any) -> Any:
    for user, division in ((STAFF_SP, "สป."), (STAFF_KLANG, "คลัง")):
        bot.send(f"/ลงทะเบียน {division}", user=user, group=True)
    return bot



def signed_in(bot: Any) -> Browser:
    browser = Browser(bot)
    browser.sign_in()
    return browser


# --- control characters in plan text -------------------------------------------------------------


def test_a_title_pasted_from_word_typed_in_the_console_never_breaks_the_memo(bot: Any) -> None:
    """A vertical tab or form feed pasted from Word, or any other control character, in a measure title,
    division name or organization name typed in the console is saved clean and every memo still builds."""
    browser = signed_in(bot)
    saved = browser.submit("/admin/plans/2564/measures", {"rows-0-title": "ติดป้าย\x0bประกาศ\x07เจตจำนง\ufffe"})
    assert saved.status_code == 303, saved.get_data(as_text=True)[-800:]
    saved = browser.submit("/admin/plans/2564/divisions", {"rows-1-name": "กอง\x1bคลัง\x0c"})
    assert saved.status_code == 303, saved.get_data(as_text=True)[-800:]
    saved = browser.submit("/admin/plans/2564/organization", {"name": "องค์การบริหารส่วน\x0cตำบลหนองเมือง\x00"})
    assert saved.status_code == 303, saved.get_data(as_text=True)[-800:]
    plan = bot.office.plans.get(2564)
    assert plan.measures[0].title == "ติดป้าย\nประกาศเจตจำนง"  # a Word line break stays a line break
    assert plan.divisions[1].name == "กองคลัง"  # the form trims the line break at the end
    assert plan.organization.name == "องค์การบริหารส่วน\nตำบลหนองเมือง"
    assert "\x0b" not in bot.office.plans.text(2564) and "\\u000B" not in bot.office.plans.text(2564).upper()
    memo = bot.memo_xml(DOCX)
    assert "ประกาศเจตจำนง" in memo and "ตำบลหนองเมือง" in memo
    for cycle in ("2020-10", "2021-03", "2021-09"):
        assert bot.client.get(f"/reports/2564/{cycle}.docx").status_code == 200, cycle


def test_control_characters_escaped_in_an_uploaded_plan_never_break_the_memo(bot: Any) -> None:
    """A plan file whose strings hold escaped control characters or U+FFFE uploads clean; the memo builds."""
    browser = signed_in(bot)
    text = browser.get("/admin/plans/2564.toml").get_data(as_text=True)
    title = bot.office.plans.get(2564).measures[0].title
    crafted = text.replace(f'"{title}"', f'"{title}\\u000Bฉบับ\\u0007ปรับปรุง\\uFFFE"', 1)
    crafted = crafted.replace('short_name = "อบต.หนองเมือง"', 'short_name = "อบต.\\u000Cหนองเมือง\\u001F"')
    assert crafted.count("\\u000B") == 1 and "\\u000C" in crafted
    response = browser.post("/admin/plans/2564/file", {"toml": crafted})
    assert response.status_code == 303, response.get_data(as_text=True)[-800:]
    plan = bot.office.plans.get(2564)
    assert plan.measures[0].title == f"{title}\nฉบับปรับปรุง"
    assert plan.organization.short_name == "อบต.\nหนองเมือง"
    assert "ฉบับปรับปรุง" in bot.memo_xml(DOCX)


def test_a_plan_file_restored_with_control_characters_is_read_clean(bot: Any) -> None:
    """A plan file put in place outside the console (a restored archive, an edit on the server) is read
    through the same cleaner: the memo still builds and the title is there."""
    book = bot.office.plans
    text = book.text(2564)
    title = book.get(2564).measures[0].title
    target = tiny_store(bot.office).plans_dir / "2564.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text.replace(f'"{title}"', '"ร้านค้า\\u0008โปร่งใส\\u000Cทุกแห่ง"', 1), encoding="utf-8")
    assert book.get(2564).measures[0].title == "ร้านค้าโปร่งใส\nทุกแห่ง"
    assert "ร้านค้าโปร่งใส" in bot.memo_xml(DOCX)


def test_a_report_stored_before_cleaning_still_gives_a_memo(bot: Any) -> None:
    """Text stored before cleaning existed (or by an old archive) never makes the memo answer 500."""
    now = datetime(2021, 2, 16, 9, 0, tzinfo=BANGKOK)
    bot.office.reports.add(Report(2564, 1, "sp", "doing", 50, "ติด\x0bตั้ง\x07ป้าย\ufffe", now, now, reporter_id=STAFF_SP))
    bot.office.set_documents(DocumentSettings(office="สำนัก\x0cปลัด\x1b"), None, now)
    memo = bot.memo_xml(DOCX)
    assert "ป้าย" in memo and "ปลัด" in memo


def test_the_memo_header_typed_in_the_console_is_stored_clean(bot: Any) -> None:
    """The memo header form (office, addressee, signer) is a door too: its text is stored clean."""
    browser = signed_in(bot)
    response = browser.submit("/admin/meetings?fy=2564", {"office": "สำนักปลัด\x0b\x07อบต.", "signer_name": "นาย\x00ก"},
                              action="/admin/meetings/memo?fy=2564")
    assert response.status_code == 303, response.get_data(as_text=True)[-800:]
    documents = bot.office.documents()
    assert documents.office == "สำนักปลัด\nอบต." and documents.signer_name == "นายก"
    assert "สำนักปลัด" in bot.memo_xml(DOCX)


# --- crafted plans: bounded work, a clear refusal ------------------------------------------------


@pytest.mark.timeout(60)
def test_a_plan_naming_twenty_thousand_problems_is_refused_with_a_bounded_list() -> None:
    """A crafted plan with 20,000 problems is answered (not worked on for minutes) with the first problems
    and how many more there are."""
    text = "\n".join(f"k{i} = 1" for i in range(20_000))
    with pytest.raises(PlanProblems) as caught:
        parse_plan_text(text, "2564.toml")
    problems = caught.value.problems
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1].message.startswith("…และพบปัญหาอีก ") and "19," in problems[-1].message


@pytest.mark.timeout(60)
@pytest.mark.parametrize("text,words", [
    ("fiscal_year = 2564\na = " + "[" * 1000 + "]" * 1000, "ซ้อนกันลึกเกิน"),
    ("a = " + "{b = " * 1000 + "1" + "}" * 1000, "ซ้อนกันลึกเกิน"),
    (".".join("k" for _ in range(20_000)) + " = 1", "คั่นด้วยจุด"),
    ("fiscal_year = " + "9" * 5000, "ยาวเกินไป"),
    ("fiscal_year = 10543", "ต้องไม่เกิน 2700"),
    ("fiscal_year = 99999", "ต้องไม่เกิน 2700"),
    ('fiscal_year = 2564\nx = "' + "ก" * 200_000 + '"', "ใหญ่เกินไป"),
])
def test_crafted_plan_files_get_a_clear_refusal(text: str, words: str) -> None:
    """Nesting 1,000 deep, a key of 20,000 dotted parts, a 5,000-digit number, a year no date can hold and a
    file larger than any plan are each refused as a plan problem, never an error."""
    with pytest.raises(PlanProblems) as caught:
        parse_plan_text(text, "2564.toml")
    assert any(words in p.message for p in caught.value.problems), caught.value.problems


@pytest.mark.timeout(60)
def test_an_uploaded_plan_with_thousands_of_problems_lists_a_bounded_number(bot: Any) -> None:
    """The upload page for a crafted plan shows at most the first problems, and says how many more."""
    browser = signed_in(bot)
    crafted = "\n".join(f"k{i} = 1" for i in range(20_000))
    response = browser.post("/admin/plans/2564/file", {"toml": crafted})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    listed = html[html.index('<div class="flash bad">'):].split("</div>")[0]
    assert listed.count("<li>") == MAX_PROBLEMS + 1 and "…และพบปัญหาอีก 19," in listed
    assert "<code>k0</code>" in listed and "<code>k19999</code>" not in listed


@pytest.mark.parametrize("path", [
    "/admin/meetings?fy=1", "/admin/meetings?fy=-1", "/admin/meetings?fy=99999", "/admin/draft?fy=99999",
    "/admin/draft?fy=1", "/admin/draft?fy=2565&from=1", "/admin/draft?fy=2565&from=99999",
])
def test_a_fiscal_year_no_plan_could_have_is_a_thai_404(bot: Any, path: str) -> None:
    """A year outside 2500–2700 in the console's address is its Thai "not found" page, never a 500."""
    browser = signed_in(bot)
    response = browser.get(path)
    assert response.status_code == 404, response.status_code
    assert "ไม่พบ" in response.get_data(as_text=True)


def test_the_memo_header_form_with_a_year_no_plan_could_have_is_a_404(bot: Any) -> None:
    browser = signed_in(bot)
    response = browser.post("/admin/meetings/memo?fy=99999", {"office": "สำนักปลัด"}, page="/admin/meetings?fy=2564")
    assert response.status_code == 404
    assert bot.office.documents().office != "สำนักปลัด"


# --- Thai typed as look-alikes; status words ---------------------------------------------------------


@pytest.mark.parametrize("typed", [
    "ก\u0e4d\u0e32ลังท\u0e4d\u0e32 30%",  # SARA AM typed as NIKHAHIT + SARA AA
    "ก\u0e4d\u0e32ลังด\u0e4d\u0e32เนินการ 30%",
])
def test_sara_am_typed_as_two_marks_is_read_as_sara_am(staff: Any, typed: str) -> None:
    """“กําลังทํา 30%” typed with SARA AM as two marks looks the same and is understood the same."""
    replies = staff.send(f"/รายงาน 1 {typed} ติดตั้งป้าย", user=STAFF_SP, group=GROUP)
    assert "บันทึกรายงานแล้ว" in replies.text, replies.text
    [report] = staff.reports()
    assert (report.status, report.percent, report.details) == ("doing", 30, "ติดตั้งป้าย")


def test_two_sara_e_typed_for_sara_ae_is_read_as_sara_ae(staff: Any) -> None:
    """“เสร็จเเล้ว” with two SARA E looks like “เสร็จแล้ว” and is understood as done."""
    replies = staff.send("/รายงาน 1 เสร็จเเล้ว ส่งเอกสารครบ", user=STAFF_SP, group=GROUP)
    assert "บันทึกรายงานแล้ว" in replies.text, replies.text
    [report] = staff.reports()
    assert (report.status, report.percent, report.details) == ("done", 100, "ส่งเอกสารครบ")


@pytest.mark.parametrize("word", ["ทำอยู่", "กำลังทาํ", "doinng"])
def test_a_status_word_not_understood_is_answered_and_nothing_is_stored(staff: Any, word: str) -> None:
    """A word where the status belongs that is no status word gets a reply naming the words understood;
    the report is not stored with its status and percent silently lost."""
    replies = staff.send(f"/รายงาน 1 {word} 30% ติดตั้งป้าย", user=STAFF_SP, group=GROUP)
    assert f"ไม่เข้าใจสถานะ “{word}”" in replies.text, replies.text
    assert "กำลังทำ" in replies.text and "เสร็จ" in replies.text and "ติดปัญหา" in replies.text
    assert staff.reports() == []


# --- joiners kept -----------------------------------------------------------------------------------


def test_emoji_joined_with_zero_width_joiners_are_stored_whole(staff: Any) -> None:
    """A family emoji keeps the joiners that make it one picture; a joiner inside a command word still
    cannot hide the command."""
    replies = staff.send(f"/ราย\u200dงาน 1 กำลังทำ 50% กิจกรรมครอบครัว {FAMILY}\u200b", user=STAFF_SP, group=GROUP)
    assert "บันทึกรายงานแล้ว" in replies.text, replies.text
    [report] = staff.reports()
    assert report.details == f"กิจกรรมครอบครัว {FAMILY}"
