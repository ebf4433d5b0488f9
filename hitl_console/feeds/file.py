"""FileSource: replay a recording (read by ``hitl_console.feeds.recording``,
which also holds ``RecordingWriter``).

Recordings are ``.jsonl`` (a JSON event per line) or ``.msgpack`` (a stream
of MessagePack maps), either optionally ``.gz``. A replay runs at the
recorded pace (the gaps between events' ``ts``) divided by ``speed``, or as
fast as possible, and can be paused, stepped one event at a time and sped up
while it runs: what an operator needs to study an incident or to train.

A recording cannot answer commands, so the source answers them itself (the
protocol's "answered locally"): it acks, refuses a takeover of a
conversation another agent holds, and synthesizes the events that show the
effect. Those carry seq numbers above the highest seq in the whole file, so
they never collide with the recording's own, and they flow through the
client like any other frame (marked ``local`` so they do not move the
duplicate filter's cursor, which must keep following the recording).

Bad input stays local to where it is: a bad line is a rejected frame with
its line number and the replay goes on; a truncated ``.gz`` or a corrupt
MessagePack stream delivers everything readable and then fails with a
message that says where.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import os
import time
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from hitl_console.feeds.base import FeedFailed, FeedSource, Frame, NotConnected
from hitl_console.feeds.recording import RecordingWriter, iter_records, recording_format
from hitl_console.protocol.events import (
    EVENT_TYPES,
    Ack,
    AnyCommand,
    ApprovalRequested,
    ApprovalResolved,
    ConversationEnded,
    Event,
    HumanJoined,
    HumanLeft,
)

__all__ = ["FileSource", "RecordingWriter", "file_path", "iter_records", "recording_format"]

log = logging.getLogger(__name__)

PRESCAN_WAIT_BYTES = 16 * 1024 * 1024
"""Files up to this size are counted before the replay starts (exact progress
from the first event); bigger ones are counted in a thread while they play."""
YIELD_EVERY = 200
"""In fast mode, give the event loop a turn after this many records."""

def file_path(url: str) -> Path:
    """The path of a ``file://`` URL or a plain path."""
    if url.startswith("file://"):
        return Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path))
    return Path(url).expanduser()


def _prescan(path: Path) -> tuple[int, int | None]:
    """How many records the file holds and its highest seq (what is readable)."""
    total = 0
    top: int | None = None
    try:
        for record in iter_records(path):
            if record.frame is None:
                continue
            total += 1
            for item in _items(record.obj):
                seq = item.get("seq")
                if isinstance(seq, int) and not isinstance(seq, bool) and (top is None or seq > top):
                    top = seq
    except FeedFailed:
        pass  # the replay itself reports the break, after delivering what is readable
    except Exception:  # counting is an aid (progress, local seqs); it must never stop a replay
        log.exception("counting the records of %s failed", path)
    return total, top


def _items(obj: Any) -> list[dict[str, Any]]:
    if isinstance(obj, dict):
        return [obj]
    if isinstance(obj, list):
        return [item for item in obj if isinstance(item, dict)]
    return []


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


# ---------------------------------------------------------------- the source


class FileSource(FeedSource):
    """Replay one recording. See the module docstring."""

    replay = True
    resumable = False

    def __init__(self, path: str | os.PathLike[str], *, speed: float = 1.0, fast: bool = False) -> None:
        self.path = file_path(os.fspath(path))
        self.format, self.gzipped = recording_format(self.path)
        self.url = str(self.path)
        if not speed > 0:
            raise ValueError(f"replay speed must be above 0 (got {speed}); use fast for as fast as possible")
        self._speed = float(speed)
        self._fast = bool(fast)
        self._paused = False
        self._steps = 0
        self._changed = asyncio.Event()
        self._injected: collections.deque[Frame] = collections.deque()
        self._active = False
        self._closed = False
        self._size = 0
        self._position = [0]
        self._read = 0
        self._total: int | None = None
        self._max_seq: int | None = None
        self._prescan: asyncio.Future[tuple[int, int | None]] | None = None
        self._local_seq = 0
        self._last_ts: float | None = None
        self._released_at = 0.0
        self._finished = False
        self._seen_max = 0
        # What the local control answers need to know, from the events that flowed.
        self._known: set[str] = set()
        self._holders: dict[str, str] = {}
        self._ended: set[str] = set()
        self._approvals: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"FileSource({self.url!r}, speed={self._speed:g}, fast={self._fast})"

    # ------------------------------------------------------------ controls

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if not value > 0 or not math.isfinite(value):
            raise ValueError(f"replay speed must be a positive number (got {value})")
        self._speed = float(value)
        self._changed.set()

    @property
    def fast(self) -> bool:
        return self._fast

    @fast.setter
    def fast(self, value: bool) -> None:
        self._fast = bool(value)
        self._changed.set()

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """Hold the replay before the next event (commands are still answered)."""
        self._paused = True
        self._changed.set()

    def resume(self) -> None:
        self._paused = False
        self._steps = 0
        self._changed.set()

    def step(self) -> None:
        """Release exactly one more event (pausing first if the replay runs).

        Bad lines, heartbeats and unknown types in front of it pass with it, so
        a step always shows the operator something."""
        self._paused = True
        self._steps += 1
        self._changed.set()

    @property
    def progress(self) -> float | None:
        if self._finished:
            return 1.0
        if self._total:
            return min(1.0, self._read / self._total)
        if self._total == 0:
            return 1.0 if self._read else 0.0
        if self._size:
            return min(1.0, self._position[0] / self._size)
        return 0.0

    @property
    def events_read(self) -> int:
        """Records consumed so far (released or skipped by ``since``)."""
        return self._read

    @property
    def total(self) -> int | None:
        """Records in the file, once counted."""
        return self._total

    # ------------------------------------------------------------ frames

    async def frames(self, since: int | None) -> AsyncIterator[Frame]:
        self._closed = False
        self._finished = False
        self._position = [0]
        self._read = 0
        self._last_ts = None
        try:
            self._size = self.path.stat().st_size
        except FileNotFoundError:
            raise FeedFailed(f"{self.path}: no such file") from None
        except OSError as error:
            raise FeedFailed(f"{self.path}: cannot read: {error.strerror or error}") from None
        if self.path.is_dir():
            raise FeedFailed(f"{self.path}: is a directory, not a recording")
        if self._prescan is None:
            self._prescan = asyncio.ensure_future(asyncio.to_thread(_prescan, self.path))
            self._prescan.add_done_callback(self._counted)
        if self._size <= PRESCAN_WAIT_BYTES:
            await asyncio.shield(self._prescan)
        records = iter_records(self.path, self._position)
        self._active = True
        loop = asyncio.get_running_loop()
        try:
            yield Frame(None, "open")
            for record in records:
                if self._closed:
                    return
                if record.frame is None:
                    self._read += 1
                    continue
                items = _items(record.obj)
                if since is not None and items and all(_skip(item, since) for item in items):
                    self._read += 1
                    continue
                for item in items:
                    seq = item.get("seq")
                    if isinstance(seq, int) and not isinstance(seq, bool) and seq > self._seen_max:
                        self._seen_max = seq
                is_event = any(isinstance(item.get("type"), str) and item["type"] in EVENT_TYPES for item in items)
                ts = next((t for t in (_number(item.get("ts")) for item in items) if t is not None), None)
                async for injected in self._wait_turn(ts, is_event, loop):
                    yield injected
                if self._closed:
                    return
                if ts is not None:
                    self._last_ts = ts
                self._released_at = loop.time()
                self._read += 1
                yield record.frame
                if self._fast and self._read % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
            while self._injected:
                yield self._injected.popleft()
            self._finished = True
        finally:
            self._active = False
            records.close()

    def _counted(self, future: asyncio.Future[tuple[int, int | None]]) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        self._total, self._max_seq = future.result()

    async def _wait_turn(self, ts: float | None, is_event: bool, loop: asyncio.AbstractEventLoop) -> AsyncIterator[Frame]:
        """Wait until the next record may go, yielding local frames meanwhile.

        Waits on ``_changed`` rather than sleeping the whole gap so that a
        pause, a new speed, a step or a command takes effect at once.
        """
        remaining = 0.0 if ts is None or self._last_ts is None else max(0.0, ts - self._last_ts)
        while not self._closed:
            while self._injected:
                yield self._injected.popleft()
            if self._paused:
                if not is_event:
                    return  # only events are held; what precedes one goes with the step
                if self._steps > 0:
                    self._steps -= 1
                    return
                await self._wait_change(None)
                continue
            if self._fast or remaining <= 0:
                return
            speed = self._speed
            started = loop.time()
            changed = await self._wait_change(remaining / speed)
            remaining -= (loop.time() - started) * speed
            if not changed:
                return

    async def _wait_change(self, timeout: float | None) -> bool:
        self._changed.clear()
        try:
            await asyncio.wait_for(self._changed.wait(), timeout=timeout)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        self._closed = True
        self._changed.set()
        if self._prescan is not None and not self._prescan.done():
            self._prescan.cancel()

    # ------------------------------------------------------------ local control

    def observe(self, event: Event) -> None:
        cid = event.conversation_id
        self._known.add(cid)
        if isinstance(event, HumanJoined):
            self._holders[cid] = event.agent
        elif isinstance(event, HumanLeft):
            if self._holders.get(cid) == event.agent:
                del self._holders[cid]
        elif isinstance(event, ConversationEnded):
            self._ended.add(cid)
            self._holders.pop(cid, None)
        elif isinstance(event, ApprovalRequested):
            self._approvals[event.approval_id] = cid
        elif isinstance(event, ApprovalResolved):
            self._approvals.pop(event.approval_id, None)

    async def send(self, command: AnyCommand) -> Ack | None:
        """Answer ``command`` as a feed would, and queue the events that show it."""
        if not self._active:
            raise NotConnected(f"{self.url}: the replay is not running")
        if self._prescan is not None and not self._prescan.done():
            await asyncio.shield(self._prescan)  # the local seq numbers must start above the file's
        error = self._refusal(command)
        if error is not None:
            return Ack(type="ack", request_id=command.request_id, ok=False, error=error)
        cid, agent = command.conversation_id, command.agent
        if command.op == "takeover":
            if self._holders.get(cid) != agent:
                self._holders[cid] = agent
                self._inject("human.joined", cid, agent=agent)
        elif command.op == "send":
            self._inject("message", cid, role="human", text=command.text, author=agent)
        elif command.op == "release":
            del self._holders[cid]
            fields: dict[str, Any] = {"agent": agent, "back_to_ai": True}
            if command.note:
                fields["note"] = command.note
            self._inject("human.left", cid, **fields)
        elif command.op in ("approve", "deny"):
            self._approvals.pop(command.approval_id, None)
            fields = {"approval_id": command.approval_id, "decision": "approved" if command.op == "approve" else "denied", "by": agent}
            if command.note:
                fields["note"] = command.note
            self._inject("approval.resolved", cid, **fields)
        elif command.op == "end":
            self._ended.add(cid)
            self._holders.pop(cid, None)
            self._inject("conversation.ended", cid, outcome=command.outcome, resolved_by="human")
        return Ack(type="ack", request_id=command.request_id, ok=True)

    def _refusal(self, command: AnyCommand) -> str | None:
        cid, agent = command.conversation_id, command.agent
        if cid not in self._known:
            return f"unknown conversation {cid!r} (not seen in this replay yet)"
        if cid in self._ended:
            return f"conversation {cid} has ended"
        holder = self._holders.get(cid)
        if command.op in ("takeover", "send", "end") and holder is not None and holder != agent:
            return f"conversation {cid} is held by {holder}"
        if command.op == "release" and holder != agent:
            return f"conversation {cid} is held by {holder}" if holder else f"conversation {cid} is not held"
        if command.op in ("approve", "deny"):
            owner = self._approvals.get(command.approval_id)
            if owner != cid:
                return f"no pending approval {command.approval_id!r} in conversation {cid}"
        return None

    def _inject(self, kind: str, cid: str, **fields: Any) -> None:
        self._local_seq += 1
        base = max(self._max_seq or 0, self._seen_max)
        event = {"v": 1, "type": kind, "seq": base + self._local_seq, "ts": self._replay_now(), "conversation_id": cid, **fields}
        self._injected.append(Frame(event, "object", local=True))
        self._changed.set()

    def _replay_now(self) -> float:
        """The replay's clock: the last event's ts plus the replayed time since."""
        if self._last_ts is None:
            return time.time()
        if self._paused or self._fast:
            return self._last_ts
        loop = asyncio.get_running_loop()
        return self._last_ts + max(0.0, loop.time() - self._released_at) * self._speed


def _skip(item: dict[str, Any], since: int) -> bool:
    seq = item.get("seq")
    return isinstance(seq, int) and not isinstance(seq, bool) and seq <= since
