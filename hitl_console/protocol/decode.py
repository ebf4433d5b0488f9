"""Turn raw frames into validated events, never raising on what a feed sends.

Every transport hands its frames here: a WebSocket text or binary frame, an
NDJSON line, an SSE ``data:`` payload, a record of a recording. The result
sorts what arrived into events, heartbeats, acks, frames of an unknown type
(counted and skipped, as the protocol asks) and rejected frames (kept with
the reason so that an operator can see what the feed got wrong).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import msgpack
import pydantic_core
from pydantic import ValidationError

from hitl_console.protocol.events import (
    KNOWN_TYPES,
    SEQ_MAX,
    SEQ_MIN,
    Ack,
    Event,
    Heartbeat,
    WireFrame,
    wire_adapter,
)

MAX_FRAME_BYTES = 1 << 20
"""Frames above this size are refused unread: one MiB is far above any real event."""

EXCERPT_CHARS = 160

MAX_REJECTED_PER_FRAME = 20
"""Rejected elements of one array frame kept one by one; the rest are one record
that counts them. A 680 kB frame of 340,000 numbers took 6 s to decode (an
excerpt each) and 24 s to hand on, freezing the console, and wrote 26 MB of log."""


@dataclass(slots=True)
class RejectedFrame:
    """A frame or an element of a frame that did not validate, kept for inspection."""

    reason: str
    excerpt: str
    feed: str = ""
    received_at: float = field(default_factory=time.time)
    type: str | None = None
    seq: int | None = None
    conversation_id: str | None = None
    line: int | None = None
    """Line (``.jsonl``) or record (``.msgpack``) number in a recording, so the
    operator can find the bad frame in the file."""
    count: int = 1
    """How many rejected elements this record stands for (above
    :data:`MAX_REJECTED_PER_FRAME` in one frame, the rest share one record)."""

    def describe(self) -> str:
        at = f"line {self.line}: " if self.line is not None else ""
        if self.count > 1:
            at += f"{self.count} elements: "
        where = f" seq={self.seq}" if self.seq is not None else ""
        kind = f" {self.type}" if self.type else ""
        return f"{at}{self.reason}{kind}{where}: {self.excerpt}"


@dataclass(slots=True)
class Decoded:
    """What one frame held, sorted."""

    events: list[Event] = field(default_factory=list)
    heartbeats: list[Heartbeat] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    rejected: list[RejectedFrame] = field(default_factory=list)

    def add(self, frame: WireFrame) -> None:
        """File one valid frame under its kind."""
        if frame.type == "heartbeat":
            self.heartbeats.append(frame)  # type: ignore[arg-type]
        elif frame.type == "ack":
            self.acks.append(frame)  # type: ignore[arg-type]
        else:
            self.events.append(frame)  # type: ignore[arg-type]

    def extend(self, other: "Decoded") -> None:
        self.events.extend(other.events)
        self.heartbeats.extend(other.heartbeats)
        self.acks.extend(other.acks)
        self.unknown.extend(other.unknown)
        self.rejected.extend(other.rejected)


def excerpt(raw: Any, limit: int = EXCERPT_CHARS) -> str:
    """A short, printable rendering of a bad frame: safe to log and to show."""
    if isinstance(raw, (bytes, bytearray, memoryview)):
        raw = bytes(raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw[: limit // 2].hex(" ")
    elif isinstance(raw, str):
        text = raw
    else:  # a decoded value (MessagePack, or JSON of the wrong shape): shown as JSON, as the protocol writes it
        try:
            text = json.dumps(raw, ensure_ascii=False, default=repr)
        except (TypeError, ValueError):  # keys JSON cannot have, a cycle
            text = repr(raw)
    text = "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in text[: limit + 1])
    return text if len(text) <= limit else text[: limit - 1] + "\N{HORIZONTAL ELLIPSIS}"


_RANGES = {
    "ts": "ts is UNIX seconds from 1970-01-01 to 2100-01-01 UTC",
    "expires_ts": "expires_ts is UNIX seconds from 1970-01-01 to 2100-01-01 UTC",
    "seq": f"seq is an integer from {SEQ_MIN} to 2**53-1",
}
"""Why a bound exists, added to a rejection of it (the bounds are this console's,
documented in docs/protocol-extensions.md, so the integrator needs to be told)."""


def _reason(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False)[:3]:
        loc = ".".join(str(p) for p in item["loc"][1:] if p != "function-after") or "frame"
        hint = _RANGES.get(loc) if item["type"] in ("greater_than_equal", "greater_than", "less_than", "less_than_equal") else None
        parts.append(f"{loc}: {item['msg']}" + (f" ({hint})" if hint else ""))
    more = error.error_count() - len(parts)
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def decode_object(obj: Any, feed: str = "", out: Decoded | None = None) -> Decoded:
    """Validate an already-parsed JSON or MessagePack value (an object or an array)."""
    out = out if out is not None else Decoded()
    items = obj if isinstance(obj, list) else (obj,)
    kept = 0
    more: list[RejectedFrame] = []
    """Rejections beyond MAX_REJECTED_PER_FRAME: counted, not described one by one."""

    def reject(reason: str, item: Any, **where: Any) -> None:
        nonlocal kept
        if kept < MAX_REJECTED_PER_FRAME:
            kept += 1
            out.rejected.append(RejectedFrame(reason, excerpt(item), feed, **where))
        elif more:
            more[0].count += 1
        else:
            more.append(RejectedFrame(f"more rejected elements of this frame (the next was: {reason})", excerpt(item), feed, count=1))

    for item in items:
        if not isinstance(item, dict):
            reject("not a JSON object", item)
            continue
        kind = item.get("type")
        if not isinstance(kind, str):
            reject("missing or non-text 'type'", item)
            continue
        if kind not in KNOWN_TYPES:
            out.unknown.append(kind[:80])
            continue
        try:
            frame = wire_adapter.validate_python(item)
        except ValidationError as error:
            seq = item.get("seq")
            cid = item.get("conversation_id")
            reject(
                _reason(error),
                item,
                type=kind,
                # Only a seq that is itself valid is kept: 2**64 would overflow the journal's column.
                seq=seq if isinstance(seq, int) and not isinstance(seq, bool) and SEQ_MIN <= seq <= SEQ_MAX else None,
                conversation_id=cid if isinstance(cid, str) else None,
            )
            continue
        except (RecursionError, TypeError, ValueError) as error:  # pathological nesting
            reject(f"invalid value: {error}", item, type=kind)
            continue
        out.add(frame)
    out.rejected.extend(more)
    return out


def decode_json(data: str | bytes, feed: str = "", out: Decoded | None = None) -> Decoded:
    """One JSON text: a single event or an array of events."""
    out = out if out is not None else Decoded()
    if len(data) > MAX_FRAME_BYTES:
        out.rejected.append(RejectedFrame(f"frame too large ({len(data)} bytes)", excerpt(data[:200]), feed))
        return out
    try:
        # Fast path: one valid event, parsed and validated in one step by
        # pydantic-core (about a third of the cost of parsing, then validating
        # the parsed value). Anything else (an array, an unknown type, a bad
        # event) takes the careful path below, which says what is wrong.
        frame = wire_adapter.validate_json(data)
    except (ValidationError, ValueError, RecursionError):
        pass
    else:
        out.add(frame)
        return out
    try:
        obj = pydantic_core.from_json(data)
    except ValueError as error:
        out.rejected.append(RejectedFrame(f"malformed JSON: {error}", excerpt(data), feed))
        return out
    return decode_object(obj, feed, out)


def decode_msgpack(data: bytes, feed: str = "", out: Decoded | None = None) -> Decoded:
    """One MessagePack value: a single event map or an array of them."""
    out = out if out is not None else Decoded()
    if len(data) > MAX_FRAME_BYTES:
        out.rejected.append(RejectedFrame(f"frame too large ({len(data)} bytes)", excerpt(data[:200]), feed))
        return out
    try:
        obj = msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as error:  # msgpack raises a zoo of types on bad input
        out.rejected.append(RejectedFrame(f"malformed MessagePack: {type(error).__name__}: {error}", excerpt(data), feed))
        return out
    return decode_object(obj, feed, out)


def decode_frame(data: str | bytes, feed: str = "") -> Decoded:
    """A WebSocket frame: text is JSON, binary is MessagePack (the protocol's rule)."""
    if isinstance(data, str):
        return decode_json(data, feed)
    return decode_msgpack(data, feed)
