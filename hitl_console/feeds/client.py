"""FeedClient: one transport made dependable.

A :class:`~hitl_console.feeds.base.FeedSource` only connects and yields raw
frames. Everything an operator relies on is done once, here, for every
transport:

* decoding with :mod:`hitl_console.protocol.decode` (which never raises);
* the duplicate filter: the protocol's ``seq`` is strictly increasing, so an
  event whose seq is at or below the last accepted one is dropped. It is a
  *duplicate* when that seq was accepted before (a resume overlap, a feed
  that re-sends) and *out of order* when it never was (it arrived late and
  can no longer be placed);
* reconnecting with exponential backoff and full jitter (AWS architecture
  blog, "Exponential Backoff And Jitter": ``sleep = uniform(0, min(cap,
  base * 2**attempt))``) so that a hundred consoles do not reconnect to a
  recovering feed in lock-step; the attempt counter resets after a
  connection that stayed healthy for ``healthy_after`` seconds (a feed that
  breaks every connection at once, e.g. with an oversized frame, is retried
  ever more slowly, never in a tight loop);
* resuming with ``since=`` the last accepted seq, so nothing accepted is
  lost and nothing is delivered twice across a drop;
* :class:`FeedStatus` (state, counts, lag, progress) and matching command
  acks to ``request_id``;
* noticing that the feed's seq numbering started again (:class:`FeedRestart`:
  a new ``epoch``, a seq reused by a different event, a large backward jump)
  and resynchronising from the feed's start instead of dropping every later
  event as out of order;
* :meth:`FeedClient.rewind`: asking again for events after a seq (the
  session does so when its journal could not keep them).

``run()`` never raises because of what a feed sends or does: bad frames are
counted and kept, drops are retried, and only failures that retrying cannot
fix (refused credentials, a bad URL, a missing file) end it, as ``FAILED``.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import math
import random
import time
from collections.abc import Callable
from typing import Protocol

from hitl_console.feeds.base import (
    CommandResult,
    ConnectionState,
    FeedFailed,
    FeedOutput,
    FeedRestart,
    FeedSource,
    FeedStatus,
    Frame,
    NotConnected,
)
from hitl_console.protocol.decode import (
    Decoded,
    RejectedFrame,
    decode_json,
    decode_msgpack,
    decode_object,
    excerpt,
)
from hitl_console.protocol.events import Ack, AnyCommand, Event, Fingerprint, fingerprint

log = logging.getLogger(__name__)

OutputCallback = Callable[[FeedOutput], None]
StatusCallback = Callable[[FeedStatus], None]


class SeqHistory(Protocol):
    """What was accepted earlier in the feed's current numbering, beyond the
    client's own memory (the session answers from its journal, so a restart
    of the console does not forget it). Both return None when they do not know."""

    def fingerprint(self, seq: int) -> Fingerprint | None:
        """The fingerprint of the event accepted under ``seq``."""

    def is_open(self, conversation_id: str) -> bool | None:
        """True: started and not ended; False: ended (or never started)."""


BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0
STATUS_INTERVAL_S = 0.5
"""Counts change with every frame; statuses go out at most this often (state changes at once)."""
MAX_REJECTED_KEPT = 500
RECENT_SEQS_KEPT = 4096
"""How many accepted seqs are remembered (with a fingerprint of their event) to
tell a duplicate from an out-of-order event and from a seq reused after a restart."""
HEALTHY_AFTER_S = 10.0
"""A connection that stayed up this long and delivered something resets the backoff."""
RESTART_JUMP = 1000
"""A seq this far below the cursor, unknown to the client and to its history,
is taken as the feed numbering again from the start (a restart)."""
RESYNC_DELAY_S = 0.05
"""Pause before the reconnect that resynchronises after a restart or a rewind,
when the connection before was healthy; otherwise the backoff applies (a feed
that flips its epoch on every frame must not cause a reconnect storm)."""
OPEN_IDS_KEPT = 20_000
"""How many conversation ids are remembered as open or ended, to notice a
``conversation.started`` for a conversation that is still open (a restart)."""

LOG_REJECTED_PER_WINDOW = 20
LOG_REJECTED_WINDOW_S = 10.0
"""At most this many rejected frames are logged one by one per window (the rest are counted in one line)."""

_FINAL = (ConnectionState.FINISHED, ConnectionState.FAILED, ConnectionState.STOPPED)


def backoff_delay(attempt: int, *, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_CAP_S, rng: random.Random | None = None) -> float:
    """Full-jitter delay before reconnect ``attempt`` (0 for the first retry)."""
    ceiling = min(cap, base * (2 ** min(attempt, 32)))
    return (rng or random).uniform(0.0, ceiling)


def decode(frame: Frame, feed: str = "") -> Decoded:
    """Decode one frame according to its ``kind``; never raises."""
    try:
        if frame.kind == "rejected" and isinstance(frame.data, RejectedFrame):
            out = Decoded(rejected=[frame.data])
        elif frame.kind == "object":
            out = decode_object(frame.data, feed)
        elif frame.kind == "msgpack" and isinstance(frame.data, (bytes, bytearray, memoryview)):
            out = decode_msgpack(bytes(frame.data), feed)
        elif isinstance(frame.data, (str, bytes, bytearray, memoryview)):
            data = frame.data if isinstance(frame.data, str) else bytes(frame.data)
            out = decode_json(data, feed)
        else:
            out = Decoded(rejected=[RejectedFrame(f"unsupported frame kind {frame.kind!r}", excerpt(frame.data), feed)])
    except Exception as error:  # the decoder promises not to raise; a bug there must not kill the feed
        log.exception("decoder raised on a frame")
        out = Decoded(rejected=[RejectedFrame(f"decoder error: {type(error).__name__}", excerpt(frame.data), feed)])
    for item in out.rejected:
        item.feed = feed
        if frame.line is not None and item.line is None:
            item.line = frame.line
    return out


class FeedClient:
    """One feed: a source plus decoding, filtering, reconnects, status and acks.

    ``since`` is the resume cursor to start from (events at or below it are
    not wanted). ``rng`` and the backoff parameters exist for tests.
    """

    def __init__(
        self,
        source: FeedSource,
        *,
        name: str,
        since: int | None = None,
        ack_timeout: float = 5.0,
        backoff_base: float = BACKOFF_BASE_S,
        backoff_cap: float = BACKOFF_CAP_S,
        max_rejected: int = MAX_REJECTED_KEPT,
        status_interval: float = STATUS_INTERVAL_S,
        rng: random.Random | None = None,
        healthy_after: float = HEALTHY_AFTER_S,
        epoch: str | None = None,
        history: SeqHistory | None = None,
    ) -> None:
        self.source = source
        self.name = name
        self.ack_timeout = ack_timeout
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.status_interval = status_interval
        self._rng = rng or random.Random()
        self._last_seq: int | None = since
        self.healthy_after = healthy_after
        self._epoch = epoch
        self._history = history
        self._recent: collections.deque[int] = collections.deque(maxlen=RECENT_SEQS_KEPT)
        self._recent_fp: dict[int, Fingerprint] = {}
        self._open: collections.OrderedDict[str, bool] = collections.OrderedDict()
        """Conversation id -> open (started, not ended) in the current numbering; bounded."""
        self._resync = False
        self._attempt = 0
        self.rejected: collections.deque[RejectedFrame] = collections.deque(maxlen=max_rejected)
        """The most recent rejected frames with their reasons (bounded)."""
        self.anomalies: collections.deque[tuple[str, int, int | None]] = collections.deque(maxlen=max_rejected)
        """Recent ``("duplicate" | "out_of_order", seq, last accepted seq)`` drops."""
        self._status = FeedStatus(name=name, url=source.url, last_seq=since)
        self._newest_ts: float | None = None
        self._clock_offset: float | None = None
        self._pending: dict[str, asyncio.Future[Ack]] = {}
        self._connected = False
        self._running = False
        self._stopping = False
        self._wake = asyncio.Event()
        self._on_status: StatusCallback | None = None
        self._last_status_emit = 0.0
        self._flush_handle: asyncio.TimerHandle | None = None
        self._delivered = False
        self._conn_task: asyncio.Task[None] | None = None
        self._log_window_start = 0.0
        self._log_lines = 0
        self._log_suppressed = 0

    # ------------------------------------------------------------ status

    def __repr__(self) -> str:
        return f"FeedClient(name={self.name!r}, url={self.source.url!r}, state={self._status.state.value})"

    @property
    def last_seq(self) -> int | None:
        """The last accepted seq: the resume cursor."""
        return self._last_seq

    @property
    def state(self) -> ConnectionState:
        return self._current_state()

    @property
    def status(self) -> FeedStatus:
        """A snapshot (a copy): lag and progress are computed now."""
        snap = dataclasses.replace(self._status, unknown_types=dict(self._status.unknown_types))
        snap.state = self._current_state()
        snap.progress = self.source.progress
        if self.source.replay or self._newest_ts is None:
            snap.lag_s = None
            snap.clock_offset_s = None
        else:
            snap.lag_s = max(0.0, time.time() - self._newest_ts)
            snap.clock_offset_s = self._clock_offset
        return snap

    def _current_state(self) -> ConnectionState:
        state = self._status.state
        if state is ConnectionState.REPLAYING and self.source.paused:
            return ConnectionState.PAUSED
        return state

    def _set_state(self, state: ConnectionState, detail: str | None = None) -> None:
        changed = state is not self._status.state or (detail is not None and detail != self._status.detail)
        self._status.state = state
        if detail is not None:
            self._status.detail = detail
        if changed:
            self._emit_status(force=True)

    def _emit_status(self, *, force: bool = False) -> None:
        if self._on_status is None:
            return
        now = time.monotonic()
        wait = self.status_interval - (now - self._last_status_emit)
        if not force and wait > 0:
            if self._flush_handle is None:  # make sure the last counts of a burst go out too
                try:
                    loop = asyncio.get_running_loop()
                except RuntimeError:
                    return
                self._flush_handle = loop.call_later(wait, self._flush_status)
            return
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._last_status_emit = now
        try:
            self._on_status(self.status)
        except Exception:
            log.exception("status callback failed for feed %s", self.name)

    def _flush_status(self) -> None:
        self._flush_handle = None
        self._emit_status(force=True)

    # ------------------------------------------------------------ replay controls

    def pause(self) -> bool:
        """Pause a replay; False (and nothing happens) for a live feed."""
        return self._replay_call("pause")

    def resume(self) -> bool:
        """Resume a paused replay; False for a live feed."""
        return self._replay_call("resume")

    def step(self) -> bool:
        """Release exactly one event of a paused replay (pausing it first)."""
        return self._replay_call("step")

    def _replay_call(self, method: str) -> bool:
        fn = getattr(self.source, method, None)
        if not self.source.replay or fn is None:
            return False
        fn()
        self._emit_status(force=True)
        return True

    # ------------------------------------------------------------ the loop

    async def run(self, on_output: OutputCallback, on_status: StatusCallback | None = None) -> FeedStatus:
        """Receive until the feed finishes, fails for good, or :meth:`stop`.

        Returns the final status. Never raises because of the feed; a
        cancelled task ends as ``STOPPED`` (and re-raises the cancellation).
        """
        if self._running:
            raise RuntimeError(f"feed {self.name} is already running")
        self._running = True
        self._stopping = False
        self._on_status = on_status
        self._attempt = 0
        first = True
        try:
            while not self._stopping:
                if first:
                    # Said by the alert of a feed that never answers (a silent handshake,
                    # headers that trickle in): "no reason given" told the supervisor nothing.
                    self._set_state(ConnectionState.CONNECTING, f"no answer yet from {self.source.url}")
                else:
                    self._set_state(ConnectionState.RECONNECTING)
                first = False
                self._delivered = False
                self._opened_at: float | None = None
                reason = ""
                task = asyncio.create_task(self._connection(on_output), name=f"feed-{self.name}")
                self._conn_task = task
                try:
                    await task
                    if self._stopping:
                        break
                    if self.source.replay:
                        self._connected = False
                        self._set_state(ConnectionState.FINISHED, f"end of recording ({self._status.events} events)")
                        break
                    reason = "the feed ended the stream"
                except FeedFailed as error:
                    self._connected = False
                    self._set_state(ConnectionState.FAILED, str(error))
                    log.warning("feed %s failed: %s", self.name, error)
                    break
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current and current.cancelling():
                        raise
                    if self._stopping:
                        break  # stop() cancelled the connection, not someone cancelling run()
                    if not self._resync:
                        raise
                    reason = "resynchronising"  # rewind() cancelled the connection
                except Exception as error:  # a drop, however the transport reports it
                    reason = str(error) or type(error).__name__
                finally:
                    self._conn_task = None
                self._connected = False
                self._fail_pending("connection lost")
                if self._stopping:
                    break
                opened = self._opened_at
                if self._delivered and opened is not None and time.monotonic() - opened >= self.healthy_after:
                    self._attempt = 0  # only a connection that stayed healthy for a while earns a fast retry
                if self._resync:
                    self._resync = False
                    reason = "resynchronising"
                if reason == "resynchronising" and self._attempt == 0:
                    delay = RESYNC_DELAY_S
                else:
                    delay = backoff_delay(self._attempt, base=self.backoff_base, cap=self.backoff_cap, rng=self._rng)
                self._attempt += 1
                self._status.backoff_attempt = self._attempt
                self._status.reconnects += 1
                log.info("feed %s: %s; reconnecting in %.1f s", self.name, reason, delay)
                self._set_state(ConnectionState.RECONNECTING, f"{reason}; retrying in {delay:.1f} s")
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)
                except TimeoutError:
                    pass
        except asyncio.CancelledError:
            if self._conn_task is not None:
                self._conn_task.cancel()
            self._finish(ConnectionState.STOPPED)
            raise
        finally:
            self._running = False
            self._connected = False
            self._fail_pending("feed stopped")
            try:
                await self.source.close()
            except Exception:
                log.debug("closing feed %s failed", self.name, exc_info=True)
        if self._stopping or self._status.state not in _FINAL:
            self._finish(ConnectionState.STOPPED)
        else:
            self._emit_status(force=True)
        return self.status

    async def _connection(self, on_output: OutputCallback) -> None:
        """One connection: consume frames until the source ends or raises."""
        frames = self.source.frames(self._last_seq)
        try:
            async for frame in frames:
                if not self._connected:
                    self._connected = True
                    self._opened_at = time.monotonic()
                    self._set_state(ConnectionState.REPLAYING if self.source.replay else ConnectionState.LIVE, "")
                if frame.kind == "open":
                    continue
                self._handle(frame, on_output)
                if self._stopping or self._resync:
                    break
        finally:
            await frames.aclose()

    def _finish(self, state: ConnectionState) -> None:
        if self._status.state not in _FINAL:
            self._set_state(state)
        self._emit_status(force=True)

    async def stop(self) -> None:
        """End :meth:`run` soon (it returns ``STOPPED``) and release the transport."""
        self._stopping = True
        self._wake.set()
        task = self._conn_task
        if task is not None and not task.done():
            task.cancel()

    # ------------------------------------------------------------ frames

    def _handle(self, frame: Frame, on_output: OutputCallback) -> None:
        now = time.time()
        self._status.last_frame_at = now
        decoded = decode(frame, self.name)
        accepted: list[Event] = []
        restart: FeedRestart | None = None
        live = not self.source.replay
        if live:
            for beat in decoded.heartbeats:
                if beat.epoch is not None and (restart := self._new_epoch(beat.epoch, None)) is not None:
                    break
        for event in decoded.events if restart is None else ():
            if frame.local:
                accepted.append(event)
                continue
            last = self._last_seq
            old = last is not None and event.seq <= last
            known = self._known(event.seq) if old else None
            if live and (reason := self._restart_signal(event, last, known)) is not None:
                restart = FeedRestart(reason, last, event.seq, self._epoch)
                break
            if last is not None and old:
                kind = "duplicate" if known is not None or event.seq == last else "out_of_order"
                if kind == "duplicate":
                    self._status.duplicates += 1
                else:
                    self._status.out_of_order += 1
                self.anomalies.append((kind, event.seq, last))
                continue
            self._accept(event)
            accepted.append(event)
        if restart is not None:
            self._begin_resync(restart)
        for event in accepted:
            self._note_ts(event.ts)
            try:
                self.source.observe(event)
            except Exception:
                log.exception("source of feed %s failed to observe an event", self.name)
        for beat in decoded.heartbeats:
            self._note_ts(beat.ts)
        if accepted or decoded.heartbeats or decoded.acks:
            self._delivered = True
        for kind in decoded.unknown:
            self._status.unknown += 1
            self._status.unknown_types[kind] = self._status.unknown_types.get(kind, 0) + 1
        for ack in decoded.acks:
            future = self._pending.get(ack.request_id)
            if future is not None and not future.done():
                future.set_result(ack)
        if decoded.rejected:
            self._status.rejected += sum(item.count for item in decoded.rejected)
            self._status.last_rejected = decoded.rejected[-1].reason
            self.rejected.extend(decoded.rejected)
            for item in decoded.rejected:
                self._log_rejected(item, now)
        self._status.events += len(accepted)
        self._status.last_seq = self._last_seq
        if accepted or decoded.rejected or restart is not None:
            try:
                on_output(FeedOutput(self.name, accepted, decoded.rejected, restart=restart))
            except Exception:
                log.exception("output callback failed for feed %s", self.name)
        self._emit_status()

    def _log_rejected(self, item: RejectedFrame, now: float) -> None:
        """One log line per rejected frame, at most LOG_REJECTED_PER_WINDOW per
        window: a feed sending nothing but bad frames must not fill the disk
        with the log (the frames are counted, kept and journaled anyway)."""
        if now - self._log_window_start >= LOG_REJECTED_WINDOW_S:
            if self._log_suppressed:
                log.info("feed %s: %d more rejected frames were not logged", self.name, self._log_suppressed)
            self._log_window_start, self._log_lines, self._log_suppressed = now, 0, 0
        if self._log_lines < LOG_REJECTED_PER_WINDOW:
            self._log_lines += 1
            log.info("feed %s rejected a frame: %s", self.name, item.describe())
        else:
            self._log_suppressed += item.count

    def _accept(self, event: Event) -> None:
        seq = event.seq
        self._last_seq = seq
        if len(self._recent) == self._recent.maxlen:
            self._recent_fp.pop(self._recent[0], None)
        self._recent.append(seq)
        self._recent_fp[seq] = fingerprint(event)
        if event.type in ("conversation.started", "conversation.ended"):
            self._open[event.conversation_id] = event.type == "conversation.started"
            self._open.move_to_end(event.conversation_id)
            if len(self._open) > OPEN_IDS_KEPT:
                self._open.popitem(last=False)

    def _known(self, seq: int) -> Fingerprint | None:
        """The fingerprint of what was accepted under ``seq``: memory, then history."""
        known = self._recent_fp.get(seq)
        if known is None and self._history is not None:
            try:
                known = self._history.fingerprint(seq)
            except Exception:
                log.exception("seq history failed for feed %s", self.name)
        return known

    def _is_open(self, conversation_id: str) -> bool:
        known = self._open.get(conversation_id)
        if known is None and self._history is not None:
            try:
                known = self._history.is_open(conversation_id)
            except Exception:
                log.exception("conversation history failed for feed %s", self.name)
        return bool(known)

    def _restart_signal(self, event: Event, last: int | None, known: Fingerprint | None) -> str | None:
        """Why ``event`` shows that the feed numbers its seqs again from the
        start (a platform that restarted and lost its log), or None. The
        signals, strongest first: a new ``epoch``; a seq accepted before that
        now names a different event; a seq far below the cursor that nothing
        remembers; a ``conversation.started`` for a conversation that is still
        open (the feed announces again what it already announced). ``known``:
        what was accepted under the event's seq, when it is at or below ``last``."""
        if event.epoch is not None:
            new = self._new_epoch(event.epoch, event.seq)
            if new is not None:
                return new.reason
        seq = event.seq
        if last is not None and seq <= last:
            if known is not None:
                if known != fingerprint(event):
                    return f"seq {seq} arrived again as a different event ({event.type} of {event.conversation_id})"
            elif last - seq >= RESTART_JUMP:
                return f"seq jumped back from {last} to {seq}"
            return None
        if event.type == "conversation.started" and not self.source.sequenced and self._is_open(event.conversation_id):
            return f"conversation.started again for open conversation {event.conversation_id} (seq {seq})"
        return None

    def _new_epoch(self, epoch: str, seq: int | None) -> FeedRestart | None:
        """Remember the feed's epoch; a different one than before is a restart."""
        old = self._epoch
        self._epoch = epoch
        if old is None or old == epoch:
            return None
        return FeedRestart(f"the feed's epoch changed from {old!r} to {epoch!r}", self._last_seq, seq, epoch)

    def _begin_resync(self, restart: FeedRestart) -> None:
        """Forget the old numbering and reconnect from the feed's start."""
        log.warning("feed %s restarted its seq numbering (%s): resynchronising from its start", self.name, restart.reason)
        self._status.restarts += 1
        self._last_seq = None
        self._status.last_seq = None
        self._recent.clear()
        self._recent_fp.clear()
        self._open.clear()
        self._resync = True

    def rewind(self, since: int | None) -> None:
        """Ask again for every event after ``since`` (the session's journal could
        not keep them): the cursor goes back and the connection is re-opened at
        once. What comes again is accepted anew; the session does not apply twice."""
        self._last_seq = since
        self._status.last_seq = since
        self._recent.clear()
        self._recent_fp.clear()
        self._open.clear()  # the history (the journal) answers up to ``since``
        self._resync = True
        self._wake.set()
        task = self._conn_task
        if task is not None and not task.done():
            task.cancel()

    def _note_ts(self, ts: float) -> None:
        if math.isfinite(ts) and (self._newest_ts is None or ts > self._newest_ts):
            self._newest_ts = ts
            self._clock_offset = ts - time.time()

    # ------------------------------------------------------------ control

    async def send(self, command: AnyCommand, timeout: float | None = None) -> CommandResult:
        """Send ``command`` and wait for its ack.

        The ack arrives as a frame (WebSocket) or inline (HTTP, files). A
        refusal is ``ok=False`` with the feed's error; no answer within
        ``timeout`` (default ``ack_timeout``) is ``timed_out=True``; a feed
        that is not connected is ``sent=False``. Never raises for transport
        problems.
        """
        timeout = self.ack_timeout if timeout is None else timeout
        rid = command.request_id
        if not self._running or not self._connected or self._stopping:
            # Before the handshake there is no socket to write to, and a
            # command queued for "later" could act minutes after the operator
            # gave up on it; the caller decides whether to retry.
            return CommandResult(rid, ok=False, sent=False, error=f"feed {self.name} is not connected ({self.state.value})")
        if rid in self._pending:
            return CommandResult(rid, ok=False, sent=False, error=f"request_id {rid!r} is already waiting for an ack")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Ack] = loop.create_future()
        self._pending[rid] = future
        started = time.monotonic()
        sent = False
        try:
            inline = await asyncio.wait_for(self.source.send(command), timeout=timeout)
            sent = True
            if inline is not None:
                ack = inline
            else:
                remaining = max(0.0, timeout - (time.monotonic() - started))
                ack = await asyncio.wait_for(asyncio.shield(future), timeout=remaining)
        except TimeoutError:
            return CommandResult(rid, ok=False, timed_out=True, sent=True, error=f"no ack within {timeout:g} s")
        except (NotConnected, FeedFailed) as error:
            return CommandResult(rid, ok=False, sent=False, error=str(error) or "not connected")
        except _LostConnection as error:
            return CommandResult(rid, ok=False, sent=sent, error=str(error))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the transport failed while sending
            return CommandResult(rid, ok=False, sent=False, error=f"could not send: {error or type(error).__name__}")
        finally:
            self._pending.pop(rid, None)
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # mark it retrieved: asyncio would log it otherwise
        latency = time.monotonic() - started
        return CommandResult(rid, ok=ack.ok, error=None if ack.ok else (ack.error or "refused"), latency_s=latency)

    def _fail_pending(self, reason: str) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(_LostConnection(f"{reason} before the ack arrived"))


class _LostConnection(Exception):
    """The connection ended while a command waited for its ack."""
