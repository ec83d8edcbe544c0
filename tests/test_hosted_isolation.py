"""Two offices served by one hosted service: nothing one office issued (a signed webhook, a sign-in link, a session,
an evidence id, a plan, a report) opens anything of the other; each cross-office attempt gets a stranger's answer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from ita_bot.chat.webhook import MAX_BODY
from ita_bot.domain.offices import OfficeRecord
from ita_bot.domain.reports import Report
from ita_bot.domain.thai import BANGKOK
from ita_bot.line_standin import LineStandIn
from ita_bot.service import Service
from ita_bot.service.web import HostedApp, create_hosted_app
from tests.conftest import PLAN_2564, SECRETARY, STAFF_SP
from tests.console_harness import csrf_token, link_in
from tests.publish.test_pages import TINY_PNG

pytestmark = pytest.mark.backends("tinydb", "postgresql")

HOST = "https://ita.example.go.th"
SERVICE_KEY = "service-key-for-tests-" + "k" * 32
NOW = datetime(2021, 2, 20, 10, 0, tzinfo=BANGKOK)  # fiscal year 2564, the February 2021 cycle
A_DETAILS = "รายงานของสำนักงานเอเท่านั้น"


@dataclass(frozen=True)
class Channel:
    slug: str
    secret: str
    bot_user_id: str


def _sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def _answer(response: TestResponse) -> tuple[str, bytes, list[tuple[str, str]]]:
    """An answer as a client sees it: status line, body and every header."""
    return response.status, response.get_data(), sorted(response.headers.items())


class Hosted:
    """One HostedApp over a Service with two joined offices (A and B), and a browser per test."""

    def __init__(self, service: Service, app: HostedApp, standin: LineStandIn, a: Channel, b: Channel) -> None:
        self.service, self.app, self.standin, self.a, self.b = service, app, standin, a, b
        self.client = Client(app)
        self._at = NOW

    def browser(self) -> Client:
        return Client(self.app)

    def webhook(self, slug: str, events: list[dict[str, Any]], *, secret: str | None, destination: str,
                signature: str | None = None) -> TestResponse:
        body = json.dumps({"destination": destination, "events": events}, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if signature is not None:
            headers["X-Line-Signature"] = signature
        elif secret is not None:
            headers["X-Line-Signature"] = _sign(secret, body)
        return self.client.post(f"/o/{slug}/callback", data=body, headers=headers, base_url=HOST)

    def say(self, office: Channel, text: str, user: str = SECRETARY) -> str:
        """A person writes 1:1 to the office's bot through its webhook; the bot's reply text."""
        self._at += timedelta(seconds=1)
        event = self.standin.text_event(text, user_id=user, timestamp=self._at)
        assert self.webhook(office.slug, [event], secret=office.secret, destination=office.bot_user_id
                            ).status_code == 200
        app = self.app.office_app(office.slug)
        assert app is not None and app.extensions["ita_bot"].journal.wait_idle(10)
        return "\n".join(m.get("text", "") for r in self.standin.replies()
                         if r.get("replyToken") == event["replyToken"] for m in r["messages"])

    def sign_in_link(self, office: Channel) -> str:
        """The office's secretary claims the role with the code the wizard showed, then asks for a console link."""
        code, _ = self.service.office(office.slug).people.issue_code("secretary", None, NOW)
        assert "เรียบร้อยแล้ว" in self.say(office, f"/รหัส {code}")
        link = link_in(self.say(office, "/จัดการ"))
        assert link and link.startswith(f"{HOST}/o/{office.slug}/admin/login/"), link
        return link

    def signed_in(self, office: Channel) -> Client:
        browser = self.browser()
        response = browser.get(self.sign_in_link(office).removeprefix(HOST), base_url=HOST)
        assert response.status_code == 303 and response.headers["Location"] == f"/o/{office.slug}/admin"
        return browser


def _channel(prefix: str) -> Channel:
    return Channel(f"{prefix}-{secrets.token_hex(4)}", secrets.token_hex(16), "U" + secrets.token_hex(16))


def _register(service: Service, channel: Channel, name: str, *, joined: bool = True, disabled: bool = False) -> None:
    service.registry.add(OfficeRecord(
        slug=channel.slug, name=name, created_at=NOW, disabled=disabled,
        channel_id=str(2_000_000_000 + secrets.randbelow(10**8)) if joined else "",
        sealed_secret=service.key.seal(channel.secret) if joined else "",
        sealed_token=service.key.seal("token-" + secrets.token_hex(8)) if joined else "",
        bot_user_id=channel.bot_user_id if joined else "", joined_at=NOW if joined else None))


@pytest.fixture
def hosted(standin: LineStandIn, make_config: Callable[..., Any]) -> Iterator[Hosted]:
    config = make_config(service={"hosted": True}, web={"base_url": HOST, "public_evidence": True})
    service = Service(config, env={"ITA_BOT_SECRET_KEY": SERVICE_KEY}, now=lambda: NOW)
    a, b = _channel("alpha"), _channel("bravo")
    _register(service, a, "องค์การบริหารส่วนตำบลเอ")
    _register(service, b, "องค์การบริหารส่วนตำบลบี")
    app = create_hosted_app(config, service=service)
    try:
        yield Hosted(service, app, standin, a, b)
    finally:
        app.close()


def test_a_webhook_for_one_office_is_refused_by_every_other_as_a_bad_signature(hosted: Hosted) -> None:
    a, b = hosted.a, hosted.b
    event = hosted.standin.text_event("/ช่วยเหลือ", user_id=STAFF_SP, timestamp=NOW)
    # B's own answers to a stranger: a wrong signature, and none.
    wrong = _answer(hosted.webhook(b.slug, [event], secret="not-the-secret", destination=b.bot_user_id))
    missing = _answer(hosted.webhook(b.slug, [event], secret=None, destination=b.bot_user_id))
    assert wrong[0].startswith("400") and missing[0].startswith("400") and wrong != missing

    # A's webhook (A's secret, A's bot) sent to B; A's bot named in a body B's secret signs.
    assert _answer(hosted.webhook(b.slug, [event], secret=a.secret, destination=a.bot_user_id)) == wrong
    assert _answer(hosted.webhook(b.slug, [event], secret=b.secret, destination=a.bot_user_id)) == wrong
    assert _answer(hosted.webhook(a.slug, [event], secret=a.secret, destination=b.bot_user_id)) == wrong

    # Offices the service does not serve answer exactly as B did: unknown, disabled, not yet joined.
    disabled, waiting = _channel("charlie"), _channel("delta")
    _register(hosted.service, disabled, "ปิดใช้งาน", disabled=True)
    _register(hosted.service, waiting, "ยังไม่เชื่อมต่อ", joined=False)
    for slug, channel in (("nobody-here", a), (disabled.slug, disabled), (waiting.slug, waiting)):
        assert _answer(hosted.webhook(slug, [event], secret=channel.secret, destination=channel.bot_user_id)) == wrong
        assert _answer(hosted.webhook(slug, [event], secret="not-the-secret", destination=channel.bot_user_id)
                       ) == wrong, slug
        assert _answer(hosted.webhook(slug, [event], secret=None, destination=channel.bot_user_id)) == missing, slug
    # A body too large for any office: refused before any secret is used, the same way everywhere.
    big = b"{" + b" " * MAX_BODY + b"}"
    headers = {"Content-Type": "application/json", "X-Line-Signature": "c2lnbmF0dXJl"}
    too_large = [_answer(hosted.client.post(f"/o/{slug}/callback", data=big, headers=headers, base_url=HOST))
                 for slug in (b.slug, "nobody-here", disabled.slug)]
    assert too_large[0][0].startswith("413") and too_large[1] == too_large[0] == too_large[2]
    # None of it was taken: B's journal holds nothing and nobody was answered.
    app_b = hosted.app.office_app(b.slug)
    assert app_b is not None and app_b.extensions["ita_bot"].journal.pending() == 0
    assert hosted.standin.replies() == []
    # The control: A's own webhook is taken.
    assert hosted.webhook(a.slug, [event], secret=a.secret, destination=a.bot_user_id).status_code == 200


def test_a_sign_in_link_and_a_session_open_only_their_own_office(hosted: Hosted) -> None:
    a, b = hosted.a, hosted.b
    b_browser = hosted.signed_in(b)  # the same person is a manager of both offices
    link = hosted.sign_in_link(a)
    token = link.rsplit("/", 1)[1]
    stranger = hosted.browser()
    in_b = stranger.get(f"/o/{b.slug}/admin/login/{token}", base_url=HOST)
    unknown = stranger.get(f"/o/{b.slug}/admin/login/{secrets.token_urlsafe(32)}", base_url=HOST)
    assert in_b.status_code == 404 and _answer(in_b) == _answer(unknown)
    assert "Set-Cookie" not in in_b.headers
    # B did not spend it: it still signs in to A, once.
    a_browser = hosted.browser()
    signed = a_browser.get(link.removeprefix(HOST), base_url=HOST)
    assert signed.status_code == 303 and signed.headers["Location"] == f"/o/{a.slug}/admin"
    assert f"Path=/o/{a.slug}/admin;" in signed.headers["Set-Cookie"]
    assert a_browser.get(f"/o/{a.slug}/admin", base_url=HOST).status_code == 200

    # A's cookie is never sent to B; sent anyway, B reads no session from it.
    cookie = a_browser.get_cookie("ita_console", domain="ita.example.go.th", path=f"/o/{a.slug}/admin")
    assert cookie is not None
    assert a_browser.get(f"/o/{b.slug}/admin", base_url=HOST).headers["Location"] == f"/o/{b.slug}/admin/login"
    thief = hosted.browser()
    thief.set_cookie("ita_console", cookie.value, domain="ita.example.go.th", path=f"/o/{b.slug}/admin")
    stolen = thief.get(f"/o/{b.slug}/admin", base_url=HOST)
    fresh = hosted.browser().get(f"/o/{b.slug}/admin", base_url=HOST)
    assert stolen.status_code == 303 and stolen.headers["Location"] == fresh.headers["Location"]
    # B's own session is untouched by all this.
    assert b_browser.get(f"/o/{b.slug}/admin", base_url=HOST).status_code == 200


def _add_report_with_evidence(hosted: Hosted) -> Report:
    office = hosted.service.office(hosted.a.slug)
    report = Report(2564, 1, "sp", "doing", 50, A_DETAILS, NOW, NOW, chat_id="C" + "0" * 32,
                    reporter_id=STAFF_SP, reporter_name="สมชาย เอ")
    office.reports.add(report)
    rel = f"2564/{report.id}/1.png"
    office.repositories.evidence.save(rel, TINY_PNG)
    return office.reports.attach_evidence(2564, report.id, {"file": rel, "kind": "image", "name": "photo.png",
                                                            "content_type": "image/png"})


def test_plans_reports_and_evidence_stay_in_their_office(hosted: Hosted) -> None:
    a, b = hosted.a, hosted.b
    a_browser = hosted.signed_in(a)
    # A's secretary uploads A's plan in A's console; B has none.
    token = csrf_token(a_browser.get(f"/o/{a.slug}/admin/plans", base_url=HOST).get_data(as_text=True))
    uploaded = a_browser.post(f"/o/{a.slug}/admin/plans/2564/file", base_url=HOST,
                              data={"csrf_token": token, "toml": PLAN_2564.read_text(encoding="utf-8")},
                              headers={"Referer": f"{HOST}/o/{a.slug}/admin/plans"})
    assert uploaded.status_code == 303, uploaded.get_data(as_text=True)[-1500:]
    report = _add_report_with_evidence(hosted)
    evidence = f"2564/evidence/{report.id}/1"
    assert hosted.client.get(f"/o/{a.slug}/reports/{evidence}", base_url=HOST).data == TINY_PNG
    assert A_DETAILS in hosted.client.get(f"/o/{a.slug}/reports/2564", base_url=HOST).get_data(as_text=True)

    b_browser = hosted.signed_in(b)
    other = f"2564/evidence/{secrets.token_hex(16)}/1"
    # A's evidence id under B: B's answer to an id it never issued, public and private.
    public = hosted.client.get(f"/o/{b.slug}/reports/{evidence}", base_url=HOST)
    assert public.status_code == 404
    assert _answer(public) == _answer(hosted.client.get(f"/o/{b.slug}/reports/{other}", base_url=HOST))
    private = b_browser.get(f"/o/{b.slug}/admin/evidence/2564/{report.id}/1", base_url=HOST)
    private_other = b_browser.get(f"/o/{b.slug}/admin/evidence/2564/{secrets.token_hex(16)}/1", base_url=HOST)
    assert private.status_code == 404 and _answer(private) == _answer(private_other)

    # A's plan year under B, which has no plan: B's "no plan yet", nothing of A's.
    b_year = hosted.client.get(f"/o/{b.slug}/reports/2564", base_url=HOST)
    assert b_year.status_code == 404
    b_console_year = b_browser.get(f"/o/{b.slug}/admin/year/2564", base_url=HOST)
    assert b_console_year.status_code == 200 and "ยังไม่มีแผน" in b_console_year.get_data(as_text=True)
    # A's report appears in none of B's pages, feeds or files.
    a_marks = (A_DETAILS, report.id, "สมชาย เอ", "องค์การบริหารส่วนตำบลเอ")
    public_paths = ["/reports", "/reports/2564", "/reports/2564.json", "/reports/2564/2021-02",
                    "/reports/2564/2021-02.json", "/reports/2564/2021-02.csv", "/healthz"]
    console_paths = ["/admin", "/admin/year/2564", "/admin/plans", "/admin/members", "/admin/history",
                     "/admin/meetings", "/admin/results", "/admin/draft"]
    for path in public_paths:
        body = hosted.client.get(f"/o/{b.slug}{path}", base_url=HOST).get_data(as_text=True)
        assert not any(mark in body for mark in a_marks), path
    for path in console_paths:
        response = b_browser.get(f"/o/{b.slug}{path}", base_url=HOST)
        assert response.status_code == 200, (path, response.status_code)
        body = response.get_data(as_text=True)
        assert not any(mark in body for mark in a_marks), path
        assert not re.search(rf"/o/{a.slug}\b", body), path
    assert hosted.service.office(b.slug).reports.all(2564) == []
