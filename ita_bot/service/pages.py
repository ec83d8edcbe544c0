"""The service's own pages: its /healthz and the onboarding wizard (added by ita_bot.service.onboarding)."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template

from ita_bot.service import PAGE_HEADERS, SERVICE_KEY, Service, onboarding

__all__ = ["create_service_app"]


def create_service_app(service: Service) -> Flask:
    from flask_wtf.csrf import CSRFError, CSRFProtect

    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions[SERVICE_KEY] = service
    app.secret_key = service.key.derive("onboarding forms")
    app.config.update(SESSION_COOKIE_NAME="ita_onboard", SESSION_COOKIE_PATH="/onboard", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=service.config.web.base_url.lower().startswith("https://"),
                      WTF_CSRF_TIME_LIMIT=None)
    CSRFProtect(app)
    app.add_url_rule("/healthz", "healthz", _healthz)
    app.register_blueprint(onboarding.bp)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(CSRFError, _stale_form)
    return app


def _not_found(_: Exception) -> Any:
    return render_template("service/message.html", title="ไม่พบหน้านี้",
                           text="ไม่พบหน้าที่ต้องการ กรุณาตรวจที่อยู่ของหน้าอีกครั้ง"), 404, PAGE_HEADERS


def _stale_form(_: Exception) -> Any:
    """A post without the form's token (an old tab, cookies off, or another site's form): nothing was done."""
    return render_template("service/message.html", title="ส่งแบบฟอร์มไม่สำเร็จ",
                           text="แบบฟอร์มนี้หมดอายุหรือไม่ได้ส่งจากหน้าของระบบ จึงยังไม่ได้บันทึกสิ่งใด "
                                "กรุณาเปิดลิงก์เชื่อมบัญชีอีกครั้ง แล้วกรอกข้อมูลใหม่ "
                                "(เบราว์เซอร์ต้องเปิดใช้คุกกี้)"), 400, PAGE_HEADERS


def _healthz() -> Any:
    """The service is up and its registry reads: counts only, never an office's name or slug."""
    from flask import current_app

    service: Service = current_app.extensions[SERVICE_KEY]
    try:
        records = service.registry.all()
    except Exception as e:  # the registry unreadable is the answer itself
        current_app.logger.error("service healthz: registry failed: %s", type(e).__name__)
        return jsonify({"status": "error", "reason": "registry"}), 503
    return jsonify({"status": "ok", "offices": len(records),
                    "joined": sum(1 for r in records if r.joined and not r.disabled)}), 200
