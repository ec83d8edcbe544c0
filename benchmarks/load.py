"""Load generation: signed webhook POSTs from N concurrent senders, timed, over plain asyncio sockets.

One event loop in one thread rather than a thread per sender: 50 Python threads would fight the
GIL and each other, and their scheduling delay would show up as the bot's latency.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Sent", "post_one", "send_all", "send_paths", "webhook_body"]


@dataclass(frozen=True)
class Sent:
    """One webhook POST: wall-clock start (time.time()), latency in seconds, HTTP status."""

    started: float
    latency: float
    status: int


def webhook_body(secret: str, destination: str, events: list[dict[str, Any]]) -> tuple[bytes, str]:
    """The body LINE would POST and its X-Line-Signature."""
    body = json.dumps({"destination": destination, "events": events}, ensure_ascii=False).encode("utf-8")
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return body, signature


async def _post(host: str, port: int, path: str, body: bytes, signature: str, timeout: float) -> Sent:
    started_wall, started = time.time(), time.perf_counter()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json; charset=utf-8\r\n"
        f"X-Line-Signature: {signature}\r\nUser-Agent: LineBotWebhook/2.0\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode("ascii")

    async def exchange() -> int:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(head + body)
            await writer.drain()
            status_line = await reader.readline()
            await reader.read()  # Connection: close — the answer ends when the server closes
            return int(status_line.split()[1])
        finally:
            writer.close()

    try:
        status = await asyncio.wait_for(exchange(), timeout)
    except (TimeoutError, OSError, IndexError, ValueError):
        status = 0  # no usable answer in time
    return Sent(started_wall, time.perf_counter() - started, status)


async def _send_all(url: str, requests: list[tuple[str, bytes, str]], senders: int, timeout: float) -> list[Sent]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    queue: asyncio.Queue[tuple[int, str, bytes, str]] = asyncio.Queue()
    for i, (path, body, signature) in enumerate(requests):
        queue.put_nowait((i, path, body, signature))
    results: list[Sent | None] = [None] * len(requests)

    async def sender() -> None:
        while not queue.empty():
            i, path, body, signature = queue.get_nowait()
            results[i] = await _post(host, port, path, body, signature, timeout)

    await asyncio.gather(*(sender() for _ in range(senders)))
    return [r for r in results if r is not None]


def send_all(url: str, requests: list[tuple[bytes, str]], senders: int, timeout: float = 10.0) -> list[Sent]:
    """POST every (body, signature) to url, `senders` at a time (each sender sends its next when answered)."""
    path = urlsplit(url).path or "/"
    return asyncio.run(_send_all(url, [(path, body, sig) for body, sig in requests], senders, timeout))


def send_paths(base_url: str, requests: list[tuple[str, bytes, str]], senders: int,
               timeout: float = 10.0) -> list[Sent]:
    """POST every (path, body, signature) to base_url + path, `senders` at a time (as send_all, many webhooks)."""
    return asyncio.run(_send_all(base_url, requests, senders, timeout))


def post_one(url: str, body: bytes, signature: str, timeout: float = 10.0) -> Sent:
    parts = urlsplit(url)
    return asyncio.run(_post(parts.hostname or "127.0.0.1", parts.port or 80, parts.path, body, signature, timeout))
