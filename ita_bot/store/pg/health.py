"""The pre-flight check of an office on PostgreSQL: the database answers, its schema is this program's, and every
record the office keeps reads back as the domain expects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg import sql

from ita_bot.domain.conversations import STEPS
from ita_bot.domain.inbox import StorageError
from ita_bot.store.pg.database import Connection, Database
from ita_bot.store.pg.schema import require_current
from ita_bot.store.records import (
    draft_from_record,
    heartbeat_from_record,
    link_from_record,
    menu_state_from_record,
    publication_from_record,
    session_from_record,
    snapshot_from_record,
)

__all__ = ["RECORD_READERS", "PgHealth"]

RecordReader = Callable[[Any], object]


def _draft(data: Any) -> object:
    draft = draft_from_record(data)
    if draft.step not in STEPS:
        raise ValueError(f"unknown step {draft.step!r}")
    draft.updated()  # its age decides when it lapses: the time must read
    return draft


def _menu_state(data: Any) -> object:
    state = menu_state_from_record(data)
    if state is None:
        raise ValueError("no managers' menu id")
    return state


def _heartbeat(data: Any) -> object:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise ValueError("no process name")
    return heartbeat_from_record(data["name"], data)


#: How each table's ``data`` is read back, by table: the function a repository reads a row with (it raises on a
#: record it cannot read). A table with a ``data`` jsonb column but no reader here is checked for a JSON object.
RECORD_READERS: dict[str, RecordReader] = {
    "signin_links": link_from_record,
    "sessions": session_from_record,
    "drafts": _draft,
    "menu_state": _menu_state,
    "heartbeats": _heartbeat,
    "publications": publication_from_record,
    "snapshots": snapshot_from_record,
}

# Problems named per table are capped: a table of damaged rows is one line, not thousands.
_SHOWN = 3


class PgHealth:
    """The StorageHealth of one office in a PostgreSQL database."""

    def __init__(self, db: Database, office: str) -> None:
        self.db = db
        self.office = office

    def check(self) -> None:
        """StorageError listing each problem: no answer or another schema version (nothing more can be read
        then), else each table whose records of this office do not read back."""
        require_current(self.db)  # DatabaseError (a StorageError): no answer, or not this program's schema
        problems: list[str] = []
        with self.db.transaction() as conn:
            for table in _data_tables(conn):
                problems += self._check_table(conn, table)
            problems += self._check_snapshot_files(conn)
        if problems:
            raise StorageError("\n".join(f"PostgreSQL office {self.office!r}, table {p}" for p in problems))

    def _check_table(self, conn: Connection, table: str) -> list[str]:
        reader = RECORD_READERS.get(table)
        if reader is None:
            # Only the shape: the repository owning the table reads its records (and may add its reader above).
            row = conn.execute(sql.SQL("SELECT count(*) AS n FROM {} WHERE office = %s AND "
                                       "jsonb_typeof(data) IS DISTINCT FROM 'object'").format(sql.Identifier(table)),
                               (self.office,)).fetchone()
            bad = int(row["n"]) if row else 0
            return [f"{table}: {bad} record(s) not a JSON object"] if bad else []
        failures: list[str] = []
        count = 0
        # Rows are read in pieces by a server-side cursor: a large table never sits in memory whole.
        with conn.cursor(name=f"health_{table}") as cursor:
            cursor.execute(sql.SQL("SELECT data FROM {} WHERE office = %s").format(sql.Identifier(table)),
                           (self.office,))
            for row in cursor:
                try:
                    reader(row["data"])
                except (KeyError, ValueError, TypeError, AttributeError) as e:
                    count += 1
                    if len(failures) < _SHOWN:
                        # The error's kind and message name the field, never the row's key (a LINE user id).
                        failures.append(f"{type(e).__name__}: {e}")
        if not count:
            return []
        more = f"; and {count - len(failures)} more" if count > len(failures) else ""
        return [f"{table}: {count} unreadable record(s) ({'; '.join(failures)}{more})"]


    def _check_snapshot_files(self, conn: Connection) -> list[str]:
        """Each snapshot's files still have the digests its record was written with (a snapshot never changes)."""
        row = conn.execute(
            "SELECT count(*) AS n FROM snapshots WHERE office = %s AND (encode(sha256(html), 'hex') IS DISTINCT "
            "FROM data->>'sha256' OR encode(sha256(pdf), 'hex') IS DISTINCT FROM data->>'pdf_sha256')",
            (self.office,)).fetchone()
        bad = int(row["n"]) if row else 0
        return [f"snapshots: {bad} snapshot(s) whose files do not match their checksums"] if bad else []


def _data_tables(conn: Connection) -> list[str]:
    """The office's tables that keep records in ``data`` jsonb, found in the schema itself (a later migration's
    table is checked without a change here)."""
    rows = conn.execute(
        "SELECT d.table_name AS name FROM information_schema.columns d "
        "JOIN information_schema.columns o ON o.table_schema = d.table_schema AND o.table_name = d.table_name "
        "AND o.column_name = 'office' "
        "WHERE d.table_schema = current_schema() AND d.column_name = 'data' AND d.data_type = 'jsonb' "
        "ORDER BY d.table_name").fetchall()
    return [str(r["name"]) for r in rows]
