"""Live state of conversations: plain data types the engine keeps up to date.

The signal engine (``hitl_console.engine.engine``) is the only writer. The
console, the headless commands and the after-the-fact analysis only read.
Every mutation bumps ``ConversationState.version`` so that a renderer can
redraw just what changed.

What changes rarely and stays small (topics, intents, routing flags, trigger
firings, the active kinds) is held in tuples and frozensets that the engine
replaces rather than mutates: most conversations never get a trigger or a
routing flag, an empty tuple is shared, and a tuple of strings is one the
garbage collector stops tracking, so a floor of thousands of conversations
costs the collector fewer objects to rescan. Growing logs (``turns``,
``timeline``, ``actions``) are lists.

What a conversation accumulates and never changes (turns, actions, trigger
firings, notices, the customer's profile) is a ``NamedTuple``: immutable, so a
reader can hold on to one safely, and built from all its fields at once
(``tuple.__new__``), which is the cheapest object creation the engine's
per-message path can have. What changes after creation (an ``Approval``, the
``ConversationState``) is a slotted dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

TriggerKind = Literal["low_confidence", "high_stakes", "sentiment", "loop", "human_request", "ai_request"]
TRIGGER_KINDS: tuple[TriggerKind, ...] = (
    "low_confidence",
    "high_stakes",
    "sentiment",
    "loop",
    "human_request",
    "ai_request",
)

TRIGGER_NAMES: dict[str, str] = {
    "low_confidence": "low confidence",
    "high_stakes": "high stakes",
    "sentiment": "sentiment",
    "loop": "loop",
    "human_request": "customer asked for a human",
    "ai_request": "AI asked for a human",
}
"""What a person reads for each trigger kind, on every screen and in headless output
(kept here, beside the kinds, so that commands need not import the UI)."""

Holder = Literal["ai", "waiting", "human", "ended"]


class CustomerProfile(NamedTuple):
    id: str = ""
    name: str | None = None
    tier: str | None = None
    lifetime_value: float | None = None
    open_complaints: int | None = None
    locale: str | None = None


class Turn(NamedTuple):
    """One message of the transcript."""

    seq: int
    ts: float
    role: str  # customer | ai | human | system
    text: str
    confidence: float | None = None
    sentiment: float | None = None
    sentiment_estimated: bool = False
    intent: str | None = None
    topics: tuple[str, ...] = ()
    author: str | None = None
    voice_tone: float | None = None
    interruptions: int | None = None


class ActionRecord(NamedTuple):
    """An ``ai.action``: a tool the AI used."""

    seq: int
    ts: float
    name: str
    status: str
    detail: str | None = None
    amount: float | None = None
    currency: str | None = None


@dataclass(slots=True)
class Approval:
    approval_id: str
    conversation_id: str
    seq: int
    ts: float
    action: str
    amount: float | None = None
    currency: str | None = None
    rationale: str | None = None
    expires_ts: float | None = None
    status: str = "pending"  # pending | approved | denied | expired
    by: str | None = None
    note: str | None = None
    resolved_ts: float | None = None

    def time_left(self, now: float) -> float | None:
        return None if self.expires_ts is None else self.expires_ts - now

    def is_open(self, now: float) -> bool:
        return self.status == "pending" and (self.expires_ts is None or self.expires_ts > now)


class TriggerHit(NamedTuple):
    """A trigger that became true at one event, with a reason a person can read."""

    kind: TriggerKind
    seq: int
    ts: float
    reason: str
    evidence: str = ""
    """The quoted text or value that made it fire."""
    turn_index: int = 0
    """How many customer/AI/human turns the conversation had when it fired."""


class Notice(NamedTuple):
    """A line of the timeline that is neither a message nor an action:
    human joined/left, escalation requested, approval resolved, ended."""

    seq: int
    ts: float
    text: str
    kind: str = "notice"


TimelineItem = Turn | ActionRecord | TriggerHit | Notice | Approval


@dataclass(slots=True)
class ConversationState:
    conversation_id: str
    """The console's key for the conversation: the feed's id, or ``id@feed`` when
    another feed already uses that id (see ``wire_id``)."""
    feed: str = ""
    channel: str = "chat"
    queue: str = ""
    customer: CustomerProfile = CustomerProfile()
    contact_reason: str | None = None
    handled_by: str = "ai"
    started_ts: float = 0.0
    last_ts: float = 0.0
    last_seq: int = 0
    saw_start: bool = False

    turns: list[Turn] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    approvals: dict[str, Approval] = field(default_factory=dict)
    timeline: list[TimelineItem] = field(default_factory=list)
    topics: tuple[str, ...] = ()
    """Topics the feed named, first mention first."""
    intents: tuple[str, ...] = ()
    """Intents the feed named, first mention first."""

    triggers: tuple[TriggerHit, ...] = ()
    """Every firing, in order; a kind appears again only after it cleared."""
    active: frozenset[str] = frozenset()
    """Trigger kinds that are true right now."""
    routing_flags: tuple[str, ...] = ()
    """Reasons the routing rules say a human should have had it first."""
    routing_names: tuple[str, ...] = ()
    """The same broken rules in a word or two each (``platinum``,
    ``complaint``), for the floor's row; one per ``routing_flags`` entry."""
    loop_warning: str | None = None

    risk: float = 0.0
    peak_risk: float = 0.0

    holder: Holder = "ai"
    agent: str | None = None
    """The human holding the conversation, if any."""
    waiting_since: float | None = None
    """When the customer began waiting for a human (``holder == "waiting"``):
    the escalation, a human leaving without handing back, or the start of a
    conversation the platform routed to humans. None when nobody waits."""
    escalated_at_seq: int | None = None
    escalated_ts: float | None = None
    escalation_turns: int | None = None
    """Turns (customer + AI) before the first escalation."""

    ended: bool = False
    outcome: str | None = None
    resolved_by: str | None = None
    csat: int | None = None
    scorecard: dict | None = None
    timed_out: bool = False
    """Closed by the console as ``abandoned`` after ``abandoned_after_seconds``
    without an event (the feed never ended it); a later event reopens it."""

    version: int = 0

    wire_id: str = ""
    """The id the feed itself uses, which commands must carry. Differs from
    ``conversation_id`` only when two feeds send the same id (the engine keeps
    them apart as two conversations); empty means the same."""

    @property
    def feed_id(self) -> str:
        """The id to send to this conversation's feed."""
        return self.wire_id or self.conversation_id

    @property
    def turn_count(self) -> int:
        return len(self.turns)

    @property
    def escalated(self) -> bool:
        return self.escalated_at_seq is not None

    @property
    def time_to_escalation(self) -> float | None:
        if self.escalated_ts is None:
            return None
        return self.escalated_ts - self.started_ts

    def sentiments(self) -> list[float]:
        return [t.sentiment for t in self.turns if t.role == "customer" and t.sentiment is not None]

    def confidences(self) -> list[float]:
        return [t.confidence for t in self.turns if t.role == "ai" and t.confidence is not None]

    def pending_approvals(self, now: float) -> list[Approval]:
        return [a for a in self.approvals.values() if a.is_open(now)]

    @property
    def last_sentiment(self) -> float | None:
        for t in reversed(self.turns):
            if t.role == "customer" and t.sentiment is not None:
                return t.sentiment
        return None

    @property
    def last_confidence(self) -> float | None:
        for t in reversed(self.turns):
            if t.role == "ai" and t.confidence is not None:
                return t.confidence
        return None


@dataclass(slots=True)
class EngineUpdate:
    """What one event changed, so that listeners do not have to diff state."""

    conversation_id: str
    fired: tuple[TriggerHit, ...] = ()
    escalated_now: bool = False
    started: bool = False
    ended: bool = False
    approval: Approval | None = None
    """Set when the event opened or resolved an approval."""
