"""Keep one-time links out of request logs: a logged sign-in link is a door left ajar for its 10 minutes, a logged
onboarding link (hosted mode) one left ajar for days."""

from __future__ import annotations

import logging
import re

from ita_bot.domain.links import ONE_TIME_PREFIXES

__all__ = ["RedactLoginFilter", "install", "redact_login"]

_LOGIN = re.compile("(" + "|".join(map(re.escape, ONE_TIME_PREFIXES)) + r")[A-Za-z0-9_\-]+")


def redact_login(text: str) -> str:
    return _LOGIN.sub(r"\1[ซ่อน]", text)


class RedactLoginFilter(logging.Filter):
    """Rewrites a record's message arguments (werkzeug logs the request line as an argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_login(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_login(a) if isinstance(a, str) else a for a in record.args)
        return True


def install() -> None:
    """Filter the development server's request log (gunicorn's access log uses gunicorn_log.AccessLogger)."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactLoginFilter) for f in logger.filters):
        logger.addFilter(RedactLoginFilter())
