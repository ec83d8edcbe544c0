"""A database's append-only row log: checksummed JSON lines that replay changed rows onto its snapshot file.

``<name>.log`` beside ``<name>.json``. Its first line names the log (a random token); the snapshot's ``_meta.log``
names the one log whose rows belong on top of it, so a log left over from before a rewrite (a compaction cut
short, a restore) is simply not that log. Every further line is one committed transaction: the rows it changed,
as ``[table, doc id, row]`` (row null: removed). Each line is ``<crc32 of the JSON, 8 hex> <JSON>\\n``; a line
that fails its checksum (a torn tail: a writer killed or a power cut mid-append) is skipped, never half-applied.
"""

from __future__ import annotations

import json
import re
import secrets
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LogContents", "Op", "apply_ops", "diff_tables", "header_line", "log_path", "new_token", "parse_log",
           "row_line"]

Op = tuple[str, str, "dict[str, Any] | None"]  # (table, doc id, the row; None: removed)
Tables = dict[str, dict[str, dict[str, Any]]]

_LINE_START = re.compile(rb"[0-9a-f]{8} \{")


def log_path(snapshot: Path) -> Path:
    """The log file of the database file ``snapshot`` (``reports-2568.json`` -> ``reports-2568.log``)."""
    return snapshot.with_suffix(".log")


def new_token() -> str:
    """A fresh log name: never reused, so no old log can pass for a newer snapshot's."""
    return secrets.token_hex(8)


def _line(value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"%08x %s\n" % (zlib.crc32(text), text)


def header_line(token: str) -> bytes:
    return _line({"log": token})


def row_line(ops: list[Op]) -> bytes:
    """One transaction's changed rows as one line: it is replayed whole or (torn) not at all."""
    return _line({"ops": [list(op) for op in ops]})


def _decode(line: bytes) -> Any:
    """The JSON value of one complete line (without its newline), or None when it fails its checksum."""
    if len(line) < 10 or line[8:9] != b" ":
        return None
    try:
        crc = int(line[:8], 16)
    except ValueError:
        return None
    body = line[9:]
    if zlib.crc32(body) != crc:
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except ValueError:
        return None


@dataclass(frozen=True)
class LogContents:
    token: str | None  # None: no valid header (then no row of it is ever used)
    ops: list[list[Op]]  # each valid transaction line's rows, in order
    end: int  # bytes up to the end of the last valid line: an append goes there, anything after is torn


def parse_log(data: bytes) -> LogContents:
    """The valid lines of a log's bytes; lines failing their checksum are skipped (a torn tail, or garbage a power
    cut left in unsynced blocks), so only whole, checksummed transactions are ever replayed."""
    token: str | None = None
    ops: list[list[Op]] = []
    end = pos = 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        if nl < 0:
            break  # an unfinished last line: torn
        value = _decode(data[pos:nl])
        if value is None:  # garbage may have eaten the newline before a good line: find where that line starts
            value = next((v for m in _LINE_START.finditer(data, pos + 1, nl) if (v := _decode(data[m.start():nl]))
                          is not None), None)
        pos = nl + 1
        if not isinstance(value, dict):
            continue
        if end == 0:
            if isinstance(value.get("log"), str):  # the header must be the first valid line
                token, end = value["log"], pos
            else:
                break
            continue
        rows = value.get("ops")
        if isinstance(rows, list) and all(_is_op(op) for op in rows):
            ops.append([(op[0], op[1], op[2]) for op in rows])
            end = pos
    return LogContents(token, ops, end)


def _is_op(op: Any) -> bool:
    return (isinstance(op, list) and len(op) == 3 and isinstance(op[0], str) and isinstance(op[1], str)
            and op[1].isdecimal() and (op[2] is None or isinstance(op[2], dict)))


def apply_ops(tables: Tables, transactions: list[list[Op]]) -> Tables:
    """``tables`` with the transactions replayed, in order; the given dicts (shared, cached) are not changed: a
    touched table is copied (shallowly: rows are replaced, never mutated)."""
    if not transactions:
        return tables
    out = dict(tables)
    copied: set[str] = set()
    for ops in transactions:
        for table, doc_id, row in ops:
            if table not in copied:
                out[table] = dict(out.get(table, {}))
                copied.add(table)
            if row is None:
                out[table].pop(doc_id, None)
            else:
                out[table][doc_id] = row
    return out


def diff_tables(before: Tables, after: Tables) -> list[Op] | None:
    """The rows that changed from ``before`` to ``after``; None when that is not expressible as rows (a table was
    dropped, a key is not a decimal doc id): the whole file is rewritten then."""
    if any(name not in after for name in before):
        return None
    ops: list[Op] = []
    for name, table in after.items():
        old = before.get(name)
        if old is table:
            continue
        if old is None:
            old = {}
        for doc_id, row in table.items():
            prev = old.get(doc_id)
            # Identity first: an insert keeps every other row as the very same object.
            if prev is not row and prev != row:
                if not isinstance(doc_id, str) or not doc_id.isdecimal():
                    return None
                ops.append((name, doc_id, row))
        if len(old) + sum(1 for op in ops if op[0] == name and op[1] not in old) != len(table):
            for doc_id in old:
                if doc_id not in table:
                    ops.append((name, doc_id, None))
    return ops
