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
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from hitl_console.protocol.decode import RejectedFrame
from hitl_console.protocol.events import Ack, AnyCommand, Event


class ConnectionState(enum.Enum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    REPLAYING = "replaying"
    PAUSED = "paused"
    FINISHED = "finished"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(slots=True)
class Frame:
    """One raw frame as it came off the transport.

    ``kind`` says how to decode it: ``"json"`` (one JSON value: an event or an
    array), ``"msgpack"`` (one MessagePack value) or ``"object"`` (already
    parsed, e.g. a record from a MessagePack stream).
    """

    data: str | bytes | object
    kind: str = "json"


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

    async def close(self) -> None:  # pragma: no cover - default
        """Release the connection."""


@dataclass(slots=True)
class FeedOutput:
    """What the client hands the rest of the console, one call per decoded frame."""

    feed: str
    events: list[Event]
    rejected: list[RejectedFrame]
