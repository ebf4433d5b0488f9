"""Whole-process figures for the headless commands at growing recording sizes.

Runs ``hitl-console analyze FILE --json > /dev/null`` (and, with
``--commands``, ``report`` and ``calibrate``) as a user runs it: one new
process per run, wall clock from start to exit, peak RSS from the kernel's
accounting of that child (``os.wait4``). The recordings are the simulator's
default floor (``benchmarks/recordings.py``), two kinds:

* ``ended``: every conversation ends;
* ``abandoned``: about 2% of conversations never end (chats whose customer
  went away, as in real traffic).

Recordings are written once to ``--dir`` (default ``/tmp/hitl-bench-recordings``)
and reused. Prints, per run, events/s, microseconds per event and max RSS,
then the issue's goals next to the figures (no assertions):

* at least 50,000 events/s whole process at 1M events;
* per-event cost at 1M within 1.2x that at 50k;
* max RSS under 250 MB at any length;
* ``report`` and ``calibrate`` over 1M events under 30 s each.

    nice -n 10 python benchmarks/analyze_scale.py [--sizes 50000,200000,1000000] [--kinds ended,abandoned] [--commands]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from recordings import cached_recording  # noqa: E402

KINDS = {"ended": 0.0, "abandoned": 0.02}
GOAL_RATE = 50_000
GOAL_GROWTH = 1.2
GOAL_RSS_MB = 250
GOAL_COMMAND_S = 30.0


def hitl_console() -> list[str]:
    """The console's entry point in the interpreter running this script."""
    return [sys.executable, "-m", "hitl_console"]


def measure(argv: list[str]) -> tuple[float, float, int, float]:
    """(wall seconds, max RSS in MB, exit status, CPU seconds) of one process, its
    output discarded. CPU (user + system) is the figure to compare on a shared
    machine: wall time there includes waiting for a core."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        proc = subprocess.Popen(argv, stdout=null, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        sys.stderr.write(err.decode(errors="replace")[-2000:])
    return wall, usage.ru_maxrss / 1024, proc.returncode, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50000,200000,1000000")
    parser.add_argument("--kinds", default="ended,abandoned")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/hitl-bench-recordings"))
    parser.add_argument("--suffix", default=".jsonl", help=".jsonl or .jsonl.gz")
    parser.add_argument("--commands", action="store_true", help="also time report and calibrate at the largest size")
    parser.add_argument("--extra", default="", help="extra analyze arguments, e.g. --no-handoff")
    parser.add_argument(
        "--config", type=Path, help="a config file (e.g. one with [signals] all \"rules\", to leave the learned models out)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    kinds = [k for k in args.kinds.split(",") if k]
    from hitl_console.engine import BUILD

    print(f"engine build: {BUILD}; python {sys.version.split()[0]}; recordings in {args.dir}")
    for kind in kinds:
        for size in sizes:
            cached_recording(args.dir, size, KINDS[kind], suffix=args.suffix)
    extra = args.extra.split()
    print(f"{'command':<28} {'kind':<10} {'events':>9} {'wall s':>8} {'events/s':>9} {'us/event':>9} {'cpu s':>7} {'max RSS MB':>10}")
    per_event: dict[tuple[str, int], float] = {}
    worst_rss = 0.0
    env_config = os.environ.get("HITL_CONSOLE_CONFIG")
    if args.config is not None:
        os.environ["HITL_CONSOLE_CONFIG"] = str(args.config)
    elif env_config is None:
        os.environ["HITL_CONSOLE_CONFIG"] = str(args.dir / "none.toml")  # defaults, never the user's config
    for kind in kinds:
        for size in sizes:
            path = cached_recording(args.dir, size, KINDS[kind], suffix=args.suffix)
            wall, rss, status, cpu = measure([*hitl_console(), "analyze", str(path), "--json", *extra])
            if status:
                print(f"analyze exited {status}")
            per_event[(kind, size)] = wall / size * 1e6
            worst_rss = max(worst_rss, rss)
            label = "analyze --json " + " ".join(extra)
            print(f"{label:<28} {kind:<10} {size:>9,} {wall:>8.2f} {size / wall:>9,.0f} {wall / size * 1e6:>9.2f} {cpu:>7.1f} {rss:>10.0f}")
    command_times: dict[str, float] = {}
    if args.commands:
        size = max(sizes)
        for kind in kinds:
            path = cached_recording(args.dir, size, KINDS[kind], suffix=args.suffix)
            for name, argv in (
                ("report", ["report", str(path), "--format", "text"]),
                ("calibrate", ["calibrate", str(path)]),
                ("review queue", ["review", "queue", str(path)]),
            ):
                wall, rss, status, cpu = measure([*hitl_console(), *argv])
                command_times[f"{name} {kind}"] = wall
                print(f"{name:<28} {kind:<10} {size:>9,} {wall:>8.2f} {size / wall:>9,.0f} {wall / size * 1e6:>9.2f} {cpu:>7.1f} {rss:>10.0f}")
    print()
    print(f"goals (signals: {'as in ' + str(args.config) if args.config else 'as shipped'}):")
    big, small = max(sizes), min(sizes)
    for kind in kinds:
        rate = 1e6 / per_event[(kind, big)]
        growth = per_event[(kind, big)] / per_event[(kind, small)]
        print(f"  {kind:<10} {rate:>9,.0f} events/s at {big:,} (goal >= {GOAL_RATE:,}: {'met' if rate >= GOAL_RATE else 'NOT met'}); "
              f"per-event cost {big:,} / {small:,} = {growth:.2f}x (goal <= {GOAL_GROWTH}: {'met' if growth <= GOAL_GROWTH else 'NOT met'})")
    print(f"  max RSS {worst_rss:.0f} MB (goal < {GOAL_RSS_MB}: {'met' if worst_rss < GOAL_RSS_MB else 'NOT met'})")
    for name, wall in command_times.items():
        print(f"  {name} over {max(sizes):,} events: {wall:.1f} s (goal < {GOAL_COMMAND_S:.0f}: {'met' if wall < GOAL_COMMAND_S else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
