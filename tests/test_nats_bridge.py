"""The bridge (WebSocket / HTTP feeds -> JetStream -> many consoles) and
``simulate --nats``, against a real nats-server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random

import nats
import pytest

from feedserver import Collector, HttpFeedServer, WsFeedServer, make_events, refuse, running
from hitl_console.feeds.bridge import Bridge
from hitl_console.feeds.client import FeedClient
from hitl_console.feeds.hub import FeedSpec
from hitl_console.feeds.jetstream import JetStreamPublisher, JetStreamSource
from hitl_console.protocol.events import Takeover

pytestmark = pytest.mark.slow


def console(url: str, name: str = "floor") -> FeedClient:
    return FeedClient(JetStreamSource(url), name=name, backoff_base=0.05, backoff_cap=0.2, rng=random.Random(1), ack_timeout=3)


@contextlib.asynccontextmanager
async def bridging(bridge: Bridge):
    stop = asyncio.Event()
    await bridge.start()
    task = asyncio.create_task(bridge.run(stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def stream_messages(url: str, stream: str = "HITL") -> int:
    nc = await nats.connect(url)
    try:
        return (await nc.jetstream().stream_info(stream)).state.messages
    finally:
        await nc.close()


async def test_bridge_fans_one_ws_feed_out_to_several_consoles_and_relays_commands(nats_server):
    target = f"{nats_server.url}/HITL"
    async with WsFeedServer(make_events(20)) as platform:
        bridge = Bridge([FeedSpec(url=platform.url, name="vendor")], target, ack_timeout=2)
        async with bridging(bridge):
            consoles = [console(target, f"c{i}") for i in range(4)]
            outs = [Collector() for _ in consoles]
            async with contextlib.AsyncExitStack() as stack:
                for client, got in zip(consoles, outs):
                    await stack.enter_async_context(running(client, got))
                for got in outs:
                    await got.wait(lambda got=got: len(got.events) >= 20, timeout=10)
                result = await consoles[2].send(Takeover(request_id="r-1", agent="ann", conversation_id="c-1"))
                for got in outs:  # the platform's effect reaches every console through the stream
                    await got.wait(lambda got=got: any(e.type == "human.joined" for e in got.events), timeout=10)
                await asyncio.sleep(0.1)
                statuses = [c.status for c in consoles]
    assert result.ok, result.describe()
    assert platform.commands[0]["op"] == "takeover" and platform.commands[0]["agent"] == "ann"
    texts = [[getattr(e, "text", e.type) for e in got.events] for got in outs]
    assert all(t == texts[0] for t in texts) and len(texts[0]) == 21
    assert all(got.seqs == list(range(1, 22)) for got in outs)
    assert all(s.duplicates == 0 and s.out_of_order == 0 for s in statuses)
    assert await stream_messages(nats_server.url) == 21


async def test_refusal_and_unknown_conversation_come_back_as_refusals(nats_server):
    target = f"{nats_server.url}/HITL"
    async with WsFeedServer(make_events(3), control=refuse("bob")) as one, HttpFeedServer(make_events(2, conversation="c-9")) as two:
        bridge = Bridge([FeedSpec(url=one.url, name="chat"), FeedSpec(url=two.url, name="mail")], target, ack_timeout=2)
        async with bridging(bridge):
            client, got = console(target), Collector()
            async with running(client, got):
                await got.wait(lambda: len(got.events) >= 5, timeout=10)
                refused = await client.send(Takeover(request_id="r-1", agent="ann", conversation_id="c-1"))
                unknown = await client.send(Takeover(request_id="r-2", agent="ann", conversation_id="c-404"))
                routed = await client.send(Takeover(request_id="r-3", agent="ann", conversation_id="c-9"))
    assert not refused.ok and refused.error == "held by bob" and not refused.timed_out
    assert not unknown.ok and "c-404" in (unknown.error or "")
    assert routed.ok and two.commands and two.commands[0]["conversation_id"] == "c-9"
    assert [c["request_id"] for c in one.commands] == ["r-1"]
    assert {e.conversation_id for e in got.events} == {"c-1", "c-9"}


async def test_restarted_bridge_resumes_after_the_stream_and_stores_nothing_twice(nats_server):
    target = f"{nats_server.url}/HITL"
    events = make_events(30)
    async with WsFeedServer(events[:12]) as platform:
        first = Bridge([FeedSpec(url=platform.url, name="vendor")], target)
        async with bridging(first):
            for _ in range(100):
                if first.publisher.stats.stored >= 12:
                    break
                await asyncio.sleep(0.05)
        platform.events.extend(events[12:])  # the platform moved on while no bridge ran
        second = Bridge([FeedSpec(url=platform.url, name="vendor")], target)
        async with bridging(second):
            for _ in range(100):
                if second.publisher.stats.stored >= 18:
                    break
                await asyncio.sleep(0.05)
    assert platform.connections[-1].since == 12  # resumed from the newest event in the stream
    assert (first.publisher.stats.stored, second.publisher.stats.stored) == (12, 18)
    assert await stream_messages(nats_server.url) == 30
    client, got = console(target), Collector()
    async with running(client, got):
        await got.wait(lambda: len(got.events) >= 30, timeout=10)
        await asyncio.sleep(0.1)
    assert [e.model_dump().get("text") for e in got.events] == [e.get("text") for e in events]


async def test_simulate_nats_publishes_the_floor_and_answers_commands(nats_server):
    from hitl_console.commands.simulate import SimToStream
    from hitl_console.sim.platform import SimPlatform

    target = f"{nats_server.url}/SIM"
    sim = SimToStream(SimPlatform(rate=20, seed=3, pace=0.05, initial_conversations=3), target)
    stop = asyncio.Event()
    task = asyncio.create_task(sim.run(stop))
    try:
        client, got = console(target), Collector()
        async with running(client, got):
            await got.wait(lambda: len({e.conversation_id for e in got.events}) >= 3, timeout=10)
            cid = got.events[0].conversation_id
            result = await client.send(Takeover(request_id="r-1", agent="ann", conversation_id=cid))
            await got.wait(lambda: any(e.type == "human.joined" and e.conversation_id == cid for e in got.events), timeout=10)
            again = await client.send(Takeover(request_id="r-2", agent="bob", conversation_id=cid))
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert result.ok, result.describe()
    assert not again.ok and again.sent and again.error
    assert got.seqs == sorted(set(got.seqs)) and client.status.duplicates == 0
    assert sim.publisher.stats.stored >= len(got.events)


async def test_two_headless_consoles_share_the_floor_and_one_resumes_from_its_journal(nats_server, tmp_path):
    """Real LiveSessions (engine + SQLite journal) on the stream: one takes a
    chat over through the bus, both see it held; the other restarts and
    resumes at its journal's cursor (a stream sequence), with nothing twice."""
    from live_support import wait_until

    from hitl_console.config import Config
    from hitl_console.session import LiveSession
    from hitl_console.store.journal import Journal

    target = f"{nats_server.url}/HITL"
    async with WsFeedServer(make_events(10)) as platform:
        bridge = Bridge([FeedSpec(url=platform.url, name="vendor")], target, ack_timeout=2)
        async with bridging(bridge):
            with Journal(tmp_path / "ann.sqlite3") as ann_journal, Journal(tmp_path / "bob.sqlite3") as bob_journal:
                ann = LiveSession(Config(), [FeedSpec(target, name="floor")], agent="ann", journal=ann_journal)
                bob = LiveSession(Config(), [FeedSpec(target, name="floor")], agent="bob", journal=bob_journal)
                await ann.start()
                await bob.start()
                try:
                    await wait_until(lambda: "c-1" in ann.engine.conversations and "c-1" in bob.engine.conversations, 10, "the floor on both")
                    result = await ann.takeover("c-1")
                    assert result.ok, result.describe()
                    await wait_until(lambda: bob.engine.conversations["c-1"].agent == "ann", 10, "bob sees ann holding c-1")
                finally:
                    await bob.stop()
                seen = bob_journal.last_seq("floor")
                for i in range(3):  # the floor goes on while bob is away
                    platform.publish({"type": "message", "conversation_id": "c-1", "role": "customer", "text": f"later {i}"})
                await wait_until(lambda: ann.hub.clients["floor"].last_seq == 14, 10, "ann has everything")
                bob2 = LiveSession(Config(), [FeedSpec(target, name="floor")], agent="bob", journal=bob_journal)
                assert bob2.specs[0].since == seen == 11
                await bob2.start()
                try:
                    await wait_until(lambda: bob2.hub.clients["floor"].last_seq == 14, 10, "bob caught up")
                    status = bob2.hub.clients["floor"].status
                finally:
                    await bob2.stop()
                    await ann.stop()
                texts = [t.text for t in bob2.engine.conversations["c-1"].turns]
    assert status.duplicates == 0 and status.events == 3
    assert texts[-3:] == ["later 0", "later 1", "later 2"] and len(texts) == len(set(texts))


async def test_a_platform_that_restarts_its_seq_reaches_the_consoles_and_a_restarted_bridge_keeps_its_numbering(nats_server, tmp_path):
    """The platform restarts and loses its log (no epoch): seq 1 again, as a
    different event. The bridge stores the new numbering as generation 1
    (``vendor:g1:SEQ``), so JetStream does not drop it as copies of seq 1..6;
    a console on the stream (engine + journal) gets the new events, and the
    origin re-announcing open c-1 is no restart of the console's own feed.
    A restarted bridge resumes in generation 1: what the platform sends again
    is dropped as a copy, the new event is stored once."""
    from live_support import wait_until

    from hitl_console.config import Config, TeamConfig
    from hitl_console.session import LiveSession
    from hitl_console.store.journal import Journal

    t0 = 1_763_931_600.0
    target = f"{nats_server.url}/HITL"
    again = make_events(4, conversation="c-1", start_ts=t0 + 100) + make_events(2, conversation="c-2", start_seq=5, start_ts=t0 + 200)
    for event in again:
        if event["type"] == "message":
            event["text"] = "after the restart: " + event["text"]
    config = Config(team=TeamConfig(claims=False, history=False))
    async with WsFeedServer(make_events(6, conversation="c-1", start_ts=t0)) as platform:
        first = Bridge([FeedSpec(url=platform.url, name="vendor")], target, ack_timeout=2)
        with Journal(tmp_path / "ann.sqlite3") as journal:
            ann = LiveSession(config, [FeedSpec(target, name="floor")], agent="ann", journal=journal)
            await ann.start()
            try:
                async with bridging(first):
                    await wait_until(lambda: ann.hub.clients["floor"].last_seq == 6, 10, "the first numbering on the console")
                    platform.restart([])
                    await wait_until(lambda: len(platform.connections) == 2, 10, "the bridge reconnects")
                    for event in again:
                        platform.publish({k: v for k, v in event.items() if k != "seq"})
                    await wait_until(lambda: ann.hub.clients["floor"].last_seq == 12, 10, "the new numbering on the console")
                    await wait_until(lambda: first.relay.backlog == 0, 10, "the bridge stored everything")
                assert first.generations == {"vendor": 1}
                assert (first.publisher.stats.stored, first.publisher.stats.duplicates) == (12, 0)
                texts = [t.text for t in ann.engine.conversations["c-1"].turns]
                assert texts[:5] == [f"{'customer' if i % 2 else 'ai'} turn {i}" for i in range(1, 6)]
                assert texts[5:] == [f"after the restart: {'customer' if i % 2 else 'ai'} turn {i}" for i in range(1, 4)]
                assert "c-2" in ann.engine.conversations
                status = ann.statuses()[0]
                assert (status.restarts, status.duplicates, status.out_of_order) == (0, 0, 0)
                assert not [a for a in ann.alerts if a.key.startswith("feed_restarted:")]

                platform.resend = 2  # the platform sends the last two again on a resumed connection
                platform.publish({"type": "message", "conversation_id": "c-2", "role": "customer", "text": "while no bridge ran"})
                second = Bridge([FeedSpec(url=platform.url, name="vendor")], target, ack_timeout=2)
                async with bridging(second):
                    assert second.generations == {"vendor": 1}
                    await wait_until(lambda: ann.hub.clients["floor"].last_seq == 13, 10, "the event published while no bridge ran")
                    resent = second.hub.clients["vendor"].status
                    await wait_until(lambda: resent.duplicates + resent.out_of_order == 2, 10, "the resent pair dropped")
                assert platform.connections[-1].since == 6  # generation 1's newest seq, not the old numbering's
                assert (second.publisher.stats.stored, second.publisher.stats.duplicates) == (1, 0)
                assert ann.engine.conversations["c-2"].turns[-1].text == "while no bridge ran"
            finally:
                await ann.stop()
    assert await stream_messages(nats_server.url) == 13
    nc = await nats.connect(nats_server.url)
    try:
        last = await nc.jetstream().get_last_msg("HITL", "hitl.events.vendor")
    finally:
        await nc.close()
    assert last.headers["Nats-Msg-Id"] == "vendor:g1:7" and last.headers["Hitl-Generation"] == "1"
    # Another bridge on the same platform (or a retry) storing seq 7 of generation 1 again: one copy.
    publisher = JetStreamPublisher(target)
    await publisher.connect()
    try:
        assert not await publisher.publish("vendor", 7, last.data, generation=1)
    finally:
        await publisher.close()
    assert await stream_messages(nats_server.url) == 13


async def test_the_bridge_stores_every_event_once_across_a_server_killed_mid_stream(nats_server):
    """Events in flight when the server dies get no PubAck: the bridge sends them
    again under the same ids once it is back, so the stream holds each once."""
    target = f"{nats_server.url}/HITL"
    events = make_events(1000)  # 4 s of events: the platform is still sending when the server dies
    async with WsFeedServer(events, interval=0.004) as platform:
        bridge = Bridge([FeedSpec(url=platform.url, name="vendor")], target, ack_timeout=2)
        bridge.publisher.ack_timeout = 0.5
        async with bridging(bridge):
            for _ in range(200):
                if bridge.publisher.stats.stored >= 100:
                    break
                await asyncio.sleep(0.02)
            nats_server.stop(kill=True)
            await asyncio.sleep(0.5)
            nats_server.start()
            for _ in range(1200):
                if bridge.forwarded == 1000 and bridge.relay.backlog == 0:
                    break
                await asyncio.sleep(0.05)
            await bridge.relay.drain(20)
        stats = bridge.publisher.stats
    assert bridge.forwarded == 1000 and stats.retries > 0, stats
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        total = (await js.stream_info("HITL")).state.messages
        seqs = [json.loads((await js.get_msg("HITL", i)).data)["seq"] for i in range(1, total + 1)]
    finally:
        await nc.close()
    assert sorted(seqs) == list(range(1, 1001))  # every event, each once
