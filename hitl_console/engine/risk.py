"""Risk score 0..1 of one conversation: the estimated chance that it ends badly
unless a person steps in now.

It orders the floor (``SignalEngine.active``) and, on reaching
``Thresholds.escalation_risk``, counts as an escalation by itself.

The score is a **logistic model** over continuous evidence,
``risk = 1 / (1 + exp(-(bias + sum(w_i * x_i))))``: each feature ``x_i``
(``FEATURES``) is a strength, a level, a trend, a count or a time, never only
an on/off trigger; each weight ``w_i`` is the change in the log-odds of a bad
ending per unit of it. The weights come from ``[risk]`` of the config
(``hitl_console.config.RiskConfig``: defaults set from first principles and
documented there and in ``docs/models.md``); ``hitl-console calibrate``
fits them to a deployment's own outcomes (``hitl_console.analysis.riskfit``)
and prints a ``[risk]`` section to paste.

Features (``FEATURES`` order; all 0 for a calm, fresh conversation):

==================  =======================================================
feature             value
==================  =======================================================
high_stakes         the scorer's certainty (0..1; rules say 1) while active
                    (it is sticky)
human_request       the scorer's certainty while active; ``PAST_FACTOR`` of
                    it once a human joined
ai_request          1 while active, ``PAST_FACTOR`` once cleared
loop                1 while a loop condition holds, ``PAST_FACTOR`` once
                    cleared
stuck               customer+AI turns since the last progress over
                    ``no_progress_turns`` (a trend towards a loop), at most 2
negativity          ``-s`` for the last customer sentiment ``s < 0``
sentiment_drop      how far the last customer sentiment fell below the
                    customer's earlier average (0..2): the trend
low_point           ``-s`` of the customer's lowest sentiment so far
confidence_gap      ``(0.7 - c) / 0.7`` for the last AI confidence ``c < 0.7``
customer_turns      ``ln(1 + customer turns)``: how long it has gone on
message_length      ``ln(1 + mean words per customer turn)``: how much the
                    customer has to explain
wait                ``ln(1 + minutes)`` since the customer's oldest
                    unanswered message (0 once an AI or person replied)
routing_flags       routing flags, at most two counted
valuable            1 for a customer in a human-first tier or worth at least
                    the routing rule's lifetime value
pending_approval    1 while an approval waits for a person
large_approval      1 while a pending approval is above ``high_stakes_amount``
==================  =======================================================

Ended conversations keep their last score (for reports); ``peak_risk`` keeps
the highest.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence

from hitl_console.config import RiskConfig
from hitl_console.engine.state import Approval, CustomerProfile

__all__ = [
    "FEATURES",
    "PAST_FACTOR",
    "CONFIDENCE_COMFORT",
    "STUCK_CAP",
    "WAIT_FIRST_S",
    "RiskModel",
    "risk_features",
    "pending_flags",
    "sigmoid",
    "is_valuable",
]

FEATURES: tuple[str, ...] = (
    "high_stakes",
    "human_request",
    "ai_request",
    "loop",
    "stuck",
    "negativity",
    "sentiment_drop",
    "low_point",
    "confidence_gap",
    "customer_turns",
    "message_length",
    "wait",
    "routing_flags",
    "valuable",
    "pending_approval",
    "large_approval",
)
"""The evidence the score weighs, in the order of ``RiskModel.weights``."""

PAST_FACTOR = 0.4
"""A trigger that fired and cleared keeps this share of its value: it happened and may come back."""
CONFIDENCE_COMFORT = 0.7
"""AI confidence at or above this adds nothing."""
STUCK_CAP = 2.0
"""``stuck`` stops growing at twice ``no_progress_turns``."""
WAIT_FIRST_S = 30.0
"""An unanswered customer is rescored this long after their message, then at
doubling intervals (60, 120, 240 s ...): ``wait`` is logarithmic, so that is as
often as it changes appreciably, and costs a handful of heap entries."""


def sigmoid(z: float) -> float:
    """The logistic function, without overflow for large ``|z|``."""
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class RiskModel:
    """The bias and one weight per feature (``FEATURES`` order)."""

    def __init__(self, bias: float, weights: Sequence[float]) -> None:
        if len(weights) != len(FEATURES):
            raise ValueError(f"{len(weights)} risk weights for {len(FEATURES)} features")
        self.bias = float(bias)
        self.weights: tuple[float, ...] = tuple(float(w) for w in weights)

    @classmethod
    def from_config(cls, risk: RiskConfig) -> RiskModel:
        """The model of a ``[risk]`` config section (the config names the weights;
        this order is the engine's: the config never imports the engine)."""
        return cls(risk.bias, [getattr(risk, name) for name in FEATURES])

    def logit(self, x: Sequence[float]) -> float:
        """The log-odds of a bad ending for a feature vector."""
        z = self.bias
        for w, v in zip(self.weights, x):
            z += w * v
        return z

    def score(self, x: Sequence[float]) -> float:
        """The risk 0..1 for a feature vector."""
        return sigmoid(self.logit(x))


def _trigger(kind: str, active: Collection[str], fired: Collection[str], strength: float) -> float:
    if kind in active:
        return strength
    if kind in fired:
        return PAST_FACTOR * strength
    return 0.0


def risk_features(
    active: Collection[str],
    fired: Collection[str],
    high_stakes_strength: float,
    human_request_strength: float,
    since_progress: int,
    no_progress_turns: int,
    last_sentiment: float | None,
    sentiment_drop: float,
    lowest_sentiment: float | None,
    last_confidence: float | None,
    customer_turns: int,
    customer_words: int,
    wait_s: float,
    routing_flags: int,
    valuable_customer: bool,
    pending_any: bool,
    pending_large: bool,
) -> list[float]:
    """The feature vector (``FEATURES`` order) of one conversation now (see the
    module table). ``active`` are the trigger kinds true now, ``fired`` every
    kind that ever fired; the strengths are the scorers' certainty when the
    trigger fired; ``sentiment_drop`` is the earlier average minus the last
    sentiment (negative: it rose); ``wait_s`` the seconds since the oldest
    unanswered customer message (0: none)."""
    stuck = since_progress / no_progress_turns if no_progress_turns > 0 else 0.0
    return [
        _trigger("high_stakes", active, fired, high_stakes_strength),
        _trigger("human_request", active, fired, human_request_strength),
        _trigger("ai_request", active, fired, 1.0),
        _trigger("loop", active, fired, 1.0),
        stuck if stuck < STUCK_CAP else STUCK_CAP,
        -last_sentiment if last_sentiment is not None and last_sentiment < 0.0 else 0.0,
        min(2.0, sentiment_drop) if sentiment_drop > 0.0 else 0.0,
        -lowest_sentiment if lowest_sentiment is not None and lowest_sentiment < 0.0 else 0.0,
        (CONFIDENCE_COMFORT - last_confidence) / CONFIDENCE_COMFORT
        if last_confidence is not None and last_confidence < CONFIDENCE_COMFORT
        else 0.0,
        math.log1p(customer_turns),
        math.log1p(customer_words / customer_turns) if customer_turns > 0 else 0.0,
        math.log1p(wait_s / 60.0) if wait_s > 0.0 else 0.0,
        float(routing_flags if routing_flags < 2 else 2),
        1.0 if valuable_customer else 0.0,
        1.0 if pending_any else 0.0,
        1.0 if pending_large else 0.0,
    ]


def pending_flags(pending: Iterable[Approval], large_amount: float) -> tuple[bool, bool]:
    """(any approval waiting for a person, one of them above ``large_amount``)."""
    any_pending = False
    large = False
    for approval in pending:
        any_pending = True
        if approval.amount is not None and approval.amount > large_amount:
            large = True
    return any_pending, large


def is_valuable(customer: CustomerProfile, top_tiers: Iterable[str], min_lifetime_value: float | None) -> bool:
    """A customer in a human-first tier or worth at least the routing rule's value."""
    if customer.tier and customer.tier.lower() in {t.lower() for t in top_tiers}:
        return True
    return (
        min_lifetime_value is not None
        and customer.lifetime_value is not None
        and customer.lifetime_value >= min_lifetime_value
    )
