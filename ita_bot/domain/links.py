"""The addresses the bot gives out (report pages, snapshots, sign-in and onboarding links, an office's prefix):
the one place their shape is written; the web routes answer them."""

from __future__ import annotations

import re

__all__ = ["OFFICE_PREFIX", "ONE_TIME_PREFIXES", "console_url", "office_url", "onboarding_url", "report_pdf_url",
           "report_url", "sign_in_url", "snapshot_in", "snapshot_of", "snapshot_url"]

#: Where a hosted office's pages and webhook live below the service's address: "/o/<slug>".
OFFICE_PREFIX = "/o/"
_CONSOLE = "/admin"
_SIGN_IN = f"{_CONSOLE}/login/"
_ONBOARDING = "/onboard/"
#: The paths whose last part is a one-time secret (kept out of every log).
ONE_TIME_PREFIXES = (_SIGN_IN, _ONBOARDING)

_SNAPSHOT_END = re.compile(r"/snapshots/(\d+)(\.pdf)?/?$")


def report_url(base_url: str, fiscal_year: int, cycle: str | None = None, *, anchor: str = "") -> str:
    """The public page of a fiscal year, or of one of its cycles ("2021-02"), optionally at an anchor.

    ``base_url`` is the server's public address ("https://ita.example.go.th"); "" gives the path alone.
    """
    url = f"{base_url.rstrip('/')}/reports/{fiscal_year}"
    if cycle:
        url += f"/{cycle}"
    return f"{url}#{anchor}" if anchor else url


def report_pdf_url(base_url: str, fiscal_year: int) -> str:
    """The year page as a PDF, made from the same page."""
    return f"{report_url(base_url, fiscal_year)}.pdf"


def snapshot_url(base_url: str, fiscal_year: int, number: int, *, pdf: bool = False) -> str:
    """A frozen snapshot of the year page (HTML, or its PDF): an address that never changes once given."""
    return snapshot_of(report_url(base_url, fiscal_year), number, pdf=pdf)


def snapshot_of(page_url: str, number: int, *, pdf: bool = False) -> str:
    """A snapshot's address below its year page's address (``report_url``), as the page links to it."""
    url = f"{page_url}/snapshots/{number}"
    return f"{url}.pdf" if pdf else url


def snapshot_in(address: str) -> tuple[int, bool] | None:
    """(number, whether it is the PDF) of an address ending as ``snapshot_url``'s do (a trailing "/" and a
    fragment allowed, as a website's link may have them); None for any other address."""
    m = _SNAPSHOT_END.search(address.split("#", 1)[0])
    return (int(m[1]), bool(m[2])) if m else None


def console_url(base_url: str) -> str:
    """The managers' console (it asks for a sign-in link when the browser has no session)."""
    return f"{base_url.rstrip('/')}{_CONSOLE}"


def sign_in_url(base_url: str, token: str) -> str:
    """A manager's one-time console sign-in link."""
    return f"{base_url.rstrip('/')}{_SIGN_IN}{token}"


def onboarding_url(service_url: str, token: str) -> str:
    """An office's one-time link to join the hosted service."""
    return f"{service_url.rstrip('/')}{_ONBOARDING}{token}"


def office_url(service_url: str, slug: str) -> str:
    """A hosted office's address: its pages, console and webhook are below it."""
    return f"{service_url.rstrip('/')}{OFFICE_PREFIX}{slug}"
