"""Run the LINE stand-in on its own: `python -m ita_bot.line_standin --port 8099` (for benchmarks)."""

from __future__ import annotations

import argparse
import contextlib
import threading

from ita_bot.line_standin.server import LineStandIn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ita_bot.line_standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--channel-secret", default="standin-secret")
    parser.add_argument("--quota", type=int, default=None, help="monthly message limit (default: none)")
    args = parser.parse_args(argv)
    standin = LineStandIn(args.channel_secret, host=args.host, port=args.port)
    standin.set_quota(args.quota)
    with standin:
        print(standin.url, flush=True)  # the one line a benchmark script reads
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()  # until Ctrl-C / SIGINT


if __name__ == "__main__":
    main()
