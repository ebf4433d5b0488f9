"""Recordings on disk: the one reader (and the writer) of the protocol's file formats.

A recording is ``.jsonl`` (also ``.ndjson`` and ``.json``: a JSON event per
line) or ``.msgpack`` (also ``.mpk``: a stream of MessagePack maps), either
optionally ``.gz`` (concatenated gzip members included). Everything that reads
one comes here: the live console's :class:`~hitl_console.feeds.file.FileSource`
(paced replay) through :func:`iter_records`, and the headless commands
(``analyze``, ``report``, ``calibrate``, ``review``, ``check-feed``) through
:func:`read_events`, which streams validated events of one or several files,
merged by time, without holding the files in memory.

Bad input stays where it is: a bad line or record is a rejected frame with
its line (record) number and reading goes on; a truncated ``.gz`` or a corrupt
MessagePack stream gives everything readable, then a rejected frame (headless)
or :class:`~hitl_console.feeds.base.FeedFailed` (a replay) that says where.
"""

from __future__ import annotations

import gzip
import heapq
import json
import os
import zlib
from contextlib import closing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import msgpack
import pydantic_core

from hitl_console.feeds.base import FeedFailed, Frame, LineSplitter
from hitl_console.protocol.decode import MAX_FRAME_BYTES, Decoded, RejectedFrame, decode_json, decode_object, excerpt
from hitl_console.protocol.events import Event

__all__ = [
    "FORMATS",
    "Recording",
    "RecordingError",
    "RecordingStats",
    "RecordingWriter",
    "describe_rejected",
    "iter_records",
    "parsed",
    "read_events",
    "read_recording",
    "read_recordings",
    "recording_format",
]

CHUNK = 64 * 1024
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".msgpack": "msgpack", ".mpk": "msgpack"}
MAX_REJECTED_KEPT = 1000
"""Rejected frames kept for the report (all are counted): a file of bad lines
must not fill memory."""


class RecordingError(FeedFailed, ValueError):
    """A recording that cannot be read at all: missing, a directory, unreadable,
    or not named as a recording. (A ``FeedFailed`` for the feed client; a
    ``ValueError`` for configuration checks.)"""


def recording_format(path: str | os.PathLike[str]) -> tuple[str, bool]:
    """``("jsonl" | "msgpack", gzipped)`` from the file name; ``RecordingError`` otherwise."""
    name = Path(path).name.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    suffix = Path(name).suffix
    if suffix not in FORMATS:
        raise RecordingError(
            f"{path}: unsupported recording format {suffix or '(no extension)'!r}; "
            "use .jsonl or .msgpack, optionally ending in .gz"
        )
    return FORMATS[suffix], gz


# ---------------------------------------------------------------- records


@dataclass(slots=True)
class Record:
    number: int
    """Line number (jsonl) or record number (msgpack), from 1."""
    frame: Frame | None
    """None for a blank line."""
    obj: Any = None
    """The parsed value when it parsed (for pacing and counting)."""


def _chunks(fh: IO[bytes], gz: bool, name: str, position: list[int]) -> Iterator[bytes]:
    """Decompressed chunks; ``position[0]`` follows the bytes read from disk.

    Decompressing by hand (rather than ``gzip.open``) lets a truncated file
    deliver every complete record before the error, and handles
    concatenated gzip members.
    """
    inflater = zlib.decompressobj(wbits=31) if gz else None
    fed = False
    # read1: what is there, up to CHUNK (a pipe or a growing file gives its
    # first records at once instead of after a full chunk)
    read = getattr(fh, "read1", fh.read)
    while True:
        try:
            raw = read(CHUNK)
        except OSError as error:
            raise FeedFailed(f"{name}: cannot read: {error.strerror or error}") from None
        if not raw:
            break
        position[0] += len(raw)
        if inflater is None:
            yield raw
            continue
        fed = True
        data = raw
        while data:
            try:
                out = inflater.decompress(data)
            except zlib.error as error:
                raise FeedFailed(f"{name}: corrupt gzip data near byte {position[0]}: {error}") from None
            if out:
                yield out
            if inflater.eof:
                data = inflater.unused_data
                inflater = zlib.decompressobj(wbits=31)
                fed = bool(data)
            else:
                data = b""
    if inflater is not None and fed and not inflater.eof:
        tail = inflater.flush()
        if tail:
            yield tail
        raise EOFError("compressed file ended before the end-of-stream marker was reached")


def _iter_lines(fh: IO[bytes], gz: bool, name: str, position: list[int]) -> Iterator[tuple[int, bytes, RejectedFrame | None]]:
    """``(line number, line, None)`` per line, or ``(number, first bytes, rejected)``
    for a line that is too long or cut off by a truncated file (then FeedFailed)."""
    splitter = LineSplitter(MAX_FRAME_BYTES)
    number = 0
    try:
        for chunk in _chunks(fh, gz, name, position):
            for line, size in splitter.feed(chunk):
                number += 1
                if size is None:
                    yield number, line, None
                else:
                    yield number, line, RejectedFrame(f"line too large ({size} bytes)", excerpt(line), line=number)
    except EOFError as error:
        last = splitter.finish()
        if last is not None:  # the partial last line is unusable; say so
            number += 1
            yield number, last[0], RejectedFrame("incomplete last line (file truncated)", excerpt(last[0]), line=number)
        raise FeedFailed(f"{name}: truncated gzip file ({error}); replayed what was readable") from None
    last = splitter.finish()
    if last is not None:
        line, size = last
        number += 1
        if size is None:
            yield number, line, None
        else:
            yield number, line, RejectedFrame(f"line too large ({size} bytes)", excerpt(line), line=number)


def _iter_jsonl(fh: IO[bytes], gz: bool, name: str, position: list[int]) -> Iterator[Record]:
    """Lines as ``json`` frames, unparsed: the headless commands decode them in
    one step (``decode_json``); a replay parses them for pacing (:func:`parsed`)."""
    for number, line, rejected in _iter_lines(fh, gz, name, position):
        if rejected is not None:
            yield Record(number, Frame(rejected, "rejected", line=number))
        elif not line or line.isspace():
            yield Record(number, None)
        else:
            yield Record(number, Frame(line, "json", line=number))


def parsed(record: Record) -> Record:
    """``record`` with its value parsed (``obj``) when it is a JSON line that
    parses, its frame then an ``object`` one; otherwise unchanged (the
    decoder says what is wrong with a line that does not parse)."""
    frame = record.frame
    if frame is None or frame.kind != "json" or record.obj is not None:
        return record
    try:
        obj = pydantic_core.from_json(frame.data)  # type: ignore[arg-type]
    except ValueError:
        return record
    return Record(record.number, Frame(obj, "object", line=record.number), obj)


_MSGPACK_MAPS = frozenset(range(0x80, 0x90)) | {0xDE, 0xDF}
"""First bytes of a MessagePack map (fixmap, map 16, map 32): how every event starts."""


def _refuse_text(head: bytes, name: str) -> None:
    """Stop at once, with one message, when a file named ``.msgpack`` holds text: read
    as MessagePack, every ASCII byte is a small integer, and each would be refused
    on its own ("not a JSON object", once per byte)."""
    if not head or head[0] in _MSGPACK_MAPS:
        return
    sample = head[:4096]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(sample) - 4:  # not just a character cut at the sample's end
            return
        text = sample[: error.start].decode("utf-8")
    if not text or any(not (c.isprintable() or c in "\t\r\n") for c in text):
        return
    hint = "JSON lines? name it .jsonl" if text.lstrip().startswith(("{", "[")) else "not MessagePack"
    raise FeedFailed(f"{name}: named as MessagePack but holds text ({hint}); starts {text[:40]!r}")


def _iter_msgpack(fh: IO[bytes], gz: bool, name: str, position: list[int]) -> Iterator[Record]:
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=8 * MAX_FRAME_BYTES)
    number = 0
    fed = 0
    consumed = 0

    def drain() -> Iterator[Record]:
        nonlocal number, consumed
        while True:
            try:
                obj = unpacker.unpack()
            except msgpack.OutOfData:
                return
            except Exception as error:  # a corrupt stream: there is no way to find the next record
                rejected = RejectedFrame(f"malformed MessagePack: {type(error).__name__}: {error}", "", line=number + 1)
                yield Record(number + 1, Frame(rejected, "rejected", line=number + 1))
                raise FeedFailed(
                    f"{name}: corrupt MessagePack at record {number + 1}; stopped after {number} records"
                ) from None
            number += 1
            size = unpacker.tell() - consumed
            consumed = unpacker.tell()
            if size > MAX_FRAME_BYTES:
                rejected = RejectedFrame(f"record too large ({size} bytes)", excerpt(obj), line=number)
                yield Record(number, Frame(rejected, "rejected", line=number))
            else:
                yield Record(number, Frame(obj, "object", line=number), obj)

    truncated_gz: EOFError | None = None
    try:
        for chunk in _chunks(fh, gz, name, position):
            if not fed:
                _refuse_text(chunk, name)
            try:
                unpacker.feed(chunk)
            except msgpack.BufferFull:
                raise FeedFailed(f"{name}: record {number + 1} is larger than {8 * MAX_FRAME_BYTES} bytes") from None
            fed += len(chunk)
            yield from drain()
    except EOFError as error:
        truncated_gz = error
        yield from drain()
    if truncated_gz is not None:
        raise FeedFailed(f"{name}: truncated gzip file ({truncated_gz}); replayed what was readable")
    if unpacker.tell() < fed:
        raise FeedFailed(f"{name}: ends in the middle of record {number + 1} (truncated file)")


def _open(path: Path) -> tuple[IO[bytes], str, bool]:
    kind, gz = recording_format(path)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - the caller closes it
    except FileNotFoundError:
        raise RecordingError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise RecordingError(f"{path}: is a directory, not a recording") from None
    except OSError as error:
        raise RecordingError(f"{path}: cannot open: {error.strerror or error}") from None
    return fh, kind, gz


def iter_records(path: Path, position: list[int] | None = None) -> Iterator[Record]:
    """Every record of a recording, in order, not validated: the one reader of
    the file formats, for a replay (``FileSource``) and the headless commands
    (:func:`read_events`) alike. Raises ``RecordingError`` when the file cannot
    be opened. At a break (a truncated or corrupt ``.gz``, a corrupt
    MessagePack stream, a read error) everything readable comes first, then
    ``FeedFailed`` saying where (the feed's state shows it; the headless
    commands get the same words as a rejected frame, ``unreadable file
    data: ...``, and go on with the other files). JSON lines come parsed (:func:`parsed`);
    the headless commands take them unparsed (``_records``) and decode them in one step."""
    fh, kind, gz = _open(Path(path))
    return _parsed_records(_records(Path(path), fh, kind, gz, position if position is not None else [0], mark_break=False))


def _parsed_records(records: Iterator[Record]) -> Iterator[Record]:
    with closing(records):
        for record in records:
            yield parsed(record)


def _records(path: Path, fh: IO[bytes], kind: str, gz: bool, position: list[int], *, mark_break: bool = True) -> Iterator[Record]:
    """The records of one opened file; ``mark_break``: a break is also a rejected record."""
    reader = _iter_jsonl if kind == "jsonl" else _iter_msgpack
    number = 0
    last_rejected = False
    with fh:
        try:
            for record in reader(fh, gz, str(path), position):
                number = record.number
                last_rejected = record.frame is not None and record.frame.kind == "rejected"
                yield record
        except (FeedFailed, OSError, EOFError, gzip.BadGzipFile) as error:
            message = str(error) if isinstance(error, FeedFailed) else f"{path}: cannot read: {error}"
            if mark_break and not last_rejected:  # a reader's own rejected record (a cut last line) already says where
                number += 1
                rejected = RejectedFrame(f"unreadable file data: {message}", "", path.name, line=number)
                yield Record(number, Frame(rejected, "rejected", line=number))
            raise FeedFailed(message) from None


# ---------------------------------------------------------------- events, headless


@dataclass(slots=True)
class RecordingStats:
    """What reading held besides events (filled in while the events stream)."""

    paths: list[str] = field(default_factory=list)
    events: int = 0
    rejected: list[RejectedFrame] = field(default_factory=list)
    """The first ``MAX_REJECTED_KEPT`` rejected records; ``rejected_count`` counts all
    rejected elements (a record's ``count`` says how many it stands for)."""
    rejected_count: int = 0
    unknown: int = 0
    """Frames of an event type this console does not know (skipped, per the protocol)."""
    heartbeats: int = 0
    out_of_order: int = 0
    """Events earlier than the one before them in their file (passed on in file order)."""

    def reject(self, frame: RejectedFrame) -> None:
        self.rejected_count += frame.count  # one record may stand for many elements of a frame
        if len(self.rejected) < MAX_REJECTED_KEPT:
            self.rejected.append(frame)


def _file_events(path: Path, fh: IO[bytes], kind: str, gz: bool, stats: RecordingStats) -> Iterator[Event]:
    """The events of one opened file, validated, in file order (the records of
    :func:`iter_records`, decoded; a break is one rejected frame, and the
    other files go on)."""
    name = path.name
    out = Decoded()
    events = out.events
    last_ts = float("-inf")
    try:
        for record in _records(path, fh, kind, gz, [0]):
            frame = record.frame
            if frame is None:
                continue
            if frame.kind == "rejected":
                rejected = frame.data
                rejected.feed = name  # type: ignore[union-attr]
                stats.reject(rejected)  # type: ignore[arg-type]
                continue
            if frame.kind == "json":
                decode_json(frame.data, name, out)  # type: ignore[arg-type]
            else:
                decode_object(frame.data, name, out)
            if events:
                for event in events:
                    if event.ts < last_ts:
                        stats.out_of_order += 1
                    else:
                        last_ts = event.ts
                    yield event
                events.clear()
            if out.rejected or out.unknown or out.heartbeats or out.acks:
                for rejected in out.rejected:
                    rejected.line = record.number
                    stats.reject(rejected)
                out.rejected.clear()
                stats.unknown += len(out.unknown)
                out.unknown.clear()
                stats.heartbeats += len(out.heartbeats)
                out.heartbeats.clear()
                out.acks.clear()
    except FeedFailed:
        pass  # counted: the rejected record before it says where


def read_events(paths: Sequence[str | Path], stats: RecordingStats | None = None) -> Iterator[Event]:
    """The validated events of one or several recordings, merged by event time
    (equal times keep file order), streamed: memory holds one chunk per file.

    Every file is opened before the first event is yielded, so a missing or
    misnamed file raises ``RecordingError`` before any work is done. Each file
    is expected in time order (recordings are written as events arrive); an
    event earlier than its predecessor is passed on where it is and counted in
    ``stats.out_of_order``.
    """
    stats = stats if stats is not None else RecordingStats()
    opened: list[tuple[Path, IO[bytes], str, bool]] = []
    try:
        for p in paths:
            path = Path(p)
            if path.is_dir():
                raise RecordingError(f"{path}: is a directory, not a recording")
            fh, kind, gz = _open(path)
            opened.append((path, fh, kind, gz))
            stats.paths.append(str(path))
    except BaseException:
        for _path, fh, _kind, _gz in opened:
            fh.close()
        raise
    return _counted(_merged(opened, stats), stats)


def _merged(opened: list[tuple[Path, IO[bytes], str, bool]], stats: RecordingStats) -> Iterator[Event]:
    streams = [_file_events(path, fh, kind, gz, stats) for path, fh, kind, gz in opened]
    if len(streams) == 1:
        return streams[0]
    # Keyed on (time, file index): ties keep file order, and events are never compared.
    keyed = [((event.ts, f, event) for event in stream) for f, stream in enumerate(streams)]
    return (item[2] for item in heapq.merge(*keyed, key=_key))


def _key(item: tuple[float, int, Event]) -> tuple[float, int]:
    return item[0], item[1]


def _counted(events: Iterator[Event], stats: RecordingStats) -> Iterator[Event]:
    n = 0
    try:
        for event in events:
            n += 1
            yield event
    finally:
        stats.events += n


@dataclass(slots=True)
class Recording:
    """A small recording held in memory (tests, tools): its events and what was rejected."""

    events: list[Event] = field(default_factory=list)
    rejected: list[RejectedFrame] = field(default_factory=list)
    unknown: int = 0
    heartbeats: int = 0
    paths: list[str] = field(default_factory=list)


def read_recordings(paths: Sequence[str | Path]) -> Recording:
    """``read_events`` collected into a list: for small recordings only."""
    stats = RecordingStats()
    events = list(read_events(paths, stats))
    return Recording(events, stats.rejected, stats.unknown, stats.heartbeats, stats.paths)


def read_recording(path: str | Path) -> Recording:
    """One small file, in memory (see ``read_events`` for anything large)."""
    return read_recordings([path])


def describe_rejected(stats: RecordingStats | Recording, limit: int = 3) -> str:
    """One line for a warning: the count and the first reasons."""
    n = stats.rejected_count if isinstance(stats, RecordingStats) else sum(r.count for r in stats.rejected)
    first = "; ".join(excerpt(r.describe(), 120) for r in stats.rejected[:limit])
    return f"{n} rejected frame(s); first: {first}" if n else "no rejected frames"


# ---------------------------------------------------------------- writing


class RecordingWriter:
    """Append events to a recording in the format its name says.

    Written as they come and flushed, so a recording interrupted by a crash
    or Ctrl-C keeps what it had (a ``.gz`` is closed properly on the normal
    and the Ctrl-C paths).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.format, self.gzipped = recording_format(self.path)
        raw: IO[bytes] = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._fh: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) if self.gzipped else raw
        self._raw = raw
        self._packer = msgpack.Packer(use_bin_type=True)
        self.count = 0

    def write(self, event: dict[str, Any]) -> None:
        if self.format == "jsonl":
            self._fh.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
        else:
            self._fh.write(self._packer.pack(event))
        self.count += 1

    def flush(self) -> None:
        self._fh.flush()
        if self._fh is not self._raw:
            self._raw.flush()

    def close(self) -> None:
        try:
            self._fh.close()
        finally:
            if self._fh is not self._raw:
                self._raw.close()

    def __enter__(self) -> "RecordingWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
