"""The onboarding wizard over real HTTP: the secretary's one-time link, the three LINE values, LINE's checks through
the stand-in (bot info, webhook set and tested against this very server, rich menus), the first secretary code."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from ita_bot.domain.offices import ONBOARDING_TTL
from ita_bot.domain.thai import format_duration
from ita_bot.line_standin import Channel, LineStandIn
from ita_bot.service import UnknownOffice
from tests.conftest import SECRET, SECRETARY, TOKEN
from tests.service.onboarding_site import KEY, OFFICE_NAME, Site, csrf_of, past

CODE = re.compile(r'<p class="code" id="code">([A-Z0-9]+)</p>')
GONE = "ลิงก์เชื่อมบัญชีนี้ใช้ไม่ได้"
WRONG_SECRET = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def standin() -> Iterator[LineStandIn]:
    """A LINE stand-in whose every channel has its own token, so that a wrong token is refused as LINE does
    (the shared fixture's default channel takes any token)."""
    with LineStandIn(SECRET, access_token=TOKEN) as s:
        yield s


@pytest.fixture
def site(tmp_path: Path, standin: LineStandIn, storage_backend: dict[str, str]) -> Iterator[Site]:
    s = Site(tmp_path / "service", standin, storage_backend)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def channel(standin: LineStandIn) -> Channel:
    """The office's own Messaging API channel, as the secretary made it in the LINE Developers console."""
    return standin.add_channel(name="อบต.หนองเมือง")


def error_of(html: str, field: str) -> str:
    """The Thai message the page shows under one field ("" when none)."""
    found = re.search(rf'<div class="error" id="{field}-error" role="alert">(.*?)</div>', html, re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1)).strip() if found else ""


def post(session: requests.Session, link: str, **fields: str) -> requests.Response:
    """Open the link, then post the form with its CSRF token (as the browser does)."""
    page = session.get(link)
    assert page.status_code == 200, page.text[-1500:]
    return session.post(link, data={"csrf_token": csrf_of(page.text), **fields})


def credentials(channel: Channel, **changes: str) -> dict[str, str]:
    values = {"channel_id": channel.channel_id, "channel_secret": channel.channel_secret,
              "access_token": channel.access_token or ""}
    return {**values, **changes}


def stored_text(site: Site, slug: str) -> str:
    """The registry's record as it lies in the store (the TinyDB file, or the PostgreSQL row)."""
    if site.config.database_url:
        with psycopg.connect(site.config.database_url) as conn:
            row = conn.execute("SELECT data::text FROM offices WHERE slug = %s", (slug,)).fetchone()
        assert row is not None
        return str(row[0])
    return (site.config.db_path.parent / "offices.json").read_text(encoding="utf-8")


@pytest.mark.backends("tinydb", "postgresql")
def test_right_token_and_secret_join_the_office(site: Site, standin: LineStandIn, channel: Channel,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    slug, link = site.register()
    session = requests.Session()

    page = session.get(link)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "<h1>เชื่อมบัญชี LINE" in page.text and f"ของ{OFFICE_NAME}</span></h1>" in page.text
    assert 'lang="th"' in page.text
    assert f"{site.base_url}/o/{slug}/callback" in page.text

    joined = session.post(link, data={"csrf_token": csrf_of(page.text), **credentials(channel)})
    assert joined.status_code == 200, joined.text[-2500:]
    assert "เรียบร้อยแล้ว" in joined.text and "“อบต.หนองเมือง”" in joined.text
    found = CODE.search(joined.text)
    assert found, joined.text[-2500:]
    code = found.group(1)
    assert f"/รหัส {code}" in joined.text
    assert "Use webhook" not in joined.text  # LINE says the channel's webhook is switched on

    # The record: joined, its channel's credentials sealed with the service key, never in clear in the store.
    record = site.record(slug)
    assert record.joined and not record.stateless and record.joined_at is not None
    assert record.onboarding_hash == "" and record.onboarding_expires is None
    assert record.channel_id == channel.channel_id and record.bot_user_id == channel.bot_user_id
    assert record.bot_name == "อบต.หนองเมือง"
    assert site.service.key.open(record.sealed_secret) == channel.channel_secret
    assert site.service.key.open(record.sealed_token) == channel.access_token
    stored = stored_text(site, slug)
    assert record.sealed_secret in stored
    assert channel.channel_secret not in stored and str(channel.access_token) not in stored
    assert KEY not in stored

    # LINE's side: the webhook points at the office's own callback, and both menus were made by its channel.
    assert standin.webhook_endpoint(channel) == f"{site.base_url}/o/{slug}/callback"
    made = [c.response["richMenuId"] for c in standin.calls_for(channel)
            if c.method == "POST" and c.path == "/v2/bot/richmenu" and c.status == 200 and c.response]
    assert len(made) == 2 and {m["richMenuId"] for m in standin.rich_menus()} == set(made)
    assert standin.default_rich_menu in made

    # The link is spent: it shows the same page as any unknown link, and the code is not shown again.
    again = session.get(link)
    assert again.status_code == 404 and GONE in again.text and code not in again.text

    # The code works in the new channel: the secretary claims it 1:1 and is answered by that channel.
    standin.add_user(SECRETARY, "เลขาทดสอบ")
    event = standin.text_event(f"/รหัส {code}", user_id=SECRETARY)
    assert standin.deliver(None, [event], channel=channel) == 200
    assert standin.wait_for(lambda s: any(r["replyToken"] == event["replyToken"] for r in s.replies(channel)),
                            timeout=10)
    reply = next(r for r in standin.replies(channel) if r["replyToken"] == event["replyToken"])
    assert "เลขานุการ" in reply["messages"][0]["text"]
    assert standin.replies(standin.default_channel) == []

    # Nothing secret reached a log line of the service's (the test's own HTTP client logs its URLs).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("urllib3"))
    for secret in (channel.channel_secret, str(channel.access_token), KEY, link.rsplit("/", 1)[1]):
        assert secret not in logged


def test_a_wrong_token_is_refused_on_its_field_and_nothing_is_kept(site: Site, standin: LineStandIn,
                                                                   channel: Channel) -> None:
    slug, link = site.register()
    before = site.record(slug)
    session = requests.Session()
    refused = post(session, link, **credentials(channel, access_token="x" * 60))
    assert refused.status_code == 400
    assert "Channel access token" in error_of(refused.text, "access_token")
    assert "LINE ไม่รับ" in error_of(refused.text, "access_token")
    assert error_of(refused.text, "channel_secret") == "" and error_of(refused.text, "channel_id") == ""
    assert channel.channel_secret not in refused.text  # the pasted secret is not sent back
    assert site.record(slug) == before and standin.webhook_endpoint(channel) == ""
    assert session.get(link).status_code == 200  # the link still opens


def test_a_revoked_token_is_refused_too(site: Site, standin: LineStandIn, channel: Channel) -> None:
    slug, link = site.register()
    before = site.record(slug)
    standin.revoke_token(channel)
    refused = post(requests.Session(), link, **credentials(channel))
    assert refused.status_code == 400 and "ถูกยกเลิก" in error_of(refused.text, "access_token")
    assert site.record(slug) == before


def test_a_token_with_another_channels_secret_fails_the_webhook_test(site: Site, standin: LineStandIn,
                                                                     channel: Channel) -> None:
    slug, link = site.register()
    before = site.record(slug)
    session = requests.Session()
    refused = post(session, link, **credentials(channel, channel_secret=WRONG_SECRET))
    assert refused.status_code == 400, refused.text[-2000:]
    message = error_of(refused.text, "channel_secret")
    assert "Channel secret" in message and "Webhook" in message
    assert error_of(refused.text, "access_token") == ""
    # LINE really did test the webhook, and this server refused its signature.
    tests = [c for c in standin.calls_for(channel) if c.path == "/v2/bot/channel/webhook/test"]
    assert len(tests) == 1 and tests[0].response is not None and tests[0].response["statusCode"] == 400
    assert site.record(slug) == before
    with pytest.raises(UnknownOffice):  # not served
        site.service.record(slug)

    # Pasting the right secret then joins.
    joined = post(session, link, **credentials(channel))
    assert joined.status_code == 200 and CODE.search(joined.text), joined.text[-2000:]
    assert site.record(slug).joined


def test_a_channel_another_office_joined_with_is_refused(site: Site, standin: LineStandIn, channel: Channel) -> None:
    first_slug, first = site.register()
    assert post(requests.Session(), first, **credentials(channel)).status_code == 200
    joined = site.record(first_slug)
    slug, link = site.register(name="เทศบาลตำบลทดลอง")
    before = site.record(slug)
    refused = post(requests.Session(), link, **credentials(channel))
    assert refused.status_code == 400 and "หน่วยงานอื่น" in error_of(refused.text, "channel_id")
    assert OFFICE_NAME not in refused.text  # which office has it is not told
    assert site.record(slug) == before and site.record(first_slug) == joined
    assert standin.webhook_endpoint(channel) == f"{site.base_url}/o/{first_slug}/callback"


def test_a_stateless_channel_joins_with_its_id_and_secret(site: Site, standin: LineStandIn,
                                                          channel: Channel) -> None:
    slug, link = site.register()
    joined = post(requests.Session(), link, **credentials(channel, access_token=""))
    assert joined.status_code == 200 and CODE.search(joined.text), joined.text[-2500:]
    record = site.record(slug)
    assert record.joined and record.stateless and record.sealed_token == ""
    assert site.service.key.open(record.sealed_secret) == channel.channel_secret
    assert standin.webhook_endpoint(channel) == f"{site.base_url}/o/{slug}/callback"
    issued = [c for c in standin.calls_for(channel) if c.path == "/oauth2/v3/token" and c.status == 200]
    assert issued, "the wizard authenticated with a stateless token"


@pytest.mark.parametrize("changes", [{"channel_secret": WRONG_SECRET}, {"channel_id": "1234567"}],
                         ids=["wrong-secret", "wrong-id"])
def test_a_stateless_channel_with_a_wrong_pair_is_told_on_the_secret_field(
        site: Site, standin: LineStandIn, channel: Channel, changes: dict[str, str]) -> None:
    slug, link = site.register()
    before = site.record(slug)
    refused = post(requests.Session(), link, **credentials(channel, access_token="", **changes))
    assert refused.status_code == 400, refused.text[-2000:]
    assert "Channel secret" in error_of(refused.text, "channel_secret")
    assert error_of(refused.text, "access_token") == ""
    assert site.record(slug) == before and standin.webhook_endpoint(channel) == ""


def test_values_of_the_wrong_shape_are_told_before_asking_line(site: Site, standin: LineStandIn,
                                                               channel: Channel) -> None:
    _, link = site.register()
    refused = post(requests.Session(), link, channel_id="abc", channel_secret="short", access_token="")
    assert refused.status_code == 400
    assert "ตัวเลข" in error_of(refused.text, "channel_id")
    assert "32 ตัว" in error_of(refused.text, "channel_secret")
    assert standin.calls_for(channel) == []


def test_an_expired_and_an_unknown_link_show_the_same_404(site: Site, standin: LineStandIn,
                                                         channel: Channel) -> None:
    expired_slug, expired = site.register(expires=past())
    _, unknown = site.register()
    unknown = unknown.rsplit("/", 1)[0] + "/" + "A" * 43
    session = requests.Session()
    first, second = session.get(expired), session.get(unknown)
    assert first.status_code == second.status_code == 404
    assert first.text == second.text and GONE in first.text and OFFICE_NAME not in first.text
    # The link's lifetime said from its constant, as every other window is (it read "3 วัน" from a floor division).
    assert f"ใช้ได้ {format_duration(ONBOARDING_TTL)}นับจากเวลาที่ออกลิงก์" in first.text
    # Posting to it with a good form token (from another office's open link) does nothing either.
    _, open_link = site.register()
    token = csrf_of(session.get(open_link).text)
    refused = session.post(expired, data={"csrf_token": token, **credentials(channel)})
    assert refused.status_code == 404 and GONE in refused.text
    assert not site.record(expired_slug).joined and standin.calls_for(channel) == []


def test_a_disabled_office_link_is_gone(site: Site) -> None:
    slug, link = site.register()
    site.service.registry.update(slug, disabled=True)
    assert requests.get(link).status_code == 404


def test_a_post_without_the_form_token_is_refused(site: Site, standin: LineStandIn, channel: Channel) -> None:
    slug, link = site.register()
    before = site.record(slug)
    session = requests.Session()
    session.get(link)  # a session cookie, but no token in the post
    bare = session.post(link, data=credentials(channel))
    assert bare.status_code == 400 and "ยังไม่ได้บันทึก" in bare.text
    # A token from another browser's session does not pass either.
    token = csrf_of(requests.Session().get(link).text)
    foreign = session.post(link, data={"csrf_token": token, **credentials(channel)})
    assert foreign.status_code == 400
    assert site.record(slug) == before and standin.calls_for(channel) == []


def test_service_pages_answer_in_thai(site: Site) -> None:
    missing = requests.get(site.base_url + "/nothing-here")
    assert missing.status_code == 404 and "ไม่พบหน้านี้" in missing.text
    health = requests.get(site.base_url + "/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"

