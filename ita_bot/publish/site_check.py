"""The main-site link check: does the office's own website link to a year's report page, and by which link texts."""

from __future__ import annotations

import codecs
import re
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import IO, Literal
from urllib.parse import urljoin, urlsplit

from ita_bot.domain.links import snapshot_in, snapshot_of

__all__ = ["BODY_LIMIT", "MAX_FOLLOW", "MAX_REDIRECTS", "TIMEOUT", "SiteCheck", "Targets", "check_site",
           "same_address"]

TIMEOUT = 10.0  # seconds per request
#: The whole check gives up following further pages after this long: it runs inside a web request, which the
#: front (nginx) waits 60 s for.
DEADLINE = 30.0
BODY_LIMIT = 2 * 1024 * 1024  # bytes read of a page; a main page is far smaller, the rest is ignored
MAX_REDIRECTS = 5
MAX_FOLLOW = 10  # pages one level down looked at when the first page has no direct link
#: What a menu entry leading to the office's ITA/OIT pages says (Thai sites name them so).
HINTS = re.compile(r"ita|oit|คุณธรรม|โปร่งใส", re.IGNORECASE)
USER_AGENT = "ita-bot link check (+the office's ITA follow-up)"
#: Thai pages' charsets Python does not know by these names; windows-874 (cp874) is a superset of TIS-620.
CHARSET_ALIASES = {"windows-874": "cp874", "x-windows-874": "cp874", "tis-620": "cp874", "tis620": "cp874",
                   "iso-8859-11": "cp874", "x-user-defined": "cp874"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)

Found = Literal["page", "pdf", "snapshot"]


@dataclass(frozen=True)
class Targets:
    """What counts as a link to the year: its page, its PDF, or any snapshot of it (addresses from ``links``)."""

    page: str
    pdf: str

    def match(self, url: str) -> Found | None:
        key = _key(url)
        if key is None:
            return None
        if key == _key(self.page):
            return "page"
        if key == _key(self.pdf):
            return "pdf"
        snapshot = snapshot_in(key)
        if snapshot and key == _key(snapshot_of(self.page, snapshot[0], pdf=snapshot[1])):
            return "snapshot"
        return None


@dataclass(frozen=True)
class SiteCheck:
    """What the check saw: found (and which address: the page, its PDF or a snapshot), the link texts from the
    main site's first page, or the Thai reason the site could not be read."""

    found: Found | None
    url: str = ""  # the address linked to, when found
    path: tuple[str, ...] = ()
    problem: str = ""


def _key(url: str) -> str | None:
    """An address as compared: no scheme, lower-case host, no default port, no trailing slash, no fragment."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    path = parts.path.rstrip("/")
    return host + path + (f"?{parts.query}" if parts.query else "")


def same_address(a: str, b: str) -> bool:
    """Two addresses of one page, however written (http/https, trailing slash, fragment, default port)."""
    return _key(a) is not None and _key(a) == _key(b)


class _Unreadable(Exception):
    """A page that could not be read; the message is the Thai reason."""


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: object, newurl: str) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise _Unreadable(f"เว็บไซต์ส่งต่อไปยังที่อยู่ที่ไม่ใช่เว็บ ({newurl.split(':', 1)[0]})")
        return super().redirect_request(req, fp, code, msg, headers, newurl)  # type: ignore[arg-type]


_OPENER = urllib.request.build_opener(_Redirects())

_HTTP_WORDS = {401: "ต้องเข้าสู่ระบบ", 403: "ไม่อนุญาตให้เข้าถึง", 404: "ไม่พบหน้า", 410: "หน้านี้ถูกลบแล้ว",
               429: "ขอข้อมูลถี่เกินไป", 500: "เซิร์ฟเวอร์ขัดข้อง", 502: "เซิร์ฟเวอร์ขัดข้อง",
               503: "เซิร์ฟเวอร์ไม่พร้อมให้บริการ", 504: "เซิร์ฟเวอร์ตอบช้าเกินไป"}


def _reason(error: BaseException, url: str, timeout: float) -> str:
    """A failed fetch in Thai, naming the address so the manager knows which page it was."""
    host = urlsplit(url).hostname or url
    seconds = f"{timeout:g}"
    if isinstance(error, _Unreadable):
        return str(error)
    if isinstance(error, urllib.error.HTTPError):
        if 300 <= error.code < 400:
            return f"{url} ส่งต่อไปหน้าอื่นเกิน {MAX_REDIRECTS} ครั้ง จึงอ่านหน้าเว็บไม่ได้"
        words = _HTTP_WORDS.get(error.code, "อ่านหน้าไม่ได้")
        return f"{url} ตอบกลับรหัส HTTP {error.code} ({words})"
    cause = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(cause, (TimeoutError, socket.timeout)):
        return f"{host} ไม่ตอบภายใน {seconds} วินาที (เว็บไซต์ช้าหรือปิดอยู่)"
    if isinstance(cause, socket.gaierror):
        return f"ไม่พบชื่อโดเมน {host} (DNS) กรุณาตรวจที่อยู่เว็บไซต์หลัก"
    if isinstance(cause, ConnectionRefusedError):
        return f"{host} ปฏิเสธการเชื่อมต่อ (เว็บไซต์อาจปิดอยู่)"
    if isinstance(cause, ssl.SSLError):
        return f"ใบรับรองความปลอดภัย (HTTPS) ของ {host} ใช้ไม่ได้ จึงไม่ได้อ่านหน้าเว็บ"
    return f"เชื่อมต่อ {host} ไม่สำเร็จ"


def _charset(header: str | None, body: bytes) -> str:
    declared = header or ""
    if not declared:
        found = _META_CHARSET.search(body[:4096])
        declared = found.group(1).decode("ascii", "replace") if found else ""
    name = CHARSET_ALIASES.get(declared.strip().lower(), declared.strip().lower())
    try:
        return codecs.lookup(name).name if name else "utf-8"
    except LookupError:
        return "utf-8"


def fetch_page(url: str, *, timeout: float = TIMEOUT) -> tuple[str, str]:
    """(final address after redirects, page text) of an http(s) page; _Unreadable with the Thai reason if not."""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise _Unreadable(f"{url} ไม่ใช่ที่อยู่เว็บ (http หรือ https)")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "text/html,*/*;q=0.5"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            kind = response.headers.get_content_type()
            if kind not in ("text/html", "application/xhtml+xml", "text/plain"):
                raise _Unreadable(f"{url} ไม่ใช่หน้าเว็บ (เป็นไฟล์ {kind})")
            # Read in pieces against one deadline: a server dribbling a byte at a time cannot hold the check.
            deadline = time.monotonic() + timeout
            body = b""
            while len(body) < BODY_LIMIT and (piece := response.read(min(65536, BODY_LIMIT - len(body)))):
                body += piece
                if time.monotonic() > deadline:
                    raise TimeoutError
            final = response.geturl()
            charset = _charset(response.headers.get_content_charset(), body)
    except (_Unreadable, urllib.error.URLError, OSError, ValueError) as e:  # HTTPError is a URLError
        raise _Unreadable(_reason(e, url, timeout)) from None
    text = body.decode(charset, errors="replace")
    if charset == "utf-8" and "\ufffd" in text:
        # An undeclared Thai page in the old single-byte encoding: what most older office sites are.
        text = body.decode("cp874", errors="replace")
    return final, text


@dataclass(frozen=True)
class _Link:
    href: str
    text: str


class _Anchors(HTMLParser):
    """Every <a href> of a page with its visible text (or an image's alt / the link's title when it has none)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[_Link] = []
        self._open: list[tuple[str, list[str], str]] = []  # href, text parts, fallback text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self._open.append((a["href"], [], a.get("aria-label") or a.get("title", "")))
        elif tag == "img" and self._open:
            self._open[-1][1].append(a.get("alt", ""))

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            href, parts, fallback = self._open.pop()
            text = " ".join(" ".join(parts).split()) or " ".join(fallback.split())
            self.links.append(_Link(href.strip(), text))

    def close(self) -> None:
        super().close()
        while self._open:  # an <a> never closed still counts
            self.handle_endtag("a")


def _links(base: str, html: str) -> list[_Link]:
    parser = _Anchors()
    parser.feed(html)
    parser.close()
    out = []
    for link in parser.links:
        url = urljoin(base, link.href)
        if urlsplit(url).scheme.lower() in ("http", "https"):
            out.append(_Link(url.split("#", 1)[0] if "#" in url else url, link.text))
    return out


_RANK: dict[Found, int] = {"page": 0, "snapshot": 1, "pdf": 2}


def _best(links: list[_Link], targets: Targets) -> tuple[Found, _Link] | None:
    """The link to the year on a page, the page itself preferred over a snapshot, a snapshot over the PDF."""
    found = [(kind, link) for link in links if (kind := targets.match(link.href)) is not None]
    return min(found, key=lambda f: _RANK[f[0]]) if found else None


def _same_site(a: str, b: str) -> bool:
    def host(u: str) -> str:
        h = (urlsplit(u).hostname or "").lower()
        return h[4:] if h.startswith("www.") else h

    return host(a) == host(b)


def check_site(site: str, targets: Targets, *, timeout: float = TIMEOUT, max_follow: int = MAX_FOLLOW) -> SiteCheck:
    """Read the main site's first page for a link to the year; failing that, up to ``max_follow`` same-site pages
    one level down whose link text or address speaks of ITA/OIT/คุณธรรม/โปร่งใส (a menu page listing the items).
    Never raises for a site that cannot be read: ``problem`` says why, in Thai."""
    started = time.monotonic()
    try:
        home, html = fetch_page(site, timeout=timeout)
    except _Unreadable as e:
        return SiteCheck(None, problem=str(e))
    links = _links(home, html)
    direct = _best(links, targets)
    if direct is not None:
        return SiteCheck(direct[0], direct[1].href, (direct[1].text,))
    seen = {_key(home)}
    candidates: list[_Link] = []
    for link in links:
        key = _key(link.href)
        if key in seen or not _same_site(link.href, home) or not HINTS.search(f"{link.text} {link.href}"):
            continue
        seen.add(key)
        candidates.append(link)
    best: tuple[Found, _Link, _Link] | None = None
    for menu in candidates[:max_follow]:
        if time.monotonic() - started >= DEADLINE - 1.0:
            break
        left = DEADLINE - (time.monotonic() - started)
        try:
            page, sub = fetch_page(menu.href, timeout=min(timeout, max(left, 1.0)))
        except _Unreadable:
            continue  # one broken menu page does not make the whole site unreadable
        hit = _best(_links(page, sub), targets)
        if hit is not None and (best is None or _RANK[hit[0]] < _RANK[best[0]]):
            best = (hit[0], menu, hit[1])
            if hit[0] == "page":
                break
    if best is None:
        return SiteCheck(None)
    return SiteCheck(best[0], best[2].href, (best[1].text, best[2].text))
