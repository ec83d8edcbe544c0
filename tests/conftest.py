"""Shared fixtures: a LINE stand-in on 127.0.0.1, a config pointing at it, and the office over a temp store.

A module or test marked ``@pytest.mark.backends("tinydb", "postgresql")`` runs once per backend named: its
``config`` (and so ``office`` and the chat harness's ``bot``) then stores in TinyDB files under the test's temp
folder, or in an office of its own in the run's PostgreSQL database. Unmarked tests run on TinyDB only."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from ita_bot.domain.config import Config, load_config

# No example database in the checkout: runs are reproducible and the tree stays clean.
settings.register_profile("ita", database=None, derandomize=True)
settings.load_profile("ita")

# The signed-webhook chat harness and the PostgreSQL server serve tests in every package.
pytest_plugins = ["tests.chat_harness", "tests.postgres"]

ROOT = Path(__file__).resolve().parent.parent
PLAN_2564 = ROOT / "storage" / "plans" / "2564.toml"
SECRET = "test-channel-secret"
TOKEN = "test-channel-token"

# A small world of people, in LINE's ID formats (never real people).
CHAIR = "U" + "c" * 32
SECRETARY = "U" + "5" * 32
ASSISTANT = "U" + "a5" * 16
MEMBER = "U" + "e" * 32
STAFF_SP = "U" + "1" * 32
STAFF_SP2 = "U" + "12" * 16
STAFF_KLANG = "U" + "2" * 32
STAFF_CHANG = "U" + "3" * 32
STAFF_SUKSA = "U" + "4" * 32
STRANGER = "U" + "9" * 32
GROUP = "C" + "0" * 32
NAMES = {
    CHAIR: "ประธานทดสอบ",
    SECRETARY: "เลขาทดสอบ",
    ASSISTANT: "ผู้ช่วยเลขาทดสอบ",
    MEMBER: "กรรมการทดสอบ",
    STAFF_SP: "สมชาย สป",
    STAFF_SP2: "สมศรี สป",
    STAFF_KLANG: "มานี คลัง",
    STAFF_CHANG: "มานะ ช่าง",
    STAFF_SUKSA: "ปิติ การศึกษา",
    STRANGER: "คนแปลกหน้า",
}


def give_role(office: Any, user_id: str, role: str, now: datetime | None = None) -> None:
    """Give someone a role the only way the product does: a code issued for it, claimed by them."""
    now = now or datetime.now(UTC)
    code, _ = office.people.issue_code(role, None, now)
    office.people.claim_code(code, user_id, now)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(folder: Path, sections: dict[str, dict[str, Any]]) -> Path:
    """Write a config.toml with the given sections (the plan defaults to the real 2564 plan)."""
    merged: dict[str, dict[str, Any]] = {
        "organization": {"plan": str(PLAN_2564)},
        "line": {"channel_secret": SECRET, "channel_access_token": TOKEN, "group_id": GROUP},
        "roles": {"chair": [CHAIR], "secretary": [SECRETARY]},
        "web": {"base_url": "https://ita.example.go.th"},
    }
    for name, values in sections.items():
        merged.setdefault(name, {}).update(values)
    lines = []
    for name, values in merged.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in values.items()]
        lines.append("")
    path = folder / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


SCENARIOS = Path(__file__).resolve().parent / "scenarios"
BACKENDS = ("tinydb", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends(*names): run the test once per storage backend named (tinydb, postgresql); "
        "its config, office and bot store there (unmarked: tinydb only)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A `backends` marker (the test's own, else its class's or module's) parametrizes `storage_backend`."""
    marker = metafunc.definition.get_closest_marker("backends")
    if marker is None or "storage_backend" not in metafunc.fixturenames:
        return  # unmarked, or a test of the module that stores nothing: once, on TinyDB
    unknown = set(marker.args) - set(BACKENDS)
    assert marker.args and not unknown, f"backends(...) takes names among {BACKENDS}, got {marker.args}"
    metafunc.parametrize("storage_backend", marker.args, indirect=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every end-to-end scenario runs real processes (gunicorn, nginx, HAProxy, Chromium, the clock): `slow`."""
    for item in items:
        if SCENARIOS in item.path.parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _processes_only_in_slow_tests(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that starts a process must be marked `slow`, or the fast lane (-m "not slow") would not be fast."""
    if request.node.get_closest_marker("slow") is None:
        def refuse(*args: Any, **kwargs: Any) -> None:
            raise AssertionError(f"{request.node.nodeid} starts a process: mark it @pytest.mark.slow")

        monkeypatch.setattr(subprocess, "Popen", refuse)


@pytest.fixture
def standin() -> Iterator[Any]:
    """The LINE stand-in on 127.0.0.1 with the test world's people and staff group."""
    from ita_bot.line_standin import LineStandIn

    with LineStandIn(SECRET) as s:
        for uid, name in NAMES.items():
            s.add_user(uid, name)
        s.add_group(GROUP, "พนักงาน อบต.หนองเมือง", [u for u in NAMES if u != STRANGER])
        yield s


@pytest.fixture
def storage_backend(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The environment selecting this test's storage: {} for TinyDB files (beside ITA_BOT_DB), or the run's
    PostgreSQL database and a fresh office of this test's own. At the end the process's pool for that
    database closes, so no connection or transaction of one test outlives it."""
    backend = getattr(request, "param", "tinydb")
    if backend == "tinydb":
        yield {}
        return
    from ita_bot.store.pg.database import Database
    from tests.postgres import new_office

    url: str = request.getfixturevalue("postgres_database")
    try:
        yield {"ITA_BOT_DATABASE_URL": url, "ITA_BOT_OFFICE": new_office(url)}
    finally:
        # The bots built on this config are torn down before this fixture (they depend on it).
        Database.shared(url).close()


@pytest.fixture
def make_config(tmp_path: Path, standin: Any, storage_backend: dict[str, str]) -> Callable[..., Config]:
    """Build a Config over a temp database pointing at the stand-in; keyword args are TOML sections. Its storage
    is the test's backend (see `storage_backend`); every config of one test shares the same data."""

    def make(**sections: dict[str, Any]) -> Config:
        path = write_config(tmp_path, sections)
        env = {
            "ITA_BOT_DB": str(tmp_path / "db" / "ita-bot.json"),
            "LINE_API_ENDPOINT": standin.url,
            "LINE_DATA_API_ENDPOINT": standin.url,
            **storage_backend,
        }
        return load_config(path, env)

    return make


@pytest.fixture
def config(make_config: Callable[..., Config]) -> Config:
    return make_config()


@pytest.fixture
def office(config: Config) -> Any:
    from ita_bot.store import open_office

    return open_office(config)
