"""Checksummed log lines for the file inbox: append-only segments read back whole lines at a time.

A line is ``<crc32 of the JSON, 8 hex digits> <JSON object>\\n``. A line a power cut tore (no newline yet) is
not read; a complete line whose checksum does not match (damaged) is skipped, so every line read is one the
writer wrote whole.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["decode_lines", "encode_line", "lines", "read_from"]


def encode_line(record: dict[str, Any]) -> bytes:
    body = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"%08x %s\n" % (zlib.crc32(body), body)


def decode_lines(data: bytes) -> Iterator[dict[str, Any]]:
    """The records of the whole lines in ``data`` (a tail without a newline is left out), damaged ones skipped."""
    for raw in data.split(b"\n")[:-1]:
        if len(raw) < 10 or raw[8:9] != b" ":
            continue
        body = raw[9:]
        try:
            if int(raw[:8], 16) != zlib.crc32(body):
                continue
            record = json.loads(body)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record


def read_from(fd: int, offset: int, size: int) -> tuple[list[dict[str, Any]], int]:
    """Records of the whole lines between ``offset`` and ``size``; the offset just past the last whole line."""
    if size <= offset:
        return [], offset
    chunks: list[bytes] = []
    at = offset
    while at < size:
        chunk = os.pread(fd, min(size - at, 1 << 20), at)
        if not chunk:
            break
        chunks.append(chunk)
        at += len(chunk)
    data = b"".join(chunks)
    end = data.rfind(b"\n") + 1  # a line still being written (or torn) is read again later
    return list(decode_lines(data[:end])), offset + end


def lines(records: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(encode_line(r) for r in records)
