"""Which conversations the floor shows, and in what order.

Pure functions over ``ConversationState`` (no Textual), shared by the floor
screen and its tests: sort orders, the ``/`` filter and the queue filter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from hitl_console.engine.attention import floor_key
from hitl_console.engine.state import ConversationState

SortKey = Callable[[ConversationState, float], tuple]
"""A sort key of a conversation at a moment (the default order depends on how long customers have waited)."""


def _age(s: ConversationState, now: float) -> tuple:
    return (s.started_ts, s.conversation_id)


def _sentiment(s: ConversationState, now: float) -> tuple:
    last = s.last_sentiment
    return (2.0 if last is None else last, -s.risk, s.conversation_id)


def _turns(s: ConversationState, now: float) -> tuple:
    return (-s.turn_count, -s.risk, s.conversation_id)


@dataclass(frozen=True, slots=True)
class SortOrder:
    name: str
    description: str
    key: SortKey


SORT_ORDERS: tuple[SortOrder, ...] = (
    SortOrder("risk", "waiting, then risk", floor_key),
    SortOrder("age", "oldest first", _age),
    SortOrder("sentiment", "unhappiest first", _sentiment),
    SortOrder("turns", "longest first", _turns),
)


def next_sort(current: str) -> SortOrder:
    names = [o.name for o in SORT_ORDERS]
    index = names.index(current) if current in names else -1
    return SORT_ORDERS[(index + 1) % len(SORT_ORDERS)]


def sort_order(name: str) -> SortOrder:
    for order in SORT_ORDERS:
        if order.name == name:
            return order
    return SORT_ORDERS[0]


def matches(state: ConversationState, needle: str) -> bool:
    """Whether the lower-cased ``needle`` appears in the id, customer, queue,
    topics, contact reason, holder or any message text."""
    if not needle:
        return True
    c = state.customer
    fields = (
        state.conversation_id,
        c.id,
        c.name or "",
        c.tier or "",
        state.queue,
        state.contact_reason or "",
        state.agent or "",
        state.channel,
        *state.topics,
    )
    for value in fields:
        if value and needle in value.lower():
            return True
    for turn in state.turns:
        if needle in turn.text.lower():
            return True
    return False


def select(
    states: Iterable[ConversationState],
    *,
    needle: str = "",
    queue: str | None = None,
    order: str = "risk",
    now: float | None = None,
) -> list[ConversationState]:
    """Active conversations that pass the filters, in the chosen order at ``now`` (default: the wall clock)."""
    needle = needle.strip().lower()
    chosen = [
        s
        for s in states
        if not s.ended and (queue is None or s.queue == queue) and (not needle or matches(s, needle))
    ]
    at = time.time() if now is None else now
    key = sort_order(order).key
    chosen.sort(key=lambda s: key(s, at))
    return chosen


def queues_of(states: Iterable[ConversationState]) -> list[str]:
    return sorted({s.queue for s in states if s.queue and not s.ended})


def next_queue(current: str | None, queues: Sequence[str]) -> str | None:
    """Cycle: all queues, then each queue in turn, then all again."""
    if not queues:
        return None
    if current is None or current not in queues:
        return queues[0] if current is None else None
    index = queues.index(current)
    return queues[index + 1] if index + 1 < len(queues) else None
