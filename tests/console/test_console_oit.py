"""The console's OIT page: the ITAS address and sentence (single office and hosted prefix), the executive's approval,
snapshots frozen for ITAS that never change, the main-site link check, and every manager action in the history."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterator
from datetime import date, datetime
from html import unescape
from typing import Any

import pytest

from ita_bot.console.oit import SITE_CHECK_TIMEOUT, oit_view
from ita_bot.domain.actions import VIA_CONSOLE, ActionRefused, Actor, ManagerActions
from ita_bot.domain.progress import Report
from ita_bot.domain.thai import BANGKOK
from tests.conftest import MEMBER, SECRETARY, STAFF_SP
from tests.console_harness import Browser
from tests.main_site import MainSite, serving
from tests.publish.oit_site import O26

pytestmark = pytest.mark.backends("tinydb", "postgresql")

HOST = "https://ita.example.go.th"
PREFIX = "/o/alpha"
PAGE = "/admin/oit/2564"
SECTION = "หน้าเผยแพร่ OIT"


@pytest.fixture
def main_site() -> Iterator[MainSite]:
    with serving() as site:
        yield site


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def sentences(html: str) -> list[str]:
    return [unescape(s) for s in re.findall(r'<textarea[^>]*class="itas"[^>]*>(.*?)</textarea>', html, re.S)]


def open_page(make_bot: Any, monkeypatch: pytest.MonkeyPatch, *, mount: str = "", **web: Any) -> tuple[Any, Browser]:
    bot = make_bot(web={"base_url": HOST + mount, **web})
    browser = Browser(bot, mount=mount)
    browser.sign_in()
    return bot, browser


def test_each_oit_item_gets_the_address_and_a_sentence_to_paste(make_bot: Any, monkeypatch: pytest.MonkeyPatch,
                                                                 main_site: MainSite) -> None:
    """Before a link check the sentence says where the page is, and the page asks for the check; once the main
    site links to it, the sentence says how to reach it by the link texts found."""
    bot, browser = open_page(make_bot, monkeypatch, office_site=main_site.url + "/")
    html = browser.html(PAGE)
    text = text_of(html)
    assert f"{HOST}/reports/2564" in text
    assert "O42 มาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน" in text and "O43" in text
    assert sentences(html) == [f"เผยแพร่ที่ {HOST}/reports/2564"] * 2
    assert "ยังไม่ได้ตรวจลิงก์" in text

    main_site.page("/ita", f'<a href="{HOST}/reports/2564">รายงานผลการดำเนินงาน ITA 2564</a>')
    main_site.page("/", '<a href="/ita">การประเมินคุณธรรมและความโปร่งใส (ITA)</a>')
    done = browser.submit(PAGE, action="/admin/oit/2564/check")
    assert done.status_code == 303 and done.headers["Location"].endswith("/admin/oit/2564#check")
    html = browser.html(PAGE)
    assert sentences(html)[0] == (
        f"เผยแพร่ที่ {HOST}/reports/2564 เข้าถึงได้จากหน้าแรกของเว็บไซต์หลักของหน่วยงาน {main_site.url}/ "
        "โดยคลิก “การประเมินคุณธรรมและความโปร่งใส (ITA)” › “รายงานผลการดำเนินงาน ITA 2564”")
    assert "พบลิงก์" in text_of(html) and "ตรวจล่าสุดเมื่อ 15 ก.พ. 2564" in text_of(html)
    kept = bot.office.publications.link_check(2564)
    assert kept is not None and kept.found and kept.site == main_site.url + "/"


def test_the_hosted_office_gives_its_prefixed_address_and_finds_its_link(
        make_bot: Any, monkeypatch: pytest.MonkeyPatch, main_site: MainSite) -> None:
    site = main_site.page("/", f'<a href="http://ita.example.go.th{PREFIX}/reports/2564/">ITA</a>')
    _, browser = open_page(make_bot, monkeypatch, mount=PREFIX, office_site=site)
    html = browser.html(PAGE)
    assert f'href="{PREFIX}/reports/2564"' in html and f'action="{PREFIX}/admin/oit/2564/freeze"' in html
    assert sentences(html)[0] == f"เผยแพร่ที่ {HOST}{PREFIX}/reports/2564"
    assert browser.submit(PAGE, action="/admin/oit/2564/check").status_code == 303
    # The main site wrote the address its own way (http, a trailing slash): the sentence gives this server's.
    assert sentences(browser.html(PAGE))[0] == (
        f"เผยแพร่ที่ {HOST}{PREFIX}/reports/2564 เข้าถึงได้จากหน้าแรกของเว็บไซต์หลักของหน่วยงาน {site} โดยคลิก “ITA”")


def test_link_check_not_found_and_unreadable_say_so_in_thai(make_bot: Any, monkeypatch: pytest.MonkeyPatch,
                                                            main_site: MainSite) -> None:
    bot, browser = open_page(make_bot, monkeypatch, office_site=main_site.url + "/")
    main_site.page("/", '<a href="/news">ข่าวประชาสัมพันธ์</a>')
    browser.submit(PAGE, action="/admin/oit/2564/check")
    html = browser.html(PAGE)
    assert "ไม่พบลิงก์" in text_of(html) and "กรุณาให้ผู้ดูแลเว็บไซต์หลักเพิ่มลิงก์" in text_of(html)
    assert sentences(html)[0] == f"เผยแพร่ที่ {HOST}/reports/2564"  # never a menu the check did not see

    main_site.pages.clear()  # the main site's first page is gone: 404
    browser.submit(PAGE, action="/admin/oit/2564/check")
    assert "HTTP 404 (ไม่พบหน้า)" in text_of(browser.html(PAGE))
    main_site.page("/", b"", slow=True)
    bot.app.config[SITE_CHECK_TIMEOUT] = 0.3
    response = browser.submit(PAGE, action="/admin/oit/2564/check")
    assert response.status_code == 303
    assert "ไม่ตอบภายใน 0.3 วินาที" in text_of(browser.html(PAGE))


def test_no_office_site_asks_for_one_and_checks_nothing(make_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    bot, browser = open_page(make_bot, monkeypatch)
    text = text_of(browser.html(PAGE))
    assert "ยังไม่ได้ตั้งที่อยู่เว็บไซต์หลักของหน่วยงาน" in text and "ตรวจลิงก์" not in text.split("ลิงก์จากเว็บไซต์หลัก")[-1]
    assert browser.post("/admin/oit/2564/check", page=PAGE).status_code == 303
    assert bot.office.publications.link_check(2564) is None


def test_the_approval_is_recorded_checked_and_withdrawn(make_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    bot, browser = open_page(make_bot, monkeypatch)
    form = browser.html(PAGE)
    # The memo's signer is offered, to check: the executive who signs the office's papers.
    assert 'value="นางถาวร เหลืองทอง"' in form and 'value="นายกองค์การบริหารส่วนตำบลหนองเมือง"' in form

    wrong = browser.submit(PAGE, {"approved_on-day": "1", "approved_on-month": "3", "approved_on-year": "2021"},
                           action="/admin/oit/2564/approval")
    assert wrong.status_code == 400
    shown = wrong.get_data(as_text=True)
    assert 'name="approved_on-year"' in shown and "พ.ศ." in text_of(shown.split('id="approved_on"', 1)[1])[:300]
    assert 'value="2021"' in shown  # what she typed is still there to correct
    blank = browser.submit(PAGE, {"name": " ", "approved_on-day": "1", "approved_on-month": "3",
                                  "approved_on-year": "2564"}, action="/admin/oit/2564/approval")
    assert blank.status_code == 400 and "กรุณากรอกชื่อผู้บริหาร" in blank.get_data(as_text=True)
    assert bot.office.publications.approval(2564) is None
    assert not [e for e in bot.office.audit.entries() if e.section == SECTION]

    done = browser.submit(PAGE, {"name": "นายสมศักดิ์ รักษ์ถิ่น", "approved_on-day": "1", "approved_on-month": "3",
                                 "approved_on-year": "2564"}, action="/admin/oit/2564/approval")
    assert done.status_code == 303
    approval = bot.office.publications.approval(2564)
    assert approval is not None and approval.name == "นายสมศักดิ์ รักษ์ถิ่น"
    assert approval.approved_on == date(2021, 3, 1) and approval.position == "นายกองค์การบริหารส่วนตำบลหนองเมือง"
    assert "เลขาทดสอบ" in approval.recorded_by
    assert "นายสมศักดิ์ รักษ์ถิ่น นายกองค์การบริหารส่วนตำบลหนองเมือง ให้ความเห็นชอบเมื่อ 1 มีนาคม 2564" in text_of(
        browser.html(PAGE))

    assert browser.submit(PAGE, action="/admin/oit/2564/approval/withdraw").status_code == 303
    assert bot.office.publications.approval(2564) is None
    entries = [e for e in bot.office.audit.entries() if e.section == SECTION]
    assert [e.summary for e in entries] == ["ถอนการให้ความเห็นชอบรายงานปีงบประมาณ 2564",
                                            "บันทึกการให้ความเห็นชอบรายงานปีงบประมาณ 2564"]
    assert all(e.via == VIA_CONSOLE and e.fiscal_year == 2564 for e in entries)
    assert "1 มี.ค. 2564" in entries[1].after and entries[0].after == "(ถอนแล้ว)"
    history = text_of(browser.html("/admin/history"))
    assert "บันทึกการให้ความเห็นชอบรายงานปีงบประมาณ 2564" in history and "ถอนการให้ความเห็นชอบ" in history


@pytest.mark.slow  # WeasyPrint's first load in a process looks its libraries up with ldconfig
def test_freezing_keeps_numbered_snapshots_that_never_change(make_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    bot, browser = open_page(make_bot, monkeypatch)
    assert browser.submit(PAGE, action="/admin/oit/2564/freeze").status_code == 303
    bot.advance(minutes=5)
    assert browser.submit(PAGE, action="/admin/oit/2564/freeze").status_code == 303
    pub = bot.office.publications
    first, second = pub.snapshots(2564)
    assert (first.number, second.number) == (1, 2) and second.taken_at > first.taken_at
    kept = {(n, kind): pub.snapshot_file(2564, n, kind) for n in (1, 2) for kind in ("html", "pdf")}
    assert kept[(1, "pdf")][:5] == b"%PDF-" and kept[(1, "html")].decode("utf-8").lstrip().startswith("<!doctype")
    assert hashlib.sha256(kept[(1, "html")]).hexdigest() == first.sha256

    # A report arrives afterwards: the live page moves on, the snapshots stay byte for byte.
    when = datetime(2021, 2, 15, 11, 0, tzinfo=BANGKOK)
    bot.office.reports.add(Report(2564, 1, "sp", "done", 100, "ประชาสัมพันธ์ช่องทางร้องเรียนครบทุกหมู่บ้านแล้ว",
                                  when, when, reporter_id=STAFF_SP, reporter_name="สมชาย สป"))
    live = browser.client.get("/reports/2564", base_url=HOST).get_data()
    assert "ครบทุกหมู่บ้าน".encode() in live
    assert {(n, kind): pub.snapshot_file(2564, n, kind) for n in (1, 2) for kind in ("html", "pdf")} == kept
    for n in (1, 2):  # and the console's links reach them as kept
        assert browser.client.get(f"/reports/2564/snapshots/{n}", base_url=HOST).get_data() == kept[(n, "html")]
        assert browser.client.get(f"/reports/2564/snapshots/{n}.pdf", base_url=HOST).get_data() == kept[(n, "pdf")]

    html = browser.html(PAGE)
    listed = text_of(html.split('id="snapshots"', 1)[1])
    assert listed.index("ฉบับที่ 2 (ฉบับปัจจุบัน)") < listed.index("ฉบับที่ 1")
    assert 'href="/reports/2564/snapshots/2.pdf"' in html and 'href="/reports/2564/snapshots/1"' in html
    assert "เลขาทดสอบ" in listed  # who froze it: the console says
    assert sentences(html)[0].endswith(f"ตรึงไว้เมื่อ 15 ก.พ. 2564 10:05 น. อยู่ที่ {HOST}/reports/2564/snapshots/2")
    entries = [e.summary for e in bot.office.audit.entries() if e.section == SECTION]
    assert entries == ["ตรึงหน้าเผยแพร่ปีงบประมาณ 2564 ฉบับที่ 2 เพื่อส่ง ITAS",
                       "ตรึงหน้าเผยแพร่ปีงบประมาณ 2564 ฉบับที่ 1 เพื่อส่ง ITAS"]


def test_only_managers_act_and_a_stale_form_changes_nothing(make_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    bot, browser = open_page(make_bot, monkeypatch)
    refused = browser.post("/admin/oit/2564/freeze", token=None, page=PAGE)
    assert refused.status_code == 400 and bot.office.publications.snapshots(2564) == []
    stranger = Browser(bot)  # never signed in
    response = stranger.client.post("/admin/oit/2564/approval", base_url=stranger.base,
                                    data={"name": "x", "position": "y"})
    assert response.status_code == 400 and bot.office.publications.approval(2564) is None
    member = ManagerActions(bot.office, Actor.of(bot.office, MEMBER, VIA_CONSOLE), bot.now)
    with pytest.raises(ActionRefused):
        member.record_approval(2564, "นายสมศักดิ์ รักษ์ถิ่น", "นายก", date(2021, 3, 1))
    with pytest.raises(ActionRefused):
        member.freeze_snapshot(2564, b"<p>", b"%PDF-")
    assert bot.office.publications.approval(2564) is None and bot.office.publications.snapshots(2564) == []
    assert browser.get("/admin/oit/2599").status_code == 404
    assert browser.get("/admin/oit/99999").status_code == 404


def test_the_page_is_in_the_menu_and_linked_from_the_year(make_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _, browser = open_page(make_bot, monkeypatch)
    year = browser.html("/admin/year/2564")
    assert 'href="/admin/oit"' in year and 'href="/admin/oit/2564"' in year
    assert "หน้าเผยแพร่ OIT ปีงบประมาณ 2564" in text_of(browser.html("/admin/oit"))


def test_the_view_lists_the_items_of_every_plan_pointing_at_the_year(make_bot: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's data from the plans it is given: a later year's report item points at this year's page."""
    bot, _ = open_page(make_bot, monkeypatch)
    this_year = bot.office.plan_for(2564)
    next_year = dataclasses.replace(this_year, fiscal_year=2565, oit=(O26,))  # the 2569-style list: O26 reports back
    view = oit_view(bot.office, 2564, [next_year, this_year], root=PREFIX)
    assert [r.item.code for r in view.items] == ["O42", "O43", "O26"]
    assert [r.covers for r in view.items] == ["มาตรการ", "รายงานผลการดำเนินการ", "รายงานผลการดำเนินการ"]
    assert view.page_url == f"{HOST}/reports/2564" and view.snapshots == () and view.approval is None
    assert [r.item.code for r in oit_view(bot.office, 2565, [next_year, this_year]).items] == []


def test_a_frozen_page_is_kept_as_given_under_the_next_number(make_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The freeze's keeping step without the PDF renderer (the fast lane): numbers 1 then 2, the bytes as given
    after a later report, and one history entry each."""
    from ita_bot.publish.oit_page import render_year_page

    bot, _ = open_page(make_bot, monkeypatch)
    actions = ManagerActions(bot.office, Actor.of(bot.office, SECRETARY, VIA_CONSOLE), bot.now)
    with bot.app.test_request_context("/admin/oit/2564/freeze", base_url=HOST):
        html = render_year_page(bot.office, 2564, bot.now, root="").encode("utf-8")
    first = actions.freeze_snapshot(2564, html, b"%PDF-1 first")
    second = actions.freeze_snapshot(2564, html + b"<!-- 2 -->", b"%PDF-1 second")
    assert (first.number, second.number) == (1, 2) and "เลขาทดสอบ" in first.taken_by
    when = datetime(2021, 2, 15, 11, 0, tzinfo=BANGKOK)
    bot.office.reports.add(Report(2564, 1, "sp", "done", 100, "ประชาสัมพันธ์ครบทุกหมู่บ้านแล้ว", when, when,
                                  reporter_id=STAFF_SP, reporter_name="สมชาย สป"))
    pub = bot.office.publications
    assert pub.snapshot_file(2564, 1, "html") == html and pub.snapshot_file(2564, 2, "pdf") == b"%PDF-1 second"
    entries = [e for e in bot.office.audit.entries() if e.section == SECTION]
    assert [e.summary for e in entries] == ["ตรึงหน้าเผยแพร่ปีงบประมาณ 2564 ฉบับที่ 2 เพื่อส่ง ITAS",
                                            "ตรึงหน้าเผยแพร่ปีงบประมาณ 2564 ฉบับที่ 1 เพื่อส่ง ITAS"]
    assert all(e.via == VIA_CONSOLE for e in entries)


def test_a_main_site_linking_to_a_snapshot_counts_and_the_page_says_so(
        make_bot: Any, monkeypatch: pytest.MonkeyPatch, main_site: MainSite) -> None:
    site = main_site.page("/", '<a href="http://ita.example.go.th/reports/2564/snapshots/1.pdf#p1">ITA 2564 (PDF)</a>')
    _, browser = open_page(make_bot, monkeypatch, office_site=site)
    browser.submit(PAGE, action="/admin/oit/2564/check")
    html = browser.html(PAGE)
    assert "พบลิงก์ ไปยังฉบับที่ตรึงไว้" in text_of(html)
    assert sentences(html)[0] == (f"เผยแพร่ที่ {HOST}/reports/2564/snapshots/1.pdf เข้าถึงได้จากหน้าแรกของเว็บไซต์หลัก"
                                  f"ของหน่วยงาน {site} โดยคลิก “ITA 2564 (PDF)”")


def test_the_page_says_what_is_missing_once_and_what_freezing_without_approval_gives(
        make_bot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _, browser = open_page(make_bot, monkeypatch)
    html = browser.html(PAGE)
    assert len(sentences(html)) == 2  # O42 and O43: one box each
    assert html.count("แล้วกด “ตรวจลิงก์” ประโยคจะบอกทางเข้าจากเว็บไซต์หลักให้") == 1  # the advice, once
    text = text_of(html)
    freezing = text.split("ฉบับที่ตรึงไว้เพื่อส่ง ITAS", 1)[1]
    assert "ข้อความสำหรับ ITAS ด้านบนจะชี้ไปยังฉบับล่าสุด" in freezing
    assert "ยังไม่ได้บันทึกความเห็นชอบของผู้บริหาร ฉบับที่ตรึงตอนนี้จะไม่มีส่วนความเห็นชอบ" in freezing
    # The year box says it takes a พ.ศ. year even once filled.
    assert '<span class="era" aria-hidden="true">พ.ศ.</span><input type="text" inputmode="numeric" maxlength="4"' \
        in html

    browser.submit(PAGE, {"name": "นายสมศักดิ์ รักษ์ถิ่น", "approved_on-day": "1", "approved_on-month": "3",
                          "approved_on-year": "2564"}, action="/admin/oit/2564/approval")
    text = text_of(browser.html(PAGE))
    assert "ฉบับที่ตรึงตอนนี้จะไม่มีส่วนความเห็นชอบ" not in text
    # Saving a correction comes before withdrawing, and withdrawing says what the public page shows then.
    assert text.index("บันทึกการแก้ไข") < text.index("ถอนความเห็นชอบ")
    assert "หน้าเผยแพร่จะกลับไปแสดงว่าอยู่ระหว่างเสนอผู้บริหารพิจารณาให้ความเห็นชอบ" in text
