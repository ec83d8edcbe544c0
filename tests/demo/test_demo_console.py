"""The demo's `/จัดการ`: the secretary gets a sign-in link that opens the console on the demo's own server."""

from __future__ import annotations

import io
import re
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from ita_bot.demo.session import Session
from ita_bot.demo.world import World

LINK = re.compile(r"http://127\.0\.0\.1:\d+/admin/login/[A-Za-z0-9_-]+")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_secretary_link_opens_the_console_on_the_demo_server(tmp_path: Path) -> None:
    world = World(tmp_path / "db" / "ita-bot.json").start()
    try:
        out = io.StringIO()
        session = Session(world, out, echo=True)
        for line in (":as secretary", ":dm", "/จัดการ"):
            session.handle(line)
        link = LINK.search(out.getvalue())
        assert link, out.getvalue()
        assert link.group(0).startswith(world.base_url)

        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
        try:
            opener.open(link.group(0), timeout=10)
            raise AssertionError("expected a redirect")
        except urllib.error.HTTPError as e:
            assert e.code == 303 and e.headers["Location"].endswith("/admin")
        with opener.open(world.base_url + "/admin", timeout=10) as r:
            page = r.read().decode("utf-8")
        # The console reads the demo's simulated clock: the year at a glance is 2564's, with the seeded reports.
        assert "ภาพรวมปีงบประมาณ 2564" in page and "เจ้าหน้าที่ คลัง" in page
    finally:
        world.stop()
