"""Which conversations the floor shows, and in what order.

Pure functions over ``ConversationState`` (no Textual), shared by the floor
screen and its tests: sort orders, the ``/`` filter and the queue filter,
and :class:`Ranking`, the order kept up to date one changed conversation at
a time (a floor of 10,000 conversations sorted again on every redraw spends
most of its time sorting).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from hitl_console.engine.attention import floor_key, floor_rank
from hitl_console.engine.state import ConversationState

SortKey = Callable[[ConversationState, float], tuple]
"""A sort key of a conversation at a moment (the default order depends on how long customers have waited)."""
RankKey = Callable[[ConversationState], tuple]
"""The same order without a clock: it changes only when the conversation does."""


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
    rank: RankKey
    """The same order as ``key``, with no clock (see :class:`Ranking`)."""


SORT_ORDERS: tuple[SortOrder, ...] = (
    SortOrder("risk", "waiting, then risk", floor_key, floor_rank),
    SortOrder("age", "oldest first", _age, lambda s: _age(s, 0.0)),
    SortOrder("sentiment", "unhappiest first", _sentiment, lambda s: _sentiment(s, 0.0)),
    SortOrder("turns", "longest first", _turns, lambda s: _turns(s, 0.0)),
)


class Ranking:
    """Conversations that pass ``admit``, in the order of ``rank``, kept sorted
    one change at a time: :meth:`update` costs a binary search and a list
    insert, not a sort of the floor. ``rank`` must not depend on the clock
    (:attr:`SortOrder.rank`)."""

    def __init__(self, rank: RankKey, admit: Callable[[ConversationState], bool] | None = None) -> None:
        self._rank = rank
        self._admit = admit
        self._keys: list[tuple] = []
        """Sorted ``(rank, conversation id)``: unique, so a key finds its one place."""
        self._ids: list[str] = []
        self._key_of: dict[str, tuple] = {}

    def _key(self, state: ConversationState | None) -> tuple | None:
        if state is None or state.ended or (self._admit is not None and not self._admit(state)):
            return None
        return (self._rank(state), state.conversation_id)

    def rebuild(self, states: Iterable[ConversationState]) -> None:
        """Rank these conversations from scratch (a new sort order or filter)."""
        keyed = sorted(k for k in map(self._key, states) if k is not None)
        self._keys = keyed
        self._ids = [k[1] for k in keyed]
        self._key_of = {k[1]: k for k in keyed}

    def update(self, conversation_id: str, state: ConversationState | None) -> bool:
        """Put one conversation where it now belongs (``None``, ended or not
        admitted: out); returns whether the order changed."""
        old = self._key_of.get(conversation_id)
        new = self._key(state)
        if old == new:
            return False
        if old is not None:
            index = bisect_left(self._keys, old)
            del self._keys[index]
            del self._ids[index]
            del self._key_of[conversation_id]
        if new is not None:
            index = bisect_left(self._keys, new)
            self._keys.insert(index, new)
            self._ids.insert(index, conversation_id)
            self._key_of[conversation_id] = new
        return True

    @property
    def ids(self) -> list[str]:
        """The ranked ids (the ranking's own list: copy it to keep it)."""
        return self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, conversation_id: object) -> bool:
        return conversation_id in self._key_of


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
