"""How the live floor holds up on a busy floor, measured as a user runs it.

The console runs as a whole process (``python -m hitl_console --feed ws://...``)
on a pseudo-terminal of ``--size``, exactly as a supervisor starts it, and
this script is both its feed and its terminal:

* **feed**: a WebSocket server on loopback (``--port``) sends synthetic
  traffic from :func:`hitl_console.sim.timeline.generate_events` as JSON
  array frames. First the floor is filled as fast as the console takes it
  until ``--conversations`` are open (timestamps shifted so the warm-up ends
  now), then events flow at ``--rate`` for ``--seconds`` in frames every
  10 ms, with a heartbeat every second, as a platform sends them. Last,
  nothing but heartbeats for ``--idle-seconds`` (after a settling pause).
* **terminal**: the pty's output is read in a thread, time-stamped as it
  arrives and fed to a small screen model (characters and backgrounds; the
  CSI cursor moves and SGR colours Textual writes).

Figures (all of the console process, from ``/proc``; the script's own CPU is
printed apart):

* events/s sustained: what the feed sent during the measured period;
* CPU: the console's user+system time over wall time (share of one core);
* p95 event to screen: a *probe* conversation waits for a human longer than
  anyone (so it is the top row) and gets an AI message every 100 ms in the
  same frames as the load; the time from sending the frame to the pty bytes
  that show its Turns cell at the new count;
* p95 key to screen: a ``down`` key every 250 ms (eight down, eight up):
  from writing the key to the pty bytes that put the cursor's highlight on
  another conversation;
* idle: CPU share and bytes written to the terminal while only heartbeats
  arrive (after ``--settle`` seconds without events, so the events/s figure
  has reached 0), and which screen lines those bytes redrew.

``--source DIR`` runs the console from another checkout (its ``hitl_console``
first on ``PYTHONPATH``): the same script measures a before and an after.

    python benchmarks/ui_load.py --conversations 10000 --rate 2000 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import fcntl
import json
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.cells import cell_len  # noqa: E402
from websockets.asyncio.server import ServerConnection, serve  # noqa: E402

from hitl_console.sim.timeline import generate_events  # noqa: E402

TICK = 0.01
"""The feed sends a frame with the events due every 10 ms."""
KEY_EVERY = 0.25
PROBE_EVERY = 0.1
PROBE_ID = "PROBE-1"
PROBE_WAIT_S = 3000.0
"""The probe has waited for a human this long: longer than any conversation of the recording."""
WARM_FRAME = 500
HEARTBEAT_EVERY = 1.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# ---------------------------------------------------------------- the screen

_TOKEN = re.compile(
    r"\x1b\[([0-9;:?<>=]*)[ -/]*([@-~])"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[PX^_][^\x1b]*\x1b\\"  # DCS and friends
    r"|\x1b[()*+][0-9A-Za-z]|\x1b[^\[\]PX^_()*+]"
    r"|([^\x1b\r\n\x07\x08]+)"
    r"|([\r\n\x07\x08])"
)


class Screen:
    """Just enough of a terminal to read Textual's output: characters and
    each cell's background (with reverse video) at absolute positions."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.chars = [[" "] * width for _ in range(height)]
        self.bg: list[list[Any]] = [[None] * width for _ in range(height)]
        self.x = self.y = 0
        self._fg: Any = None
        self._bg: Any = None
        self._reverse = False
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._tail = ""
        self.dirty: set[int] = set()

    def feed(self, data: bytes) -> None:
        text = self._tail + self._decoder.decode(data)
        self._tail = ""
        cut = text.rfind("\x1b")
        if cut >= 0 and len(text) - cut < 4096 and _TOKEN.match(text, cut) is None:
            text, self._tail = text[:cut], text[cut:]  # an escape sequence cut in two by the read
        for match in _TOKEN.finditer(text):
            run = match.group(3)
            if run is not None:
                self._write(run)
                continue
            final = match.group(2)
            if final is not None:
                self._csi(match.group(1) or "", final)
                continue
            ctl = match.group(4)
            if ctl == "\r":
                self.x = 0
            elif ctl == "\n":
                self.y = min(self.height - 1, self.y + 1)
            elif ctl == "\x08":
                self.x = max(0, self.x - 1)

    def _style(self) -> Any:
        return ("R", self._fg) if self._reverse else self._bg

    def _write(self, run: str) -> None:
        y = self.y
        if not 0 <= y < self.height:
            return
        row, bgs, style = self.chars[y], self.bg[y], self._style()
        x = self.x
        self.dirty.add(y)
        if run.isascii():
            end = min(self.width, x + len(run))
            if end > x:
                row[x:end] = run[: end - x]
                bgs[x:end] = [style] * (end - x)
            self.x = x + len(run)
            return
        for ch in run:
            w = cell_len(ch)
            if w == 0:
                continue
            if x < self.width:
                row[x] = ch
                bgs[x] = style
                if w == 2 and x + 1 < self.width:
                    row[x + 1] = ""
                    bgs[x + 1] = style
            x += w
        self.x = x

    def _csi(self, params: str, final: str) -> None:
        if final == "H" or final == "f":
            parts = params.split(";") if params else []
            self.y = (int(parts[0]) if parts and parts[0] else 1) - 1
            self.x = (int(parts[1]) if len(parts) > 1 and parts[1] else 1) - 1
        elif final == "m":
            self._sgr(params)
        elif final == "K" and 0 <= self.y < self.height:
            for x in range(self.x, self.width):
                self.chars[self.y][x] = " "
                self.bg[self.y][x] = self._style()
            self.dirty.add(self.y)
        elif final == "J" and params == "2":
            for y in range(self.height):
                self.chars[y] = [" "] * self.width
                self.bg[y] = [None] * self.width
                self.dirty.add(y)
        elif final == "A":
            self.y = max(0, self.y - int(params or 1))
        elif final == "B":
            self.y = min(self.height - 1, self.y + int(params or 1))
        elif final == "C":
            self.x += int(params or 1)
        elif final == "D":
            self.x = max(0, self.x - int(params or 1))
        elif final == "G":
            self.x = int(params or 1) - 1

    def _sgr(self, params: str) -> None:
        values = [int(p) if p.isdigit() else 0 for p in params.replace(":", ";").split(";")] if params else [0]
        i = 0
        while i < len(values):
            v = values[i]
            if v == 0:
                self._fg = self._bg = None
                self._reverse = False
            elif v == 7:
                self._reverse = True
            elif v == 27:
                self._reverse = False
            elif v in (38, 48):
                if i + 1 < len(values) and values[i + 1] == 2:
                    colour = tuple(values[i + 2 : i + 5])
                    i += 4
                else:
                    colour = ("i", values[i + 2] if i + 2 < len(values) else 0)
                    i += 2
                if v == 38:
                    self._fg = colour
                else:
                    self._bg = colour
            elif 30 <= v <= 37 or 90 <= v <= 97:
                self._fg = v
            elif v == 39:
                self._fg = None
            elif 40 <= v <= 47 or 100 <= v <= 107:
                self._bg = v
            elif v == 49:
                self._bg = None
            i += 1

    def line(self, y: int) -> str:
        return "".join(self.chars[y])


class Terminal:
    """The console's pty: a reader thread that time-stamps output and keeps
    the screen model, and what the benchmark looks for on it."""

    def __init__(self, master: int, width: int, height: int) -> None:
        self.master = master
        self.screen = Screen(width, height)
        self.lock = threading.Lock()
        self.bytes = 0
        self.chunks: list[tuple[float, int, frozenset[int]]] = []
        """(time, bytes, screen lines touched) of every read."""
        self.closed = threading.Event()
        # what the benchmark looks for
        self.header_y: int | None = None
        self.turns_x: int | None = None
        self.id_x: int | None = None
        self.cursor_bg: Any = None
        self.probe_turns: list[tuple[float, int]] = []
        """(time, turns shown) each time the probe's row showed a new count."""
        self.cursor_ids: list[tuple[float, str]] = []
        """(time, id) each time the highlighted row showed another conversation."""
        self.active: int | None = None
        self._last_turns = -1
        self._last_cursor = ""
        self._thread = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 1 << 16)
            except OSError:
                break
            if not data:
                break
            now = time.perf_counter()
            with self.lock:
                screen = self.screen
                screen.feed(data)
                dirty, screen.dirty = screen.dirty, set()
                self.bytes += len(data)
                self.chunks.append((now, len(data), frozenset(dirty)))
                self._look(now, dirty)
        self.closed.set()

    def _look(self, now: float, dirty: set[int]) -> None:
        screen = self.screen
        if self.header_y is None or self.header_y in dirty:
            for y in sorted(dirty) if self.header_y is not None else range(screen.height):
                text = screen.line(y)
                if "Conv." in text and "Holder" in text and "Risk" in text:
                    self.header_y = y
                    self.turns_x = text.find("Turns") if "Turns" in text else None
                    self.id_x = text.find("Conv.")
                    break
        for y in dirty:
            text = screen.line(y)
            at = text.find("Active ")
            if at >= 0 and y < (self.header_y or screen.height):
                number = re.match(r"Active ([\d,]+)", text[at:])
                if number:
                    self.active = int(number.group(1).replace(",", ""))
        if self.header_y is None:
            return
        for y in dirty:
            if y <= self.header_y:
                continue
            text = screen.line(y)
            if PROBE_ID in text and self.turns_x is not None:
                cell = text[self.turns_x : self.turns_x + 5].strip()
                if cell.isdigit() and int(cell) != self._last_turns:
                    self._last_turns = int(cell)
                    self.probe_turns.append((now, int(cell)))
        if self.cursor_bg is not None and self.id_x is not None:
            x = self.id_x
            for y in range(self.header_y + 1, screen.height):
                if screen.bg[y][x] == self.cursor_bg:
                    cid = screen.line(y)[x : x + 12].strip()
                    if cid != self._last_cursor:
                        self._last_cursor = cid
                        self.cursor_ids.append((now, cid))
                    break

    def learn_cursor(self) -> bool:
        """The cursor starts on the top row: its background is the cursor's."""
        with self.lock:
            if self.header_y is None or self.id_x is None:
                return False
            first = self.screen.bg[self.header_y + 1][self.id_x]
            second = self.screen.bg[self.header_y + 2][self.id_x]
            if first == second:
                return False
            self.cursor_bg = first
            self._last_cursor = self.screen.line(self.header_y + 1)[self.id_x : self.id_x + 12].strip()
            return True

    def send(self, data: bytes) -> None:
        os.write(self.master, data)


def spawn(args: argparse.Namespace, url: str, workdir: Path, width: int, height: int) -> tuple[subprocess.Popen[bytes], int]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    env = dict(os.environ)
    env.update(
        TERM="xterm-256color",
        COLORTERM="truecolor",
        HOME=str(workdir),
        XDG_CONFIG_HOME=str(workdir / "config"),
        XDG_DATA_HOME=str(workdir / "data"),
        HITL_CONSOLE_DATA_DIR=str(workdir / "data"),
        COLUMNS=str(width),
        LINES=str(height),
    )
    env.pop("NO_COLOR", None)
    env.pop("TEXTUAL", None)
    if args.source:
        env["PYTHONPATH"] = str(Path(args.source).resolve()) + os.pathsep + env.get("PYTHONPATH", "")
    command = [args.python or sys.executable, "-m", "hitl_console", "--agent", "bench", "--feed", url]
    command += ["--journal", str(workdir / "journal.sqlite3")] if not args.no_journal else ["--no-journal"]
    proc = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=str(workdir), start_new_session=True, close_fds=True
    )
    os.close(slave)
    return proc, master


def cpu_seconds(pid: int) -> float:
    """User + system time of a process (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def max_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# ---------------------------------------------------------------- the feed


class Feed:
    """The platform: a WebSocket server that sends what it is told to."""

    def __init__(self) -> None:
        self.clients: list[ServerConnection] = []
        self.connected = asyncio.Event()
        self.seq = 0

    async def handler(self, ws: ServerConnection) -> None:
        self.clients.append(ws)
        self.connected.set()
        with contextlib.suppress(Exception):
            async for _message in ws:  # commands: none are sent by this benchmark's keys
                pass
        self.clients.remove(ws)

    async def send(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event.get("type") != "heartbeat":
                self.seq += 1
                event["seq"] = self.seq
        frame = json.dumps(events, separators=(",", ":"))
        for ws in list(self.clients):
            with contextlib.suppress(Exception):
                await ws.send(frame)


def warm_up_end(raw: list[dict[str, Any]], conversations: int) -> int:
    """The position in ``raw`` after which ``conversations`` are open."""
    open_: set[str] = set()
    for i, event in enumerate(raw):
        if event["type"] == "conversation.started":
            open_.add(event["conversation_id"])
        elif event["type"] == "conversation.ended":
            open_.discard(event["conversation_id"])
        if len(open_) >= conversations:
            return i + 1
    return len(raw)


def probe_events(now: float) -> list[dict[str, Any]]:
    """The probe conversation: routed to a human and waiting since long ago, so it tops the floor."""
    return [
        {
            "v": 1,
            "type": "conversation.started",
            "ts": now - PROBE_WAIT_S,
            "conversation_id": PROBE_ID,
            "channel": "chat",
            "queue": "probe",
            "customer": {"id": "probe", "name": "Probe"},
            "handled_by": "human",
        }
    ]


def probe_message(n: int, now: float) -> dict[str, Any]:
    return {"v": 1, "type": "message", "ts": now, "conversation_id": PROBE_ID, "role": "ai", "text": f"probe {n}", "confidence": 0.9}


async def wait_for(predicate: Any, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return bool(predicate())


async def run(args: argparse.Namespace) -> dict[str, float]:
    width, height = (int(v) for v in args.size.lower().split("x"))
    total = int(args.conversations * 4)
    print(f"generating {total:,} conversations ...", flush=True)
    raw = generate_events(args.seed, total, concurrency=int(args.conversations * 2.6))
    warm = warm_up_end(raw, args.conversations)
    print(f"{len(raw):,} events; {warm:,} fill the floor to {args.conversations:,} open", flush=True)

    feed = Feed()
    results: dict[str, float] = {}
    async with serve(feed.handler, "127.0.0.1", args.port, max_size=1 << 20):
        with tempfile.TemporaryDirectory(prefix="ui_load-") as tmp:
            workdir = Path(tmp)
            proc, master = spawn(args, f"ws://127.0.0.1:{args.port}/", workdir, width, height)
            terminal = Terminal(master, width, height)
            try:
                results = await measure(args, raw, warm, feed, proc, terminal)
            finally:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
                with contextlib.suppress(OSError):
                    os.close(master)
    return results


async def measure(
    args: argparse.Namespace, raw: list[dict[str, Any]], warm: int, feed: Feed, proc: subprocess.Popen[bytes], terminal: Terminal
) -> dict[str, float]:
    if not await wait_for(lambda: feed.connected.is_set(), 60):
        raise SystemExit("the console never connected to the feed")
    started_at = time.perf_counter()
    if not await wait_for(lambda: terminal.header_y is not None, 60):
        raise SystemExit("the floor never showed its table")
    print(f"console up in {time.perf_counter() - started_at:.1f}s; filling the floor ...", flush=True)

    # Warm-up: as fast as the console takes it, timestamps shifted to end now.
    now = time.time()
    shift = now - raw[warm - 1]["ts"]
    await feed.send(probe_events(now))
    t0 = time.perf_counter()
    for i in range(0, warm, WARM_FRAME):
        batch = [dict(e, ts=e["ts"] + shift) for e in raw[i : min(warm, i + WARM_FRAME)]]
        await feed.send(batch)
        if i % (WARM_FRAME * 20) == 0:
            await feed.send([{"v": 1, "type": "heartbeat", "ts": time.time()}])
    print(f"sent the warm-up in {time.perf_counter() - t0:.1f}s", flush=True)
    filled = False
    for _ in range(args.fill_timeout // 10):
        filled = await wait_for(lambda: (terminal.active or 0) >= args.conversations * 0.98, 10, 0.25)
        if filled:
            break
        print(f"  ... header says Active {terminal.active or 0:,}", flush=True)
    print(
        f"floor filled: header says Active {terminal.active or 0:,} after {time.perf_counter() - t0:.1f}s"
        + ("" if filled else " (short of the goal)"),
        flush=True,
    )
    await asyncio.sleep(3.0)
    if not await wait_for(terminal.learn_cursor, 10):
        raise SystemExit("could not tell the cursor's row from the others (no colours?)")

    # Measured period: the load, a probe message every 100 ms and a key every 250 ms.
    pid = proc.pid
    probes: list[tuple[float, int]] = []
    presses: list[tuple[float, str]] = []
    probe_n = 0
    delivered = 0
    position = warm
    last_warm_ts = raw[warm - 1]["ts"] + shift
    bench_cpu0 = time.process_time()
    cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
    next_key = wall0 + KEY_EVERY
    next_probe = wall0 + PROBE_EVERY
    next_beat = wall0
    bytes0 = terminal.bytes
    while time.perf_counter() - wall0 < args.seconds and position < len(raw):
        elapsed = time.perf_counter() - wall0
        due = min(int(elapsed * args.rate) - delivered, max(1, int(args.rate * TICK * 4)))
        out: list[dict[str, Any]] = []
        now_wall = time.time()
        if due > 0:
            stamp = max(last_warm_ts, now_wall)
            out = [dict(e, ts=stamp) for e in raw[position : position + due]]
            position += len(out)
            delivered += len(out)
        clock = time.perf_counter()
        probed = clock >= next_probe
        if probed:
            probe_n += 1
            out.append(probe_message(probe_n, now_wall))
            next_probe += PROBE_EVERY
        if clock >= next_beat:
            out.append({"v": 1, "type": "heartbeat", "ts": now_wall})
            next_beat += HEARTBEAT_EVERY
        if out:
            sent_at = time.perf_counter()
            await feed.send(out)
            if probed:
                probes.append((sent_at, probe_n))
        if clock >= next_key:
            with terminal.lock:
                before = terminal._last_cursor
            presses.append((time.perf_counter(), before))
            key = b"\x1b[B" if (len(presses) // 8) % 2 == 0 else b"\x1b[A"
            terminal.send(key)
            next_key += KEY_EVERY
        await asyncio.sleep(TICK)
    wall = time.perf_counter() - wall0
    cpu = cpu_seconds(pid) - cpu0
    bench_cpu = time.process_time() - bench_cpu0
    load_bytes = terminal.bytes - bytes0
    await asyncio.sleep(1.0)  # the last frames paint

    with terminal.lock:
        shown = list(terminal.probe_turns)
        cursor_ids = list(terminal.cursor_ids)
    # The probe's Turns cell counts its messages: after message n it shows n.
    event_delays: list[float] = []
    for sent_at, n in probes:
        seen = next((t for t, turns in shown if turns >= n and t >= sent_at), None)
        if seen is not None:
            event_delays.append(seen - sent_at)
    key_delays: list[float] = []
    for pressed_at, before in presses:
        seen = next((t for t, cid in cursor_ids if t >= pressed_at and cid != before), None)
        if seen is not None:
            key_delays.append(seen - pressed_at)

    # Idle: nothing but heartbeats.
    settle_end = time.perf_counter() + args.settle
    next_beat = time.perf_counter()
    while time.perf_counter() < settle_end:
        if time.perf_counter() >= next_beat:
            await feed.send([{"v": 1, "type": "heartbeat", "ts": time.time()}])
            next_beat += HEARTBEAT_EVERY
        await asyncio.sleep(0.05)
    idle_cpu0, idle_wall0 = cpu_seconds(pid), time.perf_counter()
    idle_bytes0 = terminal.bytes
    chunks0 = len(terminal.chunks)
    while time.perf_counter() - idle_wall0 < args.idle_seconds:
        if time.perf_counter() >= next_beat:
            await feed.send([{"v": 1, "type": "heartbeat", "ts": time.time()}])
            next_beat += HEARTBEAT_EVERY
        await asyncio.sleep(0.05)
    idle_wall = time.perf_counter() - idle_wall0
    idle_cpu = cpu_seconds(pid) - idle_cpu0
    with terminal.lock:
        idle_bytes = terminal.bytes - idle_bytes0
        idle_chunks = terminal.chunks[chunks0:]
        idle_lines = sorted({y for _, _, lines in idle_chunks for y in lines})
        counts = {y: sum(1 for _, _, lines in idle_chunks if y in lines) for y in idle_lines}
        shown_lines = sorted(idle_lines, key=lambda y: -counts[y])[: 48 if args.verbose else 6]
        idle_text = {y: f"({counts[y]}x) " + terminal.screen.line(y).rstrip()[:90] for y in sorted(shown_lines)}
    rss = max_rss_mb(pid)

    results = {
        "active": float(terminal.active or 0),
        "events_per_s": delivered / wall,
        "cpu_share_of_one_core": cpu / wall,
        "bench_cpu_share": bench_cpu / wall,
        "terminal_kb_per_s": load_bytes / wall / 1024,
        "p50_event_to_screen_ms": percentile(event_delays, 50) * 1000,
        "p95_event_to_screen_ms": percentile(event_delays, 95) * 1000,
        "max_event_to_screen_ms": max(event_delays, default=float("nan")) * 1000,
        "probes_sent": float(len(probes)),
        "probes_seen": float(len(event_delays)),
        "p50_key_to_screen_ms": percentile(key_delays, 50) * 1000,
        "p95_key_to_screen_ms": percentile(key_delays, 95) * 1000,
        "max_key_to_screen_ms": max(key_delays, default=float("nan")) * 1000,
        "keys_sent": float(len(presses)),
        "keys_seen": float(len(key_delays)),
        "idle_cpu_share": idle_cpu / idle_wall,
        "idle_bytes": float(idle_bytes),
        "idle_writes": float(len(idle_chunks)),
        "max_rss_mb": rss,
    }
    results["_idle_lines"] = idle_text  # type: ignore[assignment]
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=500.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--settle", type=float, default=12.0, help="seconds of quiet before the idle measurement")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--size", default="160x48", help="terminal size, e.g. 80x24")
    parser.add_argument("--port", type=int, default=19500, help="the feed's port on 127.0.0.1")
    parser.add_argument("--source", help="run the console from this checkout (put first on PYTHONPATH)")
    parser.add_argument("--python", help="the interpreter that runs the console (default: this one)")
    parser.add_argument("--fill-timeout", type=int, default=300, help="seconds to wait for the floor to fill")
    parser.add_argument("--verbose", action="store_true", help="list every screen line redrawn while idle")
    parser.add_argument("--no-journal", action="store_true", help="the console keeps its journal in memory")
    args = parser.parse_args()
    results = asyncio.run(run(args))
    if not results:
        return 1
    r = results
    print()
    print(f"{'conversations active':<28}{r['active']:>10,.0f}")
    print(f"{'events/s sent':<28}{r['events_per_s']:>10.1f}   (asked {args.rate:.0f})")
    print(f"{'CPU (share of one core)':<28}{r['cpu_share_of_one_core'] * 100:>9.1f}%   (goal < 50%; this script {r['bench_cpu_share'] * 100:.0f}%)")
    print(f"{'terminal output':<28}{r['terminal_kb_per_s']:>8.1f} KiB/s")
    print(f"{'event-to-screen p50':<28}{r['p50_event_to_screen_ms']:>8.0f} ms")
    print(f"{'event-to-screen p95':<28}{r['p95_event_to_screen_ms']:>8.0f} ms   (goal < 150 ms; {r['probes_seen']:.0f} of {r['probes_sent']:.0f} probes seen)")
    print(f"{'event-to-screen max':<28}{r['max_event_to_screen_ms']:>8.0f} ms")
    print(f"{'key-to-screen p50':<28}{r['p50_key_to_screen_ms']:>8.0f} ms")
    print(f"{'key-to-screen p95':<28}{r['p95_key_to_screen_ms']:>8.0f} ms   (goal < 50 ms; {r['keys_seen']:.0f} of {r['keys_sent']:.0f} keys seen)")
    print(f"{'key-to-screen max':<28}{r['max_key_to_screen_ms']:>8.0f} ms")
    print(f"{'idle CPU':<28}{r['idle_cpu_share'] * 100:>9.2f}%   (goal < 1%; {args.idle_seconds:.0f}s of heartbeats only)")
    print(f"{'idle bytes to the terminal':<28}{r['idle_bytes']:>10,.0f}   (goal 0; {r['idle_writes']:.0f} writes)")
    for y, text in r["_idle_lines"].items():  # type: ignore[union-attr]
        print(f"    idle redrew line {y}: {text}")
    print(f"{'max RSS':<28}{r['max_rss_mb']:>8.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
