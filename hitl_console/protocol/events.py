"""Pydantic models of the wire contract (``shared/protocol.md``, version 1).

These models are the boundary: every frame a feed sends is validated into one
of them before the engine sees it, and every command the console sends is
built from one of them. Unknown fields are ignored (the protocol allows
feeds to add fields); values of the wrong type or out of range are refused,
and the decoder turns the refusal into a counted *rejected frame*.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

PROTOCOL_VERSION = 1

Channel = Literal["chat", "voice", "email", "sms"]
Role = Literal["customer", "ai", "human", "system"]
HandledBy = Literal["ai", "human"]
ActionStatus = Literal["ok", "failed", "pending"]
Decision = Literal["approved", "denied", "expired"]
Outcome = Literal["resolved", "unresolved", "abandoned", "transferred"]

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Polarity = Annotated[float, Field(ge=-1.0, le=1.0)]

TS_MIN = 0.0
"""1970-01-01T00:00:00Z, the epoch itself. Not 2000: synthetic recordings and
tests count time from 0, and the bound is about what can be formatted, not
about what is plausible."""
TS_MAX = 4_102_444_800.0
"""2100-01-01T00:00:00Z. Between the two every formatter of time (``datetime``,
``time.localtime``) works; a ``ts`` outside (``1e300``, ``-1e15``) is a feed bug
or an attack, and the frame is rejected with the reason
(``docs/protocol-extensions.md``)."""
SEQ_MIN = 1
SEQ_MAX = 2**53 - 1
"""The largest integer a JSON number holds exactly in every language (a
JavaScript feed cannot count higher without losing precision); far below
SQLite's 2**63 - 1, so a journaled seq never overflows."""

Timestamp = Annotated[float, Field(ge=TS_MIN, lt=TS_MAX)]
"""UNIX epoch seconds, UTC, inside [TS_MIN, TS_MAX)."""
Seq = Annotated[int, Field(ge=SEQ_MIN, le=SEQ_MAX)]
"""A feed's sequence number, inside [SEQ_MIN, SEQ_MAX]."""
Epoch = Annotated[str, Field(min_length=1, max_length=128)]
AgentName = Annotated[str, Field(min_length=1, max_length=128, pattern=r"\S")]
"""Who a command acts for: never blank, so no chat is ever "held by " nobody."""
"""Names one seq numbering of a feed (extension, see docs/protocol-extensions.md)."""


class _Wire(BaseModel):
    """Common settings: unknown fields are ignored, instances are immutable."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True, allow_inf_nan=False)


class Envelope(_Wire):
    """Fields of every event except ``heartbeat`` (which has no seq or id)."""

    v: Literal[1] = 1
    seq: Seq
    ts: Timestamp
    conversation_id: Annotated[str, Field(min_length=1, max_length=256)]
    epoch: Epoch | None = None


class Customer(_Wire):
    id: str
    name: str | None = None
    tier: str | None = None
    lifetime_value: float | None = None
    open_complaints: int | None = Field(default=None, ge=0)
    locale: str | None = None


class ConversationStarted(Envelope):
    type: Literal["conversation.started"]
    channel: Channel
    queue: str
    customer: Customer
    contact_reason: str | None = None
    handled_by: HandledBy = "ai"


class Voice(_Wire):
    tone: Polarity
    interruptions: int | None = Field(default=None, ge=0)


class Message(Envelope):
    type: Literal["message"]
    role: Role
    text: str
    confidence: Unit | None = None
    sentiment: Polarity | None = None
    voice: Voice | None = None
    intent: str | None = None
    topics: list[str] = Field(default_factory=list)
    author: str | None = None


class AiAction(Envelope):
    type: Literal["ai.action"]
    name: str
    status: ActionStatus
    detail: str | None = None
    amount: float | None = None
    currency: str | None = None


class EscalationRequested(Envelope):
    type: Literal["ai.escalation_requested"]
    reason: str


class ApprovalRequested(Envelope):
    type: Literal["approval.requested"]
    approval_id: str
    action: str
    amount: float | None = None
    currency: str | None = None
    rationale: str | None = None
    expires_ts: Timestamp | None = None


class ApprovalResolved(Envelope):
    type: Literal["approval.resolved"]
    approval_id: str
    decision: Decision
    by: str | None = None
    note: str | None = None


class HumanJoined(Envelope):
    type: Literal["human.joined"]
    agent: str


class HumanLeft(Envelope):
    type: Literal["human.left"]
    agent: str
    back_to_ai: bool = True


class ConversationEnded(Envelope):
    type: Literal["conversation.ended"]
    outcome: Outcome
    resolved_by: HandledBy | None = None
    csat: int | None = Field(default=None, ge=1, le=5)


class Scorecard(Envelope):
    type: Literal["scorecard"]
    overall: Unit
    criteria: dict[str, Unit] = Field(default_factory=dict)
    notes: str | None = None


class Heartbeat(_Wire):
    """Keep-alive with the feed's clock; used to show feed lag."""

    v: Literal[1] = 1
    type: Literal["heartbeat"]
    ts: Timestamp
    seq: int | None = None
    epoch: Epoch | None = None


class Ack(_Wire):
    """The feed's answer to a control command."""

    v: Literal[1] = 1
    type: Literal["ack"]
    request_id: str
    ok: bool
    error: str | None = None


ConversationEvent = Annotated[
    Union[
        ConversationStarted,
        Message,
        AiAction,
        EscalationRequested,
        ApprovalRequested,
        ApprovalResolved,
        HumanJoined,
        HumanLeft,
        ConversationEnded,
        Scorecard,
    ],
    Field(discriminator="type"),
]
"""An event about one conversation: it has a ``seq`` and a ``conversation_id``."""

Event = ConversationStarted | Message | AiAction | EscalationRequested | ApprovalRequested | ApprovalResolved | HumanJoined | HumanLeft | ConversationEnded | Scorecard

WireFrame = Annotated[
    Union[
        ConversationStarted,
        Message,
        AiAction,
        EscalationRequested,
        ApprovalRequested,
        ApprovalResolved,
        HumanJoined,
        HumanLeft,
        ConversationEnded,
        Scorecard,
        Heartbeat,
        Ack,
    ],
    Field(discriminator="type"),
]
"""Anything a feed may send: conversation events, heartbeats and acks."""

EVENT_TYPES: frozenset[str] = frozenset(
    {
        "conversation.started",
        "message",
        "ai.action",
        "ai.escalation_requested",
        "approval.requested",
        "approval.resolved",
        "human.joined",
        "human.left",
        "conversation.ended",
        "scorecard",
    }
)
KNOWN_TYPES: frozenset[str] = EVENT_TYPES | {"heartbeat", "ack"}

wire_adapter: TypeAdapter[WireFrame] = TypeAdapter(WireFrame)
event_adapter: TypeAdapter[ConversationEvent] = TypeAdapter(ConversationEvent)


# ---------------------------------------------------------------- commands


class _Command(_Wire):
    v: Literal[1] = 1
    request_id: str
    agent: AgentName
    conversation_id: str


class Takeover(_Command):
    op: Literal["takeover"] = "takeover"


class Send(_Command):
    op: Literal["send"] = "send"
    text: Annotated[str, Field(min_length=1)]


class Release(_Command):
    op: Literal["release"] = "release"
    note: str | None = None


class Approve(_Command):
    op: Literal["approve"] = "approve"
    approval_id: str
    note: str | None = None


class Deny(_Command):
    op: Literal["deny"] = "deny"
    approval_id: str
    note: str | None = None


class End(_Command):
    op: Literal["end"] = "end"
    outcome: Outcome


Command = Annotated[
    Union[Takeover, Send, Release, Approve, Deny, End],
    Field(discriminator="op"),
]
command_adapter: TypeAdapter[Command] = TypeAdapter(Command)

AnyCommand = Takeover | Send | Release | Approve | Deny | End


def command_json(command: AnyCommand) -> str:
    """The command as the JSON text that goes on the wire (no null fields)."""
    return command.model_dump_json(exclude_none=True)


def event_dict(event: Event) -> dict:
    """The event as a plain dict in wire form, for the journal and recordings."""
    return event.model_dump(mode="json", exclude_none=True)


Fingerprint = tuple[str, str, float]
"""``(type, conversation_id, ts)`` of an event: see :func:`fingerprint`."""


def fingerprint(event: Event) -> Fingerprint:
    """What tells two events with the same seq apart: type, conversation and time.

    A resend of an event has the same fingerprint; a different event under
    a seq seen before means the feed numbers again from the start (a
    platform that restarted and lost its log). The journal stores the same
    three columns, so it can answer for seqs the client no longer remembers.
    """
    return (event.type, event.conversation_id, float(event.ts))
