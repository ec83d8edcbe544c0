"""The storage backends: where an office's repositories live; ``open_office`` wires an office onto them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ita_bot.domain.config import Config
from ita_bot.domain.heartbeats import HeartbeatRepository
from ita_bot.domain.office import Office
from ita_bot.domain.offices import OfficeRegistry
from ita_bot.store.database import JOURNAL_DIR, Store
from ita_bot.store.tiny import tinydb_repositories

__all__ = ["backend_name", "office_folder", "open_office", "open_registry", "remove_office_data", "service_heartbeats"]


def backend_name(config: Config) -> str:
    """The backend ``config`` selects: "postgresql" when a database URL is set, else "tinydb"."""
    return "postgresql" if config.database_url else "tinydb"


def open_office(config: Config, *, now: Callable[[], datetime] | None = None) -> Office:
    """The office of ``config`` on its configured backend: PostgreSQL when ``database_url`` is set (its schema
    must be current: DatabaseError naming `python bot.py migrate` otherwise), else TinyDB files in ``db_path``."""
    if config.database_url:
        from ita_bot.store.pg import Database, postgresql_repositories
        from ita_bot.store.pg.schema import ensure_office, require_current

        db = Database.shared(config.database_url)
        require_current(db)
        ensure_office(db, config.office)
        return Office(config, postgresql_repositories(db, config.office), now=now)
    store = Store(Path(config.db_path))  # the one Store of this office in this process, shared by its repositories
    return Office(config, tinydb_repositories(store.folder, store=store), now=now)


def office_folder(config: Config, slug: str) -> Path:
    """A hosted office's TinyDB data folder: ``offices/<slug>`` in the service's data folder."""
    return Path(config.db_path).parent / "offices" / slug


def open_registry(config: Config) -> OfficeRegistry:
    """The hosted service's office registry on the configured backend (its schema must be current on PostgreSQL)."""
    if config.database_url:
        from ita_bot.store.pg import Database
        from ita_bot.store.pg.offices import PgOfficeRegistry
        from ita_bot.store.pg.schema import require_current

        db = Database.shared(config.database_url)
        require_current(db)
        return PgOfficeRegistry(db)
    from ita_bot.store.tiny.offices import TinyOfficeRegistry

    return TinyOfficeRegistry(Path(config.db_path).parent)


def service_heartbeats(config: Config) -> HeartbeatRepository:
    """The hosted service's own heartbeats (its clock's, beside each office's own): on PostgreSQL those of the
    service's own row set (``config.office``, never a hosted office), on TinyDB the service's main database."""
    if config.database_url:
        from ita_bot.store.pg import Database
        from ita_bot.store.pg.heartbeats import PgHeartbeats
        from ita_bot.store.pg.schema import ensure_office, require_current

        db = Database.shared(config.database_url)
        require_current(db)
        ensure_office(db, config.office)
        return PgHeartbeats(db, config.office)
    from ita_bot.store.tiny.heartbeats import TinyHeartbeats

    return TinyHeartbeats(Store(Path(config.db_path)))


def remove_office_data(config: Config, slug: str) -> None:
    """Delete all of a hosted office's data (rows on PostgreSQL, its folder on TinyDB); the registry keeps its
    record until the caller forgets it."""
    if config.database_url:
        from ita_bot.store.pg import Database
        from ita_bot.store.transfer import remove_office

        remove_office(Database.shared(config.database_url), slug)
        return
    import shutil

    folder = office_folder(config, slug)
    if folder.is_dir():
        shutil.rmtree(folder)


def offices_with_pending_events(config: Config, slugs: list[str]) -> list[str]:
    """Which of a hosted service's offices hold acknowledged webhook events not yet applied (one query on
    PostgreSQL; each office's journal folder listed on TinyDB), without opening any office."""
    if not slugs:
        return []
    if config.database_url:
        from ita_bot.store.pg import Database

        with Database.shared(config.database_url).reading() as conn:
            rows = conn.execute("SELECT DISTINCT office FROM inbox WHERE outcome IS NULL AND office = ANY(%s)",
                                (slugs,)).fetchall()
        found = {r["office"] for r in rows}
        return [s for s in slugs if s in found]
    from ita_bot.store.tiny.inbox import FileInbox

    return [s for s in slugs if FileInbox(office_folder(config, s) / JOURNAL_DIR).count_pending() > 0]
