"""The hosted service on a 127.0.0.1 port (werkzeug's threaded server) with the LINE stand-in, for wizard tests."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from ita_bot.domain.config import Config, load_config
from ita_bot.domain.offices import ONBOARDING_TTL, OfficeRecord, onboarding_token, token_hash
from ita_bot.domain.thai import BANGKOK
from ita_bot.line_standin import LineStandIn
from ita_bot.line_standin.serving import Serving
from ita_bot.service import Service
from ita_bot.service.web import HostedApp, create_hosted_app
from tests.conftest import write_config

__all__ = ["KEY", "OFFICE_NAME", "Site", "csrf_of", "past"]

KEY = "wizard-test-service-key-0123456789abcdef"  # a service key of the tests' own (at least 32 characters)
OFFICE_NAME = "องค์การบริหารส่วนตำบลหนองเมือง"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Request lines would bury the test output."""


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, html[-1500:]
    return found.group(1)


class Site:
    """The hosted app served over real HTTP (LINE's webhook test must reach it while the wizard's POST waits)."""

    def __init__(self, folder: Path, standin: LineStandIn, storage_env: dict[str, str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.standin = standin
        self._app: Any = None

        def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            return self._app(environ, start_response)

        # Bound before the app exists, so the webhook URL names the real port.
        self.server = make_server("127.0.0.1", 0, dispatch, threaded=True, request_handler=_Quiet)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        config_path = write_config(folder, {"organization": {"plan": ""}, "service": {"hosted": True},
                                            "web": {"base_url": self.base_url}})
        env = {"ITA_BOT_DB": str(folder / "data" / "ita-bot.json"), "LINE_API_ENDPOINT": standin.url,
               "LINE_DATA_API_ENDPOINT": standin.url}
        env.update({k: v for k, v in storage_env.items() if k == "ITA_BOT_DATABASE_URL"})
        self.config: Config = load_config(config_path, env)
        assert self.config.hosted and self.config.plan_path is None
        self.service = Service(self.config, {"ITA_BOT_SECRET_KEY": KEY})
        self.app: HostedApp = create_hosted_app(self.config, service=self.service)
        self._app = self.app
        self._serving = Serving(self.server, "wizard-site").start()  # stops at once, unlike serve_forever

    def register(self, *, expires: datetime | None = None, name: str = OFFICE_NAME) -> tuple[str, str]:
        """A new office with a one-time link, as `office add` registers it: (slug, the link)."""
        slug = f"nongmuang-{uuid.uuid4().hex[:8]}"
        token = onboarding_token()
        now = datetime.now(BANGKOK)
        self.service.registry.add(OfficeRecord(slug=slug, name=name, created_at=now,
                                               onboarding_hash=token_hash(token),
                                               onboarding_expires=expires or now + ONBOARDING_TTL))
        return slug, f"{self.base_url}/onboard/{token}"

    def record(self, slug: str) -> OfficeRecord:
        record = self.service.registry.get(slug)
        assert record is not None
        return record

    def close(self) -> None:
        self.app.close()
        self._serving.stop()
        self.server.server_close()


def past(hours: int = 1) -> datetime:
    return datetime.now(BANGKOK) - timedelta(hours=hours)

