"""HTTP feeds against a real hand-written HTTP/1.1 server: NDJSON, SSE, resume, control, auth."""

from __future__ import annotations

import asyncio
import logging
import random

import pytest

from feedserver import Collector, HttpFeedServer, make_events, refuse, running, silent
from hitl_console.feeds.base import ConnectionState, LineSplitter
from hitl_console.feeds.client import FeedClient
from hitl_console.feeds.http import HttpSource, SseParser, endpoints
from hitl_console.protocol.events import Send, Takeover

TOKEN = "http-secret-token-42"


def http_client(url: str, token: str | None = None) -> FeedClient:
    return FeedClient(HttpSource(url, token), name="http", backoff_base=0.01, backoff_cap=0.05, rng=random.Random(2))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["ndjson", "sse"])
async def test_streams_events_and_skips_bad_lines(mode):
    async with HttpFeedServer(make_events(8), mode=mode) as server:
        if mode == "ndjson":
            server.raw_lines = [b"{oops\n", b'{"v":1,"type":"queue.stats","n":3}\n', b"\n"]
        else:
            server.raw_lines = [b": a comment\n\n", b"data: {oops\n\n", b'event: x\ndata: {"v":1,"type":"queue.stats"}\n\n']
        client, got = http_client(server.url), Collector()
        async with running(client, got):
            await got.wait(lambda: len(got.events) >= 8)
            assert client.state is ConnectionState.LIVE
        assert got.seqs == list(range(1, 9))
        assert client.status.rejected == 1 and "malformed JSON" in client.rejected[0].reason
        assert client.status.unknown_types == {"queue.stats": 1}
        assert server.connections[0].since is None


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["ndjson", "sse"])
async def test_resume_after_a_drop_with_since_and_last_event_id(mode):
    async with HttpFeedServer(make_events(12), mode=mode, drop_after=[4], resend=2) as server:
        client, got = http_client(server.url), Collector()
        async with running(client, got):
            await got.wait(lambda: len(got.events) >= 12)
            await asyncio.sleep(0.05)
        assert got.seqs == list(range(1, 13))
        second = server.connections[1]
        assert second.since == 4 and second.last_event_id == "4"
        assert "since=4" in second.path
        assert client.status.duplicates == 2 and client.status.reconnects == 1


@pytest.mark.slow
async def test_post_control_ack_refusal_and_timeout():
    async with HttpFeedServer(make_events(2)) as server:
        client, got = http_client(server.url), Collector()
        async with running(client, got):
            await got.wait(lambda: client.state is ConnectionState.LIVE)
            ok = await client.send(Takeover(request_id="r-1", agent="ann", conversation_id="c-1"), timeout=3)
            assert ok.ok and ok.latency_s is not None
            await got.wait(lambda: any(e.type == "human.joined" for e in got.events))
            server.control = refuse("bob")
            no = await client.send(Send(request_id="r-2", agent="ann", conversation_id="c-1", text="hi"), timeout=3)
            assert not no.ok and no.sent and "bob" in no.error
            server.control = silent
            late = await asyncio.wait_for(client.send(Takeover(request_id="r-3", agent="ann", conversation_id="c-1"), timeout=0.3), 3)
            assert late.timed_out and not late.ok
        assert [c["request_id"] for c in server.commands] == ["r-1", "r-2", "r-3"]
        assert server.commands[1] == {"v": 1, "op": "send", "request_id": "r-2", "agent": "ann", "conversation_id": "c-1", "text": "hi"}


@pytest.mark.slow
async def test_bearer_on_every_request_and_refused_token_fails(caplog):
    caplog.set_level(logging.DEBUG)
    async with HttpFeedServer(make_events(3), token=TOKEN) as server:
        client, got = http_client(server.url + "/?token=" + TOKEN, TOKEN), Collector()
        async with running(client, got):
            await got.wait(lambda: len(got.events) >= 3)
            result = await client.send(Takeover(request_id="r-1", agent="ann", conversation_id="c-1"), timeout=3)
            assert result.ok
        assert server.connections[0].headers["authorization"] == f"Bearer {TOKEN}"
        logs = "\n".join(r.getMessage() for r in caplog.records)
        assert TOKEN not in logs + client.status.url + repr(client.source)

        bad, got2 = http_client(server.url, "nope-nope"), Collector()
        status = await asyncio.wait_for(bad.run(got2.on_output, got2.on_status), 5)
        assert status.state is ConnectionState.FAILED and "401" in status.detail
        assert status.reconnects == 0


@pytest.mark.slow
async def test_unsupported_content_type_fails_clearly():
    async with HttpFeedServer(make_events(2), content_type="text/html") as server:
        client, got = http_client(server.url), Collector()
        status = await asyncio.wait_for(client.run(got.on_output), 5)
        assert status.state is ConnectionState.FAILED and "text/html" in status.detail


def test_endpoints_next_to_events_or_under_a_base():
    assert endpoints("http://h:1") == ("http://h:1/events", "http://h:1/control")
    assert endpoints("http://h/api/events?x=1") == ("http://h/api/events?x=1", "http://h/api/control")
    assert endpoints("https://h/api/") == ("https://h/api/events", "https://h/api/control")


def test_sse_parser_joins_data_and_tracks_id():
    parser = SseParser()
    frames = [parser.line(line) for line in [b"id: 7", b'data: {"a":', b"data: 1}", b"retry: 10", b""]]
    assert frames[:-1] == [None] * 4
    assert frames[-1].data == b'{"a":\n1}'
    assert parser.last_id == "7"
    assert parser.line(b"") is None  # nothing to dispatch


def test_line_splitter_bounds_a_line_that_never_ends():
    splitter = LineSplitter(10, bare_cr=True)
    out = splitter.feed(b"abc\r") + splitter.feed(b"\nx" * 1 + b"y" * 30) + splitter.feed(b"zz\rok\n")
    assert out[0] == (b"abc", None)
    assert out[1][1] == 33 and out[1][0].startswith(b"xyy")
    assert out[2] == (b"ok", None)
    assert splitter.finish() is None
