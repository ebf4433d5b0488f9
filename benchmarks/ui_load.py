"""How the console's UI holds up on a busy floor.

Runs the real app headless (``App.run_test``) on a real :class:`LiveSession`
(engine, alerts, in-memory journal, coalescing) whose feed is replaced by
this script: synthetic events from :func:`hitl_console.sim.timeline.generate_events`
are decoded and handed to the session at a fixed rate, exactly as a feed
client would hand them over. First the floor is filled until ``--conversations``
are active, then events flow at ``--rate`` for ``--seconds``.

Printed figures:

* events/s sustained: what the session actually took in while the UI ran;
* screen refreshes/s: flushes of the UI (the app's refresh timer that found
  something to draw) and compositor paints;
* CPU: process time over wall time for the measured period (feeding,
  decoding, engine, journal and UI together: the console's whole cost);
* p95 event-to-screen: from an event's arrival to the first paint after its
  row took the new value (rows off screen count when their data changed);
* p95 key-to-screen: from a ``down`` key press to the paint that shows the
  cursor on the next row.

Headless Textual computes every screen update but does not write it to a
terminal, so terminal output cost (small next to rendering) is not counted.

    python benchmarks/ui_load.py --conversations 2000 --rate 500 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from hitl_console.config import Config  # noqa: E402
from hitl_console.engine import BUILD  # noqa: E402
from hitl_console.feeds.base import FeedOutput  # noqa: E402
from hitl_console.session import LiveSession  # noqa: E402
from hitl_console.protocol.events import event_adapter  # noqa: E402
from hitl_console.sim.timeline import generate_events  # noqa: E402
from hitl_console.store.journal import Journal  # noqa: E402
from hitl_console.tui.app import HitlApp  # noqa: E402
from hitl_console.tui.widgets.conversation_table import ConversationTable  # noqa: E402

FEED = "bench"
TICK = 0.01
"""The feeder wakes every 10 ms and hands over the events due by then."""
KEY_EVERY = 0.25
"""A ``down`` key press this often (alternating with ``up`` so the cursor stays on screen)."""


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class Probe:
    """Timestamps of paints, row updates and key presses, read after the run."""

    def __init__(self, app: HitlApp) -> None:
        self.app = app
        self.paints: list[float] = []
        self.row_seen: dict[str, deque[tuple[int, float]]] = {}
        self.pressed: list[float] = []
        self.handled = 0
        self.painted = 0
        self.key_delays: list[float] = []
        display = app._display

        def hooked_display(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None and not app._batch_count:
                now = time.perf_counter()
                self.paints.append(now)
                # Keys are handled in order: every key handled since the last
                # paint is on the screen now.
                while self.painted < self.handled:
                    self.key_delays.append(now - self.pressed[self.painted])
                    self.painted += 1

        app._display = hooked_display  # type: ignore[method-assign]

    def watch_table(self, table: ConversationTable) -> None:
        """Record when each conversation's row took each new version, and when
        each cursor key was handled."""
        for name in ("action_cursor_down", "action_cursor_up"):
            action = getattr(table, name)

            def handled(action: Any = action) -> None:
                action()
                self.handled += 1

            setattr(table, name, handled)
        original_update = table._update
        original_add = table._add

        def update(state: Any) -> bool:
            result = original_update(state)
            self.row_seen.setdefault(state.conversation_id, deque(maxlen=64)).append((state.version, time.perf_counter()))
            return result

        def add(state: Any) -> None:
            original_add(state)
            self.row_seen.setdefault(state.conversation_id, deque(maxlen=64)).append((state.version, time.perf_counter()))

        table._update = update  # type: ignore[method-assign]
        table._add = add  # type: ignore[method-assign]

    def first_paint_after(self, t: float, start: int = 0) -> tuple[float | None, int]:
        paints = self.paints
        i = start
        while i < len(paints) and paints[i] < t:
            i += 1
        return (paints[i] if i < len(paints) else None), i


async def run(
    conversations: int,
    rate: float,
    seconds: float,
    seed: int,
    size: tuple[int, int],
    refresh_hz: float | None = None,
    profile: bool = False,
) -> dict[str, float]:
    # A recording that reaches `conversations` open at once and keeps going:
    # about 40% of generate_events' nominal concurrency is open at a time
    # (its estimate counts time after a conversation's end), hence the factors.
    total = int(conversations * 4)
    print(f"generating {total:,} conversations ...", flush=True)
    raw = generate_events(seed, total, concurrency=int(conversations * 2.6))
    print(f"{len(raw):,} events; decoding ...", flush=True)

    config = Config()
    if refresh_hz is not None:
        config = config.model_copy(update={"ui": config.ui.model_copy(update={"refresh_hz": refresh_hz})})
    session = LiveSession(config, [], agent="bench", journal=Journal(":memory:"), mode="live", restore=False)
    app = HitlApp(session, config=config, watch_terminal=False)
    results: dict[str, float] = {}

    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        probe = Probe(app)
        table = app.screen.query_one(ConversationTable)
        probe.watch_table(table)

        # Warm-up: fill the floor (timestamps shifted to end now, so windows and
        # stall checks see a live floor, not one from the recording's past).
        position = 0
        shift = time.time() - raw[0]["ts"]
        batch: list[Any] = []
        while position < len(raw) and len(session.engine._open) < conversations:
            event = dict(raw[position])
            event["ts"] = event["ts"] + shift
            batch.append(event_adapter.validate_python(event))
            position += 1
            if len(batch) >= 500:
                session._on_output(FeedOutput(feed=FEED, events=batch, rejected=[]))
                batch = []
        if batch:
            session._on_output(FeedOutput(feed=FEED, events=batch, rejected=[]))
        last_warm_ts = raw[position - 1]["ts"] + shift
        app.settle_memory()  # what the app's own timer does once a minute on a running floor
        await pilot.pause(1.0)
        app.refresh_now()
        await pilot.pause(0.5)
        print(f"engine: {BUILD}; floor filled: {len(session.engine._open):,} active, {len(table.row_ids):,} rows; measuring {seconds:.0f}s at {rate:.0f} events/s", flush=True)

        arrivals: list[tuple[float, str, int]] = []  # (arrival, conversation id, version after apply)
        delivered = 0
        presses = 0
        stats_before = (app.stats.flushes, len(probe.paints))
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        next_key = wall0 + KEY_EVERY

        while time.perf_counter() - wall0 < seconds and position < len(raw):
            # Like a feed client, hand over frame-sized batches: when the loop was
            # busy, catch up over the next ticks rather than in one big gulp.
            due = min(int((time.perf_counter() - wall0) * rate) - delivered, max(1, int(rate * TICK * 4)))
            if due > 0:
                now_wall = time.time()
                out = []
                for raw_event in raw[position : position + due]:
                    event = dict(raw_event)
                    # Keep the recording's order but stamp events with "now".
                    event["ts"] = max(last_warm_ts, now_wall)
                    out.append(event_adapter.validate_python(event))
                position += len(out)
                arrived = time.perf_counter()
                session._on_output(FeedOutput(feed=FEED, events=out, rejected=[]))
                for event in out:
                    state = session.engine.conversations.get(event.conversation_id)
                    if state is not None:
                        arrivals.append((arrived, event.conversation_id, state.version))
                delivered += len(out)
            if time.perf_counter() >= next_key and app.screen is table.screen:
                probe.pressed.append(time.perf_counter())
                presses += 1
                app.simulate_key("down" if (presses // 8) % 2 == 0 else "up")
                next_key += KEY_EVERY
            await asyncio.sleep(TICK)
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(45)
        await pilot.pause(0.5)  # let the last flush paint

        delays: list[float] = []
        missing = 0
        for arrived, cid, version in arrivals:
            seen = probe.row_seen.get(cid)
            t_row = None
            if seen:
                for v, t in seen:
                    if v >= version and t >= arrived:
                        t_row = t
                        break
            if t_row is None:
                # The row left the floor (ended) or was never redrawn because
                # nothing it shows changed; neither is a late screen.
                missing += 1
                continue
            t_paint, _ = probe.first_paint_after(t_row)
            if t_paint is not None:
                delays.append(t_paint - arrived)

        flushes = app.stats.flushes - stats_before[0]
        paints = len(probe.paints) - stats_before[1]
        flush_times = app.stats.flush_seconds[-flushes:] if flushes else []
        results = {
            "active_conversations": float(len(session.engine._open)),
            "rows": float(len(table.row_ids)),
            "events_per_s": delivered / wall,
            "ui_flushes_per_s": flushes / wall,
            "paints_per_s": paints / wall,
            "cpu_share_of_one_core": cpu / wall,
            "p50_event_to_screen_ms": statistics.median(delays) * 1000 if delays else float("nan"),
            "p95_event_to_screen_ms": percentile(delays, 95) * 1000,
            "p99_event_to_screen_ms": percentile(delays, 99) * 1000,
            "events_measured": float(len(delays)),
            "events_without_row_change": float(missing),
            "p95_key_to_screen_ms": percentile(probe.key_delays, 95) * 1000,
            "p50_key_to_screen_ms": percentile(probe.key_delays, 50) * 1000,
            "max_key_to_screen_ms": max(probe.key_delays, default=float("nan")) * 1000,
            "keys_measured": float(len(probe.key_delays)),
            "p95_ui_flush_ms": percentile(flush_times, 95) * 1000,
        }
        await session.stop()
    return results


def main() -> int:
    from hitl_console.commands.console import setup_logging

    setup_logging()  # the session and the app log to the console's log file, not here
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=500.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--size", default="160x48", help="terminal size, e.g. 80x24")
    parser.add_argument("--refresh-hz", type=float, default=None, help="override config ui.refresh_hz")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the measured period")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    results = asyncio.run(
        run(args.conversations, args.rate, args.seconds, args.seed, (width, height), args.refresh_hz, args.profile)
    )
    print()
    print(f"{'conversations active':<28}{results['active_conversations']:>10,.0f}")
    print(f"{'events/s sustained':<28}{results['events_per_s']:>10.1f}   (asked {args.rate:.0f})")
    print(f"{'UI flushes/s':<28}{results['ui_flushes_per_s']:>10.1f}")
    print(f"{'screen paints/s':<28}{results['paints_per_s']:>10.1f}")
    print(f"{'CPU (share of one core)':<28}{results['cpu_share_of_one_core'] * 100:>9.1f}%   (goal < 60%)")
    print(f"{'event-to-screen p50':<28}{results['p50_event_to_screen_ms']:>8.0f} ms")
    print(f"{'event-to-screen p95':<28}{results['p95_event_to_screen_ms']:>8.0f} ms   (goal < 250 ms; {results['events_measured']:,.0f} events)")
    print(f"{'event-to-screen p99':<28}{results['p99_event_to_screen_ms']:>8.0f} ms")
    print(f"{'key-to-screen p50':<28}{results['p50_key_to_screen_ms']:>8.0f} ms")
    print(f"{'key-to-screen p95':<28}{results['p95_key_to_screen_ms']:>8.0f} ms   (goal < 100 ms; {results['keys_measured']:.0f} presses)")
    print(f"{'key-to-screen max':<28}{results['max_key_to_screen_ms']:>8.0f} ms")
    print(f"{'UI flush p95':<28}{results['p95_ui_flush_ms']:>8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
