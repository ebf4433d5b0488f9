"""``hitl-console bridge --from URL... --to nats://HOST:4222/STREAM``.

Republishes protocol feeds (WebSocket, HTTP, recordings) into JetStream and
relays the consoles' commands back (``hitl_console.feeds.bridge``). The
NATS token comes from ``--nats-token-env`` (default ``HITL_NATS_TOKEN``);
feed tokens from ``--token-env`` or the config, as for ``record``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys

from hitl_console.commands.common import config_or_exit, fail
from hitl_console.commands.record import FeedArgError, feed_spec
from hitl_console.feeds.base import FeedStatus, redact
from hitl_console.feeds.jetstream import TOKEN_ENV, NatsAddress


def _token(env: str | None) -> str | None:
    return os.environ.get(env or TOKEN_ENV) or None


def _print_status(status: FeedStatus) -> None:
    print(f"{status.name}: {status.state.value} {status.detail}".rstrip(), file=sys.stderr, flush=True)


async def _serve(bridge: object, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    await bridge.run(stop)  # type: ignore[attr-defined]


def run(args: argparse.Namespace) -> int:
    """Bridge until interrupted (or until every feed has ended, for recordings)."""
    from hitl_console.feeds.bridge import Bridge

    config = config_or_exit(args)
    try:
        NatsAddress.parse(args.to)
        specs = [feed_spec(url, args.token_env, config, fast=args.fast) for url in args.sources]
    except (ValueError, FeedArgError) as error:
        return fail(str(error), 2)
    token = _token(args.nats_token_env)
    bridge = Bridge(specs, args.to, token, ack_timeout=config.ack_timeout_s, replicas=args.replicas, on_status=_print_status)
    print(f"bridging {', '.join(bridge.feeds)} -> {bridge.publisher.url} (commands on {bridge.publisher.address.control})", flush=True)
    try:
        asyncio.run(_serve(bridge, asyncio.Event()))
    except KeyboardInterrupt:
        pass
    except Exception as error:
        return fail(redact(f"bridge stopped: {type(error).__name__}: {error}", token))
    stats = bridge.publisher.stats
    print(f"stored {stats.stored} events, {stats.duplicates} already in the stream, {stats.retries} retries, {bridge.relay.commands} commands", flush=True)
    return 0
