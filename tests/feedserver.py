"""Small but real protocol servers for the feed tests (127.0.0.1, port 0).

``WsFeedServer`` speaks the WebSocket transport and ``HttpFeedServer`` the
HTTP one (hand-written HTTP/1.1 on ``asyncio.start_server``, chunked
``GET /events`` as NDJSON or SSE, ``POST /control``). Both serve a list of
events with ``since=`` resume, can drop a connection abruptly after K
events, can re-send events the client already has (to prove the duplicate
filter), can play a platform that restarted and lost its log (``restart``), require a bearer token if given one, record what each connection
asked for, and answer commands through a ``control`` function that returns
an ack (ok or a refusal) and the events that show its effect, or None to
stay silent (for the timeout case).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import msgpack
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

Reply = tuple[dict[str, Any] | None, list[dict[str, Any]]]
"""An ack (None: stay silent) and the effect events to publish after it."""
Control = Callable[[dict[str, Any]], Reply]


class TextBytes(bytes):
    """A raw frame for ``WsFeedServer.raw_frames`` sent as a text frame as it is
    (so a test can send one that is not valid UTF-8)."""


def make_events(n: int, *, conversation: str = "c-1", start_seq: int = 1, start_ts: float = 1_763_931_600.0, gap: float = 1.0) -> list[dict[str, Any]]:
    """A conversation.started followed by customer/AI messages, seq and ts increasing."""
    events: list[dict[str, Any]] = [
        {
            "v": 1,
            "type": "conversation.started",
            "seq": start_seq,
            "ts": start_ts,
            "conversation_id": conversation,
            "channel": "chat",
            "queue": "billing",
            "customer": {"id": "u-77", "tier": "gold"},
            "handled_by": "ai",
        }
    ]
    for i in range(1, n):
        role = "customer" if i % 2 else "ai"
        event = {
            "v": 1,
            "type": "message",
            "seq": start_seq + i,
            "ts": start_ts + i * gap,
            "conversation_id": conversation,
            "role": role,
            "text": f"{role} turn {i}",
        }
        if role == "ai":
            event["confidence"] = 0.8
        events.append(event)
    return events


def ack_ok(command: dict[str, Any]) -> Reply:
    """Accept every command; a takeover is followed by human.joined."""
    effects = []
    if command.get("op") == "takeover":
        effects.append({"type": "human.joined", "conversation_id": command["conversation_id"], "agent": command["agent"]})
    return {"v": 1, "type": "ack", "request_id": command["request_id"], "ok": True}, effects


def refuse(holder: str) -> Control:
    """Refuse every command: the conversation is held by ``holder``."""

    def control(command: dict[str, Any]) -> Reply:
        return {"v": 1, "type": "ack", "request_id": command["request_id"], "ok": False, "error": f"held by {holder}"}, []

    return control


def silent(command: dict[str, Any]) -> Reply:
    return None, []


@dataclass
class Connection:
    """What one client connection asked for."""

    path: str
    since: int | None
    headers: dict[str, str]
    last_event_id: str | None = None


@dataclass
class _Base:
    events: list[dict[str, Any]]
    token: str | None = None
    drop_after: list[int] = field(default_factory=list)
    """Connection i (from 0) is dropped abruptly after drop_after[i] events; later ones are not."""
    resend: int = 0
    """On a resumed connection, first re-send this many events at or below ``since``."""
    control: Control = ack_ok
    interval: float = 0.0
    """Pause between events (0: as fast as possible)."""

    def __post_init__(self) -> None:
        self.connections: list[Connection] = []
        self.commands: list[dict[str, Any]] = []
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()
        self._drops: set[Callable[[], None]] = set()
        """One abrupt close per open stream (see ``restart``)."""

    def backlog(self, since: int | None) -> list[dict[str, Any]]:
        if since is None:
            return list(self.events)
        again = [e for e in self.events if e["seq"] <= since][-self.resend :] if self.resend else []
        return again + [e for e in self.events if e["seq"] > since]

    def restart(self, events: list[dict[str, Any]]) -> None:
        """Play a platform that restarted and lost its log: ``events`` (numbered
        as the platform now numbers them, usually from 1) replace the log and
        every open stream is dropped abruptly."""
        self.events = list(events)
        for drop in list(self._drops):
            drop()

    def publish(self, event: dict[str, Any]) -> None:
        """Append an event (seq and ts filled in) and push it to open streams."""
        top = max((e["seq"] for e in self.events), default=0)
        event = {"v": 1, "seq": top + 1, "ts": time.time(), **event}
        self.events.append(event)
        for queue in self._queues:
            queue.put_nowait(event)

    def answer(self, command: dict[str, Any]) -> dict[str, Any] | None:
        self.commands.append(command)
        ack, effects = self.control(command)
        self._effects = effects
        return ack

    def publish_effects(self) -> None:
        for event in getattr(self, "_effects", []):
            self.publish(event)
        self._effects = []

    def authorized(self, headers: dict[str, str]) -> bool:
        return self.token is None or headers.get("authorization") == f"Bearer {self.token}"

    def limit(self) -> int | None:
        index = len(self.connections) - 1
        return self.drop_after[index] if index < len(self.drop_after) else None


class WsFeedServer(_Base):
    """The WebSocket transport: text JSON or binary MessagePack, single events or arrays."""

    def __init__(self, events: list[dict[str, Any]], *, binary: bool = False, batch: int = 1, **kwargs: Any) -> None:
        super().__init__(events, **kwargs)
        self.binary = binary
        self.batch = batch
        self.raw_frames: list[str | bytes] = []
        """Extra frames sent verbatim before the events (bad input tests)."""
        self.next_frames: list[str | bytes] = []
        """Like ``raw_frames``, but only on the next connection (then emptied)."""
        self._server: Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/feed"

    async def __aenter__(self) -> "WsFeedServer":
        self._server = await serve(self._handler, "127.0.0.1", 0, process_request=self._check, max_size=None)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await asyncio.wait_for(self._server.wait_closed(), 5)

    def _check(self, connection: ServerConnection, request: Request) -> Response | None:
        headers = {k.lower(): v for k, v in request.headers.raw_items()}
        if not self.authorized(headers):
            return Response(401, "Unauthorized", Headers([("Content-Length", "0")]), b"")
        return None

    def _encode(self, payload: Any) -> str | bytes:
        return msgpack.packb(payload, use_bin_type=True) if self.binary else json.dumps(payload)

    async def _handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(ws.request.path).query)
        since = int(query["since"][0]) if "since" in query else None
        headers = {k.lower(): v for k, v in ws.request.headers.raw_items()}
        self.connections.append(Connection(ws.request.path, since, headers))
        limit = self.limit()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues.add(queue)
        drop = ws.transport.abort
        self._drops.add(drop)
        reader = asyncio.create_task(self._read(ws))
        try:
            once, self.next_frames = self.next_frames, []
            for frame in self.raw_frames + once:
                if isinstance(frame, TextBytes):  # bytes as a *text* frame (invalid UTF-8 tests)
                    await ws.send(bytes(frame), text=True)
                else:
                    await ws.send(frame)
            backlog = self.backlog(since)
            sent = 0
            while backlog:
                take = backlog[: self.batch]
                if limit is not None and sent + len(take) > limit:
                    take = take[: max(0, limit - sent)]
                if take:
                    await ws.send(self._encode(take if self.batch > 1 else take[0]))
                    sent += len(take)
                    backlog = backlog[len(take) :]
                if limit is not None and sent >= limit:
                    ws.transport.abort()  # an abrupt drop, no close frame
                    return
                if self.interval:
                    await asyncio.sleep(self.interval)
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:  # the client went away
                    getter.cancel()
                    return
                await ws.send(self._encode(getter.result()))
        except Exception:
            return
        finally:
            self._queues.discard(queue)
            self._drops.discard(drop)
            reader.cancel()

    async def _read(self, ws: ServerConnection) -> None:
        with contextlib.suppress(Exception):
            async for message in ws:
                command = json.loads(message)
                ack = self.answer(command)
                if ack is not None:
                    await ws.send(self._encode(ack))
                self.publish_effects()


class HttpFeedServer(_Base):
    """The HTTP transport: chunked ``GET /events`` (NDJSON or SSE) and ``POST /control``."""

    def __init__(self, events: list[dict[str, Any]], *, mode: str = "ndjson", content_type: str | None = None, **kwargs: Any) -> None:
        super().__init__(events, **kwargs)
        self.mode = mode
        self.content_type = content_type or ("text/event-stream" if mode == "sse" else "application/x-ndjson")
        self.raw_lines: list[bytes] = []
        """Extra body chunks sent verbatim before the events (bad input tests)."""
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> "HttpFeedServer":
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), 5)
        await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def _one_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = {}
        for line in header_lines:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = b""
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        parts = urllib.parse.urlsplit(target)
        if not self.authorized(headers):
            await self._respond(writer, 401, b'{"error":"unauthorized"}')
            return True
        if method == "GET" and parts.path == "/events":
            await self._stream(reader, writer, parts.query, headers)
            return False
        if method == "POST" and parts.path == "/control":
            ack = self.answer(json.loads(body))
            if ack is None:
                await asyncio.sleep(3600)  # silence: the client must time out
            await self._respond(writer, 200, json.dumps(ack).encode())
            self.publish_effects()
            return True
        await self._respond(writer, 404, b"not found")
        return True

    async def _respond(self, writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
        reason = {200: "OK", 401: "Unauthorized", 404: "Not Found"}.get(status, "X")
        writer.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
        )
        await writer.drain()

    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, query: str, headers: dict[str, str]) -> None:
        params = urllib.parse.parse_qs(query)
        last_id = headers.get("last-event-id")
        since = int(params["since"][0]) if "since" in params else (int(last_id) if last_id else None)
        self.connections.append(Connection(f"/events?{query}", since, headers, last_id))
        limit = self.limit()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues.add(queue)
        drop = writer.transport.abort
        self._drops.add(drop)
        try:
            writer.write(
                f"HTTP/1.1 200 OK\r\nContent-Type: {self.content_type}\r\nTransfer-Encoding: chunked\r\n"
                "Cache-Control: no-cache\r\n\r\n".encode()
            )
            for raw in self.raw_lines:
                self._chunk(writer, raw)
            sent = 0
            for event in self.backlog(since):
                if limit is not None and sent >= limit:
                    await writer.drain()
                    writer.transport.abort()
                    return
                self._chunk(writer, self._encode(event))
                sent += 1
                await writer.drain()
                if self.interval:
                    await asyncio.sleep(self.interval)
            if limit is not None and sent >= limit:
                writer.transport.abort()
                return
            gone = asyncio.ensure_future(reader.read(1))  # EOF: the client went away
            try:
                while True:
                    getter = asyncio.ensure_future(queue.get())
                    done, _ = await asyncio.wait({getter, gone}, return_when=asyncio.FIRST_COMPLETED)
                    if getter not in done:
                        getter.cancel()
                        return
                    self._chunk(writer, self._encode(getter.result()))
                    await writer.drain()
            finally:
                gone.cancel()
        finally:
            self._queues.discard(queue)
            self._drops.discard(drop)

    def _encode(self, event: dict[str, Any]) -> bytes:
        data = json.dumps(event).encode()
        if self.mode == "sse":
            # Split the JSON over two data: lines to exercise joining (newline is JSON whitespace).
            text = json.dumps(event, indent=None).replace(", ", ",\ndata: ", 1)
            return f"id: {event['seq']}\ndata: {text}\n\n".encode()
        return data + b"\n"

    @staticmethod
    def _chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")


class Collector:
    """Collects a client's output and statuses; ``wait`` bounds every wait."""

    def __init__(self) -> None:
        self.outputs: list[Any] = []
        self.statuses: list[Any] = []
        self._changed = asyncio.Event()

    def on_output(self, output: Any) -> None:
        self.outputs.append(output)
        self._changed.set()

    def on_status(self, status: Any) -> None:
        self.statuses.append(status)
        self._changed.set()

    @property
    def events(self) -> list[Any]:
        return [event for output in self.outputs for event in output.events]

    @property
    def seqs(self) -> list[int]:
        return [event.seq for event in self.events]

    @property
    def rejected(self) -> list[Any]:
        return [item for output in self.outputs for item in output.rejected]

    async def wait(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Until ``predicate()`` holds; fails the test after ``timeout`` seconds."""

        async def loop() -> None:
            while not predicate():
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.05)

        await asyncio.wait_for(loop(), timeout)


@contextlib.asynccontextmanager
async def running(client: Any, collector: Collector) -> AsyncIterator[asyncio.Task]:
    """Run a feed client into ``collector`` for the ``async with`` body; stop it after (bounded)."""
    task = asyncio.create_task(client.run(collector.on_output, collector.on_status))
    try:
        yield task
    finally:
        await client.stop()
        await asyncio.wait_for(task, 5)
