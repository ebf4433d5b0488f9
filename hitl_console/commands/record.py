"""``hitl-console record --feed URL -o FILE``: capture a feed as a recording.

Records what the console itself would accept: validated events,
de-duplicated and in seq order, in wire form, so a recording replays exactly
what an operator saw and can be shared without the noise (rejected frames
are counted in the summary, not written). The format follows the output's
name: ``.jsonl`` or ``.msgpack``, optionally ``.gz``. Events are written as
they arrive so that an interrupted recording keeps what it had.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from hitl_console.commands.common import config_or_exit, fail
from hitl_console.config import Config
from hitl_console.feeds.base import ConnectionState, FeedOutput, FeedSource, FeedStatus
from hitl_console.feeds.client import FeedClient
from hitl_console.feeds.file import RecordingWriter, file_path, recording_format
from hitl_console.feeds.hub import FeedSpec, default_name, is_file_url, open_source
from hitl_console.protocol.events import event_dict

FLUSH_EVERY_S = 1.0


class FeedArgError(Exception):
    """The feed named on the command line cannot be used (exit status 2)."""


def feed_spec(target: str, token_env: str | None, config: Config, *, fast: bool = False, since: int | None = None) -> FeedSpec:
    """The spec for a ``--feed``/``URL`` argument.

    The argument may be a URL, a file, or the name of a configured feed; a
    configured feed with the same URL or name supplies its token, unless
    ``--token-env`` names another variable.
    """
    configured = next((f for f in config.feeds if target in (f.url, f.name)), None)
    url = configured.url if configured else target
    name = (configured.name if configured else None) or default_name(url)
    token: str | None = None
    if token_env:
        token = os.environ.get(token_env) or None
        if token is None:
            raise FeedArgError(f"environment variable {token_env} is not set (it should hold the bearer token)")
    elif configured is not None:
        token = configured.resolve_token()
    if is_file_url(url):
        path = file_path(url)
        try:
            recording_format(path)
        except ValueError as error:
            raise FeedArgError(str(error)) from None
        if not path.exists():
            raise FeedArgError(f"{path}: no such file")
        if path.is_dir():
            raise FeedArgError(f"{path}: is a directory, not a recording")
    return FeedSpec(url=url, name=name, token=token, fast=fast, since=since)


def open_or_error(spec: FeedSpec) -> FeedSource:
    try:
        return open_source(spec)
    except ValueError as error:
        raise FeedArgError(str(error)) from None


def run(args: argparse.Namespace) -> int:
    """Record until ``--max-events``, ``--idle-exit``, the end of a file, or Ctrl-C."""
    config = config_or_exit(args)
    output = Path(args.output)
    try:
        recording_format(output)
        spec = feed_spec(args.feed, args.token_env, config, fast=True, since=args.since)
        source = open_or_error(spec)
    except (ValueError, FeedArgError) as error:
        return fail(str(error), 2)
    if args.max_events is not None and args.max_events < 1:
        return fail("--max-events must be at least 1", 2)
    if args.idle_exit is not None and args.idle_exit <= 0:
        return fail("--idle-exit must be above 0 seconds", 2)
    if is_file_url(spec.url) and file_path(spec.url).resolve() == output.resolve():
        return fail("the output would overwrite the recording being read", 2)
    try:
        writer = RecordingWriter(output)
    except OSError as error:
        return fail(f"{output}: cannot write: {error.strerror or error}", 2)
    client = FeedClient(source, name=spec.name or default_name(spec.url), since=spec.since, ack_timeout=config.ack_timeout_s)
    try:
        status = asyncio.run(_record(client, writer, args.max_events, args.idle_exit))
    except KeyboardInterrupt:  # Ctrl-C is the usual way to end an open-ended recording
        status = client.status
    finally:
        writer.close()
    return _summary(status, writer, output)


async def _record(client: FeedClient, writer: RecordingWriter, max_events: int | None, idle_exit: float | None) -> FeedStatus:
    done = asyncio.Event()
    last_event = time.monotonic()

    def on_output(output: FeedOutput) -> None:
        nonlocal last_event
        for event in output.events:
            if max_events is not None and writer.count >= max_events:
                break
            writer.write(event_dict(event))
            last_event = time.monotonic()
        if max_events is not None and writer.count >= max_events:
            done.set()

    loop = asyncio.get_running_loop()
    stop_signals = _stop_on_signals(loop, done)
    task = asyncio.create_task(client.run(on_output))
    last_flush = time.monotonic()
    connected = False
    tick = 0.1 if idle_exit is None else min(0.1, idle_exit / 4)
    try:
        while not task.done() and not done.is_set():
            await asyncio.wait({task}, timeout=tick)
            now = time.monotonic()
            if not connected:
                # Idle is counted from the connection, not through a slow first
                # connect; a feed that cannot be reached (reconnecting) is idle.
                state = client.status.state
                if state is ConnectionState.CONNECTING:
                    last_event = now
                elif state is ConnectionState.LIVE:
                    connected, last_event = True, now
            if now - last_flush >= FLUSH_EVERY_S:
                writer.flush()
                last_flush = now
            if idle_exit is not None and now - last_event >= idle_exit:
                break
    finally:
        for signum in stop_signals:
            loop.remove_signal_handler(signum)
        await client.stop()
        status = await asyncio.wait_for(task, timeout=10)
    return status


def _stop_on_signals(loop: asyncio.AbstractEventLoop, done: asyncio.Event) -> list[int]:
    """SIGTERM (a service manager, ``kill``) and SIGHUP (a closed SSH session)
    end a recording as Ctrl-C does: the file is finished and the summary
    printed, instead of a truncated ``.gz`` and nothing said."""
    installed: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGHUP):
        try:
            loop.add_signal_handler(signum, done.set)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no such signal here
            continue
        installed.append(signum)
    return installed


def _summary(status: FeedStatus, writer: RecordingWriter, output: Path) -> int:
    counts = (
        f"{writer.count} events written to {output} ({status.rejected} rejected, {status.duplicates} duplicates, "
        f"{status.out_of_order} out of order, {status.unknown} unknown type)"
    )
    if status.state is ConnectionState.FAILED:
        print(f"hitl-console: record: {counts}; the feed failed: {status.detail}", file=sys.stderr)
        return 2 if writer.count == 0 and status.last_frame_at is None else 1
    if status.last_frame_at is None and status.reconnects:
        print(f"hitl-console: record: {counts}; never connected: {status.detail}", file=sys.stderr)
        return 1
    print(f"hitl-console: record: {counts}", file=sys.stderr)
    return 0
