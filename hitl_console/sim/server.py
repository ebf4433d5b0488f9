"""The simulated platform on the network: WebSocket and HTTP, per the protocol.

:class:`SimulatorServer` runs a :class:`~hitl_console.sim.platform.SimPlatform`
and serves it the ways a real platform would, so that the console's
transports, resume logic and control channel are exercised end to end:

* WebSocket (``ws_url``): JSON text frames, sometimes several events in one
  array frame; ``?format=msgpack`` for binary MessagePack frames; ``?since=SEQ``
  replays retained events first; commands arrive on the same socket and are
  answered with an ack on that socket before the effect events go out.
* Without ``since`` (WebSocket or HTTP) a client first gets the retained
  events of the conversations still open, so a console that connects to a
  running floor (the demo starts with ``initial_conversations``) sees every
  open conversation from its start; seq then has gaps where ended
  conversations were left out.
* HTTP (``http_url``): ``GET /events`` streams NDJSON, or SSE when the client
  sends ``Accept: text/event-stream`` (``id:`` is the seq, so ``Last-Event-ID``
  resumes); ``POST /control`` takes one command and answers with the ack.

The HTTP side is a small hand-written HTTP/1.1 server (one request per
connection, chunked streaming) because nothing in the dependency set serves
HTTP, and a stream needs nothing more.

Security posture: it binds only where asked (loopback by default); with a
token, every handshake and request must carry ``Authorization: Bearer``; the
token is never logged (the websockets library logs request headers at DEBUG,
so its logger is pinned to INFO). A client sending garbage gets a log line,
not a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgpack
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from hitl_console.sim.platform import SimPlatform

__all__ = ["SimulatorServer"]

log = logging.getLogger("hitl_console.sim.server")
_ws_log = logging.getLogger("hitl_console.sim.websockets")
_ws_log.setLevel(logging.INFO)  # its DEBUG output includes the Authorization header

MAX_QUEUE = 20_000
"""Batches buffered per client; a client further behind is disconnected and must resume."""
BACKLOG_CHUNK = 200
MAX_BODY = 64 * 1024
MAX_HEADER_LINES = 100
READ_TIMEOUT = 10.0


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class _Subscriber:
    """One connected client's outbox: batches of events, heartbeats and acks."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(MAX_QUEUE)
        self.overflowed = False

    def push(self, batch: list[dict[str, Any]]) -> None:
        self._put(("batch", batch))

    def push_ack(self, ack: dict[str, Any]) -> None:
        self._put(("ack", ack))

    def _put(self, item: tuple[str, Any]) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()  # make room for the wake-up below
            self.queue.put_nowait(("overflow", None))


def _since(query: Mapping[str, list[str]], header: str | None = None) -> int | None:
    """The resume cursor from ``?since=`` or ``Last-Event-ID``; junk means none."""
    for raw in (query.get("since", [None])[0], header):
        if raw is None:
            continue
        try:
            value = int(raw.strip())
        except ValueError:
            continue
        if value >= 0:
            return value
    return None


class SimulatorServer:
    """A simulated AI-agent platform serving protocol v1 over WebSocket and HTTP.

    ``port`` and ``http_port`` of 0 pick free ports (read them back from
    ``ws_url`` / ``http_url`` after :meth:`start`); ``http_port=None`` serves
    WebSocket only. The remaining arguments go to the :class:`SimPlatform`,
    available as :attr:`platform` for tests that look at state.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        http_port: int | None = 0,
        *,
        rate: float = 2.0,
        seed: int = 7,
        pace: float = 1.0,
        token: str | None = None,
        max_conversations: int | None = None,
        initial_conversations: int = 0,
        feed_sentiment: bool = False,
        mix: Mapping[str, float] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.http_port = http_port
        self._token = token or None
        self.platform = SimPlatform(
            rate=rate,
            seed=seed,
            pace=pace,
            max_conversations=max_conversations,
            initial_conversations=initial_conversations,
            feed_sentiment=feed_sentiment,
            mix=mix,
        )
        self._ws_server: Server | None = None
        self._http_server: asyncio.Server | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._http_tasks: set[asyncio.Task[Any]] = set()
        self._bound_port: int | None = None
        self._bound_http_port: int | None = None

    # ------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind both ports and start the floor; returns once clients can connect."""
        if self._run_task is not None:
            raise RuntimeError("simulator already started")
        self._ws_server = await serve(
            self._ws_handler,
            self.host,
            self.port,
            process_request=self._ws_auth,
            logger=_ws_log,
            max_size=1 << 20,
        )
        self._bound_port = self._ws_server.sockets[0].getsockname()[1]
        if self.http_port is not None:
            try:
                self._http_server = await asyncio.start_server(self._http_conn, self.host, self.http_port, limit=MAX_BODY)
            except OSError:
                self._ws_server.close()
                await self._ws_server.wait_closed()
                raise
            self._bound_http_port = self._http_server.sockets[0].getsockname()[1]
        self.platform.publish(self.platform.begin())
        self._run_task = asyncio.create_task(self.platform.run(), name="hitl-sim-platform")
        log.info("simulator listening: %s %s", self.ws_url, self.http_url if self._http_server else "(no HTTP)")

    async def stop(self) -> None:
        """Close every connection and task the server started; safe to call twice."""
        if self._run_task is not None:
            self._run_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._run_task
            self._run_task = None
        if self._http_server is not None:
            self._http_server.close()
            for task in list(self._http_tasks):
                task.cancel()
            if self._http_tasks:
                await asyncio.gather(*self._http_tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._http_server.wait_closed(), 5.0)
            self._http_server = None
        if self._ws_server is not None:
            self._ws_server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws_server.wait_closed(), 5.0)
            self._ws_server = None

    async def __aenter__(self) -> SimulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def requires_token(self) -> bool:
        """Whether clients must authenticate (the token itself is not exposed)."""
        return self._token is not None

    def _host_for_url(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def ws_url(self) -> str:
        """``ws://HOST:PORT/`` once started."""
        if self._bound_port is None:
            raise RuntimeError("simulator not started")
        return f"ws://{self._host_for_url()}:{self._bound_port}/"

    @property
    def http_url(self) -> str:
        """``http://HOST:PORT`` (no trailing slash; append ``/events`` or ``/control``)."""
        if self._bound_http_port is None:
            raise RuntimeError("simulator has no HTTP server (not started, or http_port=None)")
        return f"http://{self._host_for_url()}:{self._bound_http_port}"

    # ------------------------------------------------------------- auth

    def _authorized(self, header: str | None) -> bool:
        if self._token is None:
            return True
        if not header:
            return False
        scheme, _, credential = header.strip().partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(credential.strip().encode(), self._token.encode())

    def _ws_auth(self, connection: ServerConnection, request: Request) -> Response | None:
        if self._authorized(request.headers.get("Authorization")):
            return None
        log.warning("websocket: refused a handshake without a valid bearer token")
        response = connection.respond(HTTPStatus.UNAUTHORIZED, "unauthorized\n")
        response.headers["WWW-Authenticate"] = 'Bearer realm="hitl-sim"'
        return response

    # ------------------------------------------------------------- websocket

    async def _ws_handler(self, ws: ServerConnection) -> None:
        query = parse_qs(urlsplit(ws.request.path if ws.request else "/").query)
        binary = query.get("format", ["json"])[0].lower() == "msgpack"
        since = _since(query)
        sub = _Subscriber()
        self.platform.add_listener(sub.push)
        sender = asyncio.create_task(self._ws_send(ws, sub, since, binary), name="hitl-sim-ws-send")
        try:
            async for message in ws:
                self._ws_command(message, sub)
                if sender.done():
                    break
        except ConnectionClosed:
            pass
        finally:
            self.platform.remove_listener(sub.push)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await sender

    def _ws_command(self, message: str | bytes, sub: _Subscriber) -> None:
        try:
            raw = msgpack.unpackb(message, raw=False) if isinstance(message, bytes) else json.loads(message)
        except Exception as error:  # msgpack raises many types on garbage
            log.warning("websocket: ignored a malformed command frame (%s)", type(error).__name__)
            return
        if not isinstance(raw, dict):
            log.warning("websocket: ignored a command that is not an object")
            return
        self.platform.handle_command(raw, reply=sub.push_ack)

    async def _ws_send(self, ws: ServerConnection, sub: _Subscriber, since: int | None, binary: bool) -> None:
        def encode(obj: Any) -> str | bytes:
            return msgpack.packb(obj, use_bin_type=True) if binary else _dumps(obj)

        backlog, sent = self.platform.backlog(since)
        for i in range(0, len(backlog), BACKLOG_CHUNK):
            chunk = backlog[i : i + BACKLOG_CHUNK]
            await ws.send(encode(chunk if len(chunk) > 1 else chunk[0]))
        batches = 0
        while True:
            kind, item = await sub.queue.get()
            if kind == "overflow":
                log.warning("websocket: client too slow, disconnecting (it can resume with since=)")
                await ws.close(1013, "too slow: reconnect with ?since=")
                return
            if kind == "ack":
                await ws.send(encode(item))
                continue
            fresh = [e for e in item if "seq" not in e or e.get("type") == "heartbeat" or e["seq"] > sent]
            if not fresh:
                continue
            for e in fresh:
                if e.get("type") != "heartbeat":
                    sent = max(sent, e["seq"])
            batches += 1
            if len(fresh) > 1 and batches % 3 == 0:
                await ws.send(encode(fresh))  # exercise array frames
            else:
                for e in fresh:
                    await ws.send(encode(e))

    # ------------------------------------------------------------- http

    async def _http_conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._http_tasks.add(task)
        try:
            await self._http_request(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as error:
            log.debug("http: connection dropped: %s", type(error).__name__)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("http: request failed")
        finally:
            if task is not None:
                self._http_tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _http_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await asyncio.wait_for(reader.readline(), READ_TIMEOUT)
        if not line:
            return
        parts = line.decode("latin-1").strip().split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            await self._respond(writer, HTTPStatus.BAD_REQUEST, {"error": "malformed request line"})
            return
        method, target, _version = parts
        headers = Headers()
        for _ in range(MAX_HEADER_LINES + 1):
            raw = await asyncio.wait_for(reader.readline(), READ_TIMEOUT)
            if raw in (b"\r\n", b"\n", b""):
                break
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep:
                await self._respond(writer, HTTPStatus.BAD_REQUEST, {"error": "malformed header"})
                return
            headers[name.strip()] = value.strip()
        else:
            await self._respond(writer, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, {"error": "too many headers"})
            return
        url = urlsplit(target)
        if not self._authorized(headers.get("Authorization")):
            log.warning("http: refused %s %s without a valid bearer token", method, url.path)
            await self._respond(writer, HTTPStatus.UNAUTHORIZED, {"error": "unauthorized"}, extra={"WWW-Authenticate": 'Bearer realm="hitl-sim"'})
            return
        path = url.path.rstrip("/") or "/"
        if path == "/events":
            if method != "GET":
                await self._respond(writer, HTTPStatus.METHOD_NOT_ALLOWED, {"error": "use GET"}, extra={"Allow": "GET"})
                return
            sse = "text/event-stream" in headers.get("Accept", "")
            await self._stream(writer, sse, _since(parse_qs(url.query), headers.get("Last-Event-ID")))
        elif path == "/control":
            if method != "POST":
                await self._respond(writer, HTTPStatus.METHOD_NOT_ALLOWED, {"error": "use POST"}, extra={"Allow": "POST"})
                return
            await self._control(reader, writer, headers)
        elif path in ("/", "/healthz") and method == "GET":
            await self._respond(writer, HTTPStatus.OK, {"ok": True, "last_seq": self.platform.last_seq, "open": len(self.platform.open_conversations())})
        else:
            await self._respond(writer, HTTPStatus.NOT_FOUND, {"error": "not found; try GET /events or POST /control"})

    async def _respond(self, writer: asyncio.StreamWriter, status: HTTPStatus, body: Any, *, extra: Mapping[str, str] | None = None) -> None:
        data = _dumps(body).encode()
        head = [f"HTTP/1.1 {status.value} {status.phrase}", "Content-Type: application/json", f"Content-Length: {len(data)}", "Connection: close"]
        head += [f"{k}: {v}" for k, v in (extra or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        await writer.drain()

    async def _control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: Headers) -> None:
        try:
            length = int(headers.get("Content-Length", ""))
        except ValueError:
            await self._respond(writer, HTTPStatus.LENGTH_REQUIRED, {"error": "Content-Length required"})
            return
        if length < 0 or length > MAX_BODY:
            await self._respond(writer, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": f"body over {MAX_BODY} bytes"})
            return
        body = await asyncio.wait_for(reader.readexactly(length), READ_TIMEOUT)
        try:
            raw = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            log.warning("http: malformed JSON in POST /control")
            await self._respond(writer, HTTPStatus.BAD_REQUEST, {"error": "malformed JSON"})
            return
        if not isinstance(raw, dict) or not isinstance(raw.get("request_id"), str):
            await self._respond(writer, HTTPStatus.BAD_REQUEST, {"error": "a command is a JSON object with a request_id"})
            return
        ack = self.platform.handle_command(raw)
        await self._respond(writer, HTTPStatus.OK, ack)

    async def _stream(self, writer: asyncio.StreamWriter, sse: bool, since: int | None) -> None:
        """Stream events as NDJSON or SSE with chunked encoding until the client goes."""
        sub = _Subscriber()
        self.platform.add_listener(sub.push)
        try:
            kind = "text/event-stream" if sse else "application/x-ndjson"
            head = f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            writer.write(head.encode())

            def render(event: dict[str, Any]) -> str:
                data = _dumps(event)
                if not sse:
                    return data + "\n"
                if event.get("type") == "heartbeat":
                    return f"data: {data}\n\n"
                return f"id: {event['seq']}\ndata: {data}\n\n"

            async def send(events: list[dict[str, Any]]) -> None:
                text = "".join(render(e) for e in events).encode()
                writer.write(b"%x\r\n%s\r\n" % (len(text), text))
                await writer.drain()

            if sse:
                writer.write(b"%x\r\n%s\r\n" % (len(b"retry: 1000\n\n"), b"retry: 1000\n\n"))
            backlog, sent = self.platform.backlog(since)
            for i in range(0, len(backlog), BACKLOG_CHUNK):
                await send(backlog[i : i + BACKLOG_CHUNK])
            await writer.drain()
            while True:
                kind_, item = await sub.queue.get()
                if kind_ == "overflow":
                    log.warning("http: client too slow, ending its stream (it can resume with since=)")
                    break
                fresh = [e for e in item if e.get("type") == "heartbeat" or e["seq"] > sent]
                for e in fresh:
                    if e.get("type") != "heartbeat":
                        sent = max(sent, e["seq"])
                if fresh:
                    await send(fresh)
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        finally:
            self.platform.remove_listener(sub.push)
