"""An office's whole app mounted under a prefix (as the hosted service serves it at /o/<office>): every link, form,
redirect and cookie stays under the prefix and answers; the same app at the root gives the same URLs as before."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from werkzeug.test import Client, TestResponse

from ita_bot.schedule.plan_job import plan_message
from tests.chat_harness import ChatBot
from tests.conftest import SECRETARY, STAFF_SP
from tests.console.test_console_plans import OCT_2021, enter_2564_result
from tests.console_harness import Browser, Mounted, form_fields

PREFIX = "/o/alpha"
HOST = "https://ita.example.go.th"
#: Pages are read (their links followed) this many links away from the start pages; the links of the last ones are
#: still requested. The results and meeting pages link a year back and forth without end.
DEPTH = 3


class _Links(HTMLParser):
    """Every href, src and form action of a page, as written."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src", "action") and value is not None:
                self.links.append(value)


def links_of(response: TestResponse) -> list[str]:
    if "Location" in response.headers:
        return [response.headers["Location"]]
    if response.mimetype != "text/html":
        return []
    parser = _Links()
    parser.feed(response.get_data(as_text=True))
    return parser.links


def crawl(client: Client, starts: list[str], prefix: str) -> dict[str, list[str]]:
    """GET every page reachable from ``starts`` (DEPTH links away): {page: its links as written}. Asserts every link,
    resolved against its page, stays on the host and under ``prefix``, and answers (never a 404 nor a 500)."""
    pages: dict[str, list[str]] = {}
    answered: dict[str, int] = {}
    frontier = list(starts)
    for depth in range(DEPTH + 2):
        found: list[str] = []
        for path in frontier:
            if path in pages or (depth > DEPTH and path in answered):
                continue
            response = client.get(path, base_url=HOST)
            answered[path] = response.status_code
            assert response.status_code != 404 and response.status_code < 500, (path, response.status_code)
            if depth > DEPTH:
                continue
            pages[path] = links_of(response)
            for link in pages[path]:
                # The PDF is drawn by WeasyPrint, which starts a process: its address is checked by the slow
                # PDF tests (tests/publish/test_oit_page.py), like every other under the mount.
                if link.startswith("data:") or link.endswith(".pdf"):
                    continue
                target = urlsplit(urljoin(HOST + path, link))
                assert f"{target.scheme}://{target.netloc}" == HOST, (path, link)
                assert target.path == prefix or target.path.startswith(prefix + "/"), (path, link)
                found.append(target.path + (f"?{target.query}" if target.query else ""))
        frontier = found
    return pages


def assert_under(response: TestResponse, page: str, prefix: str = PREFIX) -> None:
    """Every link of an answer that is not a plain page (a form's answer) stays under ``prefix``."""
    links = [v for v in links_of(response) if not v.startswith(("data:", "#", "?"))]
    assert links, page
    for link in links:
        assert urlsplit(urljoin(HOST + page, link)).path.startswith(prefix + "/"), (page, link)


def _console_paths(pages: dict[str, list[str]], prefix: str) -> set[str]:
    return {p.split("?")[0] for p in pages if p.startswith(prefix + "/admin")}


@pytest.fixture
def mounted_bot(make_bot: Callable[..., ChatBot]) -> ChatBot:
    """The office's app whose links in chat name the prefix (the hosted service's base_url for the office), with a
    report with a photo in February 2021, then on 5 Oct 2021 a result, a drafted 2565 plan and an open role code."""
    bot = make_bot(web={"base_url": HOST + PREFIX, "public_evidence": True})
    bot.send("/ลงทะเบียน สป.", user=STAFF_SP, group=True)
    bot.send("/รายงาน 2 กำลังทำ 60% อัปเดตข้อมูลบนเว็บไซต์หลัก", user=STAFF_SP, group=True)
    bot.send_image(user=STAFF_SP, group=True)
    return bot


def test_every_console_and_public_link_stays_under_the_mount_and_answers(mounted_bot: ChatBot) -> None:
    bot = mounted_bot
    # The webhook answers under the prefix too: a signed event is taken and replied to.
    event = bot.text_event("/ช่วยเหลือ", user=STAFF_SP)
    body = bot.standin.webhook_body([event])
    mounted = Client(Mounted(bot.app, PREFIX))
    hook = mounted.post(f"{PREFIX}/callback", data=body, base_url=HOST,
                        headers={"Content-Type": "application/json", "X-Line-Signature": bot.standin.signature(body)})
    assert hook.status_code == 200
    bot.wait_idle()
    assert bot.replies_to(event)

    bot.now = OCT_2021
    browser = Browser(bot, mount=PREFIX)
    link = browser.ask_link()
    assert link.startswith(f"{HOST}{PREFIX}/admin/login/")
    signed = browser.open(link)
    assert signed.status_code == 303 and signed.headers["Location"] == f"{PREFIX}/admin"
    assert f"Path={PREFIX}/admin" in signed.headers["Set-Cookie"]

    # Forms post under the prefix (the CSRF token and Referer check pass) and lead back under it.
    entered = enter_2564_result(browser)
    assert entered.status_code == 303 and entered.headers["Location"] == f"{PREFIX}/admin/draft?fy=2565"
    drafted = browser.submit("/admin/draft?fy=2565", {"suggestions-0-divisions": ["sp"]})
    assert drafted.status_code == 303 and drafted.headers["Location"] == f"{PREFIX}/admin/plans/2565"
    filled = browser.submit("/admin/plans/2565/committee", {"order": "๑๒/๒๕๖๔"})
    assert filled.status_code == 303 and filled.headers["Location"].startswith(f"{PREFIX}/admin/plans/2565/"), (
        filled.headers["Location"])
    assert "#fill-" in filled.headers["Location"]  # the next item the draft left to fill, under the prefix
    coded = browser.submit("/admin/members", {"role": "member"}, action="/admin/members/code")
    assert coded.status_code == 200 and f'action="{PREFIX}/admin/members/code/revoke"' in coded.get_data(as_text=True)
    # The pages only a form's answer shows: confirming a removal or an undo, an upload for a year without a plan.
    removing = browser.submit("/admin/members", action="/admin/members/remove")
    assert removing.status_code == 200 and "ยืนยันการลบ" in removing.get_data(as_text=True)
    assert_under(removing, f"{PREFIX}/admin/members/remove")
    history = browser.html("/admin/history")
    [undo, *_] = re.findall(r'action="/o/alpha(/admin/history/\d+/undo)"', history)
    undoing = browser.submit("/admin/history", action=undo)
    assert undoing.status_code == 200 and "ยืนยันย้อนกลับ" in undoing.get_data(as_text=True)
    assert_under(undoing, PREFIX + undo)
    upload = browser.post("/admin/plans/2567/file", {"toml": ""}, page="/admin/plans")
    assert upload.status_code == 400
    assert_under(upload, f"{PREFIX}/admin/plans/2567/file")

    starts = ["/admin", "/admin/year/2567", "/reports", "/reports/2564", "/reports/2564/2021-02"]
    under = crawl(browser.client, [PREFIX + s for s in starts], PREFIX)
    # Every kind of console page was reached: the crawl is not trivially short.
    reached = _console_paths(under, PREFIX)
    for path in ("/admin", "/admin/plans", "/admin/plans/2565", "/admin/plans/2564/committee", "/admin/year/2564",
                 "/admin/results", "/admin/draft", "/admin/members", "/admin/meetings", "/admin/history",
                 "/admin/plans/2564/file", "/admin/year/2567"):
        assert PREFIX + path in reached, path
    assert any(link.startswith(f"{PREFIX}/admin/evidence/2564/") for link in under[f"{PREFIX}/admin/year/2564"])
    assert any(f"{PREFIX}/reports/2564/evidence/" in link for link in under[f"{PREFIX}/reports/2564"])

    # The same app at the root, signed in the same way: the same pages, and each link is the prefixed one without
    # its prefix (so the unprefixed app's URLs are what they were).
    root = Browser(bot)
    assert root.open(link.replace(PREFIX, "", 1)).status_code == 410  # one link, one sign-in
    signed_root = root.open(root.ask_link().replace(PREFIX, "", 1))
    assert signed_root.status_code == 303 and signed_root.headers["Location"] == "/admin"
    assert "Path=/admin;" in signed_root.headers["Set-Cookie"]
    bare = crawl(root.client, starts, "")
    assert {PREFIX + p for p in bare} == set(under)
    for page, links in bare.items():
        assert [PREFIX + v if v.startswith("/") else v for v in links] == under[PREFIX + page], page
    assert 'href="/admin/plans"' in root.html("/admin") and 'action="/admin/logout"' in root.html("/admin")


def test_redirects_errors_and_kept_input_under_the_mount(mounted_bot: ChatBot) -> None:
    bot = mounted_bot
    stranger = Browser(bot, mount=PREFIX)
    asked = stranger.get("/admin/plans")
    assert asked.status_code == 303 and asked.headers["Location"] == f"{PREFIX}/admin/login"
    # A form sent without a session keeps what was typed, to be sent again to the same address under the prefix.
    kept = stranger.client.post(f"{PREFIX}/admin/meetings?fy=2564", data={"day": "2021-02-20"}, base_url=HOST,
                                headers={"Referer": f"{HOST}{PREFIX}/admin/meetings"})
    html = kept.get_data(as_text=True)
    assert kept.status_code == 400 and f'action="{PREFIX}/admin/meetings?fy=2564"' in html
    # Unknown console addresses: the console's Thai page (request.path is the path inside the app).
    unknown = stranger.get("/admin/no-such-page")
    assert unknown.status_code == 404 and "ไม่พบหน้าที่ต้องการ" in unknown.get_data(as_text=True)
    assert unknown.headers["Cache-Control"] == "no-store"
    assert f'href="{PREFIX}/admin"' in unknown.get_data(as_text=True)
    assert stranger.get("/reports").headers["Location"] == f"{PREFIX}/reports/2564"
    missing = stranger.get("/reports/no-such-year")
    assert missing.status_code == 404 and f'href="{PREFIX}/reports"' in missing.get_data(as_text=True)

    browser = Browser(bot, mount=PREFIX)
    browser.sign_in()
    assert browser.get("/admin/login").headers["Location"] == f"{PREFIX}/admin"  # signed in already
    out = browser.post("/admin/logout", page="/admin")
    assert out.status_code == 303 and out.headers["Location"] == f"{PREFIX}/admin/signed-out"
    assert f"Path={PREFIX}/admin" in out.headers["Set-Cookie"]  # the cookie that was set is the one cleared
    assert browser.get("/admin").status_code == 303
    # A stale sign-out button (no token) still signs out, under the prefix.
    stale = browser.client.post(f"{PREFIX}/admin/logout", base_url=HOST, headers={"Referer": f"{HOST}{PREFIX}/admin"})
    assert stale.headers["Location"] == f"{PREFIX}/admin/signed-out"


def test_links_made_outside_a_request_carry_the_office_prefix_once(mounted_bot: ChatBot) -> None:
    bot = mounted_bot
    links = re.findall(r"https?://\S+", bot.send("/ส่งออก ก.พ.", user=SECRETARY).text)
    assert f"{HOST}{PREFIX}/reports/2564/2021-02" in links and f"{HOST}{PREFIX}/reports/2564" in links
    mounted = Client(Mounted(bot.app, PREFIX))
    for link in links:
        assert link.startswith(HOST + PREFIX + "/") and PREFIX + PREFIX not in link, link
        assert mounted.get(urlsplit(link).path, base_url=HOST).status_code == 200, link
    assert f"({HOST}{PREFIX}/admin)" in plan_message(bot.office, 2565, True)
    fields = form_fields('<form method="post" action="/o/alpha/admin/logout"></form>'
                         '<form method="post" action="/o/alpha/admin/x"><input name="a" value="1"></form>')
    assert fields.to_dict() == {"a": "1"}  # the harness skips the header's sign-out form under a prefix too
