"""The public addresses' one shape: built by domain/links.py and read back by the same module."""

from __future__ import annotations

import pytest

from ita_bot.domain.links import (
    office_url,
    onboarding_url,
    report_pdf_url,
    report_url,
    sign_in_url,
    snapshot_in,
    snapshot_of,
    snapshot_url,
)

BASE = "https://ita.example.go.th/o/nongmueang"


def test_the_year_its_cycles_pdf_and_snapshots_share_one_shape() -> None:
    assert report_url(BASE + "/", 2564) == BASE + "/reports/2564"
    assert report_url("", 2564, "2021-02", anchor="m1") == "/reports/2564/2021-02#m1"
    assert report_pdf_url(BASE, 2564) == BASE + "/reports/2564.pdf"
    assert snapshot_url(BASE, 2564, 3) == snapshot_of(report_url(BASE, 2564), 3) == BASE + "/reports/2564/snapshots/3"
    assert snapshot_url(BASE, 2564, 3, pdf=True) == BASE + "/reports/2564/snapshots/3.pdf"


@pytest.mark.parametrize("pdf", [False, True])
def test_a_snapshot_address_reads_back_as_built_even_as_a_website_writes_it(pdf: bool) -> None:
    url = snapshot_url(BASE, 2564, 12, pdf=pdf)
    for written in (url, url + "/", url + "#top"):
        assert snapshot_in(written) == (12, pdf)
    assert snapshot_in(report_url(BASE, 2564)) is None
    assert snapshot_in(BASE + "/reports/2564/snapshots/") is None


def test_one_time_links_and_an_offices_prefix() -> None:
    from ita_bot.console.redact import redact_login

    signin = sign_in_url(BASE + "/", "tok_EN-1")
    onboarding = onboarding_url("https://ita.example.go.th", "JoIn-2")
    assert signin == BASE + "/admin/login/tok_EN-1"
    assert onboarding == "https://ita.example.go.th/onboard/JoIn-2"
    assert office_url("https://ita.example.go.th/", "nongmueang") == BASE
    # What the links module builds, the log filter hides: the secret part never reaches a log.
    for link, secret in ((signin, "tok_EN-1"), (onboarding, "JoIn-2")):
        assert secret not in redact_login(f'"GET {link} HTTP/1.1" 200')
