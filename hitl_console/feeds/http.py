"""HttpSource: ``GET /events`` streaming and ``POST /control``, with httpx.

The response's Content-Type picks the framing: ``application/x-ndjson`` is a
JSON event per line; ``text/event-stream`` is Server-Sent Events whose
``data:`` is the JSON event and ``id:`` its seq. Resume sends both
``?since=SEQ`` and ``Last-Event-ID: SEQ`` (a feed may honour either). A
command is POSTed to ``/control`` and the response body is its ack.

Where the endpoints are: a URL ending in ``/events`` is used as is and
``/control`` sits next to it; any other URL is a base to which ``/events``
and ``/control`` are appended (``http://host:8080`` or ``.../api``).
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import AsyncIterator

import httpx

from hitl_console.feeds.base import (
    FeedFailed,
    FeedSource,
    Frame,
    LineSplitter,
    NotConnected,
    network_reason,
    check_url,
    install_redacting_filter,
    redact,
    safe_url,
)
from hitl_console.feeds.websocket import strip_userinfo
from hitl_console.protocol.decode import MAX_FRAME_BYTES, RejectedFrame, decode_json, excerpt
from hitl_console.protocol.events import Ack, AnyCommand, command_json

log = logging.getLogger(__name__)
install_redacting_filter("httpx")

NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"})
SSE_TYPE = "text/event-stream"


def endpoints(url: str) -> tuple[str, str]:
    """The ``(events, control)`` URLs for a feed URL (see the module docstring)."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith("/events"):
        base = path[: -len("/events")]
    else:
        base = path
    events = urllib.parse.urlunsplit(parts._replace(path=f"{base}/events"))
    control = urllib.parse.urlunsplit(parts._replace(path=f"{base}/control", query=""))
    return events, control


def _oversized(first: bytes, size: int, what: str) -> Frame:
    return Frame(RejectedFrame(f"{what} too large ({size} bytes)", excerpt(first)), "rejected")


class SseParser:
    """The event-stream format (WHATWG HTML, "Server-sent events"), line by line.

    Only what the protocol uses: ``data`` (joined with newlines), ``id``
    (the seq) and the blank line that dispatches; ``event``, ``retry`` and
    comments are read and ignored (the client has its own backoff).
    """

    def __init__(self, max_event: int = MAX_FRAME_BYTES) -> None:
        self.max_event = max_event
        self.last_id: str | None = None
        self._data: list[bytes] = []
        self._size = 0
        self._too_big = False

    def line(self, line: bytes) -> Frame | None:
        """Feed one line (without its end); a frame when an event is complete."""
        if not line:
            return self._dispatch()
        if line.startswith(b":"):
            return None
        name, colon, value = line.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            self._size += len(value) + 1
            if self._size > self.max_event:
                if not self._too_big:
                    self._data = [b"".join(self._data)[:200]]
                self._too_big = True
            else:
                self._data.append(value)
        elif name == b"id" and b"\0" not in value:
            self.last_id = value.decode("utf-8", "replace")
        return None

    def oversized_line(self, first: bytes, size: int) -> None:
        """A line longer than any event may be: the event it belongs to is refused."""
        if not self._too_big:
            self._data = [(b"".join(self._data) + first)[:200]]
        self._too_big = True
        self._size += size

    def _dispatch(self) -> Frame | None:
        data, size, too_big = self._data, self._size, self._too_big
        self._data, self._size, self._too_big = [], 0, False
        if too_big:
            return _oversized(data[0] if data else b"", size, "SSE event")
        if not data:
            return None
        return Frame(b"\n".join(data), "json")


class HttpSource(FeedSource):
    """One HTTP feed. ``token`` goes as ``Authorization: Bearer`` on every request."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float | None = 90.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        check_url(url, ("http", "https"), "HTTP URL (http:// or https://)")
        self._raw_url = url
        self.url = safe_url(url)
        self._token = token
        self._events_url, self._control_url = endpoints(strip_userinfo(url))
        self._timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=connect_timeout, pool=connect_timeout)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"HttpSource({self.url!r})"

    def _clean(self, text: str) -> str:
        for raw in (self._raw_url, self._events_url, self._control_url):
            text = text.replace(raw, safe_url(raw))
        return redact(text, self._token)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
            # httpx drops Authorization when a redirect leaves the origin, so following is safe.
            self._client = httpx.AsyncClient(headers=headers, timeout=self._timeout, transport=self._transport, follow_redirects=True)
        return self._client

    async def frames(self, since: int | None) -> AsyncIterator[Frame]:
        headers = {"Accept": f"application/x-ndjson, {SSE_TYPE}"}
        params: dict[str, str] = {}
        if since is not None:
            params["since"] = str(since)
            headers["Last-Event-ID"] = str(since)
        try:
            async with self._http().stream("GET", self._events_url, params=params, headers=headers) as response:
                self._check_status(response.status_code, "GET /events")
                ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if ctype == SSE_TYPE:
                    splitter = LineSplitter(MAX_FRAME_BYTES + 4096, bare_cr=True)
                    sse = SseParser()
                elif ctype in NDJSON_TYPES:
                    splitter = LineSplitter(MAX_FRAME_BYTES)
                    sse = None
                else:
                    raise FeedFailed(f"{self.url}: unsupported Content-Type {ctype or '(none)'!r} (expected application/x-ndjson or text/event-stream)")
                yield Frame(None, "open")
                async for chunk in response.aiter_bytes():
                    for line, size in splitter.feed(chunk):
                        frame = self._frame(line, size, sse)
                        if frame is not None:
                            yield frame
        except httpx.InvalidURL as error:
            raise FeedFailed(self._clean(f"{self.url}: not a valid URL ({error})")) from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise ConnectionError(self._clean(f"cannot connect to {self.url}: {network_reason(error)}")) from None
        except httpx.HTTPError as error:
            raise ConnectionError(self._clean(f"{type(error).__name__}: {error or 'connection failed'}")) from None
        raise ConnectionError("the feed ended the stream")

    @staticmethod
    def _frame(line: bytes, size: int | None, sse: SseParser | None) -> Frame | None:
        if sse is None:
            if size is not None:
                return _oversized(line, size, "line")
            return Frame(line, "json") if line.strip() else None
        if size is not None:
            sse.oversized_line(line, size)
            return None
        return sse.line(line)

    def _check_status(self, status: int, what: str) -> None:
        if status in (401, 403):
            raise FeedFailed(f"{self.url}: HTTP {status} on {what}: the bearer token was refused or is missing")
        if status in (400, 404, 405, 410):
            raise FeedFailed(f"{self.url}: HTTP {status} on {what}: check the URL")
        if status >= 300:
            raise ConnectionError(f"HTTP {status} on {what}")

    async def send(self, command: AnyCommand) -> Ack | None:
        """POST the command; the response body is the ack (read up to the frame
        limit: a control endpoint answering with gigabytes must not fill memory)."""
        try:
            async with self._http().stream(
                "POST", self._control_url, content=command_json(command), headers={"Content-Type": "application/json"}
            ) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_FRAME_BYTES:
                        break
                status = response.status_code
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise NotConnected(self._clean(f"cannot reach {self.url}: {network_reason(error)}")) from None
        except httpx.TimeoutException:
            raise TimeoutError from None
        except httpx.HTTPError as error:
            raise ConnectionError(self._clean(f"{type(error).__name__}: {error}")) from None
        decoded = decode_json(bytes(body[: MAX_FRAME_BYTES + 1]), "control")
        for ack in decoded.acks:
            if ack.request_id == command.request_id:
                return ack
        if status in (401, 403):
            error = f"HTTP {status}: the bearer token was refused or is missing"
        elif decoded.rejected:
            error = f"HTTP {status}, unreadable ack: {decoded.rejected[0].reason}"
        else:
            error = f"HTTP {status} without an ack for this request"
        return Ack(type="ack", request_id=command.request_id, ok=False, error=error)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
