"""After the fact: the review store and its queue, verdicts, and the metrics that read them.

The metrics and review screens read the same definitions as
``hitl-console report``: :meth:`VerdictsAndMetrics.metrics` is
:func:`~hitl_console.analysis.metrics.compute_metrics` over the session's
conversations, with the verdicts of the review store for escalation accuracy.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hitl_console.analysis.metrics import Metrics, compute_metrics
from hitl_console.analysis.timewin import TimeWindow
from hitl_console.config import Config
from hitl_console.session.review_queue import QueueFeeder
from hitl_console.store.journal import JournalError
from hitl_console.store.reviews import (
    ClaimError,
    ConversationKey,
    ReviewStore,
    ReviewVerdict,
    TakeoverVerdict,
    Verdict,
)

if TYPE_CHECKING:
    from hitl_console.engine.engine import SignalEngine
    from hitl_console.engine.state import ConversationState
    from hitl_console.feeds.claims import ClaimKeeper
    from hitl_console.feeds.history import TeamHistory
    from hitl_console.feeds.hub import FeedSpec
    from hitl_console.store.journal import Journal

log = logging.getLogger(__name__)


class VerdictsAndMetrics:
    """The after-the-fact half of :class:`~hitl_console.session.LiveSession`."""

    agent: str
    config: Config
    engine: SignalEngine
    journal: Journal
    specs: list[FeedSpec]
    claims: ClaimKeeper | None
    history: TeamHistory | None
    _reviews: ReviewStore | None
    _queue_feeder: QueueFeeder

    if TYPE_CHECKING:
        def conversation(self, conversation_id: str) -> ConversationState | None: ...
        def clock(self) -> float: ...

    def queue_for_review(self) -> int:
        """Offer the ended conversations in memory to the review queue
        (:class:`~hitl_console.session.review_queue.QueueFeeder`: each once per
        version); returns how many items were new. Raises
        :class:`~hitl_console.store.journal.JournalError` like the store."""
        return self._queue_feeder.feed(self.reviews, self.engine.conversations, self.config)

    @property
    def reviews(self) -> ReviewStore:
        """The review store (queue, claims, verdicts, corrections, tags) in this
        session's journal file, created on first use: when the first
        conversation ends (:meth:`queue_for_review`) or a screen asks.

        Lazy because creating it registers its tables in the journal, which a
        session that never sees a conversation end has no need of. Same thread
        as the journal (the event loop's). Raises :class:`~hitl_console.store.journal.JournalError`
        when the tables cannot be created.
        """
        if self._reviews is None:
            self._reviews = ReviewStore(self.journal, claim_ttl_s=self.config.review.claim_ttl_s)
        return self._reviews

    def record_takeover_verdict(
        self,
        conversation_id: str,
        escalation_needed: bool,
        note: str | None = None,
    ) -> TakeoverVerdict:
        """Store this agent's answer to "was this escalation needed?" when a takeover ends.

        It is what turns escalations into *escalation accuracy*
        (:meth:`metrics`). Unlike event journaling, a failure is not swallowed:
        raises :class:`~hitl_console.store.journal.JournalError` so the screen
        that asked can tell the supervisor their answer was not kept.

        Stored under the conversation's feed and the feed's own id, so that it
        can never count for a same-numbered conversation of another feed.
        """
        note = (note or "").strip() or None
        state = self.conversation(conversation_id)
        if state is not None:
            feed, wire_id = state.feed, state.feed_id
        else:  # forgotten already: only a one-feed session can still tell whose it was
            feed = self.specs[0].name if len(self.specs) == 1 else ""
            wire_id = conversation_id
            log.warning("takeover verdict for %r, which is no longer in memory: stored under feed %r", conversation_id, feed)
        verdict = self.reviews.record_takeover_verdict(wire_id, self.agent, bool(escalation_needed), note, feed=feed)
        if self.history is not None:
            self.history.publish("takeover_verdict", self.agent, verdict.ts, conversation_id=wire_id, feed=feed,
                                 escalation_needed=verdict.escalation_needed, note=note)
        return verdict

    def record_review_verdict(self, item_id: str, verdict: Verdict | str, note: str | None = None) -> ReviewVerdict:
        """A reviewer's verdict on an item this reviewer holds (``ReviewStore.record_verdict``:
        :class:`~hitl_console.store.reviews.ClaimError` when they do not), published to the team."""
        if self.claims is not None and not self.claims.holds("review", item_id):
            raise ClaimError(f"{self.agent} does not hold {item_id} in the team's claims (claim it first)")
        stored = self.reviews.record_verdict(item_id, self.agent, verdict, note)
        if self.history is not None:
            self.history.publish("review_verdict", self.agent, stored.ts, item_id=item_id, conversation_id=stored.conversation_id,
                                 queue=stored.queue, feed=stored.feed, verdict=stored.verdict.value, note=stored.note)
        return stored

    def escalation_verdicts(self, since: float | None = None) -> dict[ConversationKey, bool]:
        """(feed, conversation id) -> "a human was needed" (takeover and reviewer verdicts);
        empty when the review store cannot be read, because metrics without
        accuracy beat no metrics."""
        try:
            return self.reviews.escalation_verdicts(since)
        except JournalError as error:
            log.error("reading escalation verdicts: %s", error)
            return {}

    def metrics(self, window_s: float | None = None) -> Metrics:
        """:func:`~hitl_console.analysis.metrics.compute_metrics` over the
        conversations in memory that started in the last ``window_s`` seconds of
        the session clock (all of them when None), with the verdicts of the
        review store for escalation accuracy.

        Every verdict is read: they are keyed by conversation and only the
        window's conversations count, so this is exact whatever clock a
        verdict was stamped with (a replay's or the demo's clock is not the
        wall clock; filtering by time made "all" say "no verdicts yet" while
        "1 h" counted two).
        """
        conversations = list(self.engine.conversations.values())
        if window_s is not None:
            if window_s <= 0:
                raise ValueError("window_s must be positive")
            window = TimeWindow(self.clock() - window_s, None)
        else:
            window = TimeWindow()
        return compute_metrics(
            conversations,
            window=window,
            verdicts=self.escalation_verdicts(None),
            alerts=self.config.alerts,
        )
