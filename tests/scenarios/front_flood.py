"""A flood from one client address against the production front: thousands of connections that never finish a
request header or a TLS ClientHello, topped up every second for a while.

Run by tests/scenarios/test_front.py in a process of its own, so that its busy loop never delays the test's
own requests: ``python -m tests.scenarios.front_flood --source 127.0.0.2 --http PORT --https PORT``. It prints
``ready`` once its first burst is out, and a JSON line of counts when it is done.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import resource
import selectors
import socket
import ssl
import sys
import time
from dataclasses import dataclass, field

#: A request header that never ends (no blank line), as a slow-header client sends it.
HALF_HEADER = b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\n"
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # Linux: the port is chosen at connect


def client_hello() -> bytes:
    """A real TLS ClientHello, as the first flight of a handshake."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with contextlib.suppress(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


@dataclass
class Kind:
    name: str
    port: int
    payload: bytes
    target: int
    open: set[int] = field(default_factory=set)


@dataclass
class Counts:
    rounds: int = 0  # bursts sent (one a second)
    attempts: int = 0  # connections opened
    reset_at_once: int = 0  # refused or reset by the front before a byte could be sent
    held: int = 0  # established, payload sent
    closed_by_front: int = 0  # of those, closed by the front later (a timeout, an error answer)
    no_port: int = 0  # this machine ran out of ports or files for a moment


class Flood:
    def __init__(self, source: str, host: str, kinds: list[Kind]) -> None:
        self.source, self.host, self.kinds = source, host, kinds
        self.selector = selectors.DefaultSelector()
        self.sockets: dict[int, tuple[socket.socket, Kind, bool]] = {}
        self.counts = Counts()

    def top_up(self) -> None:
        for kind in self.kinds:
            for _ in range(kind.target - len(kind.open)):
                if not self.open(kind):
                    break  # out of ports or files for now: the next round tries again

    def open(self, kind: Kind) -> bool:
        """One more connection of ``kind``; False when this machine cannot open one right now."""
        self.counts.attempts += 1
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        except OSError:
            self.counts.no_port += 1
            return False
        s.setblocking(False)
        try:
            s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            s.bind((self.source, 0))
            code = s.connect_ex((self.host, kind.port))
        except OSError:
            s.close()
            self.counts.no_port += 1
            return False
        if code not in (0, errno.EINPROGRESS):
            s.close()
            if code == errno.EADDRNOTAVAIL:
                self.counts.no_port += 1
                return False
            self.counts.reset_at_once += 1
            return True
        self.sockets[s.fileno()] = (s, kind, False)
        kind.open.add(s.fileno())
        self.selector.register(s, selectors.EVENT_WRITE)
        return True

    def close(self, fd: int) -> None:
        s, kind, _ = self.sockets.pop(fd)
        kind.open.discard(fd)
        self.selector.unregister(s)
        s.close()

    def step(self, timeout: float) -> None:
        for key, mask in self.selector.select(timeout):
            fd = key.fd
            s, kind, connected = self.sockets[fd]
            if not connected:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    self.counts.reset_at_once += 1
                    self.close(fd)
                    continue
                try:
                    if kind.payload:
                        s.send(kind.payload)
                except OSError:
                    self.counts.reset_at_once += 1
                    self.close(fd)
                    continue
                self.counts.held += 1
                self.sockets[fd] = (s, kind, True)
                self.selector.modify(s, selectors.EVENT_READ)
            elif mask & selectors.EVENT_READ:
                # The front answered (an error page, a TLS alert) or closed: either way this one is gone.
                with contextlib.suppress(OSError):
                    s.recv(4096)
                self.counts.closed_by_front += 1
                self.close(fd)

    def run(self, seconds: float, round_every: float = 1.0) -> Counts:
        end = time.monotonic() + seconds
        next_round = time.monotonic()
        announced = False
        while (now := time.monotonic()) < end:
            if now >= next_round:
                self.top_up()
                self.counts.rounds += 1
                next_round = now + round_every
            self.step(max(0.0, min(next_round, end) - time.monotonic()))
            if not announced:
                print("ready", flush=True)
                announced = True
        for fd in list(self.sockets):
            self.close(fd)
        return self.counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", required=True, help="the attacker's own address (a second loopback address)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--http", type=int, required=True, help="the front's plain-HTTP port")
    parser.add_argument("--https", type=int, required=True, help="the front's HTTPS port")
    parser.add_argument("--count", type=int, default=2000, help="connections per port")
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 2 * args.count + 1000)), hard))
    hello = client_hello()
    kinds = [
        Kind("half header", args.http, HALF_HEADER, args.count),
        # Half of the handshakes stop in the middle of the ClientHello, half never send a byte.
        Kind("half ClientHello", args.https, hello[: len(hello) // 2], args.count // 2),
        Kind("silent TLS", args.https, b"", args.count - args.count // 2),
    ]
    counts = Flood(args.source, args.host, kinds).run(args.seconds)
    print(json.dumps(counts.__dict__), flush=True)


if __name__ == "__main__":
    sys.exit(main())
