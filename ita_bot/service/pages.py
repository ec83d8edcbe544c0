"""The service's own pages: its /healthz and the onboarding wizard (added by ita_bot.service.onboarding)."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from ita_bot.service import Service

__all__ = ["SERVICE_KEY", "create_service_app"]

#: app.extensions key of the Service.
SERVICE_KEY = "ita_bot_service"


def create_service_app(service: Service) -> Flask:
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions[SERVICE_KEY] = service
    app.add_url_rule("/healthz", "healthz", _healthz)
    return app


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
