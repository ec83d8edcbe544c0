"""For tests about the TinyDB files themselves: the Store behind an office's TinyDB repositories."""

from __future__ import annotations

from typing import Any

from ita_bot.store.database import Store
from ita_bot.store.tiny.reports import TinyReports


def tiny_store(office: Any) -> Store:
    """The one Store every TinyDB repository of ``office`` shares (its data folder, databases and journal)."""
    reports = office.repositories.reports
    assert isinstance(reports, TinyReports), "a TinyDB-only test ran on another backend"
    return reports.store
