"""Signing in with a one-time link from `/จัดการ`, and signing out."""

from __future__ import annotations

import re
from typing import Any

from flask import g, redirect, request, session

from ita_bot.console.base import bp, clock, local, message_page, office, page, signed_in
from ita_bot.domain.roles import managers_thai
from ita_bot.domain.signin import LINK_TTL, SESSION_TTL, LinkProblem, SignIn, SignInError
from ita_bot.domain.thai import format_duration

__all__ = ["login", "login_help", "logout", "signed_out"]

HOW_TO = ("ขอลิงก์ใหม่ได้โดยพิมพ์ /จัดการ ในแชตส่วนตัว (1:1) กับบอทใน LINE "
          f"ลิงก์ใช้ได้ครั้งเดียวภายใน {format_duration(LINK_TTL)}")
#: How long a console session lasts once signed in, as the sign-in page says it.
SESSION_TEXT = f"เมื่อเข้าระบบแล้วใช้งานได้ {format_duration(SESSION_TTL)}"

_PROBLEMS = {
    LinkProblem.UNKNOWN: (404, "ลิงก์เข้าระบบไม่ถูกต้อง", "ไม่พบลิงก์นี้ อาจคัดลอกมาไม่ครบ"),
    LinkProblem.USED: (410, "ลิงก์นี้ใช้ไปแล้ว", "ลิงก์เข้าระบบใช้ได้ครั้งเดียว ลิงก์นี้ถูกใช้เข้าระบบไปแล้ว"),
    LinkProblem.EXPIRED: (410, "ลิงก์หมดอายุแล้ว", f"ลิงก์เข้าระบบใช้ได้ภายใน {format_duration(LINK_TTL)}หลังขอ ลิงก์นี้หมดเวลาแล้ว"),
}


# LINE fetches every URL a bot sends to draw a preview (as "facebookexternalhit" or "Line-Crawler"); if that
# fetch used the one-time link, the manager's own tap would find it spent. Preview fetchers get a page
# with no data and the link stays unused.
_PREVIEW_AGENTS = re.compile(
    r"facebookexternalhit|line-crawler|line-poker|twitterbot|slackbot|discordbot|whatsapp|telegrambot|"
    r"skypeuripreview|linkpreview|bingpreview|googlebot|crawler|spider",
    re.IGNORECASE,
)


def is_link_preview() -> bool:
    return bool(_PREVIEW_AGENTS.search(request.headers.get("User-Agent", "")))


@bp.get("/login")
def login_help() -> Any:
    """Shows no data at all: only how to sign in."""
    if signed_in():
        return redirect(local("/admin"), code=303)
    return _login_page()


def _login_page(**extra: Any) -> Any:
    return page("login.html", how_to=HOW_TO, session_text=SESSION_TEXT, managers=managers_thai(), **extra)


@bp.get("/login/<token>")
def login(token: str) -> Any:
    # Flask answers HEAD with this GET view: a HEAD (a link checker, a proxy, a mail scanner) must neither
    # spend the one-time link nor get a session, so it is answered like a preview.
    if request.method != "GET" or is_link_preview():
        return _login_page()
    signin = SignIn(office().repositories.signin)
    now = clock()
    try:
        user_id = signin.redeem(token, now)
    except SignInError as e:
        status, title, message = _PROBLEMS[e.problem]
        return message_page(status, title, message, hint=HOW_TO)
    if not office().is_manager(user_id):
        return message_page(403, "ไม่มีสิทธิ์เข้าระบบจัดการ", f"ระบบจัดการใช้ได้เฉพาะ{managers_thai()}")
    signin.end_session(session.get("sid"))  # a browser switching person keeps no old session alive
    session.clear()
    session.permanent = True
    session["sid"] = signin.start_session(user_id, now)
    return redirect(local("/admin"), code=303)


@bp.post("/logout")
def logout() -> Any:
    SignIn(office().repositories.signin).end_session(session.get("sid"))
    session.clear()
    g.pop("console_user", None)
    # A page of its own, reached by a redirect: no name or menu of the ended session, and a reload asks nothing.
    return redirect(local("/admin/signed-out"), code=303)


@bp.get("/signed-out")
def signed_out() -> Any:
    return _login_page(signed_out=True)
