"""A frame over the size limit neither drops the feed silently nor makes it
reconnect in a tight loop (issue 9, item 2): a WebSocket message over the
library's limit (8 MiB) closes the connection unread; it counts as a rejected
frame with its reason (feed status, journal, ``check-feed``), the connection
is resumed with a backoff that only a healthy connection resets, and what the
client keeps of rejected frames is bounded. A real WebSocket server on
127.0.0.1 sends the frames.

Resident memory over many such reconnects is measured by
``benchmarks/oversize_reconnects.py`` (figures, no assertion here).
"""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest
from feedserver import Collector, WsFeedServer, make_events, running
from live_support import wait_until

from hitl_console.cli import main
from hitl_console.config import Config
from hitl_console.feeds.client import FeedClient
from hitl_console.feeds.hub import FeedSpec
from hitl_console.feeds.websocket import MAX_WS_MESSAGE, WebSocketSource
from hitl_console.session import LiveSession
from hitl_console.store.journal import Journal

T0 = 1_763_931_600.0
HUGE = json.dumps({"v": 1, "type": "message", "seq": 1, "pad": "x" * (MAX_WS_MESSAGE + 1024)})


class Ceiling(random.Random):
    """The backoff's full jitter at its ceiling: each delay is ``min(cap, base * 2**attempt)``."""

    def uniform(self, a: float, b: float) -> float:
        return b


async def test_an_oversized_message_on_every_connect_is_rejected_each_time_and_backs_off() -> None:
    server = WsFeedServer(make_events(3, start_ts=T0))
    server.raw_frames.append(HUGE)  # sent first on every connection
    async with server:
        client = FeedClient(WebSocketSource(server.url), name="prod", backoff_base=0.02, backoff_cap=10.0, rng=Ceiling(), max_rejected=2)
        collector = Collector()
        async with running(client, collector):
            await collector.wait(lambda: client.status.rejected >= 5, timeout=10)
            status = client.status
        assert collector.seqs == []  # nothing behind the huge frame gets through; but nothing is silent either
        assert status.rejected >= 5 and status.reconnects >= 4
        assert "message too large" in status.last_rejected and "closed" in status.last_rejected
        assert all("message too large" in r.reason for r in collector.rejected)
        # never reset (no connection stayed healthy): 0.02, 0.04, 0.08, 0.16 s, ...
        assert status.backoff_attempt == status.reconnects
        assert len(client.rejected) == 2  # what the client keeps is bounded; the count goes on
        assert len(server.connections) <= status.reconnects + 1


async def test_an_oversized_message_once_is_journaled_and_the_feed_resumes(tmp_path: Path) -> None:
    server = WsFeedServer(make_events(4, start_ts=T0))
    server.next_frames.append(HUGE)  # the first connection only
    async with server:
        with Journal(tmp_path / "j.sqlite3") as journal:
            session = LiveSession(Config(), [FeedSpec(server.url, name="prod")], agent="ana", journal=journal)
            await session.start()
            try:
                await wait_until(lambda: session.statuses()[0].last_seq == 4, 15, "the events after the reconnect")
                assert [c.since for c in server.connections] == [None, None]
                status = session.statuses()[0]
                assert status.rejected == 1 and status.reconnects == 1 and status.state.value == "live"
                assert status.last_rejected.startswith("message too large")
                rejected = journal.rejected()
                assert len(rejected) == 1 and rejected[0].reason == status.last_rejected and rejected[0].feed == "prod"
                assert [r.reason for r in session.rejected] == [rejected[0].reason]
                server.publish({"type": "message", "conversation_id": "c-1", "role": "customer", "text": "still live"})
                await wait_until(lambda: session.statuses()[0].last_seq == 5, 10, "a live event")
                assert len(session.engine.conversations["c-1"].turns) == 4
            finally:
                await session.stop()


async def test_check_feed_lists_the_oversized_message(capsys: pytest.CaptureFixture[str]) -> None:
    server = WsFeedServer(make_events(2, start_ts=T0))
    server.raw_frames.append(HUGE)
    async with server:
        code = await asyncio.wait_for(asyncio.to_thread(main, ["check-feed", server.url, "--timeout", "1.5", "--json"]), 20)
    assert code == 1
    report = json.loads(capsys.readouterr().out)
    assert report["rejected"] >= 1 and report["events"] == 0
    assert report["rejected_frames"][0]["reason"].startswith("message too large")
    assert report["reconnects"] >= 1 and report["ok"] is False
