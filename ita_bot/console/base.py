"""The console blueprint, its sign-in guard (every request re-checks the manager role) and shared page helpers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, abort, current_app, g, make_response, redirect, render_template, request, session
from flask_wtf.csrf import CSRFError

from ita_bot.domain.actions import actor_label
from ita_bot.domain.links import report_url
from ita_bot.domain.office import NoPlanYet, Office
from ita_bot.domain.people import UNKNOWN_NAME
from ita_bot.domain.signin import SignIn
from ita_bot.domain.thai import BANGKOK, BE_YEAR_MAX, BE_YEAR_MIN, ThaiFormat, fiscal_year_of
from ita_bot.domain.wording import FIRST_PLAN_STEPS, status_text, status_words

__all__ = ["bp", "clock", "formatter", "local", "office", "page", "register_errors", "signed_in", "who"]

bp = Blueprint("console", __name__, url_prefix="/admin", template_folder="templates", static_folder="static")

#: Every console answer's policy: scripts only from the site (no inline script, so an injected one never runs),
#: forms only to the site, never framed. Inline styles stay allowed: the pages carry their own stylesheet, and
#: CSS cannot run code. An evidence file keeps its own stricter, sandboxed policy.
CONSOLE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

#: Endpoints reachable without a session: the sign-in help page and the one-time link itself.
PUBLIC_ENDPOINTS = frozenset({"console.login_help", "console.login", "console.signed_out", "console.static"})

NAV: tuple[tuple[str, str], ...] = (
    ("console.overview", "ภาพรวมปี"),
    ("console.plan_home", "แผนมาตรการ"),
    ("console.results", "ผลประเมิน ITA"),
    ("console.oit_home", "หน้าเผยแพร่ OIT"),
    ("console.draft", "ร่างแผนปีถัดไป"),
    ("console.members", "สมาชิกและบทบาท"),
    ("console.meetings", "วันประชุม"),
    ("console.history", "ประวัติการแก้ไข"),
)


def local(path: str) -> str:
    """``path`` ("/admin/…") as the browser must ask for it: under the prefix the app is mounted at (the hosted
    service serves each office's app under ``/o/<office>``), unchanged when it is mounted at the root."""
    return request.script_root + path


def office() -> Office:
    return current_app.extensions["ita_bot"].office


def clock() -> datetime:
    """Now, read once at the edge (the demo's simulated clock when it runs the console)."""
    from ita_bot.console import CLOCK_KEY

    now: Callable[[], datetime] = current_app.config[CLOCK_KEY]
    return now().astimezone(BANGKOK)


def formatter() -> ThaiFormat:
    """Numbers and dates in the office's digits (display.numerals)."""
    return office().fmt


def who() -> str:
    """The signed-in manager's user id (never shown; histories show the name)."""
    return str(g.console_user)


def who_name() -> str:
    """The signed-in manager as histories name them: handle, name and roles now ("#3 สมศรี (เลขานุการ)")."""
    return actor_label(office(), who())


def current_fiscal_year() -> int:
    return fiscal_year_of(clock().date())


def year_arg(name: str = "fy") -> int | None:
    """A fiscal year from the query string (None when absent or not a number); a year no plan could have
    (fy=1, fy=99999) is the console's Thai "not found" page, never a date the calendar cannot build."""
    year = request.args.get(name, type=int)
    if year is not None and not BE_YEAR_MIN <= year <= BE_YEAR_MAX:
        abort(404)
    return year


def signed_in() -> str | None:
    """The user id of a live session whose holder is still a manager, else None (and the session ends)."""
    signin = SignIn(office().repositories.signin)
    live = signin.session(session.get("sid"), clock())
    if live is None:
        return None
    if not office().is_manager(live.user_id):
        # The role was taken away: every session of that person ends now, not in 8 hours.
        signin.end_sessions_of(live.user_id)
        return None
    return live.user_id


@bp.before_request
def _guard() -> Any:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    user = signed_in()
    if user is None:
        if request.method == "POST":
            return keep_input()  # a session ended while the form was open: what was typed is not lost
        session.clear()
        return redirect(local("/admin/login"), code=303)
    g.console_user = user
    return None


def _private(response: Any) -> Any:
    # Console pages carry names and evidence: never cached by a shared browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    # Same-origin only: the sign-in link never leaks to another site, while Flask-WTF's HTTPS check of
    # the Referer (same origin) still works.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Content-Security-Policy", CONSOLE_CSP)
    return response


def page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """Render a console page with the navigation, the manager's name, the formatter and the status words."""
    if g.get("reshown"):
        context["invalid"] = False  # the fields are fine: only the sign-in was missing
    body = render_template(
        f"console/{template}",
        nav=NAV,
        fmt=formatter(),
        status_text=status_text,
        status_words=status_words,
        report_url=report_url,
        root=request.script_root,  # where the app is mounted: every link and form is "{{ root }}/admin/…"
        user_name=who_name() if "console_user" in g else None,
        reshown=g.get("reshown"),
        org_name=office().organization_name,
        first_plan_steps=FIRST_PLAN_STEPS,
        unknown_name=UNKNOWN_NAME,
        now=clock(),
        **context,
    )
    return body, status


#: Views whose every save is behind ``form.validate_on_submit()``: run again on a refused token, they re-show
#: the form with what was typed (the form's own CSRF check fails the same way) and save nothing.
RESHOWN_FORMS = frozenset({"console.plan_section", "console.results", "console.draft", "console.meetings",
                           "console.oit_approval"})
EXPIRED = ("หมดเวลาเข้าสู่ระบบ ข้อมูลที่กรอกยังอยู่ กรุณาขอลิงก์ใหม่ทาง /จัดการ ในไลน์ แล้วกดบันทึกอีกครั้ง")
RESHOWN = ("หน้านี้เปิดไว้ตั้งแต่ก่อนเข้าระบบครั้งล่าสุด ระบบจึงยังไม่ได้บันทึก ข้อมูลที่กรอกยังอยู่ครบ "
           "กรุณาตรวจแล้วกดบันทึกอีกครั้ง")
# Form values that are the page's own bookkeeping, not what she typed.
_TECHNICAL = re.compile(r"(^|-)(csrf_token|version|key|from_fy|instrument|indicator|confirm)$")


def keep_input() -> Any:
    """A form sent without a valid session or token: nothing is saved, and nothing she typed is lost.

    Signed in (a page left open across a new sign-in): the same form again, filled in, with a fresh token.
    Not signed in: a page holding what was sent (no data of the console's own), to send again once signed in
    through a new link — which, with the new session, leads to the first case.
    """
    if request.url_rule is not None and request.url_rule.endpoint == "console.logout":
        session.clear()  # a stale sign-out button still signs out
        return redirect(local("/admin/signed-out"), code=303)
    user = signed_in()
    endpoint = request.url_rule.endpoint if request.url_rule is not None else ""
    if user is not None:
        g.console_user = user
        if endpoint in RESHOWN_FORMS:
            g.reshown = RESHOWN
            response = make_response(current_app.view_functions[endpoint](**(request.view_args or {})))
            response.status_code = 400
            return response
    fields = [(k, v) for k, v in request.form.items(multi=True) if k != "csrf_token"]
    typed = [v for k, v in fields if v.strip() and not _TECHNICAL.search(k) and v not in ("y", "keep", "drop")]
    return page("keep_input.html", 400, title="ยังไม่ได้บันทึก", message=EXPIRED if user is None else RESHOWN,
                fields=fields, typed=list(dict.fromkeys(typed)), action=local(request.full_path.rstrip("?")),
                signed=user is not None)


def _is_console() -> bool:
    # request.path is the path inside the app (the mount prefix is in script_root), so this holds mounted too.
    return request.path == "/admin" or request.path.startswith("/admin/")


def message_page(status: int, title: str, message: str, *, hint: str = "") -> tuple[str, int]:
    return page("message.html", status, title=title, message=message, hint=hint)


@bp.errorhandler(404)
def _not_found(error: Any) -> Any:
    return message_page(404, "ไม่พบหน้าที่ต้องการ", "ไม่พบหน้านี้ในระบบจัดการ (เช่น ปีงบประมาณที่ยังไม่มีแผน)")


@bp.errorhandler(NoPlanYet)
def _no_plan_yet(error: NoPlanYet) -> Any:
    """A page that needs a plan, in an office with none yet: how to make the first one."""
    return page("no_plan.html", fy=current_fiscal_year(), known=[], first=True, active="console.overview")


def _console_error(status: int) -> tuple[str, int]:
    """An unknown /admin address or a wrong method, in Thai in the console's layout (menu only when signed in)."""
    if "console_user" not in g and (user := signed_in()) is not None:
        g.console_user = user
    if status == 405:
        return message_page(405, "เปิดหน้านี้ด้วยวิธีนี้ไม่ได้", "หน้านี้ใช้ส่งแบบฟอร์มเท่านั้น ระบบจึงไม่ได้ทำอะไร",
                            hint="กรุณาเปิดจากเมนูของระบบจัดการ")
    return message_page(404, "ไม่พบหน้าที่ต้องการ", "ไม่พบหน้านี้ในระบบจัดการ อาจพิมพ์ที่อยู่ผิด หรือหน้านั้นไม่มีแล้ว",
                        hint="กรุณาเปิดจากเมนูของระบบจัดการ")


def register_errors(app: Flask) -> None:
    @app.after_request
    def _console_headers(response: Any) -> Any:
        # On the app, not the blueprint: an unknown /admin address (answered here) gets the same headers.
        return _private(response) if _is_console() else response

    @app.errorhandler(404)
    def _app_not_found(error: Any) -> Any:
        # Routing misses never reach the blueprint's own handler: /admin addresses are answered here.
        return _console_error(404) if _is_console() else error

    @app.errorhandler(405)
    def _app_not_allowed(error: Any) -> Any:
        return _console_error(405) if _is_console() else error

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Any:
        # Nothing was changed: the view never ran (and a re-shown form refuses the same token again).
        if _is_console():
            return keep_input()
        return "Bad request: missing or invalid CSRF token", 400
