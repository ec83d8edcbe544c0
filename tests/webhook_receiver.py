"""A tiny bot for tests: an HTTP server on 127.0.0.1 that checks LINE's signature with one channel's secret."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from linebot.v3.webhook import SignatureValidator

from ita_bot.line_standin.serving import Serving


class WebhookReceiver:
    """Answers `status` to a POST signed with `secret` (keeping its JSON body) and 400 to any other."""

    def __init__(self, secret: str, *, status: int = 200) -> None:
        self.validator = SignatureValidator(secret)
        self.status = status
        self.received: list[dict[str, Any]] = []  # bodies whose signature was right
        self.refused = 0  # POSTs whose signature was wrong
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                signed = receiver.validator.validate(body, self.headers.get("X-Line-Signature", ""))
                with receiver._lock:
                    if signed:
                        receiver.received.append(json.loads(body))
                    else:
                        receiver.refused += 1
                self.send_response(receiver.status if signed else 400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._serving = Serving(self._server, "webhook-receiver")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/callback"

    def __enter__(self) -> WebhookReceiver:
        self._serving.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._serving.stop()
        self._server.server_close()
