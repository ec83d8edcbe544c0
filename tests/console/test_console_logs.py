"""Sign-in links never reach a request log: the development server's and gunicorn's access log hide them."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn.config import Config as GunicornConfig

from ita_bot.console import redact
from ita_bot.console.gunicorn_log import AccessLogger

TOKEN = "h-Yv0pi139BZ2uvTJN-MP8NqT61AQP6XZQGZvKFxm6A"


def test_werkzeug_request_lines_hide_the_token(caplog: pytest.LogCaptureFixture) -> None:
    redact.install()
    redact.install()  # idempotent: one filter however many apps are built
    logger = logging.getLogger("werkzeug")
    assert sum(isinstance(f, redact.RedactLoginFilter) for f in logger.filters) == 1
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logger.info('%s - - "%s" %s %s', "127.0.0.1", f"GET /admin/login/{TOKEN} HTTP/1.1", "303", "-")
    assert TOKEN not in caplog.text and "/admin/login/[ซ่อน]" in caplog.text


def test_gunicorn_access_log_hides_the_token() -> None:
    logger = AccessLogger(GunicornConfig())
    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "RAW_URI": f"/admin/login/{TOKEN}",
                               "PATH_INFO": f"/admin/login/{TOKEN}", "QUERY_STRING": "",
                               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1"}
    resp = SimpleNamespace(status="303 SEE OTHER", response_length=0, headers=[], sent=0)
    req = SimpleNamespace(headers=[])
    atoms = logger.atoms(resp, req, environ, SimpleNamespace(seconds=0, microseconds=1000))
    assert TOKEN not in atoms["U"] and TOKEN not in atoms["r"]
    assert atoms["U"] == "/admin/login/[ซ่อน]"
