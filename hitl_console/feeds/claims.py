"""Shared claims: who holds a chat or a review item, across a floor of consoles.

The platform arbitrates takeovers when it can; when it does not (several
consoles on one stream, review items the platform knows nothing about), a
JetStream key-value bucket does: a claim is the key ``<kind>.<id>`` created
with compare-and-set (``create`` succeeds for exactly one console) and a
per-key TTL, renewed by its holder while it holds it. A console that dies
stops renewing and its claim expires, so a chat is never held by a ghost.

Bucket: ``hitl-claims`` (one value per key, no history). Value: JSON
``{"holder": str, "console": str, "at": float}``.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from hitl_console.feeds.jetstream import NatsAddress, _require_nats, close_quietly

BUCKET = "hitl-claims"
DEFAULT_TTL_S = 30.0
KINDS = ("chat", "review")
_KEY_SAFE = re.compile(r"^[-_=a-zA-Z0-9]+$")


def claim_key(kind: str, item: str) -> str:
    """The KV key of a claim: ``chat.c-1042``; ids with other characters are
    base64url-encoded (``chat.~...``) since NATS keys allow only a few."""
    if kind not in KINDS:
        raise ValueError(f"claim kind {kind!r}: use one of {', '.join(KINDS)}")
    if _KEY_SAFE.match(item):
        return f"{kind}.{item}"
    return f"{kind}.~{base64.urlsafe_b64encode(item.encode()).decode().rstrip('=')}"


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer to a claim: won (or already ours), or held by someone else."""

    ok: bool
    holder: str | None
    revision: int | None = None
    error: str | None = None


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

    def _value(self, holder: str) -> bytes:
        return json.dumps({"holder": holder, "console": self.console, "at": round(time.time(), 3)}).encode()

    @staticmethod
    def _holder(value: bytes | None) -> str | None:
        try:
            return str(json.loads(value or b"{}").get("holder")) or None
        except (ValueError, AttributeError):
            return None

    async def holder(self, kind: str, item: str) -> str | None:
        """Who holds the claim now (None: nobody, or it expired)."""
        from nats.js.errors import KeyNotFoundError

        try:
            entry = await self._kv.get(claim_key(kind, item))
        except KeyNotFoundError:
            return None
        return self._holder(entry.value)

    async def _cas(self, key: str, holder: str, last: int) -> int:
        """Write the claim only if the key's newest revision is ``last`` (0: no
        value yet), with the per-key TTL; KeyWrongLastSequenceError otherwise."""
        from nats.js import api
        from nats.js.errors import APIError, KeyWrongLastSequenceError

        headers = {api.Header.EXPECTED_LAST_SUBJECT_SEQUENCE: str(last)}
        try:
            ack = await self._js.publish(f"$KV.{self.bucket}.{key}", self._value(holder), headers=headers, msg_ttl=self.ttl_s)
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
                current, last = self._holder(entry.value), int(entry.revision)
            except KeyNotFoundError as missing:  # never claimed, expired, or released (a tombstone)
                tombstone = getattr(missing, "entry", None)
                current, last = None, int(tombstone.revision) if tombstone is not None else 0
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

    async def release(self, kind: str, item: str, holder: str) -> bool:
        """Give the claim up; False when ``holder`` did not hold it."""
        from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

        key = claim_key(kind, item)
        try:
            entry = await self._kv.get(key)
        except KeyNotFoundError:
            return False
        if self._holder(entry.value) != holder:
            return False
        try:
            await self._kv.delete(key, last=entry.revision)
        except KeyWrongLastSequenceError:
            return False
        return True

    async def close(self) -> None:
        if self._nc is not None:
            await close_quietly(self._nc)
            self._nc = None
