"""FeedHub: several feeds at once, one output stream, commands routed by feed.

A floor supervisor watches more than one platform (a chat vendor, a voice
vendor, a replay for training). The hub runs one :class:`FeedClient` per
:class:`FeedSpec` concurrently, hands every client's output to one callback
(each :class:`FeedOutput` names its feed), and sends a command to the feed
the conversation came from.

Adding a transport is adding a :class:`FeedSource` and a line in
:func:`open_source`. A message bus fits the same shape; for NATS JetStream,
:class:`~hitl_console.feeds.jetstream.JetStreamSource` (``nats://host/STREAM``)
creates an ordered consumer at stream sequence ``since + 1``, yields each
message's event, and raises ``ConnectionError`` when the connection drops so
the client backs off and resumes; ``send()`` is a request-reply whose answer
is the inline :class:`Ack`. Duplicate filtering, lag, status and ack
timeouts come from the client unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import re
import urllib.parse
from collections.abc import AsyncIterator, Callable, Container
from dataclasses import dataclass, field
from pathlib import Path

from hitl_console.config import FeedConfig
from hitl_console.feeds.base import CommandResult, FeedFailed, FeedOutput, FeedSource, FeedStatus, Frame, safe_url
from hitl_console.feeds.client import FeedClient, SeqHistory
from hitl_console.feeds.file import FileSource, file_path, recording_format
from hitl_console.feeds.http import HttpSource
from hitl_console.feeds.jetstream import JetStreamSource
from hitl_console.feeds.websocket import WebSocketSource
from hitl_console.protocol.events import Ack, AnyCommand

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One feed to open: its URL or file, a display name, a token, replay options."""

    url: str
    name: str | None = None
    token: str | None = field(default=None, repr=False)
    speed: float = 1.0
    fast: bool = False
    since: int | None = None
    epoch: str | None = None
    """The feed's epoch at ``since`` (from the journal): a different one is a restart."""

    @classmethod
    def from_config(cls, feed: FeedConfig) -> "FeedSpec":
        """A spec from a ``[[feeds]]`` entry of the config (token resolved from its env var)."""
        return cls(url=feed.url, name=feed.name, token=feed.resolve_token(), speed=feed.speed, fast=feed.fast)


def _scheme(url: str) -> str:
    if "://" not in url:
        return ""
    return url.split("://", 1)[0].lower()


def is_live_url(url: str) -> bool:
    """Whether ``url`` names a network feed rather than a file."""
    return _scheme(url) in ("ws", "wss", "http", "https", "nats")


_TYPO = re.compile(r"(?i)^(wss?|https?|nats|tls)(?::/?(?!/)|//+|:/{3,})(?=[^/])")
"""``wss//host``, ``ws:/host``, ``ws:host``, ``wss:///host``: a feed URL with a typo
in its scheme, not a file (it would be looked for on disk, and its query and
fragment, often a token, printed as part of a file name)."""


def scheme_typo(url: str) -> str | None:
    """The scheme ``url`` was meant to have, when it is a feed URL with a typo."""
    match = _TYPO.match(url)
    return match.group(1).lower() if match else None


def is_file_url(url: str) -> bool:
    """Whether ``url`` names a recording: a plain path or a ``file://`` URL."""
    if scheme_typo(url):
        return False
    return "://" not in url or url.lower().startswith("file://")


def open_source(spec: FeedSpec) -> FeedSource:
    """The source for ``spec``: by URL scheme, else by file extension.

    Raises ValueError with a message fit for the operator for an unsupported
    scheme or file type. A missing file is not an error here: its client
    fails at once with a clear status (so a console with several feeds
    keeps the others running).
    """
    scheme = _scheme(spec.url)
    meant = scheme_typo(spec.url)
    if meant:
        raise ValueError(f"{safe_url(spec.url)}: not a valid URL (a typo in the scheme?); write {meant}://HOST:PORT/...")
    if scheme in ("ws", "wss"):
        return WebSocketSource(spec.url, spec.token)
    if scheme in ("http", "https"):
        return HttpSource(spec.url, spec.token)
    if scheme == "nats":
        return JetStreamSource(spec.url, spec.token)
    if scheme in ("", "file"):
        recording_format(file_path(spec.url))  # ValueError for an unknown extension
        return FileSource(spec.url, speed=spec.speed, fast=spec.fast)
    raise ValueError(
        f"{safe_url(spec.url)}: unsupported feed scheme {scheme + '://'!r}; use ws://, wss://, http://, https://, nats:// or a recording file"
    )


def default_name(url: str) -> str:
    """A short label: ``host:port`` for a network feed, the file name for a recording."""
    if _scheme(url) == "nats":
        path = url.split("://", 1)[1].partition("?")[0].partition("/")[2].strip("/")
        return path or "nats"
    if scheme_typo(url):
        return safe_url(url)[:40]
    if is_live_url(url):
        try:
            parts = urllib.parse.urlsplit(url)
            host, port = parts.hostname or "feed", parts.port
        except ValueError:  # a malformed URL still needs a label; its source reports the error
            return safe_url(url)[:40]
        return f"{host}:{port}" if port else host
    return file_path(url).name or url


def unique_name(name: str, taken: "Container[str]") -> str:
    """``name``, or ``name#2``, ``name#3``... when it is taken (two feeds on one host)."""
    if name not in taken:
        return name
    n = 2
    while f"{name}#{n}" in taken:
        n += 1
    return f"{name}#{n}"


class _BrokenSource(FeedSource):
    """Stands in for a spec that could not be opened, so the error shows as a FAILED feed."""

    def __init__(self, url: str, message: str) -> None:
        self.url = safe_url(url)
        self._message = message

    async def frames(self, since: int | None) -> AsyncIterator[Frame]:
        raise FeedFailed(self._message)
        yield  # pragma: no cover - makes this an async generator

    async def send(self, command: AnyCommand) -> Ack | None:
        raise FeedFailed(self._message)


class FeedHub:
    """Run several feeds concurrently; see the module docstring."""

    def __init__(
        self,
        specs: list[FeedSpec],
        *,
        on_output: Callable[[FeedOutput], None],
        on_status: Callable[[FeedStatus], None] | None = None,
        ack_timeout: float = 5.0,
        history: Callable[[str], SeqHistory] | None = None,
    ) -> None:
        """``history(feed)`` answers for what a client no longer remembers
        (see :class:`hitl_console.feeds.client.SeqHistory`); the session passes its journal's."""
        self.on_output = on_output
        self.on_status = on_status
        self.ack_timeout = ack_timeout
        self._clients: dict[str, FeedClient] = {}
        for spec in specs:
            name = self._unique(spec.name or default_name(spec.url))
            try:
                source = open_source(spec)
            except ValueError as error:
                source = _BrokenSource(spec.url, str(error))
            self._clients[name] = FeedClient(
                source,
                name=name,
                since=spec.since,
                ack_timeout=ack_timeout,
                epoch=spec.epoch,
                history=history(name) if history is not None else None,
            )
        self._tasks: list[asyncio.Task[FeedStatus]] = []
        self._stopping = False

    def _unique(self, name: str) -> str:
        return unique_name(name, self._clients)

    @property
    def clients(self) -> dict[str, FeedClient]:
        """Clients by feed name (the names that :class:`FeedOutput` carries)."""
        return dict(self._clients)

    @property
    def statuses(self) -> list[FeedStatus]:
        """A fresh status of every feed, in the order they were given."""
        return [client.status for client in self._clients.values()]

    async def run(self) -> None:
        """Run every feed until all have finished or failed, or :meth:`stop`."""
        self._stopping = False
        self._tasks = [
            asyncio.create_task(client.run(self.on_output, self.on_status), name=f"feed-{name}")
            for name, client in self._clients.items()
        ]
        try:
            results = await asyncio.gather(*self._tasks, return_exceptions=True)
        except asyncio.CancelledError:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            raise
        for name, result in zip(self._clients, results):
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("feed %s ended with an error", name, exc_info=result)

    async def stop(self) -> None:
        """Stop every feed; :meth:`run` returns once they have closed."""
        self._stopping = True
        await asyncio.gather(*(client.stop() for client in self._clients.values()), return_exceptions=True)

    def rewind(self, feed_name: str, since: int | None) -> bool:
        """Ask one feed again for every event after ``since``; False for an unknown feed."""
        client = self._clients.get(feed_name)
        if client is None:
            return False
        client.rewind(since)
        return True

    async def send(self, feed_name: str, command: AnyCommand) -> CommandResult:
        """Send ``command`` to one feed and wait (up to ``ack_timeout``) for its ack."""
        client = self._clients.get(feed_name)
        if client is None:
            return CommandResult(command.request_id, ok=False, sent=False, error=f"no feed named {feed_name!r}")
        return await client.send(command, self.ack_timeout)


def spec_for_path(path: str | Path, *, speed: float = 1.0, fast: bool = False) -> FeedSpec:
    """A spec for a recording (``hitl-console replay FILE``)."""
    return FeedSpec(url=str(path), speed=speed, fast=fast)
