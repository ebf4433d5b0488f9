"""JetStreamSource: ``nats://HOST:4222/STREAM`` feeds (NATS JetStream).

A floor of consoles reads one stream that a bridge (``hitl-console bridge``)
or the platform itself fills. The URL::

    nats://[user:password@]host:4222[,host2:4222...]/STREAM
        ?subject=hitl.events.billing.>   (filter; default: the whole stream)
        &control=hitl.control.STREAM     (request-reply subject for commands)
        &deliver=all|new                 (where a fresh console starts)
        &creds=/path/to/user.creds       (NATS credentials file)

The token comes from the feed's ``token_env`` / ``--token-env`` (or
``HITL_NATS_TOKEN``), never from the URL, and is never shown.

**Seq is the stream sequence.** One stream may carry several platforms'
feeds, each with its own ``seq`` numbering; the console's duplicate filter
and resume cursor need one strictly increasing number per feed, and the
stream sequence is exactly that. So each message's event gets
``seq = stream sequence`` (its own seq and feed stay in ``origin_seq`` and
``origin_feed``), and ``frames(since)`` resumes with an ordered consumer at
stream sequence ``since + 1``: after any disconnect, server restart or
console restart nothing is lost and nothing is delivered twice.

**The origin's numbering stays behind the stream.** A platform that
restarts its seq is the bridge's business (it stores the new numbering as a
new *generation*, see :func:`msg_id`); the stream sequence goes on. So the
origin's ``epoch`` travels as ``origin_epoch``, not ``epoch``: a console must
not take the origin's new epoch for a restart of its own feed (it would
resynchronise from the stream's start and apply everything again).

**Commands** go as NATS request-reply on the control subject; the reply is
the platform's ack (via the bridge), returned inline like HTTP's. No
responder is "not sent"; no reply in time is the client's timeout.
"""

from __future__ import annotations

import asyncio
import logging
import os
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import msgpack
import pydantic_core

from hitl_console.feeds.base import FeedFailed, FeedSource, Frame, NotConnected, redact
from hitl_console.protocol.decode import RejectedFrame, excerpt
from hitl_console.protocol.events import Ack, AnyCommand, command_json

log = logging.getLogger(__name__)

TOKEN_ENV = "HITL_NATS_TOKEN"
DEFAULT_EVENTS_PREFIX = "hitl.events"
DEFAULT_CONTROL_PREFIX = "hitl.control"
MSG_ID = "Nats-Msg-Id"
FEED_HEADER = "Hitl-Feed"
GENERATION_HEADER = "Hitl-Generation"
"""The bridge's count of the origin feed's seq restarts (absent: 0), see :func:`msg_id`."""
CONTENT_TYPE = "Content-Type"
MSGPACK_TYPE = "application/msgpack"
QUEUE_DEPTH = 1024
"""Messages buffered between the NATS client and the feed client (back-pressure beyond)."""
BATCH_EVENTS = 512
"""At most this many messages already received go to the feed client as one frame."""


def _require_nats() -> Any:
    try:
        import nats  # noqa: F401
    except ImportError:  # pragma: no cover - the extra is missing
        raise FeedFailed("nats:// feeds need the nats extra: pip install 'hitl-console[nats]'") from None
    return nats


@dataclass(frozen=True, slots=True)
class NatsAddress:
    """A parsed ``nats://`` URL: servers, stream, subjects, credentials."""

    servers: list[str]
    stream: str
    subject: str | None = None
    control: str = ""
    deliver: str = "all"
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    creds: str | None = None

    @property
    def display(self) -> str:
        """The URL as it may be shown: hosts, stream and subject, no credentials."""
        hosts = ",".join(s.split("://", 1)[1] for s in self.servers)
        query = f"?subject={self.subject}" if self.subject else ""
        return f"nats://{hosts}/{self.stream}{query}"

    @classmethod
    def parse(cls, url: str, *, need_stream: bool = True) -> "NatsAddress":
        """Parse ``url``; ValueError (with no secret in it) when it cannot be used."""
        scheme, sep, rest = url.partition("://")
        if not sep or scheme.lower() not in ("nats", "tls"):
            raise ValueError("not a NATS URL (nats://host:4222/STREAM)")
        netloc, _, tail = rest.partition("/")
        path, _, query = tail.partition("?")
        if "?" in netloc:
            netloc, _, query = netloc.partition("?")
        user = password = None
        if "@" in netloc:
            userinfo, _, netloc = netloc.rpartition("@")
            user_raw, _, password_raw = userinfo.partition(":")
            user, password = urllib.parse.unquote(user_raw) or None, urllib.parse.unquote(password_raw) or None
        servers = []
        for host in filter(None, netloc.split(",")):
            name, _, port = host.rpartition(":") if ":" in host else (host, "", "4222")
            if not name or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"nats://{netloc.rpartition('@')[2]}/...: bad host:port {host!r}")
            servers.append(f"{scheme.lower()}://{name}:{port}")
        if not servers:
            raise ValueError("no host in the NATS URL")
        stream = urllib.parse.unquote(path.strip("/"))
        if need_stream and not stream:
            raise ValueError("no stream in the NATS URL (nats://host:4222/STREAM)")
        if stream and (any(c in stream for c in " .*>/\\\t") or len(stream) > 64):
            raise ValueError(f"{stream!r} is not a valid stream name")
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        deliver = params.get("deliver", "all").lower()
        if deliver not in ("all", "new"):
            raise ValueError(f"deliver={deliver!r}: use all or new")
        return cls(
            servers=servers,
            stream=stream,
            subject=params.get("subject") or None,
            control=params.get("control") or f"{DEFAULT_CONTROL_PREFIX}.{stream or 'default'}",
            deliver=deliver,
            user=user,
            password=password,
            creds=params.get("creds") or None,
        )

    def connect_options(self, token: str | None) -> dict[str, Any]:
        """Keyword arguments for ``nats.connect`` (credentials included)."""
        options: dict[str, Any] = {"servers": self.servers}
        token = token or os.environ.get(TOKEN_ENV) or None
        if token:
            options["token"] = token
        if self.user:
            options["user"] = self.user
            options["password"] = self.password or ""
        if self.creds:
            options["user_credentials"] = self.creds
        return options

    @property
    def secrets(self) -> tuple[str | None, ...]:
        return (self.password,)


def subject_token(name: str) -> str:
    """A feed name as one subject token (``host:8765`` -> ``host_8765``)."""
    cleaned = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    return cleaned or "feed"


def parse_payload(data: bytes, headers: dict[str, str] | None) -> Any:
    """A message body as a Python value (JSON, or MessagePack by content type)."""
    if headers and headers.get(CONTENT_TYPE) == MSGPACK_TYPE:
        return msgpack.unpackb(data, raw=False)
    return pydantic_core.from_json(data)


def restamp(obj: Any, stream_seq: int, headers: dict[str, str] | None) -> Frame:
    """The frame for one stream message: its event with ``seq`` set to the
    stream sequence (see the module docstring); arrays are refused, since
    one stream sequence cannot number several events."""
    if isinstance(obj, dict):
        if obj.get("type") not in ("heartbeat", "ack") and "seq" in obj:
            obj = dict(obj)
            obj["origin_seq"] = obj["seq"]
            obj["seq"] = stream_seq
            if "epoch" in obj:  # the origin's numbering, not this feed's (module docstring)
                obj["origin_epoch"] = obj.pop("epoch")
            if headers and FEED_HEADER in headers:
                obj.setdefault("origin_feed", headers[FEED_HEADER])
        return Frame(obj, "object")
    if isinstance(obj, list):
        return Frame(
            RejectedFrame("a JetStream message must hold exactly one event, not an array", excerpt(obj), seq=stream_seq),
            "rejected",
        )
    return Frame(obj, "object")


def message_frame(msg: Any) -> Frame:
    """The frame of one stream message (restamped, see :func:`restamp`), or its rejection."""
    stream_seq = msg.metadata.sequence.stream
    try:
        obj = parse_payload(msg.data, msg.headers)
    except Exception as error:
        return Frame(RejectedFrame(f"not JSON or MessagePack ({type(error).__name__})", excerpt(msg.data), seq=stream_seq), "rejected")
    return restamp(obj, stream_seq, msg.headers)


class _Lost(Exception):
    pass


class JetStreamSource(FeedSource):
    """One JetStream feed (a stream, optionally filtered by subject)."""

    sequenced = True  # seq is the stream sequence (module docstring)

    def __init__(self, url: str, token: str | None = None, *, connect_timeout: float = 5.0, idle_heartbeat: float = 1.0) -> None:
        try:
            self.address = NatsAddress.parse(url)
        except ValueError as error:
            raise ValueError(redact(str(error), url)) from None
        self.url = self.address.display
        self._token = token
        self.connect_timeout = connect_timeout
        self.idle_heartbeat = idle_heartbeat
        self._nc: Any = None

    def __repr__(self) -> str:
        return f"JetStreamSource({self.url!r})"

    def _clean(self, text: str) -> str:
        return redact(text, self._token, *self.address.secrets)

    async def _connect(self, lost: asyncio.Queue[Any]) -> Any:
        nats = _require_nats()

        async def on_gone() -> None:
            lost.put_nowait(_Lost("connection to NATS lost"))

        async def on_error(error: Exception) -> None:
            log.debug("nats: %s", self._clean(str(error)))

        try:
            return await nats.connect(
                **self.address.connect_options(self._token),
                allow_reconnect=False,
                connect_timeout=self.connect_timeout,
                disconnected_cb=on_gone,
                closed_cb=on_gone,
                error_cb=on_error,
                ping_interval=5,
                max_outstanding_pings=2,
                name="hitl-console",
            )
        except Exception as error:
            text = self._clean(f"{type(error).__name__}: {error}")
            if "authorization" in text.lower() or "authentication" in text.lower():
                raise FeedFailed(f"{self.url}: NATS refused the credentials") from None
            raise ConnectionError(f"cannot connect to {self.url}: {text}") from None

    async def frames(self, since: int | None) -> AsyncIterator[Frame]:
        from nats.js import api
        from nats.js.errors import NotFoundError

        queue: asyncio.Queue[Any] = asyncio.Queue(QUEUE_DEPTH)
        nc = await self._connect(queue)
        self._nc = nc
        sub = None
        try:
            js = nc.jetstream()
            try:
                await js.stream_info(self.address.stream)
            except NotFoundError:
                # Retried, not FAILED: the bridge that creates it may start after the consoles.
                raise ConnectionError(f"no stream {self.address.stream!r} on the server (yet)") from None
            if since is not None:
                config = api.ConsumerConfig(deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=since + 1)
            elif self.address.deliver == "new":
                config = api.ConsumerConfig(deliver_policy=api.DeliverPolicy.NEW)
            else:
                config = api.ConsumerConfig(deliver_policy=api.DeliverPolicy.ALL)

            async def on_msg(msg: Any) -> None:
                await queue.put(msg)  # blocks the NATS callback when the console is behind

            sub = await js.subscribe(
                self.address.subject or ">",
                stream=self.address.stream,
                cb=on_msg,
                ordered_consumer=True,
                idle_heartbeat=self.idle_heartbeat,
                config=config,
            )
            yield Frame(None, "open")
            while True:
                # What has arrived goes on as one frame (never waiting for more):
                # the console journals a frame in one transaction, and one
                # transaction per event held a console to ~1,900 events/s.
                batch: list[dict[str, Any]] = []
                item = await queue.get()
                while True:
                    if isinstance(item, _Lost):
                        if batch:
                            yield Frame(batch, "object")
                        raise ConnectionError(str(item))
                    frame = message_frame(item)
                    if frame.kind == "object" and isinstance(frame.data, dict):
                        batch.append(frame.data)
                    else:
                        if batch:
                            yield Frame(batch, "object")
                            batch = []
                        yield frame
                    if len(batch) >= BATCH_EVENTS or queue.empty():
                        break
                    item = queue.get_nowait()
                if batch:
                    yield Frame(batch, "object")
        except (FeedFailed, ConnectionError):
            raise
        except (OSError, TimeoutError) as error:
            raise ConnectionError(self._clean(f"NATS: {error or type(error).__name__}")) from None
        except asyncio.CancelledError:
            raise
        except Exception as error:  # nats-py raises its own types for drops
            raise ConnectionError(self._clean(f"NATS: {type(error).__name__}: {error}")) from None
        finally:
            self._nc = None
            await unsubscribe_quietly(sub)
            await close_quietly(nc)

    async def send(self, command: AnyCommand) -> Ack | None:
        from nats.errors import NoRespondersError

        nc = self._nc
        if nc is None or not nc.is_connected:
            raise NotConnected(f"{self.url}: not connected")
        try:
            reply = await nc.request(self.address.control, command_json(command).encode(), timeout=3600)
        except NoRespondersError:
            raise NotConnected(f"{self.url}: nobody answers commands on {self.address.control}") from None
        try:
            return Ack.model_validate_json(reply.data)
        except Exception:
            return Ack(type="ack", request_id=command.request_id, ok=False, error="the answer to the command was not an ack")

    async def close(self) -> None:
        if self._nc is not None:
            await close_quietly(self._nc)


async def unsubscribe_quietly(sub: Any) -> None:
    """Drop a subscription within a bound and never raise (``finally`` blocks:
    a dead server must not hang the shutdown); None is nothing to drop."""
    if sub is None:
        return
    try:
        await asyncio.wait_for(sub.unsubscribe(), 1.0)
    except Exception:
        pass


async def close_quietly(nc: Any, *, drain: bool = False) -> None:
    """Close a NATS connection within a bound and never raise: closing runs in
    ``finally`` blocks and shutdowns, where a dead server must not hang or mask
    the real error. ``drain`` first flushes what a publisher still has in flight."""
    if drain:
        try:
            await asyncio.wait_for(nc.drain(), 3.0)
            return
        except Exception:
            pass
    try:
        await asyncio.wait_for(nc.close(), 2.0)
    except Exception:
        pass


def msg_id(feed: str, seq: int, epoch: str | None = None, generation: int = 0) -> str:
    """The ``Nats-Msg-Id`` of a feed's event: JetStream drops a second copy
    within the stream's duplicate window (a retried publish, a restarted
    bridge re-reading its platform's backlog).

    The id names the numbering the seq belongs to, or a platform that
    restarted its seq would see its new events dropped as copies of the old
    ones: ``epoch`` when the feed names its numbering (a restarted
    simulator), and ``generation``, the bridge's count of the seq restarts it
    noticed (``feeds.client``: a reused seq, a jump back, a new epoch), for a
    feed that names none. Generation 0 keeps the plain ``feed:seq`` of
    streams written before generations existed::

        vendor:41   vendor:boot-7:41   vendor:g1:41   vendor:g1:boot-8:41
    """
    numbering = (f"g{generation}:" if generation else "") + (f"{epoch}:" if epoch else "")
    return f"{feed}:{numbering}{seq}"


@dataclass(frozen=True, slots=True)
class StoredPosition:
    """Where a feed stands in the stream: its newest event's seq, epoch and generation
    (what a restarted bridge resumes from, with the same message ids)."""

    seq: int
    generation: int = 0
    epoch: str | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One event on its way into the stream: its feed, seq and numbering (:func:`msg_id`), the body (JSON)."""

    feed: str
    seq: int
    payload: bytes
    epoch: str | None = None
    generation: int = 0


@dataclass(slots=True)
class PublishStats:
    """What a publisher did: stored, dropped as duplicates by the server, retried."""

    stored: int = 0
    duplicates: int = 0
    retries: int = 0


class JetStreamPublisher:
    """Writes events into a stream for a floor of consoles (bridge, simulator).

    The connection reconnects by itself (a JetStream cluster may lose a
    node, a server may restart); a publish that gets no PubAck is retried
    with the same ``Nats-Msg-Id`` until it does, so the stream ends up with
    every event exactly once.
    """

    def __init__(self, url: str, token: str | None = None, *, prefix: str = DEFAULT_EVENTS_PREFIX, replicas: int = 1,
                 max_age_s: float = 7 * 86400, duplicate_window_s: float = 600, ack_timeout: float = 2.0) -> None:
        self.address = NatsAddress.parse(url)
        self.url = self.address.display
        self._token = token
        self.prefix = prefix
        self.replicas = replicas
        self.max_age_s = max_age_s
        self.duplicate_window_s = duplicate_window_s
        self.ack_timeout = ack_timeout
        self.stats = PublishStats()
        self.nc: Any = None
        self.js: Any = None

    def subject(self, feed: str) -> str:
        """The subject a feed's events go to: ``hitl.events.<feed>``."""
        return f"{self.prefix}.{subject_token(feed)}"

    async def connect(self, timeout: float = 10.0) -> None:
        """Connect (retrying until ``timeout``) and create the stream if it is missing."""
        nats = _require_nats()
        from nats.js import api
        from nats.js.errors import NotFoundError

        async def on_error(error: Exception) -> None:
            log.debug("nats publisher: %s", redact(str(error), self._token, *self.address.secrets))

        self.nc = await nats.connect(
            **self.address.connect_options(self._token),
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.25,
            connect_timeout=min(timeout, 5.0),
            error_cb=on_error,
            name="hitl-console-bridge",
        )
        self.js = self.nc.jetstream(timeout=self.ack_timeout)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                await self.js.stream_info(self.address.stream)
                return
            except NotFoundError:
                await self.js.add_stream(api.StreamConfig(
                    name=self.address.stream,
                    subjects=[f"{self.prefix}.>"],
                    num_replicas=self.replicas,
                    max_age=self.max_age_s,
                    duplicate_window=self.duplicate_window_s,
                    storage=api.StorageType.FILE,
                ))
                return
            except Exception:  # a cluster still electing its JetStream leader
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.25)

    async def last_position(self, feed: str) -> StoredPosition | None:
        """The newest event of ``feed`` in the stream (None: none yet): its own
        seq and epoch (from the stored event) and the generation (header)."""
        from nats.js.errors import NotFoundError

        try:
            msg = await self.js.get_last_msg(self.address.stream, self.subject(feed))
        except NotFoundError:
            return None
        headers = msg.headers or {}
        try:
            obj = parse_payload(msg.data, headers)
        except Exception:
            obj = None
        seq = obj.get("seq") if isinstance(obj, dict) else None
        if not isinstance(seq, int) or isinstance(seq, bool):
            tail = headers.get(MSG_ID, "").rpartition(":")[2]
            if not tail.isdigit():
                return None
            seq = int(tail)
        epoch = obj.get("epoch") if isinstance(obj, dict) else None
        generation = headers.get(GENERATION_HEADER, "0")
        return StoredPosition(seq, int(generation) if generation.isdigit() else 0, epoch if isinstance(epoch, str) else None)

    @staticmethod
    def headers(feed: str, seq: int, epoch: str | None = None, generation: int = 0) -> dict[str, str]:
        """The headers of a feed's event in the stream (id, origin feed, generation)."""
        headers = {MSG_ID: msg_id(feed, seq, epoch, generation), FEED_HEADER: feed}
        if generation:
            headers[GENERATION_HEADER] = str(generation)
        return headers

    async def send(self, item: Outgoing) -> Any:
        """Send one event without waiting for its PubAck: the future of the ack,
        or None when it could not even be sent (:meth:`confirm` retries it).
        Messages sent on one connection are stored in the order sent, so a
        publisher may keep many in flight (one round trip at a time held the
        bridge below 2,000 events/s on a busy machine)."""
        try:
            return await self.js.publish_async(self.subject(item.feed), item.payload,
                                               headers=self.headers(item.feed, item.seq, item.epoch, item.generation))
        except asyncio.CancelledError:
            raise
        except Exception:
            return None

    async def confirm(self, item: Outgoing, future: Any) -> bool:
        """Wait for the PubAck of a :meth:`send`; without one within ``ack_timeout``
        (a server failing over) the event is published again with the same id
        (:meth:`publish`), so it is stored exactly once, possibly after events
        sent later. True when stored now, False when the stream had it already."""
        ack = None
        if future is not None and future.done():  # usually it has come already: no timer for it then
            ack = None if future.cancelled() or future.exception() is not None else future.result()
        elif future is not None:
            try:
                ack = await asyncio.wait_for(future, self.ack_timeout)  # a timeout cancels it: its slot is freed
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # we are being stopped; otherwise the client dropped the ack's future
            except Exception:
                pass
        if ack is not None:
            if ack.duplicate:
                self.stats.duplicates += 1
                return False
            self.stats.stored += 1
            return True
        self.stats.retries += 1
        return await self.publish(item.feed, item.seq, item.payload, epoch=item.epoch, generation=item.generation)

    async def publish(self, feed: str, seq: int, payload: bytes, *, epoch: str | None = None, generation: int = 0,
                      retry_for: float | None = None) -> bool:
        """Store one event (JSON) and wait for the PubAck; retried until
        stored (or ``retry_for`` seconds). True when the server stored it now,
        False when it already had it. ``epoch`` and ``generation``: see :func:`msg_id`."""
        headers = self.headers(feed, seq, epoch, generation)
        subject = self.subject(feed)
        loop = asyncio.get_running_loop()
        give_up = None if retry_for is None else loop.time() + retry_for
        delay = 0.05
        while True:
            try:
                ack = await self.js.publish(subject, payload, headers=headers, timeout=self.ack_timeout)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if give_up is not None and loop.time() > give_up:
                    raise ConnectionError(f"could not publish to {self.url}: {type(error).__name__}") from None
                self.stats.retries += 1
                await asyncio.sleep(delay)
                delay = min(1.0, delay * 2)
                continue
            if ack.duplicate:
                self.stats.duplicates += 1
                return False
            self.stats.stored += 1
            return True

    async def close(self) -> None:
        if self.nc is not None:
            await close_quietly(self.nc, drain=True)
            self.nc = None
