"""The LINE stand-in in a process of its own, driven over a pipe by the benchmark script.

Why a process: the stand-in answers every reply and push the bot makes. In the benchmark
process it would share one GIL with the load generator, so a slow measurement could be the
stand-in starving, not the bot. Reply tokens are issued by the stand-in, so events are built
here too and handed back to the driver, which signs and sends them.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import multiprocessing
import traceback
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["StandInProcess"]

# What the driver may call on the LineStandIn (methods and properties); nothing else crosses the pipe.
_METHODS = frozenset({"add_user", "add_group", "set_quota", "delay", "reset", "text_event"})


def _serve(conn: Connection, channel_secret: str) -> None:
    """The child: start the stand-in on 127.0.0.1, then answer commands until told to stop."""
    from ita_bot.line_standin import LineStandIn

    standin = LineStandIn(channel_secret).start()
    conn.send(("ok", {"url": standin.url, "bot_user_id": standin.bot_user_id}))
    try:
        while True:
            name, args, kwargs = conn.recv()
            if name == "stop":
                conn.send(("ok", None))
                return
            try:
                conn.send(("ok", _command(standin, name, args, kwargs)))
            except Exception:
                conn.send(("error", traceback.format_exc()))
    finally:
        standin.stop()


def _command(standin: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if name in _METHODS:
        return getattr(standin, name)(*args, **kwargs)
    if name == "text_events":  # many events in one round trip: [(text, kwargs), ...]
        return [standin.text_event(text, **kw) for text, kw in args[0]]
    if name == "consumption":
        return standin.consumption
    if name == "add_channels":  # [name, ...] -> each new channel's credentials (hosted benchmark: one per office)
        return [dataclasses.asdict(standin.add_channel(name=n)) for n in args[0]]
    if name == "reply_channels":
        # (reply token, channel id whose token sent the reply) of every accepted reply so far.
        return [(d.request.get("replyToken"), d.channel_id) for d in standin.deliveries if d.kind == "reply"]
    if name == "push_counts":
        # Pushes and multicasts LINE accepted so far, per channel id.
        return dict(collections.Counter(d.channel_id for d in standin.deliveries if d.kind != "reply"))
    if name == "reply_times":
        # (reply token, time.time() the stand-in accepted it) of every accepted reply so far.
        return [(d.request.get("replyToken"), d.at) for d in standin.deliveries if d.kind == "reply"]
    if name == "wait_replies":
        count, timeout = args
        return standin.wait_for(lambda s: len(s.replies()) >= count, timeout=timeout)
    if name == "wait_reply":
        token, timeout = args

        def found(s: Any) -> bool:
            return any(r.get("replyToken") == token for r in s.replies())

        if not standin.wait_for(found, timeout=timeout):
            return None
        return next(d.at for d in standin.deliveries if d.kind == "reply" and d.request.get("replyToken") == token)
    if name == "pushes":
        return [(d.kind, len(d.recipients), len(d.request.get("messages", []))) for d in standin.deliveries
                if d.kind != "reply"]
    if name == "failed_calls":
        return [(c.method, c.path.split("/")[3] if c.path.count("/") >= 3 else c.path, c.status)
                for c in standin.calls if c.status >= 400]
    raise ValueError(f"unknown stand-in command {name!r}")


class StandInProcess:
    """Handle on the stand-in child process: `call(name, *args, **kwargs)` runs one command there."""

    def __init__(self, channel_secret: str) -> None:
        ctx = multiprocessing.get_context("spawn")  # a clean interpreter: no threads or locks forked over
        self._conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, channel_secret), name="line-standin", daemon=True)
        self.process.start()
        child.close()
        if not self._conn.poll(30):
            raise RuntimeError("the LINE stand-in process did not start within 30 s")
        _, info = self._conn.recv()
        self.url: str = info["url"]
        self.bot_user_id: str = info["bot_user_id"]
        self.pid = int(self.process.pid or 0)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self._conn.send((name, args, kwargs))
        status, value = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"stand-in command {name} failed:\n{value}")
        return value

    def close(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError, EOFError):
                self.call("stop")
            self.process.join(10)
            if self.process.is_alive():
                self.process.terminate()
                self.process.join(5)
