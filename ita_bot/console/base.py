"""The console blueprint, its sign-in guard (every request re-checks the manager role) and shared page helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, session
from flask_wtf.csrf import CSRFError

from ita_bot.domain.office import Office
from ita_bot.domain.signin import SignIn
from ita_bot.domain.thai import BANGKOK, ThaiFormat, fiscal_year_of
from ita_bot.publish.disclosure import status_text

__all__ = ["bp", "clock", "formatter", "office", "page", "register_errors", "signed_in", "who"]

bp = Blueprint("console", __name__, url_prefix="/admin", template_folder="templates")

#: Endpoints reachable without a session: the sign-in help page and the one-time link itself.
PUBLIC_ENDPOINTS = frozenset({"console.login_help", "console.login", "console.signed_out", "console.static"})

NAV: tuple[tuple[str, str], ...] = (
    ("console.overview", "ภาพรวมปี"),
    ("console.plan_home", "แผนมาตรการ"),
    ("console.results", "ผลประเมิน ITA"),
    ("console.draft", "ร่างแผนปีถัดไป"),
    ("console.members", "สมาชิกและบทบาท"),
    ("console.meetings", "วันประชุม"),
    ("console.history", "ประวัติการแก้ไข"),
)


def office() -> Office:
    return current_app.extensions["ita_bot"].office  # type: ignore[no-any-return]


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
    person = office().people.get(who())
    return person.name if person and person.name else "ผู้จัดการ"


def current_fiscal_year() -> int:
    return fiscal_year_of(clock().date())


def signed_in() -> str | None:
    """The user id of a live session whose holder is still a manager, else None (and the session ends)."""
    signin = SignIn(office().store)
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
        session.clear()
        return redirect("/admin/login", code=303)
    g.console_user = user
    return None


@bp.after_request
def _private(response: Any) -> Any:
    # Console pages carry names and evidence: never cached by a shared browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    # Same-origin only: the sign-in link never leaks to another site, while Flask-WTF's HTTPS check of
    # the Referer (same origin) still works.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """Render a console page with the navigation, the manager's name, the formatter and the status words."""
    plan = office().plan
    body = render_template(
        f"console/{template}",
        nav=NAV,
        fmt=formatter(),
        status_text=status_text,
        user_name=who_name() if "console_user" in g else None,
        org_name=plan.organization.name,
        now=clock(),
        **context,
    )
    return body, status


def _is_console() -> bool:
    return request.path == "/admin" or request.path.startswith("/admin/")


def message_page(status: int, title: str, message: str, *, hint: str = "") -> tuple[str, int]:
    return page("message.html", status, title=title, message=message, hint=hint)


@bp.errorhandler(404)
def _not_found(error: Any) -> Any:
    return message_page(404, "ไม่พบหน้าที่ต้องการ", "ไม่พบหน้านี้ในระบบจัดการ (เช่น ปีงบประมาณที่ยังไม่มีแผน)")


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
    @app.errorhandler(404)
    def _app_not_found(error: Any) -> Any:
        # Routing misses never reach the blueprint's own handler: /admin addresses are answered here.
        return _console_error(404) if _is_console() else error

    @app.errorhandler(405)
    def _app_not_allowed(error: Any) -> Any:
        return _console_error(405) if _is_console() else error

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Any:
        # Nothing was changed: the view never ran.
        if request.path.startswith("/admin"):
            return message_page(
                400,
                "ส่งแบบฟอร์มไม่สำเร็จ",
                "แบบฟอร์มนี้ไม่มีรหัสป้องกันที่ถูกต้อง (อาจเปิดค้างไว้นานหรือออกจากระบบไปแล้ว) ระบบจึงไม่ได้บันทึกอะไร",
                hint="กรุณาเปิดหน้าเดิมใหม่แล้วกรอกอีกครั้ง",
            )
        return "Bad request: missing or invalid CSRF token", 400
