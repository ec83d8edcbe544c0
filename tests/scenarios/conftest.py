"""The scenarios' storage backends: a process environment for TinyDB files or for an office of its own on PostgreSQL."""

from __future__ import annotations

import pytest

from tests.scenarios.backends import BACKENDS, postgresql_env


@pytest.fixture(params=BACKENDS)
def storage_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Extra environment of the bot's processes for the backend under test ({} for TinyDB files beside ITA_BOT_DB;
    the PostgreSQL database is asked for only by the PostgreSQL runs, so TinyDB runs need no server)."""
    if request.param == "tinydb":
        return {}
    return postgresql_env(request.getfixturevalue("postgres_database"))
