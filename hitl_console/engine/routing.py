"""Routing rules: conversations that should have gone to a human first.

The platform decides who handles a conversation (``handled_by`` on
``conversation.started``). A supervisor wants to see at once when that
decision went against the house rules (``RoutingRules`` in the config):
a top-tier customer, one with many open complaints, a sensitive contact
reason, or a very valuable customer, handled by the AI. Each broken rule
becomes one readable reason in ``ConversationState.routing_flags``.
"""

from __future__ import annotations

import re

from hitl_console.config import RoutingRules
from hitl_console.engine.state import CustomerProfile

__all__ = ["routing_flags", "RoutingMatcher"]

_SPLIT = re.compile(r"[^a-z0-9]+")


def _reason_matches(contact_reason: str, wanted: frozenset[str]) -> str | None:
    """The configured reason that ``contact_reason`` names: equal ignoring case and
    separators ("Cancellation", "cancellation_request", "billing/complaint")."""
    lower = contact_reason.lower().strip()
    if lower in wanted:
        return lower
    for part in _SPLIT.split(lower):
        if part in wanted:
            return part
    return None


class RoutingMatcher:
    """``RoutingRules`` prepared once (lower-cased sets) for the engine's hot path.

    Every ``conversation.started`` asks it, so the common answer ("no rule
    applies") is reached with a few comparisons and no string is built."""

    def __init__(self, rules: RoutingRules) -> None:
        self.rules = rules
        self.tiers = frozenset(t.lower() for t in rules.human_first_tiers)
        self.reasons = frozenset(r.lower() for r in rules.human_first_reasons)
        self._max_complaints = rules.max_open_complaints
        self._min_value = rules.min_lifetime_value
        self._reason_cache: dict[str, str | None] = {}

    def _reason(self, contact_reason: str) -> str | None:
        """``_reason_matches``, memoised: feeds use a small vocabulary of contact
        reasons. Bounded, since the strings come from outside."""
        cache = self._reason_cache
        try:
            return cache[contact_reason]
        except KeyError:
            pass
        found = _reason_matches(contact_reason, self.reasons)
        if len(cache) >= 4096:
            cache.clear()
        cache[contact_reason] = found
        return found

    def _tier_matches(self, customer: CustomerProfile) -> bool:
        tier = customer.tier
        return bool(tier) and tier.lower() in self.tiers  # type: ignore[union-attr]

    def is_valuable(self, customer: CustomerProfile) -> bool:
        """A customer in a human-first tier or worth at least the rule's lifetime value."""
        if self._tier_matches(customer):
            return True
        floor = self._min_value
        return floor is not None and customer.lifetime_value is not None and customer.lifetime_value >= floor

    def flags(self, customer: CustomerProfile, contact_reason: str | None, handled_by: str) -> tuple[str, ...]:
        """Reasons the rules say a human should have had this conversation first.

        Empty when a human handles it or no rule applies.
        """
        return self.broken(customer, contact_reason, handled_by)[1]

    def broken(
        self, customer: CustomerProfile, contact_reason: str | None, handled_by: str
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The broken rules twice, in the same order: a word or two each for the
        floor's row (``platinum``, ``3 complaints``, ``cancellation``, ``high
        value``), and the full reason."""
        if handled_by != "ai":
            return (), ()
        tier = self._tier_matches(customer)
        limit = self._max_complaints
        complaints = customer.open_complaints
        too_many = limit is not None and complaints is not None and complaints > limit
        reason = bool(contact_reason) and self._reason(contact_reason) is not None  # type: ignore[arg-type]
        floor = self._min_value
        value = customer.lifetime_value
        valuable = floor is not None and value is not None and value >= floor
        if not (tier or too_many or reason or valuable):
            return (), ()
        names: list[str] = []
        flags: list[str] = []
        if tier:
            names.append(str(customer.tier))
            flags.append(f"{customer.tier} customer routed to AI (tier goes to a human first)")
        if too_many:
            names.append(f"{complaints} complaints")
            flags.append(f"{complaints} open complaints (more than {limit}) routed to AI")
        if reason:
            names.append(str(contact_reason))
            flags.append(f"contact reason '{contact_reason}' goes to a human first")
        if valuable:
            names.append("high value")
            flags.append(f"lifetime value {value:,.0f} (at least {floor:,.0f}) routed to AI")
        return tuple(names), tuple(flags)


def routing_flags(
    customer: CustomerProfile,
    contact_reason: str | None,
    handled_by: str,
    rules: RoutingRules,
) -> tuple[str, ...]:
    """Reasons the rules say a human should have had this conversation first
    (see ``RoutingMatcher.flags``)."""
    return RoutingMatcher(rules).flags(customer, contact_reason, handled_by)
