"""The bridge: protocol feeds in, one JetStream stream out, commands back.

A platform that speaks only WebSocket (or HTTP, or a recording) feeds a
whole floor through one connection: ``hitl-console bridge --from URL...
--to nats://HOST:4222/STREAM`` reads each feed with the ordinary
:class:`FeedHub` (reconnects, resume, duplicate filter), writes every
accepted event to ``hitl.events.<feed>`` with ``Nats-Msg-Id = feed:seq``
(JetStream stores it once even if the bridge retries or restarts; events
go out pipelined, up to :data:`IN_FLIGHT` waiting for their PubAck), and
answers the consoles' commands on the control subject by sending them to
the feed the conversation came from and replying with the platform's ack.

**A platform that restarts its seq** (and lost its log) numbers from 1
again: its new events would carry the ids of old ones and JetStream would
drop them as duplicates for the whole duplicate window. The feed client
notices the restart (``FeedOutput.restart``) and resynchronises; the bridge
counts a new *generation* for that feed, which goes into every later id
(``vendor:g1:7``, see :func:`~hitl_console.feeds.jetstream.msg_id`) and into
the ``Hitl-Generation`` header. A restarted bridge reads the generation,
seq and epoch of each feed's newest stored event back from the stream, so it
resumes in the same numbering and what the platform sends again is still
dropped as a copy.

:class:`BusRelay` is the half shared with ``simulate --nats``: a queue of
events to publish in order, and a responder on the control subject.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pydantic_core

from hitl_console.feeds.base import FeedOutput, FeedStatus
from hitl_console.feeds.hub import FeedHub, FeedSpec, default_name, unique_name
from hitl_console.feeds.jetstream import JetStreamPublisher, Outgoing, unsubscribe_quietly
from hitl_console.protocol.events import Ack, command_adapter, event_dict

log = logging.getLogger(__name__)

CommandHandler = Callable[[bytes], Awaitable[dict[str, Any] | None]]
"""Answers one command (raw JSON): the ack to reply with, or None to stay
silent (the platform did not answer: the console times out as it would on
a direct connection)."""

QUEUE_GROUP = "hitl-bridge"
IN_FLIGHT = 1024
"""Events sent and not yet acknowledged by the server (``JetStreamPublisher.send``); beyond, the bridge waits."""
SEND_BATCH = 128
"""Queued events sent in one go before their acks are handed to the confirming task."""


def ack_dict(request_id: str, ok: bool, error: str | None = None) -> dict[str, Any]:
    """An ack in wire form."""
    return Ack(type="ack", request_id=request_id, ok=ok, error=error).model_dump(mode="json", exclude_none=True)


class BusRelay:
    """Publishes offered events in order and answers commands (see the module docstring)."""

    def __init__(self, publisher: JetStreamPublisher, handler: CommandHandler) -> None:
        self.publisher = publisher
        self.handler = handler
        self._queue: asyncio.Queue[Outgoing] = asyncio.Queue()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.commands = 0

    def offer(self, feed: str, seq: int, event: dict[str, Any], epoch: str | None = None, generation: int = 0) -> None:
        """Queue one event (wire-form dict) for the stream; never blocks. ``epoch``
        (default: the event's) and ``generation`` name its numbering (``jetstream.msg_id``)."""
        self._queue.put_nowait(Outgoing(feed, seq, pydantic_core.to_json(event), epoch or event.get("epoch"), generation))

    @property
    def backlog(self) -> int:
        """Events accepted but not yet stored in the stream."""
        return self._queue.qsize()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every offered event is stored (bounded)."""
        await asyncio.wait_for(self._queue.join(), timeout)

    async def run(self) -> None:
        """Publish and answer until cancelled."""
        sub = await self.publisher.nc.subscribe(self.publisher.address.control, queue=QUEUE_GROUP, cb=self._on_request)
        in_flight: asyncio.Queue[list[tuple[Outgoing, Any]]] = asyncio.Queue(max(1, IN_FLIGHT // SEND_BATCH))
        confirmer = asyncio.create_task(self._confirm(in_flight), name="bridge-confirm")
        try:
            while True:
                batch = [await self._queue.get()]
                while len(batch) < SEND_BATCH and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                sent = [(item, await self.publisher.send(item)) for item in batch]
                await in_flight.put(sent)  # waits while IN_FLIGHT events are unconfirmed
                if confirmer.done():
                    confirmer.result()  # raise what stopped it
        finally:
            confirmer.cancel()
            await asyncio.gather(confirmer, return_exceptions=True)
            await unsubscribe_quietly(sub)
            for task in list(self._tasks):
                task.cancel()

    async def _confirm(self, in_flight: asyncio.Queue[list[tuple[Outgoing, Any]]]) -> None:
        """The PubAcks, in the order sent; an event counts as done (``drain``) once stored."""
        while True:
            for item, future in await in_flight.get():
                try:
                    await self.publisher.confirm(item, future)
                finally:
                    self._queue.task_done()

    async def _on_request(self, msg: Any) -> None:
        task = asyncio.create_task(self._answer(msg))  # a slow platform must not hold up the next command
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, msg: Any) -> None:
        self.commands += 1
        try:
            ack = await self.handler(msg.data)
        except Exception as error:
            log.exception("bridge: command handler failed")
            ack = {"v": 1, "type": "ack", "request_id": "", "ok": False, "error": f"bridge error: {type(error).__name__}"}
        if ack is not None and msg.reply:
            with contextlib.suppress(Exception):
                await msg.respond(pydantic_core.to_json(ack))


class Bridge:
    """Feeds (any protocol transport) into one JetStream stream; commands back."""

    def __init__(self, specs: list[FeedSpec], to: str, token: str | None = None, *, ack_timeout: float = 5.0,
                 replicas: int = 1, on_status: Callable[[FeedStatus], None] | None = None) -> None:
        names: list[str] = []
        for spec in specs:
            names.append(unique_name(spec.name or default_name(spec.url), names))
        self._specs = [FeedSpec(url=s.url, name=n, token=s.token, speed=s.speed, fast=s.fast, since=s.since) for s, n in zip(specs, names)]
        self.publisher = JetStreamPublisher(to, token, replicas=replicas)
        self.relay = BusRelay(self.publisher, self._command)
        self.ack_timeout = ack_timeout
        self.on_status = on_status
        self.hub: FeedHub | None = None
        self._where: dict[str, str] = {}
        """conversation_id -> the feed it came from (where its commands go)."""
        self.forwarded = 0
        self.generations: dict[str, int] = {}
        """Per feed, how many seq restarts of its platform the stream holds (see the module docstring)."""

    @property
    def feeds(self) -> list[str]:
        return [s.name or "" for s in self._specs]

    async def start(self) -> None:
        """Connect to NATS, create the stream if needed, and resume each feed
        after the newest of its events already in the stream, in its numbering
        (generation and epoch)."""
        await self.publisher.connect()
        specs = []
        for spec in self._specs:
            name = spec.name or ""
            stored = await self.publisher.last_position(name)
            if stored is None:
                specs.append(spec)
                continue
            self.generations[name] = stored.generation
            since = max(filter(None, (spec.since, stored.seq)), default=None)
            specs.append(replace(spec, since=since, epoch=stored.epoch))
        self.hub = FeedHub(specs, on_output=self._on_output, on_status=self.on_status, ack_timeout=self.ack_timeout)

    def _on_output(self, output: FeedOutput) -> None:
        feed = output.feed
        generation = self.generations.get(feed, 0)
        for event in output.events:
            self._where[event.conversation_id] = feed
            self.relay.offer(feed, event.seq, event_dict(event), generation=generation)
            self.forwarded += 1
        if output.restart is not None:  # its events above were the old numbering's last
            self.generations[feed] = generation + 1
            log.warning("bridge: feed %s restarted its seq numbering (%s): its events are stored as generation %d",
                        feed, output.restart.reason, generation + 1)

    async def _command(self, data: bytes) -> dict[str, Any] | None:
        try:
            command = command_adapter.validate_json(data)
        except Exception as error:
            try:
                rid = str(pydantic_core.from_json(data).get("request_id", ""))
            except Exception:
                rid = ""
            return ack_dict(rid, False, f"not a valid command: {str(error).splitlines()[0]}")
        assert self.hub is not None
        feed = self._where.get(command.conversation_id)
        if feed is None and len(self._specs) == 1:
            feed = self._specs[0].name
        if feed is None:
            return ack_dict(command.request_id, False, f"the bridge has seen no conversation {command.conversation_id!r}")
        result = await self.hub.send(feed, command)
        if result.timed_out:
            return None  # the console times out, as on a direct connection
        return ack_dict(command.request_id, result.ok, result.error)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Run until ``stop`` is set (or cancelled); publishes what is queued before returning."""
        if self.hub is None:
            await self.start()
        assert self.hub is not None
        relay = asyncio.create_task(self.relay.run(), name="bridge-relay")
        feeds = asyncio.create_task(self.hub.run(), name="bridge-feeds")
        waiter = asyncio.create_task((stop or asyncio.Event()).wait())
        try:
            await asyncio.wait({feeds, waiter, relay}, return_when=asyncio.FIRST_COMPLETED)
            if relay.done():
                relay.result()  # raise what stopped it
        finally:
            await self.hub.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(feeds, 5.0)
            with contextlib.suppress(Exception):
                await self.relay.drain(5.0)
            for task in (relay, waiter):
                task.cancel()
            await asyncio.gather(relay, waiter, return_exceptions=True)
            await self.publisher.close()
