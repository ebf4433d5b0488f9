"""WebSocket feeds against a real server on 127.0.0.1: resume, dedup, frames, control, auth."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket

import pytest

from feedserver import Collector, WsFeedServer, make_events, refuse, running, silent
from hitl_console.feeds.base import ConnectionState
from hitl_console.feeds.client import FeedClient, backoff_delay
from hitl_console.feeds.websocket import WebSocketSource
from hitl_console.protocol.events import Takeover

pytestmark = pytest.mark.slow

TOKEN = "tok-3f9a-very-secret"


def ws_client(url: str, token: str | None = None, **kwargs) -> FeedClient:
    return FeedClient(WebSocketSource(url, token), name="ws", backoff_base=0.01, backoff_cap=0.05, rng=random.Random(1), **kwargs)


def takeover(rid: str = "r-1", agent: str = "ann") -> Takeover:
    return Takeover(request_id=rid, agent=agent, conversation_id="c-1")


async def test_drop_mid_stream_resumes_with_since_and_loses_nothing():
    events = make_events(20)
    async with WsFeedServer(events, drop_after=[5, 7], resend=3) as server:
        client, got = ws_client(server.url), Collector()
        async with running(client, got):
            await got.wait(lambda: len(got.events) >= 20)
            await asyncio.sleep(0.05)  # anything extra would show up now
        assert got.seqs == list(range(1, 21))
        assert [c.since for c in server.connections] == [None, 5, 9]
        status = client.status
        assert status.duplicates == 6  # 3 re-sent on each of the two resumed connections
        assert status.out_of_order == 0
        assert status.reconnects == 2
        assert status.last_seq == 20 and status.events == 20
        assert status.state is ConnectionState.STOPPED


async def test_msgpack_binary_frames_and_arrays_with_bad_frames_in_between():
    async with WsFeedServer(make_events(10), binary=True, batch=3) as server:
        server.raw_frames = [
            b"\xc1\xc1 not msgpack",
            json.dumps({"v": 1, "type": "agent.thinking", "seq": 0}),
            json.dumps({"v": 1, "type": "message", "seq": 7, "ts": 1.0, "conversation_id": "c-9", "role": "robot", "text": "x"}),
        ]
        client, got = ws_client(server.url), Collector()
        async with running(client, got):
            await got.wait(lambda: len(got.events) >= 10)
        assert got.seqs == list(range(1, 11))
        status = client.status
        assert status.unknown_types == {"agent.thinking": 1}
        assert status.rejected == 2
        reasons = [r.reason for r in client.rejected]
        assert reasons[0].startswith("malformed MessagePack")
        assert "role" in reasons[1]
        assert client.rejected[1].seq == 7 and client.rejected[1].feed == "ws"


async def test_control_ack_ok_then_effect_event():
    async with WsFeedServer(make_events(3)) as server:
        client, got = ws_client(server.url), Collector()
        async with running(client, got):
            await got.wait(lambda: len(got.events) >= 3)
            result = await client.send(takeover(), timeout=3)
            assert result.ok and result.sent and not result.timed_out
            assert result.latency_s is not None and result.latency_s >= 0
            await got.wait(lambda: any(e.type == "human.joined" for e in got.events))
        assert server.commands[0]["op"] == "takeover" and server.commands[0]["request_id"] == "r-1"
        joined = got.events[-1]
        assert joined.agent == "ann" and joined.seq == 4


async def test_control_refusal_names_the_holder():
    async with WsFeedServer(make_events(2), control=refuse("bob")) as server:
        client, got = ws_client(server.url), Collector()
        async with running(client, got):
            await got.wait(lambda: client.state is ConnectionState.LIVE)
            result = await client.send(takeover(), timeout=3)
        assert not result.ok and result.sent and not result.timed_out
        assert "bob" in result.error
        assert "refused" in result.describe()


async def test_control_timeout_when_the_feed_stays_silent():
    async with WsFeedServer(make_events(2), control=silent) as server:
        client, got = ws_client(server.url), Collector()
        async with running(client, got):
            await got.wait(lambda: client.state is ConnectionState.LIVE)
            result = await asyncio.wait_for(client.send(takeover(), timeout=0.3), 3)
        assert result.timed_out and result.sent and not result.ok
        assert "no answer" in result.describe()


async def test_send_when_not_connected_is_not_sent():
    client = ws_client("ws://127.0.0.1:9/feed")
    result = await client.send(takeover(), timeout=0.5)
    assert not result.sent and not result.ok and "not connected" in result.error


async def test_token_goes_in_the_header_and_nowhere_else(caplog):
    caplog.set_level(logging.DEBUG)
    async with WsFeedServer(make_events(3), token=TOKEN) as server:
        url = server.url.replace("ws://", "ws://user:pw-in-url@") + "?token=" + TOKEN
        client, got = ws_client(url, TOKEN), Collector()
        async with running(client, got):
            await got.wait(lambda: len(got.events) >= 3)
        assert server.connections[0].headers["authorization"] == f"Bearer {TOKEN}"
        status = client.status
        ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("hitl_console"))
        assert "Authorization: Bearer ***" in ours  # websockets' debug log, redacted
        shown = " ".join([status.url, status.detail, repr(client), repr(client.source), ours])
        shown += " ".join(str(s) for s in got.statuses)
        assert TOKEN not in shown and "pw-in-url" not in shown
        assert status.url == f"ws://127.0.0.1:{server.port}/feed?token=%2A%2A%2A" or "***" in status.url


async def test_refused_token_is_failed_not_retried(caplog):
    caplog.set_level(logging.DEBUG)
    async with WsFeedServer(make_events(3), token=TOKEN) as server:
        client, got = ws_client(server.url, "wrong-token-123"), Collector()
        status = await asyncio.wait_for(client.run(got.on_output, got.on_status), 5)
        assert status.state is ConnectionState.FAILED
        assert "401" in status.detail and "token" in status.detail
        ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("hitl_console"))
        assert "wrong-token-123" not in status.detail + ours
        assert len(server.connections) == 0 and status.reconnects == 0


async def test_unreachable_feed_keeps_retrying_with_backoff_until_stopped():
    with socket.socket() as sock:  # a port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client, got = ws_client(f"ws://127.0.0.1:{port}/feed"), Collector()
    async with running(client, got):
        await got.wait(lambda: client.status.reconnects >= 3)
        assert client.state in (ConnectionState.RECONNECTING, ConnectionState.CONNECTING)
        assert "retrying" in client.status.detail or client.status.detail == ""
    assert client.status.state is ConnectionState.STOPPED


def test_backoff_is_full_jitter_capped():
    rng = random.Random(3)
    delays = [backoff_delay(n, rng=rng) for n in range(12)]
    assert all(0 <= d <= min(30.0, 0.5 * 2**n) for n, d in enumerate(delays))
    assert max(backoff_delay(40, rng=rng) for _ in range(200)) <= 30.0


async def test_huge_frame_is_refused_and_the_stream_goes_on_and_heartbeats_give_lag():
    import time

    from hitl_console.protocol.decode import MAX_FRAME_BYTES

    async with WsFeedServer(make_events(4)) as server:
        huge = json.dumps({"v": 1, "type": "message", "seq": 1, "text": "x" * (MAX_FRAME_BYTES + 100)})
        server.raw_frames = [huge, json.dumps({"v": 1, "type": "heartbeat", "ts": time.time() - 5.0})]
        client, got = ws_client(server.url), Collector()
        async with running(client, got):
            await got.wait(lambda: len(got.events) >= 4)
            status = client.status
        assert got.seqs == [1, 2, 3, 4]
        assert status.rejected == 1 and "too large" in client.rejected[0].reason
        assert status.lag_s is not None and 4.0 <= status.lag_s < 60.0
        assert status.last_frame_at is not None and status.reconnects == 0
