"""A local HTTP server's accept loop in a thread that stops at once (the stand-in's, the demo's web server)."""

from __future__ import annotations

import selectors
import socket
import socketserver
import threading

__all__ = ["Serving"]


class Serving:
    """Runs ``server``'s accept loop in a daemon thread until ``stop()``.

    ``serve_forever`` notices a ``shutdown()`` only when its poll interval ends, so every stop waited
    for it (25 ms on average at the stand-in's 0.05 s, 250 ms at the default 0.5 s): the tests start
    and stop a stand-in hundreds of times. This loop waits on the listening socket and a wake-up
    socket together, and ``stop()`` wakes it. Requests are handled exactly as ``serve_forever`` does.
    """

    def __init__(self, server: socketserver.TCPServer, name: str) -> None:
        self.server = server
        self._wake_in, self._wake_out = socket.socketpair()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> Serving:
        self._thread.start()
        return self

    def _loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.server, selectors.EVENT_READ)
            selector.register(self._wake_in, selectors.EVENT_READ)
            while True:
                ready = [key.fileobj for key, _ in selector.select()]
                if self._wake_in in ready:
                    return
                # What serve_forever does with a ready socket: accept, then the server's own handling
                # (ThreadingMixIn: a thread per connection), errors to handle_error.
                self.server._handle_request_noblock()  # type: ignore[attr-defined]
                self.server.service_actions()

    def stop(self, timeout: float = 5.0) -> None:
        """End the loop (requests being handled in their own threads go on) and wait for it, bounded."""
        if self._thread.is_alive():
            self._wake_out.send(b"\0")
            self._thread.join(timeout)
        self._wake_in.close()
        self._wake_out.close()
