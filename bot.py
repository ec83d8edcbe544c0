"""Entry point: `python bot.py COMMAND` (see README), and `bot:app` for gunicorn."""

from __future__ import annotations

import sys
from typing import Any


def __getattr__(name: str) -> Any:
    # Built on first access (gunicorn's `bot:app`), so `python bot.py demo` and imports in tests
    # never need credentials, and building the app starts no scheduler and touches no network.
    if name == "app":
        from ita_bot.service.web import create_production_app

        app = create_production_app()
        globals()["app"] = app
        return app
    raise AttributeError(name)


if __name__ == "__main__":
    from ita_bot.cli import main

    sys.exit(main(sys.argv[1:]))
