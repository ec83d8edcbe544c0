"""An office's main website on 127.0.0.1 for the link check: pages set by the test, redirects, a slow page, a 404."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["MainSite", "Page", "serving"]


@dataclass(frozen=True)
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str = ""  # a redirect's target
    slow: bool = False  # answers only when the site closes: longer than any check waits


class MainSite:
    """``site.page("/", html)`` serves ``html`` at ``site.url + "/"``; unknown paths answer 404."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[str] = []
        self._closing = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                page = site.pages.get(self.path.split("#")[0], Page(b"<h1>Not found</h1>", status=404))
                if page.slow:
                    site._closing.wait(30)
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                if page.location:
                    self.send_header("Location", page.location)
                self.send_header("Content-Length", str(len(page.body)))
                self.end_headers()
                with suppress(OSError):  # the checker gave up waiting
                    self.wfile.write(page.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), name="main-site",
                                        daemon=True)
        self._thread.start()

    def page(self, path: str, html: str | bytes, **kwargs: object) -> str:
        body = html.encode("utf-8") if isinstance(html, str) else html
        self.pages[path] = Page(body, **kwargs)  # type: ignore[arg-type]
        return self.url + path

    def redirect(self, path: str, to: str, status: int = 302) -> str:
        self.pages[path] = Page(b"", status=status, location=to)
        return self.url + path

    def close(self) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


@contextmanager
def serving() -> Iterator[MainSite]:
    """A main site for the ``with`` block (a test module's fixture wraps it)."""
    site = MainSite()
    try:
        yield site
    finally:
        site.close()
