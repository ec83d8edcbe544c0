"""The environment a bot process needs for an office of its own on PostgreSQL (scenarios share one database)."""

from __future__ import annotations

from tests.postgres import new_office

BACKENDS = ("tinydb", "postgresql")


def postgresql_env(url: str) -> dict[str, str]:
    """What a bot process needs to run a fresh office in the run's (migrated) database: every test shares the
    database, so each gets an office slug of its own."""
    return {"ITA_BOT_DATABASE_URL": url, "ITA_BOT_OFFICE": new_office(url)}
