"""Secret keys as files in the data folder (``console-secret-key``), each private (0600) and written once."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from ita_bot.store.database import StoreError
from ita_bot.store.files import write_atomic

__all__ = ["TinySecretKeys"]

_NAME_RE = re.compile(r"[a-z0-9-]+")


class TinySecretKeys:
    """The SecretKeyRepository over a folder: key ``name`` is the file ``name`` in it."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def get_or_create(self, name: str) -> str:
        if not _NAME_RE.fullmatch(name):
            raise ValueError(f"secret key name {name!r} must be lowercase letters, digits and '-' only")
        path = self.folder / name
        try:
            damaged = path.is_file() and not path.read_text(encoding="ascii").strip()
            if damaged or not path.is_file():
                # Written whole to a private (0600) temp file, then linked into place: processes starting together
                # never see a half-written key, and the first link wins, so all of them get the same one.
                # An empty file is replaced rather than handed out as "".
                write_atomic(path, secrets.token_urlsafe(48).encode("ascii"), replace=damaged)
            return path.read_text(encoding="ascii").strip()
        except UnicodeDecodeError:
            raise StoreError(f"secret key file {path} is not ASCII text (damaged?)") from None  # no key bytes shown
        except OSError as e:
            raise StoreError(f"secret key file {path} cannot be read or written: {e.strerror or e}") from e
