"""The JetStream feed source against a real nats-server (tests/natsserver.py)."""

from __future__ import annotations

import asyncio
import json
import random

import pytest

from feedserver import Collector, make_events, running
from hitl_console.feeds.base import ConnectionState
from hitl_console.feeds.client import FeedClient
from hitl_console.feeds.hub import FeedSpec, default_name, open_source
from hitl_console.feeds.jetstream import JetStreamSource, NatsAddress
from hitl_console.protocol.events import Takeover
from natsserver import make_stream, publish, responder

pytestmark = pytest.mark.slow


def js_client(url: str, **kwargs) -> FeedClient:
    return FeedClient(JetStreamSource(url), name="js", backoff_base=0.05, backoff_cap=0.2, rng=random.Random(1), **kwargs)


def test_url_parsing_keeps_credentials_out_of_the_display():
    address = NatsAddress.parse("nats://ann:s3cret-pw@10.0.0.1:4222,10.0.0.2:4223/HITL?subject=hitl.events.billing.>&control=ctl.x")
    assert address.servers == ["nats://10.0.0.1:4222", "nats://10.0.0.2:4223"]
    assert (address.stream, address.subject, address.control) == ("HITL", "hitl.events.billing.>", "ctl.x")
    assert address.user == "ann" and address.password == "s3cret-pw"
    assert "s3cret" not in address.display and "ann" not in address.display
    assert "s3cret" not in repr(address)
    assert NatsAddress.parse("nats://h/S").control == "hitl.control.S"
    for bad in ("nats://h:4222", "nats://h:99999/S", "nats:///S", "nats://h/a.b"):
        with pytest.raises(ValueError):
            NatsAddress.parse(bad)
    source = open_source(FeedSpec(url="nats://ann:s3cret-pw@127.0.0.1:4222/HITL"))
    assert isinstance(source, JetStreamSource) and "s3cret" not in source.url
    assert default_name("nats://127.0.0.1:4222/HITL?subject=x") == "HITL"


async def test_stream_events_arrive_with_stream_seq_and_origin(nats_server):
    await make_stream(nats_server.url)
    await publish(nats_server.url, make_events(5, start_seq=100), "hitl.events.a", "a")
    await publish(nats_server.url, make_events(3, conversation="c-2", start_seq=7), "hitl.events.b", "b")
    client, got = js_client(f"{nats_server.url}/HITL"), Collector()
    async with running(client, got):
        await got.wait(lambda: len(got.events) >= 8)
        await asyncio.sleep(0.1)
        status = client.status
    assert got.seqs == list(range(1, 9))
    assert [e.conversation_id for e in got.events] == ["c-1"] * 5 + ["c-2"] * 3
    assert status.duplicates == 0 and status.events == 8 and status.lag_s is not None


async def test_subject_filter_and_deliver_new(nats_server):
    await make_stream(nats_server.url)
    await publish(nats_server.url, make_events(4), "hitl.events.a", "a")
    await publish(nats_server.url, make_events(2, conversation="c-2"), "hitl.events.b", "b")
    client, got = js_client(f"{nats_server.url}/HITL?subject=hitl.events.b"), Collector()
    async with running(client, got):
        await got.wait(lambda: len(got.events) >= 2)
        await asyncio.sleep(0.1)
    assert got.seqs == [5, 6] and {e.conversation_id for e in got.events} == {"c-2"}
    fresh, later = js_client(f"{nats_server.url}/HITL?deliver=new"), Collector()
    async with running(fresh, later):
        await later.wait(lambda: fresh.state is ConnectionState.LIVE)
        await asyncio.sleep(0.2)
        await publish(nats_server.url, make_events(2, conversation="c-3", start_seq=50), "hitl.events.c", "c")
        await later.wait(lambda: len(later.events) >= 2)
    assert [e.conversation_id for e in later.events] == ["c-3", "c-3"] and later.seqs == [7, 8]


async def test_missing_stream_is_retried_until_it_exists_and_since_resumes(nats_server):
    client, got = js_client(f"{nats_server.url}/HITL"), Collector()
    async with running(client, got):
        await got.wait(lambda: client.state is ConnectionState.RECONNECTING and "no stream 'HITL'" in client.status.detail)
        await make_stream(nats_server.url)
        await publish(nats_server.url, make_events(6))
        await got.wait(lambda: len(got.events) >= 6)
    assert got.seqs == list(range(1, 7))
    resumed, got = js_client(f"{nats_server.url}/HITL", since=4), Collector()
    async with running(resumed, got):
        await got.wait(lambda: len(got.events) >= 2)
        await asyncio.sleep(0.1)
    assert got.seqs == [5, 6]


async def test_commands_by_request_reply_ack_refusal_timeout_and_no_responder(nats_server):
    await make_stream(nats_server.url)
    await publish(nats_server.url, make_events(2))
    client, got = js_client(f"{nats_server.url}/HITL?control=ctl.floor"), Collector()
    async with running(client, got):
        await got.wait(lambda: len(got.events) >= 2)
        nobody = await client.send(Takeover(request_id="r-0", agent="ann", conversation_id="c-1"), timeout=2)
        assert not nobody.ok and not nobody.sent and "ctl.floor" in (nobody.error or "")

        def answer(command):
            if command["agent"] == "silent":
                return None
            if command["agent"] == "bob":
                return {"v": 1, "type": "ack", "request_id": command["request_id"], "ok": False, "error": "held by ann"}
            return {"v": 1, "type": "ack", "request_id": command["request_id"], "ok": True}

        nc, seen = await responder(nats_server.url, "ctl.floor", answer)
        try:
            for _ in range(30):  # bounded: under load the responder's interest can reach the server after its flush
                ok = await client.send(Takeover(request_id="r-1", agent="ann", conversation_id="c-1"), timeout=2)
                if ok.sent:  # "not sent" means nothing went out: retrying duplicates nothing
                    break
                await asyncio.sleep(0.1)
            refused = await client.send(Takeover(request_id="r-2", agent="bob", conversation_id="c-1"), timeout=2)
            quiet = await client.send(Takeover(request_id="r-3", agent="silent", conversation_id="c-1"), timeout=0.3)
        finally:
            await nc.close()
    assert ok.ok and ok.latency_s is not None
    assert not refused.ok and refused.error == "held by ann" and refused.sent and not refused.timed_out
    assert quiet.timed_out and not quiet.ok
    assert [c["request_id"] for c in seen] == ["r-1", "r-2", "r-3"] and seen[0]["op"] == "takeover"


async def test_server_killed_and_restarted_mid_stream_nothing_lost_or_duplicated(nats_server):
    from hitl_console.feeds.jetstream import JetStreamPublisher

    publisher = JetStreamPublisher(f"{nats_server.url}/HITL")
    await publisher.connect()
    events = make_events(300)
    client, got = js_client(f"{nats_server.url}/HITL"), Collector()

    async def produce() -> None:
        for i, event in enumerate(events):
            await publisher.publish("a", event["seq"], json.dumps(event).encode(), retry_for=20)
            if i % 10 == 0:
                await asyncio.sleep(0.005)

    try:
        async with running(client, got):
            producer = asyncio.create_task(produce())
            await got.wait(lambda: len(got.events) >= 80)
            nats_server.stop(kill=True)  # SIGKILL: no goodbye to anyone
            await got.wait(lambda: client.state is ConnectionState.RECONNECTING, timeout=5)
            await asyncio.sleep(0.3)
            nats_server.start()
            await asyncio.wait_for(producer, 30)
            await got.wait(lambda: len(got.events) >= 300, timeout=20)
            await asyncio.sleep(0.3)
            status = client.status
    finally:
        await publisher.close()
    assert [e.conversation_id for e in got.events] == ["c-1"] * 300
    assert len(got.seqs) == 300 and got.seqs == sorted(set(got.seqs))
    assert [e.text for e in got.events[1:]] == [ev["text"] for ev in events[1:]]
    assert status.reconnects >= 1 and status.duplicates == 0 and status.out_of_order == 0
