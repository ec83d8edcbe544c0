"""Evidence files in the data folder: ``evidence/<fiscal year>/<report id>/<file>``, each written whole."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from ita_bot.domain.evidence import StoredEvidence, safe_name
from ita_bot.domain.thai import BANGKOK
from ita_bot.store.database import StoreError
from ita_bot.store.files import write_atomic

__all__ = ["TinyEvidence"]


class TinyEvidence:
    """The EvidenceRepository over a folder: a name is a path inside it."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, name: str) -> Path | None:
        """The file of ``name``, resolved: "..", or a symlink planted inside the folder, must not lead out of it."""
        if not safe_name(name):
            return None
        root = self.folder.resolve()
        path = (root / name).resolve()
        return path if path.is_relative_to(root) and path != root else None

    def save(self, name: str, data: bytes) -> None:
        path = self._path(name)
        if path is None:
            raise ValueError(f"evidence name {name!r} does not name a file inside {self.folder}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data)
        except OSError as e:
            raise StoreError(f"evidence file {path} could not be written: {e}") from e

    def open(self, name: str) -> StoredEvidence | None:
        path = self._path(name)
        if path is None:
            return None
        try:
            with open(path, "rb") as f:
                data = f.read()
                mtime = os.fstat(f.fileno()).st_mtime
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        except OSError as e:
            raise StoreError(f"evidence file {path} cannot be read: {e}") from e
        return StoredEvidence(data, datetime.fromtimestamp(mtime, BANGKOK))
