"""The scenarios' storage backends: a process environment for TinyDB files or for an office of its own on PostgreSQL."""

from __future__ import annotations

import pytest

from tests.postgres import new_office

BACKENDS = ("tinydb", "postgresql")


def postgresql_env(url: str) -> dict[str, str]:
    """What a bot process needs to run a fresh office in the run's (migrated) database: every test shares the
    database, so each gets an office slug of its own."""
    return {"ITA_BOT_DATABASE_URL": url, "ITA_BOT_OFFICE": new_office(url)}


@pytest.fixture(params=BACKENDS)
def storage_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Extra environment of the bot's processes for the backend under test ({} for TinyDB files beside ITA_BOT_DB;
    the PostgreSQL database is asked for only by the PostgreSQL runs, so TinyDB runs need no server)."""
    if request.param == "tinydb":
        return {}
    return postgresql_env(request.getfixturevalue("postgres_database"))
