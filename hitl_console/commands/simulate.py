"""``hitl-console simulate``: the simulated AI-agent platform as a standalone server.

Useful to try the console against a real network feed, to run two consoles
against one floor (takeover arbitration), and for the team's benchmarks. The
WebSocket listens on ``--port`` and HTTP on the port after it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from typing import Any

from hitl_console.commands.common import fail
from hitl_console.feeds.bridge import BusRelay
from hitl_console.feeds.jetstream import JetStreamPublisher
from hitl_console.sim.platform import SimPlatform
from hitl_console.sim.server import SimulatorServer

TOKEN_ENV = "HITL_SIM_TOKEN"


def _server(args: argparse.Namespace) -> SimulatorServer:
    port = int(args.port)
    token = getattr(args, "token", None) or os.environ.get(TOKEN_ENV) or None
    return SimulatorServer(
        host=args.host,
        port=port,
        http_port=port + 1 if port else 0,
        rate=float(args.rate),
        seed=int(args.seed),
        pace=float(args.pace),
        token=token,
        max_conversations=getattr(args, "max_conversations", None),
        initial_conversations=getattr(args, "initial_conversations", 0) or 0,
    )


async def serve(server: SimulatorServer, stop: asyncio.Event | None = None) -> None:
    """Start ``server``, print where it listens, and run until ``stop`` (or SIGINT/SIGTERM)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    await server.start()
    try:
        auth = " (bearer token required)" if server.requires_token else ""  # never the token itself
        print(f"WebSocket: {server.ws_url}  HTTP: {server.http_url}/events{auth}", flush=True)
        print("Ctrl-C to stop.", file=sys.stderr, flush=True)
        await stop.wait()
    finally:
        await server.stop()
        for sig in installed:
            loop.remove_signal_handler(sig)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; exit 0 on Ctrl-C, 1 if the ports cannot be bound."""
    if args.pace <= 0:
        return fail("--pace must be greater than 0", 2)
    if args.rate < 0:
        return fail("--rate must be 0 or more", 2)
    if not 0 <= args.port <= 65534:
        return fail("--port must be between 0 and 65534 (HTTP uses the next port)", 2)
    if getattr(args, "nats", None):
        return _to_stream(args)
    try:
        server = _server(args)
        asyncio.run(serve(server))
    except OSError as error:
        return fail(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}")
    except KeyboardInterrupt:
        pass
    return 0


def _to_stream(args: argparse.Namespace) -> int:
    """``--nats URL``: the platform publishes into JetStream; commands by request-reply."""
    from hitl_console.feeds.base import redact
    from hitl_console.feeds.jetstream import TOKEN_ENV, NatsAddress
    
    try:
        NatsAddress.parse(args.nats)
    except ValueError as error:
        return fail(str(error), 2)
    token = os.environ.get(args.nats_token_env or TOKEN_ENV) or None
    server = _server(args)
    sim = SimToStream(server.platform, args.nats, token)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        print(f"publishing the simulated floor to {sim.publisher.url} (commands on {sim.publisher.address.control})", flush=True)
        print("Ctrl-C to stop.", file=sys.stderr, flush=True)
        await sim.run(stop)

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    except Exception as error:
        return fail(redact(f"simulator stopped: {type(error).__name__}: {error}", token))
    print(f"stored {sim.publisher.stats.stored} events", flush=True)
    return 0


# ----------------------------------------------------------------- --nats
# Lives here, not in sim/: the simulator and the feeds are independent layers;
# the command is where they meet.

class SimToStream:
    """``simulate --nats``: the platform straight into JetStream. No socket in
    between: batches go to a :class:`BusRelay` (``Nats-Msg-Id =
    sim:<run>:<seq>``, so a restarted simulator numbering from 1 again is not
    a duplicate); commands on the control subject go to the platform."""
    def __init__(self, platform: SimPlatform, url: str, token: str | None = None, *, feed: str = "sim") -> None:
        self.platform = platform
        self.feed = feed
        self.run_id = str(int(time.time() * 1000))
        self.publisher = JetStreamPublisher(url, token)
        self.relay = BusRelay(self.publisher, self._command)

    def _listen(self, batch: list[dict[str, Any]]) -> None:
        for event in batch:
            if "seq" in event and event.get("type") != "heartbeat":
                self.relay.offer(self.feed, int(event["seq"]), event, epoch=self.run_id)

    async def _command(self, data: bytes) -> dict[str, Any] | None:
        answer: list[dict[str, Any]] = []
        self.platform.handle_command(data, reply=answer.append)
        return answer[0] if answer else None

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Until ``stop``: the floor runs and the stream fills."""
        await self.publisher.connect()
        self.platform.add_listener(self._listen)
        self.platform.publish(self.platform.begin())
        tasks = [asyncio.create_task(self.platform.run()), asyncio.create_task(self.relay.run())]
        waiter = asyncio.create_task((stop or asyncio.Event()).wait())
        try:
            done, _ = await asyncio.wait({*tasks, waiter}, return_when=asyncio.FIRST_COMPLETED)
            for task in done - {waiter}:
                task.result()
        finally:
            self.platform.remove_listener(self._listen)
            tasks[0].cancel()
            with contextlib.suppress(Exception):
                await self.relay.drain(5.0)
            for task in (*tasks, waiter):
                task.cancel()
            await asyncio.gather(*tasks, waiter, return_exceptions=True)
            await self.publisher.close()
