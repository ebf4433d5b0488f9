"""Reading recordings synchronously, for the headless commands.

The live console replays files through ``hitl_console.feeds.file`` (paced,
asynchronous). ``analyze``, ``report`` and ``calibrate`` only want every
event of a file as fast as possible, so this reads it in one go: MessagePack
through ``msgpack.Unpacker`` (a stream of maps), JSON lines one by one, both
optionally gzip-compressed, each object validated by
``hitl_console.protocol.decode.decode_object``. Frames that fail validation
are kept as rejected frames (with the reason) and reading goes on; a
truncated or corrupt MessagePack tail ends the file with one rejected frame.
"""

from __future__ import annotations

import gzip
import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

import msgpack

from hitl_console.protocol.decode import Decoded, RejectedFrame, decode_json, decode_object, excerpt
from hitl_console.protocol.events import Event

if TYPE_CHECKING:
    from hitl_console.engine.engine import SignalEngine

__all__ = [
    "RecordingError",
    "Recording",
    "read_recording",
    "read_recordings",
    "open_recording",
    "describe_rejected",
    "replay_events",
    "replay_feed_events",
]

TICK_EVERY_S = 1.0
"""Recording seconds between engine ticks when a recording is replayed headless."""

MAX_BUFFER = 1 << 20
"""Largest single MessagePack object accepted (the protocol's frame limit)."""


class RecordingError(Exception):
    """A recording that cannot be read at all (missing, unreadable, unknown format)."""


@dataclass(slots=True)
class Recording:
    """What one or several files held."""

    events: list[Event] = field(default_factory=list)
    rejected: list[RejectedFrame] = field(default_factory=list)
    unknown: int = 0
    """Frames of an event type this console does not know (skipped, per the protocol)."""
    heartbeats: int = 0
    paths: list[str] = field(default_factory=list)


def _format(path: Path) -> tuple[str, bool]:
    name = path.name.lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[:-3]
    if name.endswith(".msgpack") or name.endswith(".mpk"):
        return "msgpack", compressed
    if name.endswith(".jsonl") or name.endswith(".ndjson") or name.endswith(".json"):
        return "jsonl", compressed
    raise RecordingError(f"{path}: unknown recording format (expected .jsonl or .msgpack, optionally .gz)")


def open_recording(path: str | Path) -> tuple[IO[bytes], str]:
    """The file opened for binary reading (decompressed) and its format name."""
    p = Path(path)
    if not p.exists():
        raise RecordingError(f"{p}: no such file")
    if p.is_dir():
        raise RecordingError(f"{p}: is a directory, not a recording")
    fmt, compressed = _format(p)
    try:
        raw: IO[bytes] = open(p, "rb")
    except OSError as error:
        raise RecordingError(f"{p}: cannot read: {error.strerror or error}") from None
    if compressed:
        return gzip.GzipFile(fileobj=raw, mode="rb"), fmt  # type: ignore[return-value]
    return raw, fmt


def read_recording(path: str | Path, feed: str | None = None) -> Recording:
    """Every event of one file, in file order, plus what was rejected.

    ``feed`` names the source in rejected frames (default: the file name).
    Raises ``RecordingError`` when the file is missing or not a recording.
    """
    p = Path(path)
    feed = p.name if feed is None else feed
    stream, fmt = open_recording(p)
    out = Decoded()
    try:
        with stream:
            if fmt == "msgpack":
                _read_msgpack(stream, feed, out)
            else:
                _read_jsonl(stream, feed, out)
    except (OSError, EOFError, gzip.BadGzipFile) as error:  # truncated or corrupt gzip
        out.rejected.append(RejectedFrame(f"unreadable file data: {error}", "", feed))
    return Recording(out.events, out.rejected, len(out.unknown), len(out.heartbeats), [str(p)])


def _read_msgpack(stream: IO[bytes], feed: str, out: Decoded) -> None:
    unpacker = msgpack.Unpacker(stream, raw=False, strict_map_key=False, max_buffer_size=MAX_BUFFER)
    while True:
        try:
            obj = next(unpacker)
        except StopIteration:
            return
        except Exception as error:  # msgpack raises several types on corrupt data; nothing after it is trustworthy
            out.rejected.append(RejectedFrame(f"malformed MessagePack: {type(error).__name__}: {error}", "", feed))
            return
        decode_object(obj, feed, out)


def _read_jsonl(stream: IO[bytes], feed: str, out: Decoded) -> None:
    for number, line in enumerate(stream, 1):
        line = line.strip()
        if not line:
            continue
        before = len(out.rejected)
        decode_json(line, feed, out)
        for frame in out.rejected[before:]:
            frame.excerpt = f"line {number}: {frame.excerpt}" if frame.excerpt else f"line {number}"


def read_recordings(paths: Sequence[str | Path]) -> Recording:
    """Several files merged by event time (stable: equal times keep file order).

    Each file is read whole first, so a missing file is reported before any
    work is done.
    """
    parts = [read_recording(p) for p in paths]
    merged = Recording()
    for part in parts:
        merged.rejected.extend(part.rejected)
        merged.unknown += part.unknown
        merged.heartbeats += part.heartbeats
        merged.paths.extend(part.paths)
    if len(parts) == 1:
        merged.events = parts[0].events
        if not _sorted(merged.events):
            merged.events.sort(key=_ts)  # stable: equal times keep file order
        return merged
    streams = [
        part.events if _sorted(part.events) else sorted(part.events, key=_ts) for part in parts
    ]
    # Key on (time, file index): ties keep file order, and events are never compared.
    keyed = [[(e.ts, f) for e in events] for f, events in enumerate(streams)]
    order = heapq.merge(*(zip(keys, events) for keys, events in zip(keyed, streams)), key=lambda pair: pair[0])
    merged.events = [event for _key, event in order]
    return merged


def _ts(event: Event) -> float:
    return event.ts


def _sorted(events: list[Event]) -> bool:
    return all(events[i].ts <= events[i + 1].ts for i in range(len(events) - 1))


def describe_rejected(recording: Recording, limit: int = 3) -> str:
    """One line for a warning: the count and the first reasons."""
    n = len(recording.rejected)
    first = "; ".join(excerpt(r.describe(), 120) for r in recording.rejected[:limit])
    return f"{n} rejected frame(s); first: {first}" if n else "no rejected frames"


def replay_events(engine: "SignalEngine", events: Iterable[Event], feed: str = "") -> None:
    """Feed ``events`` (in time order) to ``engine``, ticking it on their clock.

    Every headless command (``analyze``, ``report``, ``calibrate``, ``review``)
    replays through here, so the time-based rules (approvals expiring, no
    progress for N seconds) give the same answers as in the live console.
    """
    replay_feed_events(engine, ((feed, event) for event in events))


def replay_feed_events(engine: "SignalEngine", pairs: Iterable[tuple[str, Event]]) -> None:
    """``replay_events`` for (feed, event) pairs, as the journal keeps them: a
    conversation id that two feeds share stays two conversations (``id@feed``),
    as it was in the live console."""
    from hitl_console.engine.engine import tune_gc

    tune_gc()  # the recording is loaded: freeze it out of the collector's scans
    next_tick: float | None = None
    last_ts: float | None = None
    for feed, event in pairs:
        ts = event.ts
        if next_tick is None:
            next_tick = ts + TICK_EVERY_S
        elif ts >= next_tick:
            engine.tick(ts)
            next_tick = ts + TICK_EVERY_S
        engine.apply(event, feed)
        last_ts = ts
    if last_ts is not None:
        engine.tick(last_ts)
