"""Risk score 0..1 of one conversation: how much it needs a person now.

It orders the floor (``SignalEngine.active``) and, on reaching
``Thresholds.escalation_risk``, counts as an escalation by itself. The
score combines independent pieces of evidence as a *noisy OR*,
``1 - prod(1 - w_i)``: every piece raises it, none alone reaches 1, no single
trigger passes the default escalation threshold of 0.5, and two strong pieces
together do (``high_stakes`` + ``sentiment`` is 0.51).

Weights (``WEIGHTS`` for triggers, the rest below):

==================  ======  =========================================
evidence            weight  why
==================  ======  =========================================
high_stakes active  0.35    money, fraud, legal, safety: costly mistakes
human_request       0.30    the customer asked for a person
ai_request          0.30    the AI itself says it cannot finish
sentiment           0.25    an upset customer churns and complains
loop                0.20    the conversation is going nowhere
low_confidence      0.20    the AI is guessing
a trigger that      40% of  it happened and may come back
fired and cleared   above
sentiment level     up to   ``0.15 * -s`` for the last customer
                    0.15    sentiment ``s`` below 0
confidence level    up to   ``0.10 * (0.7 - c) / 0.7`` for the last
                    0.10    AI confidence ``c`` below 0.7
routing flag        0.10    each, at most two counted
top tier / high LTV 0.05    customer in a human-first tier, or lifetime
                            value at/above the routing rule
pending approval    0.05    any approval waiting for a person
large approval      0.15    a pending approval above high_stakes_amount
==================  ======  =========================================

Ended conversations keep their last score (for reports); ``peak_risk`` keeps
the highest.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from hitl_console.engine.state import Approval, CustomerProfile

__all__ = ["WEIGHTS", "PAST_FACTOR", "risk_score", "trigger_keep", "level_keep", "profile_keep", "approvals_keep", "is_valuable"]

WEIGHTS: dict[str, float] = {
    "high_stakes": 0.35,
    "human_request": 0.30,
    "ai_request": 0.30,
    "sentiment": 0.25,
    "loop": 0.20,
    "low_confidence": 0.20,
}
PAST_FACTOR = 0.4
SENTIMENT_WEIGHT = 0.15
CONFIDENCE_WEIGHT = 0.10
CONFIDENCE_COMFORT = 0.7
ROUTING_WEIGHT = 0.10
VALUE_WEIGHT = 0.05
PENDING_WEIGHT = 0.05
LARGE_PENDING_WEIGHT = 0.15


def trigger_keep(active: Collection[str], fired: Collection[str]) -> float:
    """Product of ``1 - w`` over the trigger kinds (active at full weight, past at
    ``PAST_FACTOR``), taken in ``WEIGHTS`` order so that the float product, and
    so the score's last digit, does not depend on set iteration order."""
    keep = 1.0
    for kind, w in WEIGHTS.items():
        if kind in active:
            keep *= 1.0 - w
        elif kind in fired:
            keep *= 1.0 - w * PAST_FACTOR
    return keep


def level_keep(sentiment: float | None, confidence: float | None) -> float:
    """Factor for the last customer sentiment and the last AI confidence."""
    keep = 1.0
    if sentiment is not None and sentiment < 0:
        keep *= 1.0 - SENTIMENT_WEIGHT * min(1.0, -sentiment)
    if confidence is not None and confidence < CONFIDENCE_COMFORT:
        keep *= 1.0 - CONFIDENCE_WEIGHT * (CONFIDENCE_COMFORT - confidence) / CONFIDENCE_COMFORT
    return keep


def profile_keep(routing_flags: int, valuable_customer: bool) -> float:
    """Factor for routing flags (at most two count) and a valuable customer."""
    keep = (1.0 - ROUTING_WEIGHT) ** min(routing_flags, 2) if routing_flags else 1.0
    if valuable_customer:
        keep *= 1.0 - VALUE_WEIGHT
    return keep


def approvals_keep(pending: Iterable[Approval], large_amount: float) -> float:
    """Factor for approvals waiting for a person (more when one is large)."""
    any_pending = False
    large = False
    for approval in pending:
        any_pending = True
        if approval.amount is not None and approval.amount > large_amount:
            large = True
    keep = 1.0 - PENDING_WEIGHT if any_pending else 1.0
    if large:
        keep *= 1.0 - LARGE_PENDING_WEIGHT
    return keep


def risk_score(
    active: Iterable[str],
    fired: Iterable[str],
    sentiment: float | None,
    confidence: float | None,
    routing_flags: int,
    valuable_customer: bool,
    pending: Iterable[Approval],
    large_amount: float,
) -> float:
    """The risk of one conversation from its evidence (see the module table).

    ``active`` are the trigger kinds true now, ``fired`` every kind that ever
    fired; ``pending`` the approvals still waiting; ``large_amount`` the
    high-stakes threshold for their amounts. The engine keeps the four
    factors separately and recomputes only the ones an event changed.
    """
    keep = (
        trigger_keep(frozenset(active), frozenset(fired))
        * level_keep(sentiment, confidence)
        * profile_keep(routing_flags, valuable_customer)
        * approvals_keep(pending, large_amount)
    )
    return 1.0 - keep


def is_valuable(customer: CustomerProfile, top_tiers: Iterable[str], min_lifetime_value: float | None) -> bool:
    """A customer in a human-first tier or worth at least the routing rule's value."""
    if customer.tier and customer.tier.lower() in {t.lower() for t in top_tiers}:
        return True
    return (
        min_lifetime_value is not None
        and customer.lifetime_value is not None
        and customer.lifetime_value >= min_lifetime_value
    )
