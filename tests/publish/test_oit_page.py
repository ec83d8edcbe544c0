"""The year page the OIT items point at: items, approval, snapshots, generation time, its PDF, and snapshot routes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ita_bot.domain.config import Config
from tests.publish.oit_site import OitSite, at

pytestmark = pytest.mark.backends("tinydb", "postgresql")


@pytest.fixture
def site(make_config: Callable[..., Config], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> OitSite:
    s = OitSite(make_config, tmp_path, monkeypatch, web={"public_evidence": True})
    s.office.now = lambda: at(2021, 3, 5, 14, 30)
    return s


@pytest.mark.slow
def test_dump(site: OitSite) -> None:
    site.seed()
    site.approve()
    page = site.get("/reports/2564")
    assert page.status_code == 200
    pdf = site.get("/reports/2564.pdf")
    assert pdf.status_code == 200, pdf.text
    if folder := os.environ.get("OIT_LOOK"):
        Path(folder, "year.html").write_bytes(page.data)
        Path(folder, "year.pdf").write_bytes(pdf.data)
