"""Shared claims: who holds a chat or a review item, across a floor of consoles.

The platform arbitrates takeovers when it can; when it does not (several
consoles on one stream, review items the platform knows nothing about), a
JetStream key-value bucket does: a claim is the key ``<kind>.<id>`` created
with compare-and-set (``create`` succeeds for exactly one console) and a
per-key TTL, renewed by its holder while it holds it. A console that dies
stops renewing and its claim expires, so a chat is never held by a ghost.

Bucket: ``hitl-claims`` (one value per key, no history). Value: JSON
``{"holder": str, "console": str, "at": float}``, plus ``"done": true`` once
a reviewed item is finished (kept :data:`DONE_KEEP_S`, so another console's
reviewer does not take it up again).

:class:`ClaimKeeper` is what a console uses: the claims it holds, renewed in
the background, released when no longer wanted; the live session
(``hitl_console.session``) claims a chat before a takeover and a review item
before a reviewer works on it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hitl_console.feeds.base import redact
from hitl_console.feeds.jetstream import NatsAddress, _require_nats, close_quietly

log = logging.getLogger(__name__)

BUCKET = "hitl-claims"
DEFAULT_TTL_S = 30.0
DONE_KEEP_S = 30 * 86400.0
"""How long a finished item's marker stays in the bucket (the journal's default retention)."""
KINDS = ("chat", "review")
_KEY_SAFE = re.compile(r"^[-_a-zA-Z0-9]+$")


def claim_key(kind: str, item: str) -> str:
    """The KV key of a claim: ``chat.c-1042``; ids with other characters are
    base64url-encoded behind a ``=`` (``review.=cWE6...``): NATS keys allow
    only ``-/_=.`` besides letters and digits, and ``=`` never occurs in a
    plain id, so no two ids share a key."""
    if kind not in KINDS:
        raise ValueError(f"claim kind {kind!r}: use one of {', '.join(KINDS)}")
    if _KEY_SAFE.match(item):
        return f"{kind}.{item}"
    return f"{kind}.={base64.urlsafe_b64encode(item.encode()).decode().rstrip('=')}"


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer to a claim: won (or already ours), or held by someone else."""

    ok: bool
    holder: str | None
    revision: int | None = None
    error: str | None = None
    done: bool = False
    """The item was finished (:meth:`ClaimStore.finish`): nobody may claim it again."""


class ClaimStore:
    """Claims in the ``hitl-claims`` bucket of the JetStream at ``url``.

    ``url`` is any ``nats://host:4222[,host2...]`` address (a path, if any,
    is ignored); ``console`` names this console in the values (for people
    reading the bucket with ``nats kv``).
    """

    def __init__(self, url: str, token: str | None = None, *, console: str = "", ttl_s: float = DEFAULT_TTL_S,
                 bucket: str = BUCKET, replicas: int = 1) -> None:
        if ttl_s < 1:
            raise ValueError("claim TTL must be at least 1 s (JetStream counts whole seconds)")
        self.address = NatsAddress.parse(url, need_stream=False)
        self._token = token
        self.console = console
        self.ttl_s = ttl_s
        self.bucket = bucket
        self.replicas = replicas
        self._nc: Any = None
        self._js: Any = None
        self._kv: Any = None

    async def connect(self) -> None:
        """Connect and open the bucket (created on first use)."""
        nats = _require_nats()
        from nats.js.api import KeyValueConfig
        from nats.js.errors import BucketNotFoundError, NotFoundError

        self._nc = await nats.connect(**self.address.connect_options(self._token), max_reconnect_attempts=-1, reconnect_time_wait=0.25)
        self._js = js = self._nc.jetstream(timeout=2.0)
        try:
            self._kv = await js.key_value(self.bucket)
        except (BucketNotFoundError, NotFoundError):
            self._kv = await js.create_key_value(KeyValueConfig(bucket=self.bucket, history=1, replicas=self.replicas))

    def _value(self, holder: str, *, done: bool = False) -> bytes:
        value: dict[str, Any] = {"holder": holder, "console": self.console, "at": round(time.time(), 3)}
        if done:
            value["done"] = True
        return json.dumps(value).encode()

    @staticmethod
    def _holder(value: bytes | None) -> str | None:
        return ClaimStore._read(value)[0]

    @staticmethod
    def _read(value: bytes | None) -> tuple[str | None, bool]:
        """(holder, done) of a stored value; (None, False) for anything unreadable."""
        try:
            obj = json.loads(value or b"{}")
            holder = obj.get("holder")
            return (str(holder) if holder else None), bool(obj.get("done"))
        except (ValueError, AttributeError):
            return None, False

    async def holder(self, kind: str, item: str) -> str | None:
        """Who holds the claim now (None: nobody, or it expired)."""
        from nats.js.errors import KeyNotFoundError

        try:
            entry = await self._kv.get(claim_key(kind, item))
        except KeyNotFoundError:
            return None
        return self._holder(entry.value)

    async def _cas(self, key: str, holder: str, last: int, *, done: bool = False, ttl_s: float | None = None) -> int:
        """Write the claim only if the key's newest revision is ``last`` (0: no
        value yet), with the per-key TTL; KeyWrongLastSequenceError otherwise."""
        from nats.js import api
        from nats.js.errors import APIError, KeyWrongLastSequenceError

        headers = {api.Header.EXPECTED_LAST_SUBJECT_SEQUENCE: str(last)}
        try:
            ack = await self._js.publish(f"$KV.{self.bucket}.{key}", self._value(holder, done=done), headers=headers,
                                        msg_ttl=ttl_s or self.ttl_s)
        except APIError as error:
            if error.err_code in (10071, 10164):  # wrong last sequence: someone else wrote first
                raise KeyWrongLastSequenceError(description=error.description) from None
            raise
        return int(ack.seq)

    async def claim(self, kind: str, item: str, holder: str) -> Claim:
        """Claim ``item`` for ``holder``: exactly one of several racing consoles
        wins; claiming what one already holds renews it."""
        from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

        key = claim_key(kind, item)
        for _ in range(4):  # another console may write between our read and our write
            try:
                entry = await self._kv.get(key)
                (current, done), last = self._read(entry.value), int(entry.revision)
            except KeyNotFoundError as missing:  # never claimed, expired, or released (a tombstone)
                tombstone = getattr(missing, "entry", None)
                current, done, last = None, False, int(tombstone.revision) if tombstone is not None else 0
            if done:
                return Claim(False, current, last, f"already done by {current}", done=True)
            if current is not None and current != holder:
                return Claim(False, current, last, f"held by {current}")
            try:
                return Claim(True, holder, await self._cas(key, holder, last))
            except KeyWrongLastSequenceError:
                continue
        current = await self.holder(kind, item)
        return Claim(False, current, None, f"held by {current}" if current else "contended; try again")

    async def renew(self, kind: str, item: str, holder: str) -> Claim:
        """Extend one's own claim by another TTL (the holder calls this well within the TTL)."""
        return await self.claim(kind, item, holder)

    async def finish(self, kind: str, item: str, holder: str, keep_s: float = DONE_KEEP_S) -> bool:
        """Mark a claimed item done for ``keep_s`` (a reviewed item: no other
        console's reviewer takes it up again); False when ``holder`` did not hold it."""
        from nats.js.errors import KeyWrongLastSequenceError

        held = await self._held(kind, item, holder)
        if held is None:
            return False
        key, revision = held
        try:
            await self._cas(key, holder, revision, done=True, ttl_s=keep_s)
        except KeyWrongLastSequenceError:
            return False
        return True

    async def release(self, kind: str, item: str, holder: str) -> bool:
        """Give the claim up; False when ``holder`` did not hold it."""
        from nats.js.errors import KeyWrongLastSequenceError

        held = await self._held(kind, item, holder)
        if held is None:
            return False
        key, revision = held
        try:
            await self._kv.delete(key, last=revision)
        except KeyWrongLastSequenceError:
            return False
        return True

    async def _held(self, kind: str, item: str, holder: str) -> tuple[str, int] | None:
        """``(key, revision)`` of a live claim ``holder`` holds on ``item``; None otherwise."""
        from nats.js.errors import KeyNotFoundError

        key = claim_key(kind, item)
        try:
            entry = await self._kv.get(key)
        except KeyNotFoundError:
            return None
        current, done = self._read(entry.value)
        if current != holder or done:
            return None
        return key, int(entry.revision)

    async def close(self) -> None:
        if self._nc is not None:
            await close_quietly(self._nc)
            self._nc = None


RENEW_FRACTION = 3
"""A held claim is renewed every TTL / RENEW_FRACTION seconds: two renewals may
fail (a server failing over) before the claim lapses."""
CONNECT_WAIT_S = 3.0
"""How long a claim waits for the bucket's connection before it is refused as unavailable."""
CALL_TIMEOUT_S = 5.0
"""Bound on one claim, renewal or release round trip."""


Lost = Callable[[str, str, "str | None"], None]
"""``on_lost(kind, item, holder_now)``: a held claim could not be renewed (someone else has it, or it lapsed)."""
Wanted = Callable[[str, str], bool]
"""``still_wanted(kind, item)``: whether the console still needs a claim it holds (False releases it)."""
Adopt = Callable[[], Iterable[tuple[str, str]]]
"""``adopt()``: (kind, item) this console should hold without having claimed them here
(chats the feed shows this supervisor holding after a console restart)."""


class ClaimKeeper:
    """The claims one console holds, kept alive while it holds them.

    :meth:`acquire` claims an item for ``holder`` (compare-and-set through
    :class:`ClaimStore`), :meth:`release` gives it up; in between a task
    renews every held claim every ``ttl / 3`` seconds, and asks
    ``still_wanted`` whether the console still needs it (a chat that ended,
    a review item that was closed: released). A console that dies stops
    renewing, and its claims expire after the TTL.

    The connection is made in the background and retried forever, so a
    console may start before the server; until it is up a claim is refused
    as *unavailable* (fail closed: the console does not guess who holds a chat).
    """

    def __init__(
        self,
        store: ClaimStore,
        holder: str,
        *,
        on_lost: Lost | None = None,
        still_wanted: Wanted | None = None,
        adopt: Adopt | None = None,
        renew_every_s: float | None = None,
    ) -> None:
        self.store = store
        self.holder = holder
        self.on_lost = on_lost
        self.still_wanted = still_wanted
        self.adopt = adopt
        self.renew_every_s = renew_every_s or store.ttl_s / RENEW_FRACTION
        self.held: set[tuple[str, str]] = set()
        self.problem: str | None = None
        """Why the last call to the bucket failed (None: it worked)."""
        self._connected = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        """One per item: a renewal in flight must not re-create a claim being released."""

    def _lock(self, kind: str, item: str) -> asyncio.Lock:
        lock = self._locks.get((kind, item))
        if lock is None:
            lock = self._locks[(kind, item)] = asyncio.Lock()
        return lock

    @property
    def where(self) -> str:
        """The bucket's servers as they may be shown."""
        return ",".join(s.split("://", 1)[-1] for s in self.store.address.servers)

    def start(self) -> None:
        """Connect in the background and start renewing (call in the running loop)."""
        if self._tasks:
            return
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._connect(), name="hitl-claims-connect"),
                       loop.create_task(self._renew_forever(), name="hitl-claims-renew")]

    async def _connect(self) -> None:
        delay = 0.25
        while True:
            try:
                await self.store.connect()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.problem = self._describe(error)
                log.warning("claims bucket at %s: %s (retrying)", self.where, self.problem)
                await self.store.close()
                await asyncio.sleep(delay)
                delay = min(5.0, delay * 2)
                continue
            self.problem = None
            self._connected.set()
            return

    async def _ready(self) -> str | None:
        """None when the bucket can be used, else why not."""
        if not self._connected.is_set():
            try:
                await asyncio.wait_for(self._connected.wait(), CONNECT_WAIT_S)
            except asyncio.TimeoutError:
                return f"the team's claims bucket at {self.where} is not reachable" + (f" ({self.problem})" if self.problem else "")
        return None

    def _describe(self, error: BaseException) -> str:
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return redact(text, self.store._token, *self.store.address.secrets)

    def holds(self, kind: str, item: str) -> bool:
        return (kind, item) in self.held

    async def acquire(self, kind: str, item: str) -> Claim:
        """Claim ``item``; refused with the holder named, or with ``error`` when the bucket cannot be reached."""
        problem = await self._ready()
        if problem:
            return Claim(False, None, error=problem)
        async with self._lock(kind, item):
            try:
                claim = await asyncio.wait_for(self.store.claim(kind, item, self.holder), CALL_TIMEOUT_S)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.problem = self._describe(error)
                return Claim(False, None, error=f"the team's claims bucket at {self.where} did not answer ({self.problem})")
            self.problem = None
            if claim.ok:
                self.held.add((kind, item))
            return claim

    async def release(self, kind: str, item: str) -> bool:
        """Give up a claim this console holds (False: it held none, or the bucket did not answer;
        then the claim expires by its TTL)."""
        async with self._lock(kind, item):
            if (kind, item) not in self.held:
                return False
            self.held.discard((kind, item))
            self._locks.pop((kind, item), None)
            if not self._connected.is_set():
                return False
            try:
                return await asyncio.wait_for(self.store.release(kind, item, self.holder), CALL_TIMEOUT_S)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("releasing %s %s in the claims bucket: %s (it expires by itself)", kind, item, self._describe(error))
                return False

    async def finish(self, kind: str, item: str) -> bool:
        """Mark a held item done (see :meth:`ClaimStore.finish`) and stop renewing it."""
        async with self._lock(kind, item):
            if (kind, item) not in self.held:
                return False
            self.held.discard((kind, item))
            self._locks.pop((kind, item), None)
            try:
                return await asyncio.wait_for(self.store.finish(kind, item, self.holder), CALL_TIMEOUT_S)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("marking %s %s done in the claims bucket: %s", kind, item, self._describe(error))
                return False

    async def holder_of(self, kind: str, item: str) -> str | None:
        """Who holds ``item`` now, read from the bucket (None: nobody, or the bucket is not reachable)."""
        if await self._ready():
            return None
        try:
            return await asyncio.wait_for(self.store.holder(kind, item), CALL_TIMEOUT_S)
        except asyncio.CancelledError:
            raise
        except Exception:
            return None

    async def renew_all(self) -> None:
        """One round: release what is no longer wanted, renew the rest, claim what
        ``adopt`` names; tell ``on_lost`` of any lost."""
        if not self._connected.is_set():
            return
        for kind, item in list(self.adopt() if self.adopt is not None else ()):
            if (kind, item) not in self.held:
                claim = await self.acquire(kind, item)
                if not claim.ok:
                    log.info("%s %s is ours on the feed but not in the claims bucket: %s", kind, item, claim.error)
        for kind, item in sorted(self.held):
            if self.still_wanted is not None and not self.still_wanted(kind, item):
                await self.release(kind, item)
                continue
            async with self._lock(kind, item):
                if (kind, item) not in self.held:  # released while we waited
                    continue
                try:
                    claim = await asyncio.wait_for(self.store.renew(kind, item, self.holder), CALL_TIMEOUT_S)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # the server is failing over: try again next round
                    self.problem = self._describe(error)
                    log.warning("renewing %s %s: %s", kind, item, self.problem)
                    continue
                if claim.ok:
                    continue
                self.held.discard((kind, item))
            log.warning("claim on %s %s lost: %s", kind, item, claim.error)
            if self.on_lost is not None:
                self.on_lost(kind, item, claim.holder)

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.renew_every_s)
            try:
                await self.renew_all()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("renewing claims")

    async def close(self) -> None:
        """Stop renewing and disconnect. Held claims are left to expire by their
        TTL, as a crashed console's would: the platform may still count this
        supervisor as holding them."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks = []
        await self.store.close()


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
