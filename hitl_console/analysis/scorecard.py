"""A score for every ended conversation, with the breakdown visible.

Review queues sort by score (worst first) and the report lists the worst
conversations "with why", so a score must explain itself: each criterion is
a number 0..1 and ``notes`` says in words what pulled the score down.

When the feed sent its own ``scorecard`` event the platform has graded the
conversation with knowledge the console lacks (policy checks, the real
outcome of a refund); that grade wins (``source="feed"``). Otherwise a local
rubric (``source="rubric"``) scores what the console saw:

========== ====== =============================================================
criterion  weight  1.0 when ... (lower otherwise)
========== ====== =============================================================
resolution 0.35    resolved (transferred 0.5, unresolved 0.25, abandoned 0.0)
sentiment  0.20    the customer ends positive and better than they started
confidence 0.15    no AI turn under ``Thresholds.low_confidence`` (else lowest / threshold)
escalation 0.20    a human came within ``timely_turns`` of the first serious trigger
loops      0.10    no loop fired (each firing costs 0.5)
========== ====== =============================================================

A criterion without data (no customer sentiment, no AI confidence) is left
out and the weights of the others are renormalised, so a missing signal
neither helps nor hurts.

*Serious* triggers are every kind but ``low_confidence``, which counts as
serious only from its second firing: one unsure answer is not yet a reason
for a human, two are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from hitl_console.config import Thresholds
from hitl_console.engine.state import ConversationState, TriggerHit
from hitl_console.text import number

WEIGHTS: dict[str, float] = {
    "resolution": 0.35,
    "sentiment": 0.20,
    "confidence": 0.15,
    "escalation": 0.20,
    "loops": 0.10,
}
OUTCOME_SCORES: dict[str, float] = {"resolved": 1.0, "transferred": 0.5, "unresolved": 0.25, "abandoned": 0.0}
TIMELY_TURNS = 2
"""Turns after the first serious trigger within which an escalation is in time."""


@dataclass(slots=True)
class Score:
    """A conversation's grade: ``overall`` 0..1, the criteria behind it, and why."""

    overall: float
    criteria: dict[str, float]
    source: Literal["feed", "rubric"]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "overall": round(self.overall, 4),
            "criteria": {k: round(v, 4) for k, v in self.criteria.items()},
            "source": self.source,
            "notes": list(self.notes),
        }

    def why(self, limit: int = 3) -> str:
        """One line for tables: the notes, else the weakest criteria."""
        if self.notes:
            return "; ".join(self.notes[:limit])
        weakest = sorted(self.criteria.items(), key=lambda kv: kv[1])[:limit]
        return ", ".join(f"{k} {v:.2f}" for k, v in weakest)


def _clamp(value: float) -> float:
    return 0.0 if value < 0 else 1.0 if value > 1 else value


def feed_score(state: ConversationState) -> Score | None:
    """The feed's own scorecard as a :class:`Score`, or None when absent or unreadable."""
    card = state.scorecard
    if not isinstance(card, dict):
        return None
    overall = card.get("overall")
    if not isinstance(overall, (int, float)):
        return None
    raw = card.get("criteria") or {}
    criteria = {str(k): _clamp(float(v)) for k, v in raw.items() if isinstance(v, (int, float))} if isinstance(raw, dict) else {}
    notes_raw = card.get("notes")
    notes = [str(notes_raw)] if notes_raw else []
    # Make the breakdown visible even when the feed gave only a number.
    weak = [f"{k} {v:.2f}" for k, v in sorted(criteria.items(), key=lambda kv: kv[1]) if v < 0.5]
    if weak:
        notes.append("feed criteria under 0.5: " + ", ".join(weak))
    return Score(_clamp(float(overall)), criteria, "feed", notes)


def serious_triggers(state: ConversationState) -> list[TriggerHit]:
    """Trigger firings that warrant a human (see the module docstring), in order."""
    out: list[TriggerHit] = []
    low_seen = 0
    for hit in state.triggers:
        if hit.kind == "low_confidence":
            low_seen += 1
            if low_seen < 2:
                continue
        out.append(hit)
    return out


def rubric_score(
    state: ConversationState,
    thresholds: Thresholds | None = None,
    *,
    timely_turns: int = TIMELY_TURNS,
) -> Score:
    """Score a conversation from what the console saw (the table in the module docstring)."""
    thresholds = thresholds or Thresholds()
    criteria: dict[str, float] = {}
    notes: list[str] = []

    # resolution
    if state.ended and state.outcome in OUTCOME_SCORES:
        criteria["resolution"] = OUTCOME_SCORES[state.outcome]
        if state.outcome != "resolved":
            notes.append(f"ended {state.outcome}")
    else:
        criteria["resolution"] = 0.5
        notes.append("not ended yet")

    # sentiment: where the customer ended, and whether it got better or worse
    sentiments = state.sentiments()
    if sentiments:
        first, last = sentiments[0], sentiments[-1]
        level = (last + 1.0) / 2.0
        change = _clamp(0.5 + (last - first) / 4.0)
        criteria["sentiment"] = _clamp(0.5 * level + 0.5 * change)
        if last < first - 0.3:
            notes.append(f"customer sentiment fell {number(first, '+.2f')} to {number(last, '+.2f')}")
        elif last <= thresholds.sentiment_floor:
            notes.append(f"customer ended negative ({number(last, '+.2f')})")

    # confidence: the lowest AI turn against the threshold
    confidences = state.confidences()
    if confidences:
        lowest = min(confidences)
        limit = thresholds.low_confidence
        criteria["confidence"] = 1.0 if lowest >= limit or limit <= 0 else _clamp(lowest / limit)
        if lowest < limit:
            notes.append(f"lowest AI confidence {lowest:.2f}")

    # escalation timing
    serious = serious_triggers(state)
    if serious:
        first_hit = serious[0]
        if state.escalated and state.escalation_turns is not None:
            delay = max(0, state.escalation_turns - first_hit.turn_index)
            if delay <= timely_turns:
                criteria["escalation"] = 1.0
            else:
                late = delay - timely_turns
                criteria["escalation"] = max(0.2, 1.0 - late / (3.0 * max(1, timely_turns)))
                notes.append(f"escalated {delay} turns after {first_hit.kind}")
        elif state.escalated:
            criteria["escalation"] = 1.0
        elif state.outcome == "resolved" and (not sentiments or sentiments[-1] > thresholds.sentiment_floor):
            criteria["escalation"] = 0.7
            notes.append(f"{first_hit.kind} fired, no human, but resolved")
        else:
            criteria["escalation"] = 0.0
            notes.append(f"{first_hit.kind} fired and no human joined")
    else:
        criteria["escalation"] = 0.8 if state.escalated else 1.0
        if state.escalated:
            notes.append("escalated without a serious trigger")

    # loops
    loops = sum(1 for h in state.triggers if h.kind == "loop")
    criteria["loops"] = max(0.0, 1.0 - 0.5 * loops)
    if loops:
        notes.append("loop" if loops == 1 else f"{loops} loops")

    total_weight = sum(WEIGHTS[k] for k in criteria)
    overall = sum(WEIGHTS[k] * v for k, v in criteria.items()) / total_weight
    return Score(_clamp(overall), criteria, "rubric", notes)


def score_conversation(
    state: ConversationState,
    thresholds: Thresholds | None = None,
    *,
    timely_turns: int = TIMELY_TURNS,
) -> Score:
    """The feed's scorecard when there is one, else the local rubric."""
    return feed_score(state) or rubric_score(state, thresholds, timely_turns=timely_turns)


def score_all(
    conversations: Iterable[ConversationState],
    thresholds: Thresholds | None = None,
    *,
    include_open: bool = False,
) -> dict[str, Score]:
    """Scores of the ended conversations (and the open ones if asked), by conversation id."""
    return {
        c.conversation_id: score_conversation(c, thresholds)
        for c in conversations
        if c.ended or include_open
    }


def worst(
    conversations: Iterable[ConversationState],
    scores: dict[str, Score],
    limit: int = 10,
) -> list[tuple[ConversationState, Score]]:
    """The ``limit`` lowest-scored conversations, lowest first (ties: the newest first)."""
    rows = [(c, scores[c.conversation_id]) for c in conversations if c.conversation_id in scores]
    rows.sort(key=lambda cs: (cs[1].overall, -cs[0].started_ts, cs[0].conversation_id))
    return rows[:limit]
