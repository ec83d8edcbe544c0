"""Console test helpers: a manager's browser (its own cookie jar) over the chat harness's app and clock."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from werkzeug.test import TestResponse

from ita_bot.console import CLOCK_KEY
from tests.chat_harness import ChatBot
from tests.conftest import SECRETARY

__all__ = ["Browser", "csrf_token", "link_in"]

_LINK = re.compile(r"https?://\S+/admin/login/[A-Za-z0-9_-]+")
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def link_in(text: str) -> str | None:
    found = _LINK.search(text)
    return found.group(0) if found else None


def csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no csrf_token on the page"
    return found.group(1) or found.group(2)


class Browser:
    """One person's browser on the console: requests go to the bot's app, "now" is the bot's clock."""

    def __init__(self, bot: ChatBot) -> None:
        self.bot = bot
        self.client = bot.app.test_client()
        bot.app.config[CLOCK_KEY] = lambda: bot.now
        base = urlsplit(bot.config.web.base_url)
        self.base = f"{base.scheme}://{base.netloc}"

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
        return self.client.get(path, base_url=self.base, **kwargs)

    def html(self, path: str) -> str:
        response = self.get(path)
        assert response.status_code == 200, (response.status_code, response.headers.get("Location"))
        return response.get_data(as_text=True)

    def post(self, path: str, data: dict[str, Any] | None = None, *, token: str | None = "page",
             page: str | None = None, **kwargs: Any) -> TestResponse:
        """POST a form; ``token="page"`` takes csrf_token from ``page`` (default: this path), None sends none."""
        sent = dict(data or {})
        if token == "page":
            sent["csrf_token"] = csrf_token(self.html(page or path))
        elif token is not None:
            sent["csrf_token"] = token
        headers = {"Referer": self.base + (page or path), **kwargs.pop("headers", {})}  # browsers send it
        return self.client.post(path, data=sent, base_url=self.base, headers=headers, **kwargs)
