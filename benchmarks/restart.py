"""Restart: how long a console takes to rebuild its floor from a big journal.

Builds a journal of ``--events`` events (the simulator's default floor, from
``benchmarks/recordings.py``) whose time is stretched over ``--days`` days,
as a month of a contact centre's traffic would be, then times whole
processes that open it the way the console does (``LiveSession`` with
``restore=True``: ``Journal.restore_events`` then the engine) and prints wall
time, max RSS and how many events and conversations were rebuilt. With
``--all`` it also times the old full replay (every journaled event) for the
before/after.

    python benchmarks/restart.py --events 1000000 --days 30 [--all]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from recordings import iter_events  # noqa: E402

FEED = "prod"

CHILD = r"""
import json, sys, time
from hitl_console.config import Config
from hitl_console.feeds.hub import FeedSpec
from hitl_console.session import LiveSession
from hitl_console.store.journal import Journal
path, mode = sys.argv[1], sys.argv[2]
started = time.perf_counter()
journal = Journal(path, readonly=False)
if mode == "all":  # the old restore: every journaled event
    from hitl_console.engine.engine import SignalEngine
    engine = SignalEngine(Config())
    n = 0
    for feed, event in journal.iter_events(feeds=["prod"]):
        engine.apply(event, feed=feed)
        n += 1
    conversations = len(engine.conversations)
else:
    session = LiveSession(Config(), [FeedSpec("ws://127.0.0.1:1/feed", name="prod")], agent="bench", journal=journal)
    session._restore()
    n = -1
    conversations = len(session.engine.conversations)
print(json.dumps({"seconds": time.perf_counter() - started, "events": n, "conversations": conversations}))
"""


def build_journal(path: Path, events: int, days: float) -> None:
    from hitl_console.protocol.events import event_adapter
    from hitl_console.store.journal import Journal

    journal = Journal(path)
    batch: list = []
    first: float | None = None
    rows = list(iter_events(events, abandoned=0.02))
    span = max(1.0, rows[-1]["ts"] - rows[0]["ts"])
    stretch = max(1.0, days * 86400 / span)
    for raw in rows:
        if first is None:
            first = raw["ts"]
        raw["ts"] = first + (raw["ts"] - first) * stretch
        batch.append(event_adapter.validate_python(raw))
        if len(batch) >= 5000:
            journal.append_events(FEED, batch)
            batch = []
    if batch:
        journal.append_events(FEED, batch)
    journal.close()


def build_in_child(path: Path, events: int, days: float) -> None:
    """``build_journal`` in a process of its own. Built here, the million event
    dicts (about 530 MB) stay in this process's heap, and Linux keeps a
    process's peak RSS across ``exec``: every timed child forked from here then
    reported about 537 MB of peak RSS that was never its own."""
    code = f"import sys; sys.path[:0] = {[str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]!r}; " \
        f"from restart import build_journal; from pathlib import Path; build_journal(Path({str(path)!r}), {events}, {days})"
    subprocess.run([sys.executable, "-c", code], check=True)


def run(path: Path, mode: str) -> dict:
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), mode], stdout=subprocess.PIPE, env=dict(os.environ))
    _, _, usage = os.wait4(child.pid, 0)  # wall clock and the child's own max RSS
    wall = time.perf_counter() - started
    assert child.stdout is not None
    result = json.loads(child.stdout.read())
    result["wall"] = wall
    result["rss_mb"] = usage.ru_maxrss / 1024
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--all", action="store_true", help="also time the full replay (before)")
    parser.add_argument("--journal", type=Path, help="use (and keep) this journal; built there first if missing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hitl-restart-") as tmp:
        path = args.journal or Path(tmp) / "journal.sqlite3"
        started = time.perf_counter()
        if not path.exists():
            build_in_child(path, args.events, args.days)
        print(f"journal: {args.events:,} events over {args.days:g} days, {path.stat().st_size / 1e6:.0f} MB, built in {time.perf_counter() - started:.0f} s")
        modes = ["restore", "all"] if args.all else ["restore"]
        for mode in modes:
            result = run(path, mode)
            what = "full replay (before)" if mode == "all" else "restore (last day + open)"
            events = f"{result['events']:,} events, " if result["events"] >= 0 else ""
            print(
                f"{what:28} {result['wall']:6.1f} s whole process ({result['seconds']:.1f} s inside), "
                f"max RSS {result['rss_mb']:.0f} MB, {events}{result['conversations']:,} conversations"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
