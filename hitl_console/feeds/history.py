"""Shared history: what a floor's people did, on a JetStream stream.

Every console publishes its supervisors' commands (with their outcome),
takeover verdicts, reviewers' verdicts and its alerts as JSON records to
the stream ``hitl-history`` (subjects ``hitl.history.<kind>``), and reads
the whole stream back with an ordered consumer from where its local cache
stopped (:class:`~hitl_console.store.history.HistoryCache`), so its metrics
count the whole team and a new console catches up from the start.

Publishing never blocks the console: records wait in an outbox (bounded)
and are published one at a time with a ``Nats-Msg-Id`` of their own, retried
until the server stores them, so a server restart loses nothing and stores
nothing twice. The connection is remade after any drop and the consumer
resumes at the sequence after the last one handed over.

A record: ``{"kind", "origin", "agent", "ts", ...}``; per kind:

* ``command``: ``op, conversation_id, feed, request_id, ok, error, sent, timed_out``
* ``takeover_verdict``: ``conversation_id, feed, escalation_needed, note``
* ``review_verdict``: ``item_id, conversation_id, queue, feed, verdict, note``
* ``alert``: ``level, alert_kind, key, text, conversation_id``

**Alerts of the floor are the team's once.** Every console on one stream
raises the same trigger alerts (same conversation, same seq) and the same
aggregate and trend alerts (same figures), so N consoles would publish and
cache N copies of each. A floor alert (:data:`SHARED_ALERT_KINDS`) is
therefore published under a team-wide id, ``alert:<key>``
(:func:`shared_alert_id`): JetStream keeps the first console's copy and drops
the others' within its duplicate window (:data:`SAME_ALERT_S`), and the
local cache keeps one row per alert even past the window
(:meth:`~hitl_console.store.history.HistoryCache.apply`). Each console keeps
its own alerts in its own journal and raises no other console's. A ``feed``
alert (this console's feed, journal, webhook or claim) is its own and keeps
an id of its own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from hitl_console.feeds.base import redact
from hitl_console.feeds.jetstream import MSG_ID, NatsAddress, _require_nats, close_quietly, unsubscribe_quietly

log = logging.getLogger(__name__)

STREAM = "hitl-history"
SUBJECT_PREFIX = "hitl.history"
MAX_AGE_S = 30 * 86400.0
"""How long the stream keeps records (the journal's default retention): a console
that starts later than this catches up on the last 30 days only."""
OUTBOX_LIMIT = 10_000
"""Records waiting for the server; beyond, the oldest are dropped (and logged)."""

SHARED_ALERT_KINDS = frozenset({"trigger", "aggregate", "trend"})
"""Alert kinds about the floor (see the module docstring); ``feed`` alerts are a console's own."""
SAME_ALERT_S = 600.0
"""A floor alert with the same key within this many seconds is the same alert (the stream's duplicate window)."""


def shared_alert_id(alert_kind: str, key: str) -> str | None:
    """The team-wide ``Nats-Msg-Id`` of a floor alert; None for a console's own."""
    return f"alert:{key}" if alert_kind in SHARED_ALERT_KINDS and key else None


OnRecord = Callable[[int, dict[str, Any]], None]
"""``on_record(stream_seq, record)``: one message of the stream, in order."""


class TeamHistory:
    """Publisher and reader of the team's history stream at ``url``."""

    def __init__(self, url: str, token: str | None = None, *, origin: str, stream: str = STREAM, replicas: int = 1) -> None:
        self.address = NatsAddress.parse(url, need_stream=False)
        self._token = token
        self.origin = origin
        self.stream = stream
        self.replicas = replicas
        self.outbox: deque[tuple[str, str, bytes]] = deque()
        """(msg id, subject, payload) not yet stored by the server."""
        self.published = 0
        self.dropped = 0
        self.problem: str | None = None
        self.cursor: int | None = None
        """The last stream sequence handed to ``on_record``."""
        self._on_record: OnRecord | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    @property
    def where(self) -> str:
        return ",".join(s.split("://", 1)[-1] for s in self.address.servers)

    def publish(self, kind: str, agent: str, ts: float, *, msg_id: str | None = None, **fields: Any) -> None:
        """Queue one record (never blocks, never raises for the server's state).
        ``msg_id``: its ``Nats-Msg-Id`` (default: one of its own)."""
        payload = record_payload(kind, self.origin, agent, ts, fields)
        if len(self.outbox) >= OUTBOX_LIMIT:
            self.outbox.popleft()
            self.dropped += 1
            log.warning("team history outbox full: the oldest record is dropped (%d so far)", self.dropped)
        self.outbox.append((msg_id or f"{self.origin}:{uuid.uuid4().hex}", f"{SUBJECT_PREFIX}.{kind}", payload))
        self._wake.set()

    def publish_alert(self, agent: str, alert: Any) -> None:
        """One alert this console raised (an ``alerts.Alert``): a floor
        alert under its team-wide id, so the team's history holds it once."""
        self.publish("alert", agent, alert.ts, msg_id=shared_alert_id(alert.kind, alert.key), level=alert.level,
                     alert_kind=alert.kind, key=alert.key, text=alert.text, conversation_id=alert.conversation_id)

    def start(self, since: int | None, on_record: OnRecord) -> None:
        """Run in the background: read the stream after ``since`` (None: from the start), publish the outbox."""
        self.cursor = since
        self._on_record = on_record
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="hitl-history")

    def _clean(self, error: BaseException) -> str:
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return redact(text, self._token, *self.address.secrets)

    async def _run(self) -> None:
        delay = 0.25
        while True:
            try:
                await self._session()
                delay = 0.25
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.problem = self._clean(error)
                log.warning("team history at %s: %s (retrying)", self.where, self.problem)
            await asyncio.sleep(delay)
            delay = min(5.0, delay * 2)

    async def _session(self) -> None:
        """One connection: ensure the stream, consume after the cursor, publish until the connection drops."""
        nats = _require_nats()
        from nats.js import api

        lost = asyncio.Event()

        async def gone() -> None:
            lost.set()
            self._wake.set()

        async def on_error(error: Exception) -> None:
            log.debug("team history: %s", self._clean(error))

        nc = await nats.connect(**self.address.connect_options(self._token), allow_reconnect=False, connect_timeout=3,
                                disconnected_cb=gone, closed_cb=gone, error_cb=on_error, name="hitl-console-history")
        sub = None
        try:
            js = nc.jetstream(timeout=3.0)
            await ensure_stream(js, self.stream, self.replicas)
            start = self.cursor
            config = (api.ConsumerConfig(deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start + 1)
                      if start is not None else api.ConsumerConfig(deliver_policy=api.DeliverPolicy.ALL))

            async def on_msg(msg: Any) -> None:
                seq = int(msg.metadata.sequence.stream)
                if self.cursor is not None and seq <= self.cursor:
                    return
                try:
                    record = json.loads(msg.data)
                    if not isinstance(record, dict):
                        raise ValueError("not an object")
                except ValueError as error:
                    log.warning("team history #%d is not a record: %s", seq, error)
                    record = {"kind": "invalid", "origin": "", "ts": 0.0}
                self.cursor = seq
                if self._on_record is not None:
                    try:
                        self._on_record(seq, record)
                    except Exception:
                        log.exception("team history #%d could not be kept", seq)

            sub = await js.subscribe(f"{SUBJECT_PREFIX}.>", stream=self.stream, cb=on_msg, ordered_consumer=True,
                                     idle_heartbeat=2.0, config=config)
            self.problem = None
            while not lost.is_set():
                while self.outbox and not lost.is_set():
                    ident, subject, payload = self.outbox[0]
                    await js.publish(subject, payload, headers={MSG_ID: ident}, timeout=3.0)
                    if self.outbox and self.outbox[0][0] == ident:
                        self.outbox.popleft()
                    self.published += 1
                self._wake.clear()
                if not self.outbox:
                    await self._wake.wait()
        finally:
            await unsubscribe_quietly(sub)
            await close_quietly(nc)

    async def flush(self, timeout: float = 5.0) -> bool:
        """Wait until the outbox is empty (True) or ``timeout`` passes (False)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.outbox:
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def close(self, timeout: float = 2.0) -> None:
        """Publish what is still queued (within ``timeout``), then stop."""
        if self._task is None:
            return
        await self.flush(timeout)
        self._task.cancel()
        try:
            await self._task
        except (asyncio.CancelledError, Exception):
            pass
        self._task = None


def record_payload(kind: str, origin: str, agent: str, ts: float, fields: Mapping[str, Any]) -> bytes:
    """A record as published (module docstring)."""
    record = {"kind": kind, "origin": origin, "agent": agent, "ts": ts, **fields}
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=str).encode()


async def ensure_stream(js: Any, stream: str = STREAM, replicas: int = 1) -> None:
    """Create the history stream if it is missing (whoever comes first)."""
    from nats.js import api
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(stream)
    except NotFoundError:
        try:
            await js.add_stream(api.StreamConfig(
                name=stream, subjects=[f"{SUBJECT_PREFIX}.>"], num_replicas=replicas,
                max_age=MAX_AGE_S, duplicate_window=SAME_ALERT_S, storage=api.StorageType.FILE,
            ))
        except Exception:  # another console made it first
            await js.stream_info(stream)


async def publish_once(url: str, token: str | None, *, origin: str, kind: str, agent: str, ts: float,
                       timeout: float = 5.0, **fields: Any) -> None:
    """Publish one record and wait until the server stored it: for a command-line
    tool (``review verdict``), which has no outbox that outlives it. Raises
    ``ConnectionError`` (secrets masked) when the server cannot be reached or does not store it."""
    nats = _require_nats()
    address = NatsAddress.parse(url, need_stream=False)
    payload = record_payload(kind, origin, agent, ts, fields)
    nc = None
    try:
        nc = await nats.connect(**address.connect_options(token), allow_reconnect=False, connect_timeout=timeout,
                                name="hitl-console-review")
        js = nc.jetstream(timeout=timeout)
        await ensure_stream(js)
        await js.publish(f"{SUBJECT_PREFIX}.{kind}", payload, headers={MSG_ID: f"{origin}:{uuid.uuid4().hex}"}, timeout=timeout)
    except Exception as error:
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        raise ConnectionError(redact(text, token, *address.secrets)) from None
    finally:
        if nc is not None:
            await close_quietly(nc)


def command_record(result: Any, command: Any, feed: str) -> Mapping[str, Any]:
    """The fields of a ``command`` record (the command and how it ended; no message text)."""
    return {
        "op": command.op,
        "conversation_id": command.conversation_id,
        "feed": feed,
        "request_id": command.request_id,
        "ok": bool(result.ok),
        "error": result.error,
        "sent": bool(result.sent),
        "timed_out": bool(result.timed_out),
    }
