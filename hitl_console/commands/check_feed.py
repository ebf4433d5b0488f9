"""``hitl-console check-feed URL|FILE``: does this feed speak the protocol?

For the people integrating a platform: a recording is read completely (as
fast as possible), a live feed is listened to for ``--timeout`` seconds, and
everything the console would refuse is listed with the reason, the seq and
an excerpt (as JSON when the frame decoded), with unknown event types,
duplicates and out-of-order events, and for a live feed each time its
connection dropped (or was refused) and why. A file named ``.msgpack`` that
holds text fails once, saying so (``feeds.recording``).

Exit status: 0 when nothing was rejected or dropped out of order, 1 when
something was, a live feed restarted its seq numbering, or a recording broke
off (e.g. a truncated ``.gz``), 2 when
the feed could not be checked at all (missing file, bad URL, refused token,
nothing reachable).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from hitl_console.commands.common import config_or_exit, fail
from hitl_console.commands.record import FeedArgError, feed_spec, open_or_error
from hitl_console.feeds.base import ConnectionState, FeedStatus
from hitl_console.feeds.client import FeedClient
from hitl_console.feeds.hub import default_name, is_live_url
from hitl_console.protocol.decode import RejectedFrame
from hitl_console.text import one_line, terminal_safe_json

KEEP_REJECTED = 10_000


@dataclass(slots=True)
class CheckReport:
    """What a check found; ``ok`` decides the exit status."""

    status: FeedStatus
    rejected: list[RejectedFrame]
    anomalies: list[tuple[str, int, int | None]]
    live: bool
    timeout: float | None
    drops: list[tuple[float, str]] = field(default_factory=list)
    """Each time a live feed's connection was lost or refused: seconds into the check, and why."""

    @property
    def ok(self) -> bool:
        s = self.status
        return s.rejected == 0 and s.out_of_order == 0 and s.restarts == 0 and s.state is not ConnectionState.FAILED

    def to_dict(self) -> dict[str, Any]:
        s = self.status
        return {
            "feed": s.url,
            "name": s.name,
            "state": self.status.state.value,
            "detail": s.detail,
            "ok": self.ok,
            "events": s.events,
            "last_seq": s.last_seq,
            "rejected": s.rejected,
            "duplicates": s.duplicates,
            "out_of_order": s.out_of_order,
            "unknown": s.unknown,
            "unknown_types": dict(sorted(s.unknown_types.items(), key=lambda kv: (-kv[1], kv[0]))),
            "reconnects": s.reconnects,
            "restarts": s.restarts,
            "drops": [{"after_s": round(at, 3), "reason": why} for at, why in self.drops],
            "rejected_frames": [
                {
                    "reason": r.reason,
                    "line": r.line,
                    "seq": r.seq,
                    "type": r.type,
                    "conversation_id": r.conversation_id,
                    "excerpt": r.excerpt,
                }
                for r in self.rejected
            ],
            "dropped": [{"kind": kind, "seq": seq, "after": last} for kind, seq, last in self.anomalies],
        }

    def to_text(self) -> str:
        s = self.status
        scope = f"listened {self.timeout:g} s" if self.live else "whole file"
        lines = [
            f"feed {one_line(s.name)} ({s.url}): {s.state.value}, {scope}" + (f" - {one_line(s.detail)}" if s.detail else ""),
            f"  accepted {s.events} events" + (f" (last seq {s.last_seq})" if s.last_seq is not None else "")
            + f", rejected {s.rejected}, unknown type {s.unknown}, duplicates {s.duplicates}, out of order {s.out_of_order}",
        ]
        if self.live:
            lines.append(
                f"  connection: dropped {len(self.drops)} time(s)" if self.drops else "  connection: no drops"
            )
            lines.extend(f"    after {at:.1f} s: {one_line(why, 160)}" for at, why in self.drops[:50])
            if len(self.drops) > 50:
                lines.append(f"    ... and {len(self.drops) - 50} more")
            if s.restarts:
                lines.append(f"  seq numbering restarted {s.restarts} time(s) (the feed lost its log; see docs/protocol-extensions.md)")
        if self.rejected:
            lines.append("rejected frames:")
            for r in self.rejected:
                where = [f"line {r.line}"] if r.line is not None else []
                if r.seq is not None:
                    where.append(f"seq {r.seq}")
                if r.type:
                    where.append(one_line(r.type, 60))
                if r.count > 1:
                    where.append(f"{r.count} elements")
                prefix = f"[{', '.join(where)}] " if where else ""
                lines.append(f"  {prefix}{one_line(r.reason, 200)}")
                lines.append(f"      {one_line(r.excerpt, 160)}")  # JSON for a decoded value (protocol.decode.excerpt)
            shown = sum(r.count for r in self.rejected)
            if s.rejected > shown:
                lines.append(f"  ... and {s.rejected - shown} more")
        if s.unknown_types:
            lines.append("unknown event types (skipped):")
            for kind, count in sorted(s.unknown_types.items(), key=lambda kv: (-kv[1], kv[0])):
                lines.append(f"  {one_line(kind, 80)}: {count}")
        drops = [a for a in self.anomalies if a[0] == "out_of_order"]
        if drops:
            lines.append("out of order (dropped):")
            lines.extend(f"  seq {seq} after seq {last}" for _, seq, last in drops[:50])
        lines.append("OK: nothing rejected" if self.ok else "PROBLEMS: see above")
        return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    config = config_or_exit(args)
    if args.timeout is not None and args.timeout <= 0:
        return fail("--timeout must be above 0 seconds", 2)
    try:
        spec = feed_spec(args.target, args.token_env, config, fast=True)
        source = open_or_error(spec)
    except FeedArgError as error:
        return fail(str(error), 2)
    live = is_live_url(spec.url)
    client = FeedClient(
        source,
        name=spec.name or default_name(spec.url),
        ack_timeout=config.ack_timeout_s,
        max_rejected=KEEP_REJECTED,
    )
    # The report says what went wrong; the client's own log line would say it a second time.
    quiet = logging.getLogger("hitl_console.feeds")
    was = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        report = asyncio.run(_check(client, args.timeout if live else None, live))
    finally:
        quiet.setLevel(was)
    status = report.status
    if status.last_frame_at is None:
        if status.state is ConnectionState.FAILED:
            return fail(status.detail, 2)
        if live and status.reconnects:
            return fail(f"could not read {status.url} within {args.timeout:g} s: {status.detail}", 2)
    if args.json:
        print(terminal_safe_json(json.dumps(report.to_dict(), ensure_ascii=False)))
    else:
        print(report.to_text())
    return 0 if report.ok else 1


async def _check(client: FeedClient, timeout: float | None, live: bool) -> CheckReport:
    started = time.monotonic()
    drops: list[tuple[float, str]] = []

    def on_status(status: FeedStatus) -> None:
        # The client reconnects by itself and counts each time (a drop, or a refused attempt);
        # the detail then says why and when it retries.
        while status.reconnects > len(drops):
            drops.append((time.monotonic() - started, status.detail.rsplit("; retrying in", 1)[0]))

    task = asyncio.create_task(client.run(lambda output: None, on_status))
    try:
        await asyncio.wait({task}, timeout=timeout)
    finally:
        await client.stop()
        try:
            status = await asyncio.wait_for(task, timeout=10)
        except TimeoutError:  # a feed that will not let go: report what was seen
            status = client.status
    return CheckReport(status, list(client.rejected), list(client.anomalies), live, timeout, drops)
