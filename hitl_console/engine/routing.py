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
    """``RoutingRules`` prepared once (lower-cased sets) for the engine's hot path."""

    def __init__(self, rules: RoutingRules) -> None:
        self.rules = rules
        self.tiers = frozenset(t.lower() for t in rules.human_first_tiers)
        self.reasons = frozenset(r.lower() for r in rules.human_first_reasons)

    def is_valuable(self, customer: CustomerProfile) -> bool:
        """A customer in a human-first tier or worth at least the rule's lifetime value."""
        if customer.tier and customer.tier.lower() in self.tiers:
            return True
        floor = self.rules.min_lifetime_value
        return floor is not None and customer.lifetime_value is not None and customer.lifetime_value >= floor

    def flags(self, customer: CustomerProfile, contact_reason: str | None, handled_by: str) -> tuple[str, ...]:
        """Reasons the rules say a human should have had this conversation first.

        Empty when a human handles it or no rule applies.
        """
        if handled_by != "ai":
            return ()
        rules = self.rules
        flags: list[str] = []
        if customer.tier and customer.tier.lower() in self.tiers:
            flags.append(f"{customer.tier} customer routed to AI (tier goes to a human first)")
        if (
            rules.max_open_complaints is not None
            and customer.open_complaints is not None
            and customer.open_complaints > rules.max_open_complaints
        ):
            flags.append(
                f"{customer.open_complaints} open complaints (more than {rules.max_open_complaints}) routed to AI"
            )
        if contact_reason and _reason_matches(contact_reason, self.reasons):
            flags.append(f"contact reason '{contact_reason}' goes to a human first")
        if (
            rules.min_lifetime_value is not None
            and customer.lifetime_value is not None
            and customer.lifetime_value >= rules.min_lifetime_value
        ):
            flags.append(
                f"lifetime value {customer.lifetime_value:,.0f} (at least {rules.min_lifetime_value:,.0f}) routed to AI"
            )
        return tuple(flags) if flags else ()


def routing_flags(
    customer: CustomerProfile,
    contact_reason: str | None,
    handled_by: str,
    rules: RoutingRules,
) -> tuple[str, ...]:
    """Reasons the rules say a human should have had this conversation first
    (see ``RoutingMatcher.flags``)."""
    return RoutingMatcher(rules).flags(customer, contact_reason, handled_by)
