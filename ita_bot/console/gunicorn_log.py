"""gunicorn's logger with sign-in links hidden from the access log (`logger_class` in gunicorn.conf.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gunicorn.glogging import Logger

from ita_bot.console.redact import redact_login

if TYPE_CHECKING:
    from gunicorn.glogging import _AtomsDict  # the stubs' name for the access-log fields; not there at run time

__all__ = ["AccessLogger"]


class AccessLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> _AtomsDict:
        atoms = super().atoms(resp, req, environ, request_time)
        # The request line and the path: either can carry a sign-in link's token.
        if isinstance(line := atoms.get("r"), str):
            atoms["r"] = redact_login(line)
        if isinstance(path := atoms.get("U"), str):
            atoms["U"] = redact_login(path)
        return atoms
