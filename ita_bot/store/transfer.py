"""Moving one office between the backends: a TinyDB data folder <-> an office of a PostgreSQL database, record for
record (a PostgreSQL row's ``data`` is the TinyDB record), verified by row counts and checksums before it counts.

``MAPPING`` is the whole correspondence, one line per table. The office's kept records move; the processes' own
state (sign-in links, console sessions, guided drafts, heartbeats, secret keys, the webhook's inbox) does not:
it is rebuilt by the processes on the new backend (managers sign in again), and ``Moved.dropped`` says what was
left behind. Neither direction writes anything at the source; the destination must hold no data of the office.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from ita_bot.domain.config import OFFICE_SLUG
from ita_bot.domain.evidence import safe_name
from ita_bot.domain.inbox import StorageError
from ita_bot.domain.plan_book import PLAN_FILE
from ita_bot.store.database import (
    JOURNAL_DIR,
    SCHEMA_VERSION,
    SNAPSHOTS_DIR,
    Store,
    StoreError,
    database_files,
    load_database,
)
from ita_bot.store.files import is_temp, plain_files, write_atomic
from ita_bot.store.pg.database import Connection, Database, redact_url
from ita_bot.store.pg.schema import ensure_office, require_current
from ita_bot.store.tiny import MAIN_FILE
from ita_bot.store.tiny.segments import decode_lines

__all__ = ["DROPPED_PG", "DROPPED_TINY", "MAPPING", "Moved", "Table", "TableSum", "TransferError",
           "export_office", "import_office", "is_database_url", "move", "read_postgresql", "read_tiny",
           "tiny_main_file"]


class TransferError(StorageError):
    """A move refused (the destination holds data, a schema is not current) or failed its verification."""


@dataclass(frozen=True)
class Table:
    """One TinyDB table and the PostgreSQL table holding the same records.

    ``tiny``: "<database>/<table>" ("main" is the main file; "{year}" stands for each fiscal year's file).
    ``keys``: the PostgreSQL columns besides ``office`` and ``data``, each "column" (the record's field of that
    name) or "column=source", where source is "#doc" (the TinyDB document id, which is the key there), "#year"
    (the fiscal year of the file) or "field?" (whether the record's field is set, i.e. not null).
    ``data``: False when the table has no ``data`` column and the record is exactly its key columns.
    ``order``: the column keeping the order rows were stored in (the TinyDB document ids' order), or None when
    the table has no order (compared sorted). ``only``: (field, value) a TinyDB row must have to be this table's
    (rows of a shared TinyDB table go to the first table they match). ``inner``: the PostgreSQL ``data`` is
    this field of the TinyDB record, which is {only field: only value, inner: data}."""

    label: str
    tiny: str
    pg: str
    keys: tuple[str, ...] = ()
    data: bool = True
    order: str | None = None
    only: tuple[str, Any] | None = None
    inner: str | None = None

    @property
    def tiny_db(self) -> str:
        return self.tiny.split("/")[0]

    @property
    def tiny_table(self) -> str:
        return self.tiny.split("/")[1]

    @property
    def per_year(self) -> bool:
        return "{year}" in self.tiny

    def columns(self) -> list[tuple[str, str]]:
        """(column, source) of every key column."""
        return [tuple(k.split("=", 1)) if "=" in k else (k, k) for k in self.keys]  # type: ignore[misc]

    @property
    def doc_column(self) -> str | None:
        return next((c for c, s in self.columns() if s == "#doc"), None)

    def matches(self, record: dict[str, Any]) -> bool:
        return self.only is None or record.get(self.only[0]) == self.only[1]


#: The office's records: TinyDB table -> PostgreSQL table, and how each key column comes out of the record.
MAPPING: tuple[Table, ...] = (
    Table("people", "main/people", "people", ("user_id", "handle"), order="seq"),
    Table("role codes", "main/codes", "role_codes", ("number=#doc", "hash"), order="number"),
    Table("failed code claims", "main/claim_attempts", "claim_attempts", ("user_id", "at"), data=False, order="seq"),
    Table("counters", "main/counters", "counters", ("name", "value"), data=False, order="seq"),
    Table("audit", "main/audit", "audit", ("at",), order="id"),
    Table("menu state", "main/settings", "menu_state", only=("key", "richmenu"), inner="value"),
    Table("settings", "main/settings", "settings", ("key",)),
    Table("meetings", "main/meetings", "meetings", ("cycle",)),
    Table("memo header", "main/documents", "memo_headers"),
    Table("notices", "main/notices", "notices", ("key", "resolved"), order="seq"),
    Table("plan changes", "plan-changes/changes", "plan_changes", ("id=#doc", "fiscal_year"), order="id"),
    Table("sent log", "sent-log/sends", "sent_log", ("key",), order="seq"),
    Table("clock slots", "sent-log/slots", "slots", ("slot",), order="seq"),
    Table("reports", "reports-{year}/reports", "reports",
          ("fiscal_year=#year", "id", "event_id", "reported_at", "sent_at", "withdrawn=withdrawn_at?"), order="seq"),
    Table("publications", "main/publications", "publications", ("fiscal_year", "kind")),
    Table("snapshots", "main/snapshots", "snapshots", ("fiscal_year", "number")),
)
# Besides the tables: saved plans (plans/<fy>.toml <-> plans: fiscal_year, text, version = the text's sha256),
# evidence files (evidence/<name> <-> evidence: name, content, stored_at = the file's mtime) and each snapshot's two
# files (snapshots/<fy>/<number>.html and .pdf <-> the snapshots row's html and pdf columns).
_SNAPSHOTS = next(t for t in MAPPING if t.pg == "snapshots")
_SNAPSHOT_KINDS = ("html", "pdf")

#: The processes' own state, not moved: TinyDB table -> what it is.
DROPPED_TINY: dict[str, str] = {
    "main/signin_links": "sign-in links",
    "main/console_sessions": "console sessions",
    "main/conversations": "report drafts",
    "main/heartbeats": "heartbeats",
}
#: The same on PostgreSQL: table -> what it is.
DROPPED_PG: dict[str, str] = {
    "signin_links": "sign-in links",
    "sessions": "console sessions",
    "drafts": "report drafts",
    "heartbeats": "heartbeats",
    "secret_keys": "secret keys",
    "inbox": "inbox events",
    "inbox_marks": "inbox marks",
}

_YEAR_DB = re.compile(r"reports-(\d{4})")
_SECRET_KEY_FILES = ("console-secret-key",)


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# -- what an office holds, read from either side ------------------------------------------------------------------


@dataclass
class Rows:
    """One table's records (of one fiscal year for reports), in stored order: (document id when it is the key, the
    TinyDB record)."""

    table: Table
    year: int | None = None
    items: list[tuple[int | None, dict[str, Any]]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.table.label} {self.year}" if self.year is not None else self.table.label

    def canonical(self) -> list[str]:
        lines = [_canonical([doc, record] if self.table.doc_column else record) for doc, record in self.items]
        return lines if self.table.order else sorted(lines)


@dataclass(frozen=True)
class EvidenceFile:
    sha256: str
    size: int
    stored_at: datetime


@dataclass(frozen=True)
class FileSum:
    sha256: str
    size: int


@dataclass(frozen=True)
class TableSum:
    """What the move reports and verifies per table: rows and a sha256 over their canonical JSON, in order."""

    label: str
    rows: int
    sha256: str


@dataclass
class Snapshot:
    """An office's records as one side holds them (evidence by name and digest; its bytes are read when copied)."""

    rows: list[Rows] = field(default_factory=list)
    plans: dict[int, str] = field(default_factory=dict)
    evidence: dict[str, EvidenceFile] = field(default_factory=dict)
    #: Each snapshot's files by name under snapshots/ ("2568/1.html"); their bytes are read when copied.
    snapshot_files: dict[str, FileSum] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)  # what is left behind -> how many
    unknown: list[str] = field(default_factory=list)  # TinyDB tables/databases no mapping knows

    def sums(self) -> list[TableSum]:
        """Every table with rows, then plans and evidence; empty ones are left out (a TinyDB year file may exist
        with no reports, PostgreSQL has no such thing)."""
        out = []
        for rows in sorted(self.rows, key=lambda r: (MAPPING.index(r.table), r.year or 0)):  # the mapping's order
            if rows.items:
                lines = rows.canonical()
                out.append(TableSum(rows.label, len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()))
        if self.plans:
            text = _canonical(sorted(self.plans.items()))
            out.append(TableSum("saved plans", len(self.plans), hashlib.sha256(text.encode()).hexdigest()))
        if self.evidence:
            text = _canonical(sorted((n, e.sha256) for n, e in self.evidence.items()))
            out.append(TableSum("evidence files", len(self.evidence), hashlib.sha256(text.encode()).hexdigest()))
        if self.snapshot_files:
            text = _canonical(sorted((n, f.sha256) for n, f in self.snapshot_files.items()))
            out.append(TableSum("snapshot files", len(self.snapshot_files),
                                hashlib.sha256(text.encode()).hexdigest()))
        return out


def _differences(source: Snapshot, copied: Snapshot) -> list[str]:
    a = {s.label: s for s in source.sums()}
    b = {s.label: s for s in copied.sums()}
    out = [f"{label} ({a[label].rows if label in a else 0} rows at the source, "
           f"{b[label].rows if label in b else 0} copied)"
           for label in sorted(set(a) | set(b)) if a.get(label) != b.get(label)]
    bad = [n for n, e in source.evidence.items() if copied.evidence.get(n, e).sha256 != e.sha256]
    if bad:
        out.append(f"evidence files {', '.join(sorted(bad)[:5])} differ")
    bad = [n for n, f in source.snapshot_files.items() if copied.snapshot_files.get(n, f).sha256 != f.sha256]
    if bad:
        out.append(f"snapshot files {', '.join(sorted(bad)[:5])} differ")
    return out


def _snapshot_names(snap: Snapshot) -> Iterator[tuple[str, str]]:
    """(file name under snapshots/, the digest its row records) of every snapshot's two files."""
    for rows in snap.rows:
        if rows.table is _SNAPSHOTS:
            for _doc, record in rows.items:
                for kind in _SNAPSHOT_KINDS:
                    yield (_snapshot_file(record["fiscal_year"], record["number"], kind),
                           record["sha256" if kind == "html" else "pdf_sha256"])


def _snapshot_file(fiscal_year: Any, number: Any, kind: str) -> str:
    if type(fiscal_year) is not int or type(number) is not int:
        raise TransferError(f"a snapshot row's fiscal year or number is not a whole number ({fiscal_year!r}, "
                            f"{number!r}); nothing was copied")
    return f"{fiscal_year}/{number}.{kind}"


# -- TinyDB side --------------------------------------------------------------------------------------------------


def tiny_main_file(path: Path | str) -> Path:
    """The main database file of a data folder given as the folder or as its main file."""
    path = Path(path).absolute()
    return path if path.suffix == ".json" else path / MAIN_FILE


def read_tiny(main: Path) -> Snapshot:
    """The office kept in the data folder of ``main``, read without taking a lock or writing anything there (stop
    the bot first: each file is a consistent version, the folder as a whole only when nothing writes)."""
    folder = main.parent
    databases = {}
    for name, path in database_files(main).items():
        databases[name] = load_database(path).tables  # the file with its row log's rows
    snap = Snapshot()
    seen: set[str] = set()
    for name, tables in databases.items():
        match = _YEAR_DB.fullmatch(name)
        year = int(match[1]) if match else None
        db_key = "reports-{year}" if match else name
        for table_name, docs in tables.items():
            where = f"{db_key}/{table_name}"
            if where in DROPPED_TINY:
                label = DROPPED_TINY[where]
                snap.dropped[label] = snap.dropped.get(label, 0) + len(docs)
                continue
            targets = [t for t in MAPPING if t.tiny == where]
            if not targets:
                snap.unknown.append(f"{name}/{table_name}")
                continue
            seen.add(where)
            groups = {t.label: Rows(t, year) for t in targets}
            for doc_id, record in sorted(docs.items(), key=lambda d: int(d[0])):
                table = next((t for t in targets if t.matches(record)), None)
                if table is None:
                    snap.unknown.append(f"{name}/{table_name}#{doc_id}")
                    continue
                groups[table.label].items.append((int(doc_id) if table.doc_column else None, record))
            snap.rows.extend(groups.values())
    for name in databases:
        if not (_YEAR_DB.fullmatch(name) or name in {t.tiny_db for t in MAPPING}):
            snap.unknown.append(name)
    for name, path in plain_files(folder / "plans"):
        if (m := PLAN_FILE.fullmatch(name)) is None:
            snap.unknown.append(f"plans/{name}")
            continue
        try:
            snap.plans[int(m[1])] = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as e:
            raise TransferError(f"saved plan {path} is not UTF-8 text: {e}; fix or remove it first") from e
    for name, path in plain_files(folder / "evidence"):
        data = path.read_bytes()
        snap.evidence[name] = EvidenceFile(hashlib.sha256(data).hexdigest(), len(data),
                                           datetime.fromtimestamp(path.stat().st_mtime, UTC))
    named = dict(_snapshot_names(snap))
    for name, path in plain_files(folder / SNAPSHOTS_DIR):
        if name not in named:
            snap.unknown.append(f"{SNAPSHOTS_DIR}/{name}")  # a freeze whose row was never committed: no snapshot
            continue
        data = path.read_bytes()
        snap.snapshot_files[name] = FileSum(hashlib.sha256(data).hexdigest(), len(data))
    for name, digest in named.items():
        if name not in snap.snapshot_files:
            raise TransferError(f"snapshot file {folder / SNAPSHOTS_DIR / name} is missing; nothing was copied")
        if snap.snapshot_files[name].sha256 != digest:
            raise TransferError(f"snapshot file {folder / SNAPSHOTS_DIR / name} does not match its record's "
                                "checksum (changed by hand?); nothing was copied")
    journal = folder / JOURNAL_DIR
    entries = _journal_entries(journal)
    if entries:
        snap.dropped["inbox events"] = entries
    keys = sum(1 for k in _SECRET_KEY_FILES if (folder / k).is_file())
    if keys:
        snap.dropped["secret keys"] = keys
    return snap


def _tiny_holds_data(folder: Path) -> bool:
    return folder.exists() and (not folder.is_dir() or any(folder.iterdir()))


def _write_tiny(snap: Snapshot, main: Path, content: Any, snapshot_content: Any) -> None:
    """Write ``snap`` as a data folder around ``main`` (a new, empty folder); ``content(name)`` gives an evidence
    file's bytes, ``snapshot_content(name)`` a snapshot file's."""
    folder = main.parent
    for name in sorted(snap.snapshot_files):  # the files before the rows naming them, as the repository writes them
        path = folder / SNAPSHOTS_DIR / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, snapshot_content(name))
    databases: dict[str, dict[str, dict[str, Any]]] = {}
    last: dict[tuple[str, str], int] = {}  # the highest document id given in each table so far
    for rows in snap.rows:
        name = rows.table.tiny_db.replace("{year}", str(rows.year))
        tables = databases.setdefault(name, {})
        if not rows.items:
            continue  # a table is written only with records in it, as the repositories make them
        table = tables.setdefault(rows.table.tiny_table, {})
        where = (name, rows.table.tiny_table)
        for doc, record in rows.items:
            doc_id = doc if doc is not None else last.get(where, 0) + 1
            last[where] = max(last.get(where, 0), doc_id)
            table[str(doc_id)] = record
    for name, tables in databases.items():
        payload = {"_meta": {"schema": SCHEMA_VERSION}, **tables}
        raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        write_atomic(main if name == "main" else folder / f"{name}.json", raw)
    if snap.plans:
        (folder / "plans").mkdir()
        for fy, text in sorted(snap.plans.items()):
            write_atomic(folder / "plans" / f"{fy}.toml", text.encode("utf-8"))
    root = folder / "evidence"
    for name, entry in sorted(snap.evidence.items()):
        path = (root / name).resolve()
        if not safe_name(name) or not path.is_relative_to(root.resolve()):
            raise TransferError(f"evidence name {name!r} does not name a file inside the data folder; not moved")
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, content(name))
        stamp = int(entry.stored_at.timestamp() * 1_000_000) * 1000
        os.utime(path, ns=(stamp, stamp))  # the file's mtime is when the evidence was stored (Last-Modified)


# -- PostgreSQL side ----------------------------------------------------------------------------------------------


def _source(source: str, record: dict[str, Any], doc: int | None, year: int | None) -> Any:
    if source == "#doc":
        return doc
    if source == "#year":
        return year
    if source.endswith("?"):
        return record.get(source[:-1]) is not None
    return record.get(source)


def _insert(conn: Connection, office: str, rows: Rows) -> None:
    table = rows.table
    columns = table.columns()
    names = ["office", *(c for c, _ in columns), *(["data"] if table.data else [])]
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table.pg), sql.SQL(", ").join(map(sql.Identifier, names)),
        sql.SQL(", ").join(sql.Placeholder() * len(names)))
    params = []
    for doc, record in rows.items:
        values: list[Any] = [office, *(_source(s, record, doc, rows.year) for _, s in columns)]
        if table.data:
            values.append(Jsonb(record[table.inner] if table.inner else record))
        params.append(values)
    if params:
        # In stored order, so the identity columns (seq, id) keep the TinyDB documents' order.
        with conn.cursor() as cur:
            cur.executemany(statement, params)


def _read_table(conn: Connection, office: str, table: Table) -> list[Rows]:
    columns = table.columns()
    names = [c for c, _ in columns] + (["data"] if table.data else [])
    # A table without a stored order is read in its key's order, so an export numbers its documents the same way
    # every time.
    order = ([c for c, s in columns if s == "#year"] + [table.order]) if table.order else \
        [c for c, _ in columns] or names[:1] or ["office"]
    query = sql.SQL("SELECT {} FROM {} WHERE office = %s ORDER BY {}").format(
        sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(table.pg),
        sql.SQL(", ").join(map(sql.Identifier, order)))
    groups: dict[int | None, Rows] = {}
    for row in conn.execute(query, (office,)).fetchall():
        year = next((row[c] for c, s in columns if s == "#year"), None)
        doc = row[table.doc_column] if table.doc_column else None
        if not table.data:
            record = {c: row[c] for c, _ in columns}
        elif table.inner and table.only:
            record = {table.only[0]: table.only[1], table.inner: row["data"]}
        else:
            record = row["data"]
        groups.setdefault(year, Rows(table, year)).items.append((doc, record))
    return list(groups.values()) if groups else ([] if table.per_year else [Rows(table)])


def _office_tables(conn: Connection) -> list[str]:
    """Every table of the schema that holds rows by office (as the schema has them now, whoever added them)."""
    rows = conn.execute(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND column_name = 'office' ORDER BY table_name").fetchall()
    return [r["table_name"] for r in rows]


def _pg_holds_data(conn: Connection, office: str) -> list[str]:
    return [t for t in _office_tables(conn) if conn.execute(
        sql.SQL("SELECT 1 AS one FROM {} WHERE office = %s LIMIT 1").format(sql.Identifier(t)), (office,)).fetchone()]


def read_postgresql(conn: Connection, office: str) -> Snapshot:
    """The office as the database holds it, in ``conn``'s transaction."""
    snap = Snapshot()
    for table in MAPPING:
        snap.rows.extend(_read_table(conn, office, table))
    for row in conn.execute("SELECT fiscal_year, text FROM plans WHERE office = %s ORDER BY fiscal_year",
                            (office,)).fetchall():
        snap.plans[int(row["fiscal_year"])] = row["text"]
    for row in conn.execute(
            "SELECT name, stored_at, length(content) AS size, encode(sha256(content), 'hex') AS sha256"
            " FROM evidence WHERE office = %s ORDER BY name", (office,)).fetchall():
        snap.evidence[row["name"]] = EvidenceFile(row["sha256"], int(row["size"]), row["stored_at"])
    for row in conn.execute(
            "SELECT fiscal_year, number, length(html) AS html_size, encode(sha256(html), 'hex') AS html_sha256, "
            "length(pdf) AS pdf_size, encode(sha256(pdf), 'hex') AS pdf_sha256 FROM snapshots WHERE office = %s "
            "ORDER BY fiscal_year, number", (office,)).fetchall():
        for kind in _SNAPSHOT_KINDS:
            snap.snapshot_files[_snapshot_file(row["fiscal_year"], row["number"], kind)] = FileSum(
                row[f"{kind}_sha256"], int(row[f"{kind}_size"]))
    present = set(_office_tables(conn))
    for name, label in DROPPED_PG.items():
        if name in present:
            found = conn.execute(sql.SQL("SELECT count(*) AS n FROM {} WHERE office = %s").format(
                sql.Identifier(name)), (office,)).fetchone()
            if found and found["n"]:
                snap.dropped[label] = int(found["n"])
    return snap


def _insert_snapshot(conn: Connection, office: str, snap: Snapshot, folder: Path) -> None:
    for rows in snap.rows:
        if rows.table is _SNAPSHOTS:
            _insert_snapshots(conn, office, rows, folder)
        else:
            _insert(conn, office, rows)
    for fy, text in sorted(snap.plans.items()):
        conn.execute("INSERT INTO plans (office, fiscal_year, text, version) VALUES (%s, %s, %s, %s)",
                     (office, fy, text, hashlib.sha256(text.encode("utf-8")).hexdigest()))
    for name, entry in sorted(snap.evidence.items()):  # one file in memory at a time
        conn.execute("INSERT INTO evidence (office, name, content, stored_at) VALUES (%s, %s, %s, %s)",
                     (office, name, (folder / "evidence" / name).read_bytes(), entry.stored_at))


def _insert_snapshots(conn: Connection, office: str, rows: Rows, folder: Path) -> None:
    """The snapshots' rows with their two files each, one row at a time (a year's PDFs need not all sit in
    memory)."""
    for _doc, record in rows.items:
        files = [(folder / SNAPSHOTS_DIR / _snapshot_file(record["fiscal_year"], record["number"], kind)).read_bytes()
                 for kind in _SNAPSHOT_KINDS]
        conn.execute("INSERT INTO snapshots (office, fiscal_year, number, data, html, pdf) "
                     "VALUES (%s, %s, %s, %s, %s, %s)",
                     (office, record["fiscal_year"], record["number"], Jsonb(record), *files))


def _delete_office_records(conn: Connection, office: str) -> None:
    """Every record of the office a move carries (not the processes' state): a restore replaces them."""
    for table in [*dict.fromkeys(t.pg for t in MAPPING), "plans", "evidence"]:
        conn.execute(sql.SQL("DELETE FROM {} WHERE office = %s").format(sql.Identifier(table)), (office,))


# -- the moves ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moved:
    """What a move did: each table's rows and checksum (verified equal at both ends) and what it left behind."""

    source: str
    target: str
    sums: list[TableSum]
    dropped: dict[str, int]
    unknown: list[str]

    def lines(self) -> list[str]:
        out = [f"moved {self.source} -> {self.target}", f"  {'table':<22}{'rows':>7}  sha256"]
        out += [f"  {s.label:<22}{s.rows:>7}  {s.sha256[:16]}" for s in self.sums] or ["  (no records)"]
        out.append("verified: every table's row count and checksum, and every evidence and snapshot file's sha256, "
                   "match at the destination; the source was not changed")
        if self.dropped:
            left = ", ".join(f"{label} {n}" for label, n in sorted(self.dropped.items()))
            out.append(f"not moved (the processes' own state; managers sign in again): {left}")
        if self.unknown:
            out.append(f"not moved (no mapping knows them): {', '.join(self.unknown)}")
        return out


def _check_office(office: str) -> None:
    if not OFFICE_SLUG.fullmatch(office):
        raise TransferError(f"office {office!r}: a slug is 3-40 lowercase letters, digits and '-' (or 'default')")


@contextlib.contextmanager
def _snapshot_transaction(db: Database) -> Iterator[Connection]:
    """One consistent, read-only view of the database (the office's tables as of one moment)."""
    outermost = not db.in_transaction
    with db.transaction() as conn:
        if outermost:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield conn


def import_office(main: Path, db: Database, office: str, *, replace: bool = False) -> Moved:
    """Copy the data folder of ``main`` into ``office`` of ``db`` in one transaction, verified inside it (a
    mismatch rolls it all back). Refused when the office holds data, unless ``replace`` (a restore: the office's
    records are replaced, its processes' state kept)."""
    _check_office(office)
    if not main.is_file() and not main.parent.is_dir():
        raise TransferError(f"{main.parent}: no such data folder")
    if not main.is_file() and not database_files(main):
        raise TransferError(f"{main.parent}: not a data folder of this bot (no {main.name} or other database)")
    source = read_tiny(main)
    require_current(db)
    with db.transaction() as conn:
        ensure_office(db, office)
        # One move at a time per office: two started together would both find it empty.
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{office}/transfer",))
        if replace:
            _delete_office_records(conn, office)
        elif held := _pg_holds_data(conn, office):
            raise TransferError(f"office {office!r} in {redact_url(db.url)} already holds data ({', '.join(held)}); "
                                "nothing was copied: move into a new office, or use `restore` to replace it")
        try:
            _insert_snapshot(conn, office, source, main.parent)
            copied = read_postgresql(conn, office)
        except psycopg.Error as e:
            if isinstance(e, psycopg.OperationalError):
                raise
            raise TransferError(f"copying into office {office!r} failed, nothing was kept: "
                                f"{str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}") from e
        if problems := _differences(source, copied):
            raise TransferError(f"verification failed, nothing was kept: {'; '.join(problems)}")
    return Moved(str(main.parent), f"{redact_url(db.url)} office {office}", source.sums(), source.dropped,
                 source.unknown)


def export_office(db: Database, office: str, main: Path) -> Moved:
    """Copy ``office`` of ``db`` into a new data folder around ``main`` (staged beside it, verified, then moved
    into place by one rename). Refused when that folder holds anything."""
    _check_office(office)
    folder = main.parent
    if _tiny_holds_data(folder):
        raise TransferError(f"{folder} already holds data; nothing was copied: choose a new or empty folder")
    require_current(db)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.moving-", dir=folder.parent))
    try:
        staged = staging / main.name
        with _snapshot_transaction(db) as conn:
            if conn.execute("SELECT 1 AS one FROM offices WHERE slug = %s", (office,)).fetchone() is None:
                raise TransferError(f"{redact_url(db.url)} has no office {office!r}; nothing was copied")
            source = read_postgresql(conn, office)

            def content(name: str) -> bytes:
                row = conn.execute("SELECT content FROM evidence WHERE office = %s AND name = %s",
                                   (office, name)).fetchone()
                assert row is not None  # the same snapshot listed it
                return bytes(row["content"])

            def snapshot_content(name: str) -> bytes:
                year, rest = name.split("/")
                number, kind = rest.split(".")
                assert kind in _SNAPSHOT_KINDS  # a name read_postgresql made
                row = conn.execute(sql.SQL("SELECT {} AS content FROM snapshots WHERE office = %s AND fiscal_year = %s "
                                           "AND number = %s").format(sql.Identifier(kind)),
                                   (office, int(year), int(number))).fetchone()
                assert row is not None  # the same snapshot listed it
                return bytes(row["content"])

            _write_tiny(source, staged, content, snapshot_content)
        copied = read_tiny(staged)
        if problems := _differences(source, copied):
            raise TransferError(f"verification failed, nothing was kept: {'; '.join(problems)}")
        if _tiny_holds_data(folder):
            raise TransferError(f"{folder} was filled meanwhile; nothing was copied")
        os.replace(staging, folder)  # an empty folder is replaced too (rename(2))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Moved(f"{redact_url(db.url)} office {office}", str(folder), source.sums(), source.dropped, source.unknown)


def is_database_url(text: str) -> bool:
    return re.match(r"^postgres(ql)?://", text) is not None


def move(source: str, target: str, office: str) -> Moved:
    """`migrate --from SOURCE --to TARGET`: one side a data folder (or its main file), the other a PostgreSQL URL."""
    if is_database_url(source) == is_database_url(target):
        raise TransferError("migrate --from/--to: one side must be a TinyDB data folder (or its .json file) and "
                            "the other a postgresql:// URL")
    url = source if is_database_url(source) else target
    from ita_bot.store.status import probe_database

    probe_database(url)  # an unreachable server is one line at once, not the pool's long wait
    db = Database(url, max_size=1)
    try:
        if is_database_url(target):
            main = tiny_main_file(source)
            if not main.parent.is_dir():
                raise TransferError(f"{main.parent}: no such data folder")
            return import_office(main, db, office)
        return export_office(db, office, tiny_main_file(target))
    finally:
        db.close()


# -- backup and restore of an office on PostgreSQL -----------------------------------------------------------------


def backup_office(db: Database, office: str, dest: Path, *, now: datetime | None = None, force: bool = False,
                  protect: Iterable[Path | str] = ()) -> Path:
    """The office as a backup archive of the TinyDB format (``store.backup``'s), so it restores on either
    backend: exported to a temporary data folder beside ``dest`` and archived by the same writer."""
    from ita_bot.store.backup import write_backup

    where = dest if dest.is_dir() else dest.parent
    where.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".ita-bot-backup-", dir=where) as tmp:
        main = Path(tmp) / "data" / MAIN_FILE
        export_office(db, office, main)
        return write_backup(Store(main), dest, now=now, force=force, protect=protect)


def restore_office(db: Database, office: str, src: Path, check_plans: Any = None) -> Moved:
    """Replace the office's records by a backup's, in one transaction: the archive is checked and unpacked into a
    temporary data folder by the TinyDB restore, then imported with ``replace``."""
    from ita_bot.store.backup import restore_backup

    if not src.is_file():
        raise StoreError(f"backup {src}: no such file")
    with tempfile.TemporaryDirectory(prefix="ita-bot-restore-") as tmp:
        store = Store(Path(tmp) / "data" / MAIN_FILE)
        restore_backup(store, src, check_plans)
        return import_office(store.db_path, db, office, replace=True)


def remove_office(db: Database, office: str) -> int:
    """Delete every row of the office, process state included, in one transaction (``office remove``, after its
    export); the office's own row stays for the registry to forget. Returns the rows deleted."""
    _check_office(office)
    deleted = 0
    with db.transaction() as conn:
        for table in _office_tables(conn):
            cur = conn.execute(sql.SQL("DELETE FROM {} WHERE office = %s").format(sql.Identifier(table)), (office,))
            deleted += cur.rowcount
    return deleted


def _journal_entries(journal: Path) -> int:
    """Events the file inbox keeps (pending or applied), read without touching the folder: the ids in its
    segments and done-log, and files of the earlier layout."""
    if not journal.is_dir():
        return 0
    ids: set[str] = set()
    for path in journal.rglob("*"):
        if is_temp(path.name) or not path.is_file():
            continue
        if path.suffix == ".json":
            ids.add(path.stem)
        elif path.suffix == ".log":
            for record in decode_lines(path.read_bytes()):
                stem = record.get("id", record.get("done"))
                if isinstance(stem, str):
                    ids.add(stem)
    return len(ids)
