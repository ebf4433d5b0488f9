"""WebSocketSource: ``ws://`` and ``wss://`` feeds.

Text frames are JSON and binary frames are MessagePack (the protocol's rule);
either may hold one event or an array. Commands go out on the same socket and
their acks come back as frames, which :class:`FeedClient` matches to the
waiting command. Resume is the ``since`` query parameter.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import urllib.parse
from collections.abc import AsyncIterator

from websockets.asyncio.client import ClientConnection, connect
from websockets.frames import CloseCode, Frame as WsFrame, Opcode
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
    WebSocketException,
)

from hitl_console.feeds.base import FeedFailed, FeedSource, check_url, Frame, NotConnected, RedactingLogger, network_reason, redact, safe_url
from hitl_console.protocol.decode import MAX_FRAME_BYTES, RejectedFrame
from hitl_console.protocol.events import Ack, AnyCommand, command_json

log = logging.getLogger(__name__)

MAX_WS_MESSAGE = 8 * MAX_FRAME_BYTES
"""websockets closes the connection on a message above its ``max_size``; the
feed would re-send it after the reconnect and loop. Up to this size a huge
frame is received and refused by the decoder instead, and the stream goes on."""

MAX_WS_QUEUE = 16
"""Messages the library buffers before it stops reading the socket: with
MAX_WS_MESSAGE this bounds what a flooding feed can make the client hold
(16 x 8 MiB); the client reads in the same loop, so a few are plenty."""
CLOSE_TIMEOUT_S = 2.0
"""How long a close waits for the feed's close frame; a feed that floods the
socket instead must not hold up a stop (the library's default is 10 s)."""


def _too_big(detail: str) -> str:
    """The reason of a rejected frame for a message the library would not receive."""
    return f"message too large ({detail or f'over {MAX_WS_MESSAGE} bytes'}); the connection was closed and is resumed"


class _TolerantConnection(ClientConnection):
    """A client connection on which a text frame that is not UTF-8 is one bad
    frame, not the end of the connection.

    RFC 6455 has the library close the connection (1007), so the feed resumed
    and, re-sending the same frame, never got past it. ``process_event`` is the
    library's hook for subclasses: a complete text frame that does not decode
    is handed on as an empty binary message, and its reason waits in
    ``invalid_text`` for :meth:`WebSocketSource.frames` to report it as a
    rejected frame. (A fragmented text message is judged by the library.)"""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.invalid_text: collections.deque[str] = collections.deque()

    def process_event(self, event: object) -> None:
        if isinstance(event, WsFrame) and event.opcode is Opcode.TEXT and event.fin:
            try:
                bytes(event.data).decode("utf-8")
            except UnicodeDecodeError as error:
                self.invalid_text.append(f"{error.reason} at position {error.start}")
                event = dataclasses.replace(event, opcode=Opcode.BINARY, data=b"")
        super().process_event(event)  # type: ignore[arg-type]


def with_query(url: str, **params: object) -> str:
    """``url`` with query parameters set (replacing any of the same name); None removes one."""
    parts = urllib.parse.urlsplit(url)
    pairs = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    pairs += [(k, str(v)) for k, v in params.items() if v is not None]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(pairs)))


def strip_userinfo(url: str) -> str:
    """``url`` without ``user:password@`` and without a ``#fragment``: credentials go
    in the bearer header only, and a fragment is never sent to a server (an
    ``#access_token=`` pasted from a browser made the WebSocket library refuse
    the whole URL, so the feed failed for good)."""
    parts = urllib.parse.urlsplit(url)
    if "@" in parts.netloc:
        log.warning("credentials in a feed URL are ignored; give the token with token_env or --token-env")
        parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
    if parts.fragment or url.endswith("#"):
        log.warning("the #fragment of a feed URL is never sent to the feed and is ignored; give a token with token_env or --token-env")
        parts = parts._replace(fragment="")
    return urllib.parse.urlunsplit(parts)


class WebSocketSource(FeedSource):
    """One WebSocket feed. ``token`` is sent as ``Authorization: Bearer``."""

    def __init__(self, url: str, token: str | None = None, *, open_timeout: float = 10.0, ping_interval: float | None = 20.0) -> None:
        check_url(url, ("ws", "wss"), "WebSocket URL (ws:// or wss://)")
        self._raw_url = url
        self._connect_url = strip_userinfo(url)
        self.url = safe_url(url)
        self._token = token
        self.open_timeout = open_timeout
        self.ping_interval = ping_interval
        self._ws: ClientConnection | None = None

    def __repr__(self) -> str:
        return f"WebSocketSource({self.url!r})"

    def _clean(self, text: str) -> str:
        text = text.replace(self._raw_url, self.url).replace(self._connect_url, self.url)
        return redact(text, self._token)

    async def frames(self, since: int | None) -> AsyncIterator[Frame]:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        url = with_query(self._connect_url, since=since) if since is not None else self._connect_url
        code: int | None = None
        try:
            async with connect(
                url,
                additional_headers=headers,
                open_timeout=self.open_timeout,
                ping_interval=self.ping_interval,
                max_size=MAX_WS_MESSAGE,
                max_queue=MAX_WS_QUEUE,
                close_timeout=CLOSE_TIMEOUT_S,
                logger=RedactingLogger(log, self._token),
                create_connection=_TolerantConnection,
            ) as ws:
                self._ws = ws
                yield Frame(None, "open")
                invalid = getattr(ws, "invalid_text", None)
                async for message in ws:
                    if isinstance(message, str):
                        yield Frame(message, "json")
                    elif not message and invalid:
                        reason = f"text frame is not valid UTF-8 ({invalid.popleft()})"
                        yield Frame(RejectedFrame(reason, "", ""), "rejected")
                    else:
                        yield Frame(bytes(message), "msgpack")
                code = ws.close_code
        except InvalidStatus as error:
            status = error.response.status_code
            if status in (401, 403):
                raise FeedFailed(
                    f"{self.url}: HTTP {status} on the WebSocket handshake: the bearer token was refused or is missing"
                ) from None
            if status in (400, 404, 405, 410):
                raise FeedFailed(f"{self.url}: HTTP {status} on the WebSocket handshake: check the URL") from None
            raise ConnectionError(f"HTTP {status} on the WebSocket handshake") from None
        except InvalidURI as error:
            raise FeedFailed(f"{self.url}: not a valid WebSocket URL ({self._clean(str(error))})") from None
        except ConnectionClosed as error:
            if error.sent is not None and error.sent.code == CloseCode.MESSAGE_TOO_BIG:
                # The library refused a message over MAX_WS_MESSAGE unread and
                # closed the socket: report it as the rejected frame it is.
                yield Frame(RejectedFrame(_too_big(error.sent.reason), "", ""), "rejected")
                raise ConnectionError(f"a message over {MAX_WS_MESSAGE} bytes closed the connection") from None
            if error.sent is not None and error.sent.code == CloseCode.INVALID_DATA:
                # A text frame that is not UTF-8: the library closes the socket
                # (RFC 6455 says it must). It was a frame the feed sent, so it is
                # a rejected frame to count and show, not only a drop.
                reason = f"text frame is not valid UTF-8 ({error.sent.reason}); the connection was closed and is resumed"
                yield Frame(RejectedFrame(reason, "", ""), "rejected")
                raise ConnectionError("a text frame that is not UTF-8 closed the connection") from None
            raise ConnectionError(self._clean(f"connection lost: {error}")) from None
        except (InvalidHandshake, WebSocketException) as error:
            raise ConnectionError(self._clean(f"{type(error).__name__}: {error}")) from None
        except (OSError, TimeoutError) as error:
            raise ConnectionError(self._clean(f"cannot connect to {self.url}: {network_reason(error)}")) from None
        finally:
            self._ws = None
        raise ConnectionError(f"the feed closed the connection (code {code})")

    async def send(self, command: AnyCommand) -> Ack | None:
        ws = self._ws
        if ws is None:
            raise NotConnected(f"{self.url}: not connected")
        try:
            await ws.send(command_json(command))
        except ConnectionClosed:
            raise NotConnected(f"{self.url}: the connection closed before the command went out") from None
        return None

    async def close(self) -> None:
        ws = self._ws
        if ws is not None:
            await ws.close()
