"""The repository bundle: every store an office needs, each typed by the Protocol its backend implements."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Repositories"]


@dataclass(frozen=True)
class Repositories:
    """One office's repositories on one backend; ``ita_bot.store`` builds it, ``Office`` reaches everything
    stored through it. Fields are typed by the Protocols in the domain modules that own each concept."""
