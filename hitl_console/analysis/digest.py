"""A finished conversation, reduced to what the report's figures read.

``hitl-console report`` over a month of traffic cannot keep every
conversation's turns, timeline and approvals: a :class:`Digest` is made
when a conversation leaves the replay (``engine.replay.ReplaySink``) and
keeps the fields the metrics (``analysis.metrics``) and the scorecard
(``analysis.scorecard``) read, under the same names as
:class:`~hitl_console.engine.state.ConversationState`, with the turns cut
to the customer sentiments (time, value) and the AI confidences, packed
as doubles. About a tenth of the state's memory; the figures are the same.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from hitl_console.engine.state import ConversationState, CustomerProfile, TriggerHit

__all__ = ["Digest", "DigestSink", "SentimentTurn"]


class SentimentTurn(NamedTuple):
    """A customer turn as the sentiment trend reads it."""

    ts: float
    sentiment: float
    role: str = "customer"


_TOPICS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _word(text: str | None) -> str | None:
    return None if text is None else sys.intern(text)


def _words(topics: tuple[str, ...]) -> tuple[str, ...]:
    if not topics:
        return ()
    if len(_TOPICS) > 10_000:  # a vocabulary, not ids: bounded whatever a feed sends
        return topics
    return _TOPICS.setdefault(topics, tuple(sys.intern(t) for t in topics))


def _card(card: dict | None) -> dict | None:
    """The feed's scorecard as ``scorecard.feed_score`` reads it, its names interned."""
    if not isinstance(card, dict):
        return card
    criteria = card.get("criteria")
    if isinstance(criteria, dict):
        criteria = {sys.intern(k) if isinstance(k, str) else k: v for k, v in criteria.items()}
    return {"overall": card.get("overall"), "criteria": criteria, "notes": card.get("notes")}


class Digest:
    """See the module docstring."""

    __slots__ = (
        "conversation_id",
        "feed",
        "wire_id",
        "queue",
        "customer_id",
        "contact_reason",
        "topics",
        "started_ts",
        "last_ts",
        "ended",
        "outcome",
        "resolved_by",
        "holder",
        "csat",
        "scorecard",
        "triggers",
        "escalated_at_seq",
        "escalated_ts",
        "escalation_turns",
        "_values",
        "_sentiments",
    )

    def __init__(self, state: ConversationState) -> None:
        # Names from a small vocabulary (queues, topics, outcomes) are
        # interned: each event brings its own copy of the string.
        self.conversation_id = state.conversation_id
        self.feed = _word(state.feed)
        self.wire_id = state.wire_id
        self.queue = _word(state.queue)
        self.customer_id = state.customer.id
        self.contact_reason = _word(state.contact_reason)
        self.topics = _words(state.topics)
        self.started_ts = state.started_ts
        self.last_ts = state.last_ts
        self.ended = state.ended
        self.outcome = _word(state.outcome)
        self.resolved_by = _word(state.resolved_by)
        self.holder = _word(state.holder)
        self.csat = state.csat
        self.scorecard = _card(state.scorecard)
        # the report counts and grades triggers by kind and turn: the reason and
        # the evidence (customer text) stay behind
        self.triggers: tuple[TriggerHit, ...] = tuple(
            TriggerHit(h.kind, h.seq, h.ts, "", "", h.turn_index) for h in state.triggers
        )
        self.escalated_at_seq = state.escalated_at_seq
        self.escalated_ts = state.escalated_ts
        self.escalation_turns = state.escalation_turns
        # one array: (time, sentiment) of each customer turn, then the AI confidences
        sentiment: list[float] = []
        confidence: list[float] = []
        for t in state.turns:
            if t.role == "customer" and t.sentiment is not None:
                sentiment += (t.ts, t.sentiment)
            elif t.role == "ai" and t.confidence is not None:
                confidence.append(t.confidence)
        self._sentiments = len(sentiment) // 2
        self._values = array("d", sentiment + confidence)

    @property
    def escalated(self) -> bool:
        return self.escalated_at_seq is not None

    @property
    def time_to_escalation(self) -> float | None:
        return None if self.escalated_ts is None else self.escalated_ts - self.started_ts

    @property
    def feed_id(self) -> str:
        return self.wire_id or self.conversation_id

    @property
    def customer(self) -> CustomerProfile:
        return CustomerProfile(self.customer_id)

    @property
    def turns(self) -> Iterator[SentimentTurn]:
        """The customer turns with a sentiment (all the report reads of the turns)."""
        s = self._values
        return (SentimentTurn(s[i], s[i + 1]) for i in range(0, 2 * self._sentiments, 2))

    def sentiments(self) -> list[float]:
        return self._values[1 : 2 * self._sentiments : 2].tolist()

    def confidences(self) -> list[float]:
        return self._values[2 * self._sentiments :].tolist()


class DigestSink:
    """A replay sink keeping a :class:`Digest` of each conversation, in the order
    they started (as ``engine.conversations`` held them)."""

    def __init__(self, keep: Callable[[Digest], bool] | None = None) -> None:
        self._order: dict[str, Digest | None] = {}
        self._keep = keep

    def opened(self, key: str) -> None:
        self._order[key] = None

    def closed(self, state: ConversationState) -> None:
        digest = Digest(state)
        if self._keep is not None and not self._keep(digest):
            self._order.pop(state.conversation_id, None)
            return
        self._order[state.conversation_id] = digest

    def digests(self) -> Iterable[Digest]:
        return [d for d in self._order.values() if d is not None]
