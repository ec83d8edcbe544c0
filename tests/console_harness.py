"""Console test helpers: a manager's browser (its own cookie jar) over the chat harness's app and clock.

``Browser(bot, mount="/o/alpha")`` reaches the app mounted under a prefix, as the hosted service serves an office's
app (SCRIPT_NAME, see ``Mounted``): the paths the helpers are given stay the app's own ("/admin/…"), the browser
asks for them under the prefix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from werkzeug.datastructures import MultiDict
from werkzeug.test import Client, TestResponse

from ita_bot.console import CLOCK_KEY
from tests.chat_harness import ChatBot
from tests.conftest import SECRETARY

__all__ = ["Browser", "Mounted", "csrf_token", "form_fields", "link_in"]

_LINK = re.compile(r"https?://\S+/admin/login/[A-Za-z0-9_-]+")
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def link_in(text: str) -> str | None:
    found = _LINK.search(text)
    return found.group(0) if found else None


def csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no csrf_token on the page"
    return found.group(1) or found.group(2)


class Mounted:
    """A WSGI wrapper serving ``app`` under ``prefix`` as the hosted service mounts an office's app (the prefix
    moves from PATH_INFO to SCRIPT_NAME); any other path reaches the app at the root."""

    def __init__(self, app: Callable[..., Iterable[bytes]], prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == self.prefix or path.startswith(self.prefix + "/"):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + self.prefix
            environ["PATH_INFO"] = path[len(self.prefix):] or "/"
        return self.app(environ, start_response)


class Browser:
    """One person's browser on the console: requests go to the bot's app, "now" is the bot's clock."""

    def __init__(self, bot: ChatBot, *, mount: str = "") -> None:
        self.bot = bot
        self.mount = mount
        self.client: Client = Client(Mounted(bot.app, mount)) if mount else bot.app.test_client()
        bot.app.config[CLOCK_KEY] = lambda: bot.now
        base = urlsplit(bot.config.web.base_url)
        self.base = f"{base.scheme}://{base.netloc}"

    def at(self, path: str) -> str:
        """The app's own path ("/admin/…") as this browser asks for it (under its mount prefix)."""
        return self.mount + path if path.startswith("/") else path

    def ask_link(self, user: str = SECRETARY) -> str:
        replies = self.bot.send("/จัดการ", user=user)
        link = link_in(replies.text)
        assert link, replies.text
        return link

    def open(self, url: str) -> TestResponse:
        parts = urlsplit(url)
        return self.client.get(parts.path, base_url=self.base)

    def sign_in(self, user: str = SECRETARY) -> TestResponse:
        response = self.open(self.ask_link(user))
        assert response.status_code == 303, response.get_data(as_text=True)
        return response

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(self.at(path), base_url=self.base, **kwargs)

    def html(self, path: str) -> str:
        response = self.get(path)
        assert response.status_code == 200, (response.status_code, response.headers.get("Location"))
        return response.get_data(as_text=True)

    def submit(self, page: str, changes: dict[str, Any] | None = None, *, action: str | None = None,
               drop: tuple[str, ...] = ()) -> TestResponse:
        """Open ``page``, change some fields of its form as a person would, and submit it (CSRF token included)."""
        fields = form_fields(self.html(page), action and self.at(action))
        for name in drop:
            fields.poplist(name)
        for name, value in (changes or {}).items():
            fields.setlist(name, value if isinstance(value, list) else [value])
        headers = {"Referer": self.base + self.at(page)}
        return self.client.post(self.at(action or page), data=fields, base_url=self.base, headers=headers)

    def post(self, path: str, data: dict[str, Any] | None = None, *, token: str | None = "page",
             page: str | None = None, **kwargs: Any) -> TestResponse:
        """POST a form; ``token="page"`` takes csrf_token from ``page`` (default: this path), None sends none."""
        sent = dict(data or {})
        if token == "page":
            sent["csrf_token"] = csrf_token(self.html(page or path))
        elif token is not None:
            sent["csrf_token"] = token
        headers = {"Referer": self.base + self.at(page or path), **kwargs.pop("headers", {})}  # browsers send it
        return self.client.post(self.at(path), data=sent, base_url=self.base, headers=headers, **kwargs)


class _FormParser(HTMLParser):
    """The fields a browser would submit from the first form posting to ``action`` (or the first POST form)."""

    def __init__(self, action: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._done = False
        self._textarea: str | None = None
        self._text = ""
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done and a.get("method", "").lower() == "post":
            target = a.get("action", "")
            # The header's logout form is on every page: "the page's form" is the first other one.
            self._in_form = not target.endswith("/admin/logout") if self.action is None else target == self.action
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value", "on")))
            elif kind not in ("file", "submit"):
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), ""
        elif tag == "select":
            self._select, self._options = a.get("name"), []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text.lstrip("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            chosen = [v for v, s in self._options if s] or [v for v, _ in self._options[:1]]
            self.fields += [(self._select, v) for v in chosen]
            self._select = None


def form_fields(html: str, action: str | None = None) -> MultiDict[str, str]:
    """What submitting the page's form unchanged would send."""
    parser = _FormParser(action)
    parser.feed(html)
    return MultiDict(parser.fields)
