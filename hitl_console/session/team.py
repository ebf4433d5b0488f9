"""Team glue: shared claims and the team's history stream for one session.

On a team's NATS (``[team] nats``, or a ``nats://`` feed) a chat is claimed in
the shared ``hitl-claims`` bucket before a takeover, and a review item before
a reviewer works on it (:mod:`hitl_console.feeds.claims`); verdicts, alerts
and commands are published to the team's history
(:mod:`hitl_console.feeds.history`) and other consoles' verdicts are read
back into the local review store.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from hitl_console.alerts.model import Alert
from hitl_console.config import Config
from hitl_console.feeds.claims import Claim
from hitl_console.feeds.history import TeamHistory
from hitl_console.feeds.hub import FeedSpec
from hitl_console.store.history import HistoryCache
from hitl_console.store.journal import JournalError

if TYPE_CHECKING:
    from hitl_console.alerts.latch import AlertLatch
    from hitl_console.engine.engine import SignalEngine
    from hitl_console.feeds.claims import ClaimKeeper
    from hitl_console.session.lifecycle import SessionChange
    from hitl_console.store.journal import Journal
    from hitl_console.store.reviews import ReviewStore

log = logging.getLogger(__name__)

CLAIM_GRACE_S = 15.0
"""How long a fresh chat claim is kept before the feed shows this agent holding
the chat (``human.joined`` may lag the ack, or the takeover's ack timed out)."""


def team_bus(config: Config, specs: list[FeedSpec]) -> tuple[str, str | None] | None:
    """Where the team's claims live: ``[team] nats`` (token from ``[team] token_env``),
    else the first ``nats://`` feed (its token); None for a console on its own."""
    if config.team.nats:
        return config.team.nats, config.team.resolve_token()
    for spec in specs:
        if spec.url.lower().startswith("nats://"):
            return spec.url, spec.token
    return None


def console_name() -> str:
    """This console in a claim's value (``host:pid``): for people reading the bucket."""
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


class TeamGlue:
    """The claims and team-history half of :class:`~hitl_console.session.LiveSession`."""

    agent: str
    config: Config
    engine: SignalEngine
    journal: Journal
    claims: ClaimKeeper | None
    history: TeamHistory | None
    _chat_claimed_at: dict[str, float]
    _history_cache: HistoryCache | None
    _pending: SessionChange
    latch: AlertLatch

    if TYPE_CHECKING:
        @property
        def reviews(self) -> ReviewStore: ...
        def _journal_call(self, fn: Any, *args: Any) -> Any: ...
        def _mark_dirty(self) -> None: ...

    def _chat_claim_id(self, conversation_id: str) -> str:
        """A chat's name in the bucket: its id on the wire (what every console of the stream sees)."""
        state = self.engine.conversations.get(conversation_id)
        return state.feed_id if state is not None else conversation_id

    async def _release_chat(self, conversation_id: str) -> None:
        if self.claims is not None:
            wire = self._chat_claim_id(conversation_id)
            self._chat_claimed_at.pop(wire, None)
            await self.claims.release("chat", wire)

    async def chat_holder(self, conversation_id: str) -> str | None:
        """Who holds the chat's team claim now (None: nobody, no shared claims, or the bucket is unreachable)."""
        if self.claims is None:
            return None
        return await self.claims.holder_of("chat", self._chat_claim_id(conversation_id))

    def _claim_wanted(self, kind: str, item: str) -> bool:
        """Whether a held claim is still needed; asked before each renewal.

        A chat: until it ends, or until it is plainly not ours (another agent
        holds it, or no human does) once the platform has had time to say so.
        A review item: while this reviewer holds it, open, in the local store."""
        if kind == "chat":
            state = next((c for c in self.engine.conversations.values() if c.feed_id == item), None)
            if state is not None and state.ended:
                return False
            if state is not None and state.holder == "human" and state.agent == self.agent:
                return True
            claimed = self._chat_claimed_at.get(item)
            grace = max(CLAIM_GRACE_S, 2 * self.config.ack_timeout_s)
            return claimed is not None and time.monotonic() - claimed < grace
        try:
            reviewed = self.reviews.item(item)
        except JournalError:
            return True  # cannot tell: keep it, it expires if this console goes
        return reviewed is not None and reviewed.status == "open" and reviewed.claimed_by == self.agent and reviewed.claimed()

    def _chats_held(self) -> list[tuple[str, str]]:
        """Chats the feed shows this agent holding (claimed again after a console restart)."""
        return [("chat", c.feed_id) for c in self.engine.conversations.values()
                if not c.ended and c.holder == "human" and c.agent == self.agent]

    def _claim_lost(self, kind: str, item: str, holder: str | None) -> None:
        """A held claim could not be renewed: the supervisor must know someone else may act on it."""
        what = "chat" if kind == "chat" else "review item"
        who = f"; {holder} holds it now" if holder else ""
        self.latch.add(
            Alert(
                ts=time.time(),
                level="warning",
                kind="feed",
                text=f"your team claim on {what} {item} lapsed{who}",
                conversation_id=item if kind == "chat" else None,
                key=f"claim_lost:{kind}:{item}:{time.monotonic():.0f}",
            ),
            figures={"kind": kind},
        )

    async def claim_review(self, item_id: str) -> Claim:
        """Take a review item for this reviewer: in the team's bucket first (when
        there is one; refused with the holder named), then in the local store.
        Raises :class:`~hitl_console.store.journal.JournalError` like the store."""
        claims = self.claims
        fresh = False
        if claims is not None:
            fresh = not claims.holds("review", item_id)
            shared = await claims.acquire("review", item_id)
            if not shared.ok:
                return shared
        try:
            ok = self.reviews.claim(item_id, self.agent)
        except BaseException:
            if claims is not None and fresh:
                await claims.release("review", item_id)
            raise
        if ok:
            return Claim(True, self.agent)
        if claims is not None and fresh:
            await claims.release("review", item_id)
        item = self.reviews.item(item_id)
        holder = item.claimed_by if item is not None and item.claimed() else None
        return Claim(False, holder, error=f"held by {holder}" if holder else "not open")

    async def release_review(self, item_id: str) -> bool:
        """Give a review item back to the queue (local store and team claim)."""
        released = self.reviews.release(item_id, self.agent)
        if self.claims is not None:
            await self.claims.release("review", item_id)
        return released

    async def review_done(self, item_id: str) -> None:
        """After a verdict: the team claim becomes a *done* marker, so no other console's reviewer takes it up."""
        if self.claims is not None:
            await self.claims.finish("review", item_id)

    def _start_history(self, url: str, token: str | None) -> None:
        """Read the team's history after this journal's cursor and publish ours; a
        journal that cannot hold the cache leaves the console without team history."""
        try:
            cache = HistoryCache(self.journal)
            origin, cursor = cache.origin, cache.cursor()
        except JournalError as error:
            log.error("team history disabled: %s", error)
            return
        self._history_cache = cache
        self.history = TeamHistory(url, token, origin=origin)
        self.history.start(cursor, self._on_history)

    def _on_history(self, stream_seq: int, record: dict[str, Any]) -> None:
        """One record of the team's history: into the local cache (other consoles' verdicts into the review store)."""
        cache = self._history_cache
        if cache is None:
            return
        applied = self._journal_call(cache.apply, stream_seq, record, self.reviews)
        if applied and record.get("origin") != cache.origin and record.get("kind") in ("takeover_verdict", "review_verdict"):
            self._pending.statuses_changed = True  # the figures changed
            self._mark_dirty()

    def team_history(self, kind: str | None = None) -> list[Any]:
        """The team's records this console has cached (empty without team history)."""
        if self._history_cache is None:
            return []
        return self._history_cache.records(kind)
