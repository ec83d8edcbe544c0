"""A worker's small cache of the PDFs it made, keyed by the rendered page's sha256 (same page, same PDF)."""

from __future__ import annotations

import threading
from collections import OrderedDict

__all__ = ["PdfCache"]


class PdfCache:
    """The last few PDFs made, least recently used dropped first; safe across a worker's threads."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        with self._lock:
            self._items[key] = body
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
