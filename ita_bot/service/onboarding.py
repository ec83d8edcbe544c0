"""The onboarding wizard: an office's secretary joins the service from the one-time link, in Thai, in a browser."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, current_app, make_response, render_template
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import Optional, Regexp

from ita_bot.chat.richmenus import install
from ita_bot.domain.actions import ADMINISTRATOR, Actor, ManagerActions
from ita_bot.domain.offices import ONBOARDING_TTL, OfficeRecord, token_hash
from ita_bot.domain.people import CODE_TTL
from ita_bot.domain.roles import COMMITTEE, Role
from ita_bot.domain.thai import BANGKOK, ThaiFormat
from ita_bot.line.client import LineApiError, LineClient, LineRefused
from ita_bot.service import PAGE_HEADERS, SERVICE_KEY, Service

__all__ = ["VIA_ONBOARDING", "bp"]

log = logging.getLogger(__name__)


#: How the change history names what the wizard did (the first secretary's code).
VIA_ONBOARDING = "การเชื่อมบัญชี LINE ครั้งแรก"

bp = Blueprint("onboarding", __name__, url_prefix="/onboard", template_folder="templates")


class ChannelForm(FlaskForm):
    """The three values the secretary copies from the LINE Developers console."""

    channel_id = StringField("Channel ID", validators=[Regexp(r"^\s*\d{6,20}\s*$", message=(
        "Channel ID ต้องเป็นตัวเลข (ดูได้ที่แท็บ Basic settings ของ channel)"))])
    channel_secret = PasswordField("Channel secret", validators=[Regexp(r"^\s*[0-9a-fA-F]{32}\s*$", message=(
        "Channel secret ต้องเป็นตัวอักษร 0-9 และ a-f จำนวน 32 ตัว (ดูได้ที่แท็บ Basic settings)"))])
    access_token = PasswordField("Channel access token (long-lived)", validators=[Optional(), Regexp(
        r"^\s*[A-Za-z0-9+/=._-]{20,400}\s*$", message="Channel access token ไม่อยู่ในรูปแบบที่ถูกต้อง")])


@dataclass(frozen=True)
class Joined:
    """What the last page shows once: the secretary's role code and where things are."""

    code: str
    code_until: str
    bot_name: str
    menus_hint: str  # "" when the menus were installed
    webhook_active: bool | None  # LINE's "Use webhook" switch, which only the channel's owner can turn on


class Refused(Exception):
    """A step failed in a way the secretary can fix: the field to fix (or "") and a Thai sentence."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _service() -> Service:
    service: Service = current_app.extensions[SERVICE_KEY]
    return service


def _now() -> datetime:
    clock = _service().now
    return (clock() if clock is not None else datetime.now(BANGKOK)).astimezone(BANGKOK)


def _record_for(token: str) -> OfficeRecord:
    """The office the link was issued for, while the link still opens; 404 otherwise (never says which)."""
    wanted = token_hash(token)
    now = _now()
    for record in _service().registry.all():
        if record.onboarding_hash == wanted and record.onboarding_open(now) and not record.disabled:
            return record
    # Unknown, expired, used or disabled: one page for all, so a guessed token learns nothing.
    abort(make_response(_page("gone.html", 404, valid_for=ONBOARDING_TTL)))


def _page(template: str, status: int = 200, **context: Any) -> Any:
    fmt = ThaiFormat("arabic")
    html = render_template(f"service/{template}", fmt=fmt, **context)
    return html, status, PAGE_HEADERS


@bp.get("/<token>")
def start(token: str) -> Any:
    record = _record_for(token)
    webhook = _service().webhook_url(record.slug)
    return _page("onboard.html", record=record, form=ChannelForm(), webhook=webhook)


@bp.post("/<token>")
def submit(token: str) -> Any:
    record = _record_for(token)
    form = ChannelForm()
    webhook = _service().webhook_url(record.slug)
    if not form.validate():
        return _page("onboard.html", 400, record=record, form=form, webhook=webhook)
    try:
        joined = _join(record, (form.channel_id.data or "").strip(), (form.channel_secret.data or "").strip(),
                       (form.access_token.data or "").strip())
    except Refused as e:
        field = getattr(form, e.field, None)
        if field is not None:
            field.errors = [*field.errors, e.message]
            return _page("onboard.html", 400, record=record, form=form, webhook=webhook)
        return _page("onboard.html", 502, record=record, form=form, webhook=webhook, problem=e.message)
    return _page("joined.html", record=record, joined=joined, webhook=webhook)


def _client(channel_id: str, secret: str, token: str) -> LineClient:
    """A client on the pasted credentials: the long-lived token, or stateless tokens issued from id and secret
    (issued on its first call: a wrong pair shows up there, as LineRefused)."""
    line = _service().config.line
    if token:
        return LineClient(token, line.api_endpoint, line.data_api_endpoint)
    return LineClient.stateless(channel_id, secret, line.api_endpoint, line.data_api_endpoint)


def _refused_by_line(e: LineApiError) -> Refused:
    """What the secretary is told when LINE refused a call: the credential to fix, or to try again later."""
    if isinstance(e, LineRefused) and e.credential == "secret":
        return Refused("channel_secret", "LINE ไม่รับ Channel ID และ Channel secret คู่นี้ "
                                         "กรุณาตรวจว่าคัดลอกมาจาก channel เดียวกันครบทุกตัวอักษร")
    if isinstance(e, LineRefused) or e.status == 403:
        return Refused("access_token", "LINE ไม่รับ Channel access token นี้ (ไม่ถูกต้องหรือถูกยกเลิกแล้ว) "
                                       "กรุณากด Issue ที่แท็บ Messaging API แล้ววางใหม่")
    return Refused("", "ติดต่อ LINE ไม่สำเร็จในขณะนี้ กรุณาลองใหม่อีกครั้งในอีกสักครู่")


def _join(record: OfficeRecord, channel_id: str, secret: str, token: str) -> Joined:
    """Verify the channel with LINE, keep its credentials sealed, point and test its webhook, install the menus and
    issue the first secretary's code; on any refusal the office is left as it was (the link still opens)."""
    service, now = _service(), _now()
    client = _client(channel_id, secret, token)
    try:
        info = client.bot_info()
    except LineApiError as e:
        raise _refused_by_line(e) from None
    taken = [r for r in service.registry.all() if r.slug != record.slug
             and (r.bot_user_id == info.user_id or (r.channel_id and r.channel_id == channel_id))]
    if taken:  # joining would point another office's webhook here: never say which office
        raise Refused("channel_id", "บัญชี LINE นี้เชื่อมกับหน่วยงานอื่นในระบบอยู่แล้ว "
                                    "กรุณาใช้ channel Messaging API ของหน่วยงานเอง")
    webhook = service.webhook_url(record.slug)
    before = record
    # Kept before the webhook test: LINE's test request must find this office's secret to check its signature.
    service.registry.update(record.slug, channel_id=channel_id, sealed_secret=service.key.seal(secret),
                            sealed_token=service.key.seal(token) if token else "", bot_user_id=info.user_id,
                            bot_name=info.display_name)
    try:
        client.set_webhook_endpoint(webhook)
        test = client.test_webhook_endpoint(webhook)
    except LineApiError:
        _undo(service, before)
        raise Refused("", "ตั้งค่า Webhook URL ผ่าน LINE ไม่สำเร็จในขณะนี้ กรุณาลองใหม่อีกครั้ง") from None
    if not test.success:
        _undo(service, before)
        if test.status_code == 400:  # our webhook refused LINE's signature: the secret is not this channel's
            raise Refused("channel_secret", "Channel secret ไม่ตรงกับ channel ของ Channel access token ที่วาง "
                                            "(LINE ทดสอบ Webhook แล้ว ลายเซ็นไม่ตรง) กรุณาคัดลอก Channel secret "
                                            "จากแท็บ Basic settings ของ channel เดียวกันอีกครั้ง")
        if test.status_code <= 0:
            raise Refused("", "LINE ติดต่อ Webhook URL ของระบบไม่ได้ในขณะนี้ กรุณาลองใหม่อีกครั้ง "
                              "หากยังไม่ได้ กรุณาแจ้งผู้ดูแลระบบของบริการ")
        raise Refused("", f"LINE ทดสอบ Webhook ไม่ผ่าน (รหัส {test.status_code}) กรุณาแจ้งผู้ดูแลระบบของบริการ")
    try:
        active: bool | None = client.webhook_endpoint().active
    except LineApiError:
        active = None  # unknown: the secretary is told to check the switch
    office = service.office(record.slug)
    menus_ok = True
    try:
        install(office, LineClient.from_config(office.config), now)
    except (LineApiError, OSError) as e:
        # Not a reason to turn the office away: the menus are installed again by the operator's `richmenu`.
        log.warning("office %s: rich menus not installed at onboarding: %s", record.slug, type(e).__name__)
        menus_ok = False
    actor = Actor(None, frozenset(COMMITTEE), ADMINISTRATOR, VIA_ONBOARDING)
    code = ManagerActions(office, actor, now).issue_code(Role.SECRETARY.value)
    service.registry.update(record.slug, onboarding_hash="", onboarding_expires=None, joined_at=now,
                            line_problem="", line_problem_at=None)
    log.info("office %s joined the service", record.slug)
    hint = "" if menus_ok else "ยังติดตั้งเมนูลัดใน LINE ไม่สำเร็จ ผู้ดูแลระบบของบริการจะติดตั้งให้ภายหลัง"
    return Joined(code=code, code_until=office.fmt.datetime(now + CODE_TTL), bot_name=info.display_name,
                  menus_hint=hint, webhook_active=active)


def _undo(service: Service, before: OfficeRecord) -> None:
    service.registry.update(before.slug, channel_id=before.channel_id, sealed_secret=before.sealed_secret,
                            sealed_token=before.sealed_token, bot_user_id=before.bot_user_id,
                            bot_name=before.bot_name)
