"""A three-node JetStream cluster on loopback loses a node; the floor goes on."""

from __future__ import annotations

import asyncio
import json
import random

import pytest

from feedserver import Collector, make_events, running
from hitl_console.feeds.base import ConnectionState
from hitl_console.feeds.client import FeedClient
from hitl_console.feeds.jetstream import JetStreamPublisher, JetStreamSource
import natsserver

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster(tmp_path):
    nodes = natsserver.cluster(tmp_path)
    try:
        for node in nodes:
            node.start()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


async def test_a_three_node_cluster_loses_a_node_while_the_floor_keeps_going(cluster):
    servers = ",".join(f"127.0.0.1:{n.port}" for n in cluster)
    url = f"nats://{servers}/HITL"
    publisher = JetStreamPublisher(url, replicas=3)
    await publisher.connect(timeout=20)  # the cluster elects its JetStream leader first
    events = make_events(200)
    consoles = [FeedClient(JetStreamSource(url), name=f"c{i}", backoff_base=0.05, backoff_cap=0.3, rng=random.Random(i)) for i in range(3)]
    outs = [Collector() for _ in consoles]

    async def produce() -> None:
        for i, event in enumerate(events):
            await publisher.publish("a", event["seq"], json.dumps(event).encode(), retry_for=20)
            if i % 10 == 0:
                await asyncio.sleep(0.01)

    try:
        async with running(consoles[0], outs[0]), running(consoles[1], outs[1]), running(consoles[2], outs[2]):
            producer = asyncio.create_task(produce())
            await outs[0].wait(lambda: len(outs[0].events) >= 60, timeout=20)
            victim = next(n for n in cluster if n.port == consoles[0].source._nc.connected_url.port)
            victim.stop(kill=True)  # console 0's node is gone; quorum (2 of 3) remains
            await asyncio.wait_for(producer, 40)
            for got in outs:
                await got.wait(lambda got=got: len(got.events) >= 200, timeout=30)
            await asyncio.sleep(0.3)
            statuses = [c.status for c in consoles]
    finally:
        await publisher.close()
    for got, status in zip(outs, statuses):
        assert [e.text for e in got.events[1:]] == [e["text"] for e in events[1:]]
        assert got.seqs == sorted(set(got.seqs)) and status.duplicates == 0 and status.out_of_order == 0
        assert status.state is ConnectionState.LIVE
    assert statuses[0].reconnects >= 1  # console 0 moved to a surviving node
