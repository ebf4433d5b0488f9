"""Replaying recorded events through the signal engine, headless, on their own clock.

Every headless command (``analyze``, ``report``, ``calibrate``, ``review``)
replays through :func:`replay_feed_events`, so the time-based rules (approvals
expiring, no progress for N seconds, silent conversations closed as
abandoned) give the same answers as in the live console. No file I/O here:
events come from ``hitl_console.feeds.recording`` or the journal.

With a :class:`ReplaySink`, conversations leave the engine as they finish:
``LINGER_S`` of recording time after their end (a scorecard may follow the
end), so memory holds the open conversations only, however long the
recording. Without one, every conversation stays in the engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from hitl_console.engine.engine import SignalEngine, tune_gc
from hitl_console.engine.state import ConversationState
from hitl_console.protocol.events import Event

__all__ = ["LINGER_S", "TICK_EVERY_S", "ReplaySink", "replay_events", "replay_feed_events"]

TICK_EVERY_S = 1.0
"""Recording seconds between engine ticks when a recording is replayed headless."""

LINGER_S = 900.0
"""Recording seconds a conversation stays after its end before it is handed to
the sink: events that belong to it (a scorecard, late messages) still arrive."""


class ReplaySink(Protocol):
    """Where a streaming replay hands conversations."""

    def opened(self, key: str) -> None:
        """A conversation ``key`` entered the engine (creation order)."""

    def closed(self, state: ConversationState) -> None:
        """``state`` is final and has left the engine."""


def replay_events(engine: SignalEngine, events: Iterable[Event], feed: str = "", sink: ReplaySink | None = None) -> None:
    """Feed ``events`` (in time order) to ``engine``, ticking it on their clock."""
    replay_feed_events(engine, ((feed, event) for event in events), sink)


def replay_feed_events(
    engine: SignalEngine,
    pairs: Iterable[tuple[str, Event]],
    sink: ReplaySink | None = None,
    *,
    linger_s: float = LINGER_S,
) -> None:
    """``replay_events`` for (feed, event) pairs, as the journal keeps them: a
    conversation id that two feeds share stays two conversations (``id@feed``),
    as it was in the live console.

    With ``sink``, each conversation is handed over once final (see the module
    docstring), and at the end every one still in the engine, in creation order.
    """
    tune_gc()  # start-up is over: freeze it out of the collector's scans
    conversations = engine.conversations
    apply = engine.apply
    tick = engine.tick
    next_tick: float | None = None
    last_ts: float | None = None
    known = len(conversations)
    for feed, event in pairs:
        ts = event.ts
        if next_tick is None:
            next_tick = ts + TICK_EVERY_S
        elif ts >= next_tick:
            tick(ts)
            next_tick = ts + TICK_EVERY_S
            if sink is not None:
                for state in engine.forget_ended_before(ts - linger_s):
                    sink.closed(state)
                known = len(conversations)
        update = apply(event, feed)
        last_ts = ts
        if sink is not None and len(conversations) != known:
            known = len(conversations)
            sink.opened(update.conversation_id)
    if last_ts is not None:
        tick(last_ts)
    if sink is not None:
        for state in list(conversations.values()):
            sink.closed(state)
