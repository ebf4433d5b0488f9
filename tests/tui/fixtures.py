"""Hand-built conversation state and a small session double for the TUI tests.

Everything is deterministic: fixed timestamps around :data:`NOW`, a frozen
clock, no network. The double records the commands it was sent and answers
them with results the test chooses, so each screen can be tested alone;
the end-to-end tests use the real ``LiveSession`` on the simulator instead.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hitl_console.config import Config
from hitl_console.alerts.model import Alert
from hitl_console.engine.state import (
    ActionRecord,
    Approval,
    ConversationState,
    CustomerProfile,
    EngineUpdate,
    Notice,
    TriggerHit,
    Turn,
)
from hitl_console.feeds.base import CommandResult, ConnectionState, FeedStatus
from hitl_console.session import FloorFigures, SessionChange

NOW = 1763931600.0 + 3600.0
"""Frozen "now" of every test: 2025-11-23 22:00:00 UTC."""

HOSTILE = "[URGENT] refund now [/] [@click=app.quit]x[/] \x1b[31mred\x1b[0m \x07 [b]bold?[/b]"


def frozen_clock() -> float:
    return NOW


def _turns(cid: str, start: float, script: list[tuple[str, str, dict[str, Any]]]) -> tuple[list[Turn], list]:
    turns: list[Turn] = []
    for i, (role, text, extra) in enumerate(script):
        turns.append(Turn(seq=i + 1, ts=start + 10 * (i + 1), role=role, text=text, **extra))
    return turns, list(turns)


def make_state(
    cid: str,
    *,
    name: str | None = "Dana Li",
    tier: str | None = "gold",
    queue: str = "billing",
    channel: str = "chat",
    risk: float = 0.5,
    holder: str = "ai",
    agent: str | None = None,
    active: set[str] | None = None,
    started: float = NOW - 300,
    sentiments: tuple[float, ...] = (0.1, -0.2, -0.5, -0.7),
    confidences: tuple[float, ...] = (0.8, 0.6, 0.41),
    loop_warning: str | None = None,
    topics: tuple[str, ...] = ("refund",),
    customer_text: str | None = None,
    version: int = 1,
) -> ConversationState:
    script: list[tuple[str, str, dict[str, Any]]] = []
    texts = [
        "I was charged twice for order 5531",
        "That is not what I asked. Two charges are on my card.",
        "This is the third time I explain this.",
        "I want a person. Now.",
    ]
    for i, s in enumerate(sentiments):
        text = customer_text if (customer_text is not None and i == len(sentiments) - 1) else texts[i % len(texts)]
        script.append(("customer", text, {"sentiment": s, "sentiment_estimated": i % 2 == 1, "topics": topics}))
        if i < len(confidences):
            script.append(("ai", f"I can see one charge of $84.20 on order 5531. (answer {i + 1})", {"confidence": confidences[i]}))
    turns, timeline = _turns(cid, started, script)
    state = ConversationState(
        conversation_id=cid,
        feed="test",
        channel=channel,
        queue=queue,
        customer=CustomerProfile(id=f"u-{cid[-3:]}", name=name, tier=tier, lifetime_value=12400.0, open_complaints=1, locale="en-GB"),
        contact_reason="double charge",
        started_ts=started,
        last_ts=started + 10 * len(turns),
        last_seq=len(turns),
        saw_start=True,
        turns=turns,
        timeline=timeline,
        topics=tuple(topics),
        active=frozenset(active or ()),
        loop_warning=loop_warning,
        risk=risk,
        peak_risk=risk,
        holder=holder,  # type: ignore[arg-type]
        agent=agent,
        version=version,
    )
    return state


def add_trigger(state: ConversationState, kind: str, reason: str, evidence: str = "") -> TriggerHit:
    hit = TriggerHit(kind=kind, seq=state.last_seq, ts=state.last_ts, reason=reason, evidence=evidence, turn_index=len(state.turns))  # type: ignore[arg-type]
    state.triggers += (hit,)
    state.timeline.append(hit)
    state.active |= {kind}
    state.version += 1
    return hit


def add_approval(
    state: ConversationState,
    approval_id: str,
    *,
    action: str = "refund_order",
    amount: float | None = 250.0,
    currency: str | None = "USD",
    rationale: str | None = "duplicate charge confirmed by the payment log",
    expires_in: float | None = 120.0,
    status: str = "pending",
) -> Approval:
    approval = Approval(
        approval_id=approval_id,
        conversation_id=state.conversation_id,
        seq=state.last_seq + 1,
        ts=NOW - 30,
        action=action,
        amount=amount,
        currency=currency,
        rationale=rationale,
        expires_ts=None if expires_in is None else NOW + expires_in,
        status=status,
    )
    state.approvals[approval_id] = approval
    state.timeline.append(approval)
    state.version += 1
    return approval


def floor_states() -> list[ConversationState]:
    """Six conversations covering every holder, badge and column."""
    a = make_state("c-1042", risk=0.86, holder="waiting", active={"sentiment", "human_request", "low_confidence"})
    a.waiting_since = NOW - 134
    add_trigger(a, "low_confidence", "AI confidence 0.41 is under 0.55", "I can see one charge of $84.20")
    add_trigger(a, "human_request", "the customer asked for a person", "I want a person. Now.")
    add_approval(a, "ap-1")
    a.actions.append(ActionRecord(seq=20, ts=NOW - 60, name="lookup_order", status="ok", detail="order 5531: 2 charges"))
    a.timeline.append(a.actions[-1])
    a.timeline.append(Notice(seq=21, ts=NOW - 50, text="AI asked for a human: customer disputes a charge", kind="escalation"))
    b = make_state(
        "c-2077", name="Sam Ortiz", tier="platinum", queue="fraud", risk=0.72, holder="human", agent="alice",
        active={"high_stakes"}, topics=("fraud",), channel="voice", sentiments=(-0.1, -0.3), confidences=(0.7,),
    )
    c = make_state(
        "c-3001", name=None, tier=None, queue="shipping", risk=0.44, active={"loop"}, loop_warning="the AI gave the same answer 3 times",
        sentiments=(0.2, 0.0, -0.1, -0.2, -0.3, -0.2, -0.4, -0.3, -0.35), confidences=(0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9),
        topics=("where_is_my_order",), channel="email", started=NOW - 5400,
    )
    d = make_state(
        "c-3555", name="Kim Ng", tier="silver", queue="billing", risk=0.21, sentiments=(0.5, 0.6), confidences=(0.95, 0.92),
        topics=("invoice",), channel="sms", started=NOW - 40,
    )
    e = make_state(
        "c-4100", name="Lee Park", tier="gold", queue="returns", risk=0.12, holder="human", agent="tester", sentiments=(0.3,),
        confidences=(0.88,), topics=("return_label",),
    )
    f = make_state("c-5200", name="Ana Silva", tier=None, queue="returns", risk=0.05, sentiments=(), confidences=(), topics=())
    return [a, b, c, d, e, f]


class FakeEngine:
    def __init__(self, states: list[ConversationState]) -> None:
        self.conversations: dict[str, ConversationState] = {s.conversation_id: s for s in states}

    def active(self) -> list[ConversationState]:
        return sorted((s for s in self.conversations.values() if not s.ended), key=lambda s: -s.risk)


@dataclass
class FakeReplay:
    speed: float = 1.0
    progress: float = 0.25
    paused: bool = False
    steps: int = 0

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def toggle(self) -> bool:
        self.paused = not self.paused
        return self.paused

    def step(self) -> None:
        self.paused = True
        self.steps += 1


@dataclass
class FakeSession:
    """The ``LiveSession`` surface, over hand-built state."""

    states: list[ConversationState]
    agent: str = "tester"
    mode: str = "live"
    config: Config = field(default_factory=Config)
    replay_controls: FakeReplay | None = None
    clock: Callable[[], float] = frozen_clock
    answers: dict[str, CommandResult] = field(default_factory=dict)
    stale_feeds: frozenset[str] = frozenset()
    """op -> the result to answer with (default: ok)."""
    on_command: Callable[[str, str, dict[str, Any]], None] | None = None

    def __post_init__(self) -> None:
        self.engine = FakeEngine(self.states)
        self.alerts: deque[Alert] = deque(maxlen=500)
        self.rejected: deque = deque()
        self.listeners: list[Callable[[SessionChange], None]] = []
        self.commands: list[tuple[str, str, dict[str, Any]]] = []
        self.verdicts: list[tuple[str, bool, str | None]] = []
        self.started = False
        self.stopped = False
        self._reviews = None

    @property
    def reviews(self):
        """A real review store on an in-memory journal, made on first use (as the session's is)."""
        if self._reviews is None:
            from hitl_console.store.journal import Journal
            from hitl_console.store.reviews import ReviewStore

            self._reviews = ReviewStore(Journal(":memory:"), owns_journal=True)
        return self._reviews

    # lifecycle
    def add_listener(self, fn: Callable[[SessionChange], None]) -> None:
        self.listeners.append(fn)

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    def emit(self, changed: set[str] | None = None, alerts: list[Alert] | None = None, approvals: bool = False) -> None:
        change = SessionChange(changed=set(changed or ()), new_alerts=list(alerts or ()), statuses_changed=True)
        if approvals:
            change.updates.append(EngineUpdate(conversation_id=next(iter(change.changed), "x"), approval=Approval("x", "x", 0, 0.0, "x")))
        for alert in change.new_alerts:
            self.alerts.append(alert)
        for fn in self.listeners:
            fn(change)

    # commands
    async def _command(self, op: str, cid: str, **fields: Any) -> CommandResult:
        self.commands.append((op, cid, fields))
        if self.on_command is not None:
            self.on_command(op, cid, fields)
        return self.answers.get(op) or CommandResult(uuid.uuid4().hex, ok=True, latency_s=0.01)

    async def takeover(self, cid: str) -> CommandResult:
        return await self._command("takeover", cid)

    async def send(self, cid: str, text: str) -> CommandResult:
        return await self._command("send", cid, text=text)

    async def release(self, cid: str, note: str | None = None) -> CommandResult:
        return await self._command("release", cid, note=note)

    async def approve(self, cid: str, approval_id: str, note: str | None = None) -> CommandResult:
        return await self._command("approve", cid, approval_id=approval_id, note=note)

    async def deny(self, cid: str, approval_id: str, note: str | None = None) -> CommandResult:
        return await self._command("deny", cid, approval_id=approval_id, note=note)

    async def end(self, cid: str, outcome: str) -> CommandResult:
        return await self._command("end", cid, outcome=outcome)

    def record_takeover_verdict(self, cid: str, escalation_needed: bool, note: str | None = None) -> None:
        self.verdicts.append((cid, escalation_needed, note))

    async def claim_review(self, item_id: str):
        from hitl_console.feeds.claims import Claim

        ok = self.reviews.claim(item_id, self.agent)
        return Claim(ok, self.agent if ok else None, error=None if ok else "not claimed")

    async def release_review(self, item_id: str) -> bool:
        return self.reviews.release(item_id, self.agent)

    async def review_done(self, item_id: str) -> None:
        return None

    def record_review_verdict(self, item_id: str, verdict, note: str | None = None):
        return self.reviews.record_verdict(item_id, self.agent, verdict, note)

    def acknowledge(self, alert_id: int) -> bool:
        for alert in self.alerts:
            if alert.id == alert_id:
                alert.acknowledged = True
                return True
        return False

    def figures(self, now: float | None = None) -> FloorFigures:
        active = [s for s in self.engine.conversations.values() if not s.ended]
        now = NOW if now is None else now
        return FloorFigures(
            active=len(active),
            waiting=sum(1 for s in active if s.holder == "waiting"),
            held=sum(1 for s in active if s.holder == "human"),
            escalation_rate=0.14,
            containment=0.78,
            avg_sentiment=-0.12,
            open_alerts=sum(1 for a in self.alerts if not a.acknowledged),
            pending_approvals=sum(len(s.pending_approvals(now)) for s in active),
            feeds=[FeedStatus(name="test", url="ws://127.0.0.1:1/", state=ConnectionState.LIVE, lag_s=0.3)],
            lag_s=0.3,
            events_per_s=12.0,
            total_seen=len(self.engine.conversations),
            ended=0,
            escalation_sample=len(self.engine.conversations),
        )

    def replay(self) -> FakeReplay | None:
        return self.replay_controls


def make_app(session: FakeSession | None = None, **kwargs: Any):
    """A HitlApp on a fake session with a frozen clock (no terminal watching, and
    no key-flood guard: a pilot types faster than a person)."""
    from hitl_console.tui.app import HitlApp

    session = session or FakeSession(floor_states())
    kwargs.setdefault("clock", frozen_clock)
    kwargs.setdefault("watch_terminal", False)
    kwargs.setdefault("key_guard", False)
    return HitlApp(session, config=session.config, **kwargs)


def screen_text(app: Any) -> str:
    """What a person would read on the screen now (every cell, no styles)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip).replace("\xa0", " ") for strip in strips)


async def settle(pilot: Any) -> None:
    """Let pending messages run, flush the session's changes, let the redraw happen."""
    await pilot.pause()
    pilot.app.refresh_now()
    await pilot.pause()


async def show_conversation(pilot: Any, conversation_id: str, **kwargs: Any) -> None:
    """From a freshly started app: settle, open a conversation (as ``enter`` on the floor would) and let it draw."""
    await settle(pilot)
    pilot.app.open_conversation(conversation_id, **kwargs)
    await pilot.pause()
    await pilot.pause()
