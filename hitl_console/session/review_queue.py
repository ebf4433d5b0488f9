"""Feeding the review queue: ended conversations into the review store, once each.

The session does this as conversations end (on its timer, batched), not a
screen while it happens to be open: a long shift that never opens the
review queue must not lose its candidates when old conversations are
forgotten from memory. The selection itself is
:func:`~hitl_console.analysis.review.build_queues`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hitl_console.analysis.review import build_queues, enqueue
from hitl_console.config import Config
from hitl_console.engine.state import ConversationState
from hitl_console.store.reviews import ReviewStore


@dataclass(slots=True)
class QueueFeeder:
    """Puts ended conversations of the live engine into the review store.

    Each conversation is offered again only when its state changed (its
    ``version``): scoring and snapshotting thousands of conversations on every
    refresh would be wasted work, and the store ignores items it already has,
    so a claim or a finished review is never reset.
    """

    seen: dict[str, int] = field(default_factory=dict)
    """Conversation id -> the version last offered to the store."""

    def feed(self, store: ReviewStore, conversations: Mapping[str, ConversationState], config: Config) -> int:
        """Queue what is new; return how many items were added."""
        fresh = [s for s in conversations.values() if s.ended and self.seen.get(s.conversation_id) != s.version]
        for gone in [cid for cid in self.seen if cid not in conversations]:
            del self.seen[gone]
        if not fresh:
            return 0
        entries = build_queues(fresh, config)
        added = enqueue(store, entries)
        for state in fresh:
            self.seen[state.conversation_id] = state.version
        return added
