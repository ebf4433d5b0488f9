"""The one interface every feed transport implements, and what it reports.

A *source* knows one transport (WebSocket, HTTP, a recording file, later a
message bus such as NATS JetStream). It only connects, yields raw frames and
sends commands. Everything shared lives above it in :class:`FeedClient`
(``hitl_console.feeds.client``): decoding, duplicate and order filtering,
reconnect with backoff, resume with ``since=``, connection state and lag,
and matching acks to commands. Adding a transport therefore means writing
one small :class:`FeedSource`, and nothing in the engine changes.
"""

from __future__ import annotations

import enum
import errno
import socket
import ssl
import time
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from hitl_console.protocol.decode import RejectedFrame
from hitl_console.protocol.events import Ack, AnyCommand, Event
from hitl_console.redaction import RedactingFilter, RedactingLogger, install_redacting_filter, redact, safe_url  # noqa: F401 (re-exported; the masking lives there)



def check_url(url: str, schemes: tuple[str, ...], kind: str) -> None:
    """Refuse a URL a transport cannot use, with a message fit for the operator
    (``ValueError``; the hub turns it into a FAILED feed). ``kind`` names the
    transport, e.g. ``"WebSocket URL (ws:// or wss://)"``."""
    try:
        parts = urllib.parse.urlsplit(url)
        scheme, host, _ = parts.scheme.lower(), parts.hostname, parts.port  # .port validates the number
    except ValueError as error:
        raise ValueError(f"{safe_url(url)}: not a valid URL ({error})") from None
    if scheme not in schemes:
        raise ValueError(f"{safe_url(url)}: not a {kind}")
    if not host:
        raise ValueError(f"{safe_url(url)}: no host in the URL")


class ConnectionState(enum.Enum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    REPLAYING = "replaying"
    PAUSED = "paused"
    FINISHED = "finished"
    FAILED = "failed"
    STOPPED = "stopped"


_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused (nothing listens there, or a firewall says no)",
    errno.ECONNRESET: "connection reset by the other side",
    errno.ETIMEDOUT: "timed out",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.EADDRNOTAVAIL: "address not available",
}


def network_reason(error: BaseException) -> str:
    """Why a connection failed, in the words a supervisor reads in an alert:
    "connection refused", "host not found", "TLS: certificate verify failed",
    instead of ``[Errno 111] Connect call failed ('10.0.0.5', 443)``. Looks
    through wrapped causes (httpx wraps the OSError)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return f"TLS: {getattr(current, 'reason', None) or current}"
        if isinstance(current, socket.gaierror):
            return "host not found (DNS)"
        if isinstance(current, OSError) and current.errno in _ERRNO_WORDS:
            return _ERRNO_WORDS[current.errno]
        if isinstance(current, TimeoutError):
            return "timed out"
        current = current.__cause__ or current.__context__
    return str(error) or type(error).__name__


@dataclass(slots=True)
class Frame:
    """One raw frame as it came off the transport.

    ``kind`` says how to decode it: ``"json"`` (one JSON value: an event or an
    array), ``"msgpack"`` (one MessagePack value) or ``"object"`` (already
    parsed, e.g. a record from a MessagePack stream).
    """

    data: str | bytes | object
    kind: str = "json"
    line: int | None = None
    """Where the frame came from in a recording (line or record number), for
    rejection messages that an operator can find in the file."""
    local: bool = False
    """Synthesized by the source itself (a file answering control commands).
    Such events carry their own seq numbers outside the recording's range, so
    the client accepts them without moving the duplicate filter's cursor.
    ``kind == "rejected"`` means ``data`` is a :class:`RejectedFrame` the
    transport already produced (an oversized line, an SSE event that is too
    big); ``kind == "open"`` carries no data and only says the connection is
    up (yielded once after a handshake, so a silent feed still shows live)."""


@dataclass(slots=True)
class FeedStatus:
    """What the console shows about one feed: state, counts, lag."""

    name: str
    url: str
    state: ConnectionState = ConnectionState.CONNECTING
    detail: str = ""
    last_seq: int | None = None
    events: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    unknown: int = 0
    rejected: int = 0
    reconnects: int = 0
    lag_s: float | None = None
    """Local clock minus the ts of the newest event or heartbeat."""
    last_frame_at: float | None = None
    """Local monotonic-free wall time of the last frame of any kind (for 'silent feed')."""
    progress: float | None = None
    """0..1 for a replay, None for a live feed."""
    unknown_types: dict[str, int] = field(default_factory=dict)
    restarts: int = 0
    """How many times the feed's seq numbering was seen to start again (see FeedRestart)."""
    last_rejected: str = ""
    """The reason of the newest rejected frame."""
    backoff_attempt: int = 0
    """Reconnect attempts since the last healthy connection (the backoff's exponent)."""
    clock_offset_s: float | None = None
    """The newest event or heartbeat ts minus the local clock when it arrived:
    how far the feed's clock is off (None for a replay or before any frame)."""

    @property
    def silent_for(self) -> float | None:
        return None if self.last_frame_at is None else max(0.0, time.time() - self.last_frame_at)


@dataclass(slots=True)
class CommandResult:
    """How a control command ended: acknowledged, refused, timed out or not sent."""

    request_id: str
    ok: bool
    error: str | None = None
    timed_out: bool = False
    sent: bool = True
    latency_s: float | None = None

    def describe(self) -> str:
        if self.ok:
            return "acknowledged"
        if not self.sent:
            return f"not sent: {self.error}"
        if self.timed_out:
            return f"no answer from the feed ({self.error or 'timed out'})"
        return f"refused: {self.error or 'no reason given'}"


class FeedFailed(Exception):
    """A failure that retrying cannot fix: refused credentials (HTTP 401/403),
    a bad URL, a missing or unreadable file, a truncated recording. The client
    shows it as ``FAILED`` with this message instead of reconnecting forever.
    Messages must never contain a token."""


class NotConnected(ConnectionError):
    """A command was sent while the transport has no open connection."""


class FeedSource(ABC):
    """One transport. Implementations: websocket, http, file (and later a bus)."""

    url: str
    """The address as the operator gave it, with any secret removed."""

    resumable: bool = True
    """Whether ``frames(since=...)`` can resume after a drop."""

    @abstractmethod
    def frames(self, since: int | None) -> AsyncIterator[Frame]:
        """Connect and yield frames until the connection ends.

        Raises ``ConnectionError`` (or ``OSError``) on a drop, so that the
        client reconnects; returns normally when the source is exhausted
        (end of a recording).
        """

    @abstractmethod
    async def send(self, command: AnyCommand) -> Ack | None:
        """Send a command. Return the ack when the transport answers it inline
        (HTTP ``POST /control``, local answers for files); return None when the
        ack will arrive as a frame (WebSocket)."""

    sequenced: bool = False
    """True when the source numbers events itself (JetStream: seq is the stream
    sequence), so seq restarts only with the stream: an origin announcing an open
    conversation again (its platform restarted, the bridge stored the new
    numbering) is no restart of this feed."""

    replay: bool = False
    """True for recordings: frames arrive at a replayed pace, the feed ends,
    lag is meaningless and control commands are answered locally."""

    @property
    def progress(self) -> float | None:
        """0..1 through a recording; None for a live feed."""
        return None

    @property
    def paused(self) -> bool:
        """Whether a replay is paused (always False for live feeds)."""
        return False

    def observe(self, event: Event) -> None:
        """Called by the client with every event it accepted from this source.

        Sources that answer control locally (files) use it to know who holds
        which conversation and which approvals are pending; others ignore it.
        """

    async def close(self) -> None:  # pragma: no cover - default
        """Release the connection."""


@dataclass(frozen=True, slots=True)
class FeedRestart:
    """The feed's seq numbering started again: a platform that restarted and
    lost its log numbers from 1 while the console's cursor is far above, so
    every later event would be dropped as out of order. The client resets
    its cursor and reconnects without ``since`` (a resynchronisation); the
    session raises a critical alert and journals the new numbering apart."""

    reason: str
    """How it showed, for the alert: an epoch change, a reused seq, a jump."""
    last_seq: int | None
    """The cursor in the old numbering."""
    seq: int | None
    """The seq that showed it (None for a heartbeat's new epoch)."""
    epoch: str | None = None
    """The feed's new epoch, when it sends one."""


@dataclass(slots=True)
class FeedOutput:
    """What the client hands the rest of the console, one call per decoded frame."""

    feed: str
    events: list[Event]
    rejected: list[RejectedFrame]
    restart: FeedRestart | None = None
    """Set on the output that reports a seq restart (its ``events`` are the
    ones accepted before it in the old numbering)."""


class LineSplitter:
    """Split a byte stream into lines with a bound on line length.

    NDJSON over HTTP, SSE and ``.jsonl`` recordings all arrive as chunks that
    do not respect line ends. A feed that never sends a newline must not make
    the console buffer without limit, so a line longer than ``max_line`` is
    dropped as it streams in and reported once as an oversized line (its
    first bytes kept for the excerpt). Accepts ``\\n``, ``\\r\\n`` and,
    with ``bare_cr=True`` (SSE), a lone ``\\r`` as line ends.
    """

    def __init__(self, max_line: int, *, bare_cr: bool = False) -> None:
        self.max_line = max_line
        self.bare_cr = bare_cr
        self._buf = bytearray()
        self._overflow: bytes | None = None
        self._overflow_len = 0
        self._pending_cr = False

    def feed(self, chunk: bytes) -> list[tuple[bytes, int | None]]:
        """Lines completed by ``chunk``: ``(line, None)`` or, for a line that
        was too long, ``(first bytes, full length)``."""
        out: list[tuple[bytes, int | None]] = []
        if self.bare_cr:
            if self._pending_cr and chunk.startswith(b"\n"):
                chunk = chunk[1:]
            self._pending_cr = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            self._append(piece)
            if end < 0:
                return out
            out.append(self._take())
            start = end + 1

    def finish(self) -> tuple[bytes, int | None] | None:
        """The last line if the stream did not end with a newline."""
        if not self._buf and self._overflow is None:
            return None
        return self._take()

    def _append(self, piece: bytes) -> None:
        if self._overflow is not None:
            self._overflow_len += len(piece)
            return
        self._buf += piece
        if len(self._buf) > self.max_line:
            self._overflow = bytes(self._buf[:200])
            self._overflow_len = len(self._buf)
            self._buf.clear()

    def _take(self) -> tuple[bytes, int | None]:
        if self._overflow is not None:
            item = (self._overflow, self._overflow_len)
            self._overflow, self._overflow_len = None, 0
            return item
        line = bytes(self._buf)
        self._buf.clear()
        if line.endswith(b"\r"):
            line = line[:-1]
        return line, None
