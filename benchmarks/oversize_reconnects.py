"""Whole-process memory of a console whose feed sends an oversized WebSocket
message on every connect (issue 9, item 2).

A WebSocket server in this process (``tests/feedserver.py``, 127.0.0.1, a
free port) sends a message of ``--mb`` MiB first on every connection, then
events. A child process runs ``hitl-console check-feed URL --timeout S
--json`` as an operator would (the same ``FeedClient`` the console uses);
its peak RSS comes from the kernel's accounting of that child (``os.wait4``).
Two runs: the real backoff, and a backoff ceiling of ``--cap`` seconds (set
in the child only, by this benchmark) to force many reconnects and show
whether memory grows per reconnect. Prints
reconnects, rejected frames and max RSS; no assertions.

    nice -n 10 python benchmarks/oversize_reconnects.py [--mb 16] [--seconds 20] [--cap 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from feedserver import WsFeedServer, make_events  # noqa: E402

CHILD = """
import sys
from hitl_console.feeds import client
cap = float(sys.argv[1])
if cap > 0:
    defaults = client.FeedClient.__init__.__kwdefaults__
    defaults["backoff_cap"] = cap
    defaults["backoff_base"] = min(defaults["backoff_base"], cap)
from hitl_console.cli import main
sys.exit(main(sys.argv[2:]))
"""


def run_child(url: str, seconds: float, cap: float) -> tuple[dict, float, float]:
    """(check-feed's JSON report, wall seconds, max RSS in MB) of one child."""
    env = dict(os.environ, HITL_CONSOLE_DATA_DIR=os.environ.get("HITL_CONSOLE_DATA_DIR", "/tmp/hitl-bench-data"))
    argv = [sys.executable, "-c", CHILD, str(cap), "check-feed", url, "--timeout", str(seconds), "--json"]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env, cwd=ROOT)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    return json.loads(out or b"{}"), wall, usage.ru_maxrss / 1024


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=16.0, help="size of the oversized message (MiB)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--cap", type=float, default=0.05, help="backoff ceiling of the stress run (s)")
    parser.add_argument("--burst", type=int, default=1, help="send this many such messages on every connect")
    parser.add_argument("--random", action="store_true", help="incompressible padding (permessage-deflate cannot shrink it)")
    args = parser.parse_args()
    server = WsFeedServer(make_events(5))
    size = int(args.mb * 2**20)
    pad = os.urandom(size // 2).hex() if args.random else "x" * size
    server.raw_frames.extend([json.dumps({"v": 1, "type": "message", "pad": pad})] * args.burst)
    async with server:
        for label, cap in (("real backoff", 0.0), (f"backoff capped at {args.cap:g} s", args.cap)):
            before = len(server.connections)
            report, wall, rss = await asyncio.to_thread(run_child, server.url, args.seconds, cap)
            connections = len(server.connections) - before
            print(
                f"{label:28s} {wall:6.1f} s  connections {connections:5d} ({connections / wall:5.1f}/s)  "
                f"rejected {report.get('rejected', '?'):>5}  max RSS {rss:6.1f} MB"
            )


if __name__ == "__main__":
    asyncio.run(main())
