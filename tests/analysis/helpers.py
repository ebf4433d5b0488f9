"""Builders for small ConversationState objects with known answers, and recording loading."""

from __future__ import annotations

from pathlib import Path

from hitl_console.engine.state import ConversationState, CustomerProfile, TriggerHit, Turn

DATA = Path(__file__).parent / "data"
T0 = 1763931600.0


def make_state(
    cid: str,
    *,
    start: float = T0,
    queue: str = "general",
    topics: tuple[str, ...] = (),
    customer: str = "",
    confidences: tuple[float, ...] = (0.9,),
    sentiments: tuple[float, ...] = (0.2,),
    triggers: tuple[tuple[str, int], ...] = (),
    escalation_turns: int | None = None,
    outcome: str | None = "resolved",
    resolved_by: str | None = "ai",
    csat: int | None = None,
    scorecard: dict | None = None,
    step: float = 10.0,
) -> ConversationState:
    """A conversation of alternating customer/AI turns (customer first), ``step`` seconds apart.

    ``triggers``: (kind, turn_index) pairs; ``escalation_turns``: escalated after that many turns.
    """
    s = ConversationState(conversation_id=cid, queue=queue, started_ts=start, saw_start=True)
    s.customer = CustomerProfile(id=customer)
    s.topics = tuple(topics)
    seq = 1
    t = start
    n = max(len(confidences), len(sentiments))
    for i in range(n):
        if i < len(sentiments):
            seq += 1
            t += step
            s.turns.append(Turn(seq=seq, ts=t, role="customer", text=f"customer {i}", sentiment=sentiments[i]))
        if i < len(confidences):
            seq += 1
            t += step
            s.turns.append(Turn(seq=seq, ts=t, role="ai", text=f"ai {i}", confidence=confidences[i]))
    for kind, idx in triggers:
        turn = s.turns[min(idx, len(s.turns)) - 1]
        s.triggers += (TriggerHit(kind=kind, seq=turn.seq, ts=turn.ts, reason=f"{kind} fired", turn_index=idx),)  # type: ignore[arg-type]
    if escalation_turns is not None:
        turn = s.turns[min(escalation_turns, len(s.turns)) - 1]
        s.escalated_at_seq = turn.seq
        s.escalated_ts = turn.ts + 1
        s.escalation_turns = escalation_turns
    s.last_ts = t
    s.last_seq = seq
    if outcome is not None:
        s.ended = True
        s.holder = "ended"
        s.outcome = outcome
        s.resolved_by = resolved_by
        s.csat = csat
        s.last_ts = t + step
    s.scorecard = scorecard
    return s
