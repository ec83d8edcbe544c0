"""Secret keys the processes share (the console's cookie-signing key): made once, the same for every process."""

from __future__ import annotations

from typing import Protocol

__all__ = ["SecretKeyRepository"]


class SecretKeyRepository(Protocol):
    """Random secret keys by name, each made on first use and kept: every process, started together or after a
    restart, gets the same one. A key is never logged and never leaves the backend but to its user."""

    def get_or_create(self, name: str) -> str:
        """The key kept under ``name`` (lowercase letters, digits and "-"): URL-safe text of at least 40
        characters, made now if there is none (or only an empty one); of processes making it at the same
        time, one wins and all get that one."""
        ...
