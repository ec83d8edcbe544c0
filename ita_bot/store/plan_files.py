"""Plan files read from disk, each re-read only when it changed: the deployment's own plans on every backend."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ita_bot.domain.plan import PlanError
from ita_bot.domain.plan_book import PlanFile
from ita_bot.domain.plan_reader import read_plan_bytes
from ita_bot.store.files import SignatureCache, stat_signature

__all__ = ["PlanFiles"]


class PlanFiles:
    """A reader of plan files keyed on each file's (mtime, size, inode): a replaced file (a new inode) is read
    again, an unchanged one never twice. The deployment's plan files are config, so every backend reads them
    through one of these; TinyDB's saved plans are files too and share it."""

    def __init__(self) -> None:
        self._files: SignatureCache[Path, PlanFile] = SignatureCache()

    def read(self, path: Path) -> PlanFile | None:
        """The file's text and version; None when there is none; PlanError when unreadable or not UTF-8."""
        try:
            sig = stat_signature(path)
        except OSError as e:
            raise PlanError(path, "(file)", f"อ่านไฟล์ไม่ได้ (cannot read): {e.strerror or e}") from e
        if sig is None:
            return None
        if (hit := self._files.get(path, sig)) is not None:
            return hit
        raw = read_plan_bytes(path, missing_ok=True)
        if raw is None:
            return None
        found = PlanFile(raw.decode("utf-8"), hashlib.sha256(raw).hexdigest(), path)
        self._files.put(path, sig, found)
        return found
