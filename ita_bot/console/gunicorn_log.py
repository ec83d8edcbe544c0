"""gunicorn's logger with sign-in links hidden from the access log (`logger_class` in gunicorn.conf.py)."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from ita_bot.console.redact import redact_login

__all__ = ["AccessLogger"]


class AccessLogger(Logger):  # type: ignore[misc]
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_login(atoms[key])
        return atoms
