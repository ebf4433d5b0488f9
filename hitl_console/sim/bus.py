"""``hitl-console simulate --nats URL``: the simulated platform straight into JetStream.

No socket in between: the platform's batches go to a :class:`BusRelay`
(one event per message, ``Nats-Msg-Id = sim:<run>:<seq>`` so a restarted
simulator, which numbers from 1 again, is not taken for a duplicate), and
the consoles' commands on the control subject go to the platform, whose
ack is the reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from hitl_console.feeds.bridge import BusRelay
from hitl_console.feeds.jetstream import JetStreamPublisher
from hitl_console.sim.platform import SimPlatform

FEED = "sim"


class SimToStream:
    """Runs ``platform`` and publishes everything it emits into the stream at ``url``."""

    def __init__(self, platform: SimPlatform, url: str, token: str | None = None, *, feed: str = FEED) -> None:
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
