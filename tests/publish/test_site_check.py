"""The main-site link check against a real HTTP site on 127.0.0.1: direct links, one menu level down, Thai charsets,
redirects, and sites that cannot be read (each with its Thai reason, never an exception)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from ita_bot.publish.site_check import SiteCheck, Targets, check_site, same_address
from tests.main_site import MainSite, serving

PAGE = "https://ita.example.go.th/o/alpha/reports/2564"
TARGETS = Targets(PAGE, PAGE + ".pdf")


@pytest.fixture
def main_site() -> Iterator[MainSite]:
    with serving() as site:
        yield site


def home(links: str) -> str:
    return f"<!doctype html><html><head><title>อบต.หนองเมือง</title></head><body><nav>{links}</nav></body></html>"


def test_a_direct_link_is_found_however_the_address_is_written(main_site: MainSite) -> None:
    """http instead of https, a trailing slash, a fragment and the default port are the same page."""
    site = main_site.page("/", home('<a href="/news">ข่าว</a> <a href="HTTP://ITA.example.go.th:80/o/alpha/reports/'
                                    '2564/#top"> รายงาน  ITA ปี 2564 </a>'))
    assert check_site(site, TARGETS) == SiteCheck("page", "http://ITA.example.go.th:80/o/alpha/reports/2564/",
                                                  ("รายงาน ITA ปี 2564",))
    assert same_address("https://a.go.th/x/", "http://a.go.th:443/x#y")
    assert not same_address("https://a.go.th/x", "https://a.go.th/x/2")


def test_no_link_says_not_found_and_a_cycle_page_is_not_the_year(main_site: MainSite) -> None:
    site = main_site.page("/", home(f'<a href="{PAGE}/2021-02">รายงานประจำเดือน</a> <a href="/about">เกี่ยวกับเรา</a>'))
    assert check_site(site, TARGETS) == SiteCheck(None)
    assert main_site.requests == ["/"]  # "เกี่ยวกับเรา" is no ITA menu: not followed


def test_one_level_down_through_an_ita_menu_gives_the_path_of_link_texts(main_site: MainSite) -> None:
    main_site.page("/ita", home(f'<ul><li><a href="{PAGE}">O42 มาตรการส่งเสริมคุณธรรม</a></li></ul>'))
    main_site.page("/other", home('<a href="/">หน้าแรก</a>'))
    site = main_site.page("/", home('<a href="/other">คุณธรรมและความโปร่งใส (เก่า)</a>'
                                    '<a href="/ita"><img src="x.png" alt="การประเมิน ITA"></a>'
                                    '<a href="https://elsewhere.example/ita">ITA ของที่อื่น</a>'))
    result = check_site(site, TARGETS)
    assert result == SiteCheck("page", PAGE, ("การประเมิน ITA", "O42 มาตรการส่งเสริมคุณธรรม"))
    assert main_site.requests == ["/", "/other", "/ita"]  # another site's link is never followed


def test_a_link_to_the_pdf_or_a_snapshot_counts_and_says_which(main_site: MainSite) -> None:
    pdf = main_site.page("/pdf", home(f'<a href="{PAGE}.pdf">รายงาน (PDF)</a>'))
    snap = main_site.page("/snap", home(f'<a href="{PAGE}.pdf">PDF</a><a href="{PAGE}/snapshots/2">ฉบับส่ง ITAS</a>'))
    assert check_site(pdf, TARGETS) == SiteCheck("pdf", PAGE + ".pdf", ("รายงาน (PDF)",))
    assert check_site(snap, TARGETS) == SiteCheck("snapshot", PAGE + "/snapshots/2", ("ฉบับส่ง ITAS",))


def test_a_windows_874_page_is_read_in_thai(main_site: MainSite) -> None:
    """Older Thai sites declare windows-874 or TIS-620, names Python does not know: the text still reads right."""
    html = home(f'<a href="{PAGE}">ผลการดำเนินงาน ITA</a>')
    meta = main_site.page("/meta", ('<meta http-equiv="Content-Type" content="text/html; charset=windows-874">'
                                    + html).encode("cp874"), content_type="text/html")
    header = main_site.page("/tis", html.encode("cp874"), content_type="text/html; charset=TIS-620")
    bare = main_site.page("/bare", html.encode("cp874"), content_type="text/html")
    for site in (meta, header, bare):
        assert check_site(site, TARGETS).path == ("ผลการดำเนินงาน ITA",), site


def test_redirects_are_followed_up_to_five(main_site: MainSite) -> None:
    main_site.page("/home", home(f'<a href="{PAGE}">ITA</a>'))
    assert check_site(main_site.redirect("/", "/home", 301), TARGETS).found == "page"
    for n in range(7):
        main_site.redirect(f"/r{n}", f"/r{n + 1}")
    result = check_site(main_site.url + "/r0", TARGETS)
    assert result.found is None and "เกิน 5 ครั้ง" in result.problem
    elsewhere = check_site(main_site.redirect("/ftp", "ftp://files.example/"), TARGETS)
    assert "ไม่ใช่เว็บ" in elsewhere.problem


def test_a_site_that_cannot_be_read_gets_a_thai_reason(main_site: MainSite) -> None:
    assert "HTTP 404 (ไม่พบหน้า)" in check_site(main_site.url + "/gone", TARGETS).problem
    slow = main_site.page("/", b"", slow=True)
    assert "ไม่ตอบภายใน 0.3 วินาที" in check_site(slow, TARGETS, timeout=0.3).problem
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/"
    assert "ปฏิเสธการเชื่อมต่อ" in check_site(closed, TARGETS).problem
    pdf = main_site.page("/file.pdf", b"%PDF-1.4", content_type="application/pdf")
    assert "ไม่ใช่หน้าเว็บ" in check_site(pdf, TARGETS).problem
    assert "ไม่ใช่ที่อยู่เว็บ" in check_site("file:///etc/passwd", TARGETS).problem


def test_a_broken_menu_page_does_not_hide_a_working_one(main_site: MainSite) -> None:
    main_site.page("/ita-2", home(f'<a href="{PAGE}">รายงาน</a>'))
    site = main_site.page("/", home('<a href="/ita-1">ITA เดิม</a><a href="/ita-2">ITA</a>'))
    assert check_site(site, TARGETS) == SiteCheck("page", PAGE, ("ITA", "รายงาน"))
