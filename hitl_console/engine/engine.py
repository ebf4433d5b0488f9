"""The signal engine: one validated event in, the conversation's state updated.

Pure Python, no UI, incremental: every event costs a few microseconds and
touches only its own conversation, so the same engine serves the live
console (tens of events a second), replays and the headless ``analyze``
command (hundreds of thousands of events).

Triggers (``ConversationState.triggers`` in firing order, ``.active`` now):

``low_confidence``
    an AI turn below ``Thresholds.low_confidence``; clears on a later AI turn
    at or above it.
``high_stakes``
    see ``hitl_console.engine.highstakes``: keywords in customer turns, sums of
    money above ``high_stakes_amount`` in customer and AI turns, action and
    approval amounts, feed topics in ``TopicRules.high_stakes``,
    ``TopicRules.extra_patterns``. Sticky.
``sentiment``
    a customer turn at or below ``sentiment_floor``, or ``sentiment_drop``
    below the customer's running average; clears above ``sentiment_clear``.
    Without feed sentiment the fast VADER estimate is used and the turn is
    marked ``sentiment_estimated``; an estimated voice turn blends ``voice.tone``
    in (``cues.voice_blend``: ``voice_tone_weight``, more when the words say
    little). A sentiment the feed sends is kept as sent. ``Turn.sentiment``
    holds the value used.
``loop``
    the customer repeats an earlier turn (rapidfuzz ratio >= ``loop_similarity``
    against the last ``loop_window`` customer turns; turns under
    ``loop_min_words`` words never count), the AI repeats an answer (same rule
    on AI turns), or no progress for ``no_progress_turns`` customer+AI turns or
    ``no_progress_seconds``. *Progress* is: the conversation starting, an
    ``ai.action`` with status ``ok``, a human joining or writing, an approval
    approved or denied, the customer's intent changing or a topic not seen
    before in this conversation. Progress clears all loop conditions; a new,
    different customer (or AI) turn clears that side's repeat. ``loop_warning``
    says which condition holds.
``human_request``
    the customer asks for a person (``triggers.is_human_request``); clears when
    a human joins, and does not fire while a human holds the chat ("I'd rather
    explain it to a person", said to the person, fired it again).
``ai_request``
    ``ai.escalation_requested``; clears when a human joins.

A kind is listed when it becomes true and again only after it cleared.

Escalation is the first of: ``ai_request``, ``human_request``, a human
joining, or the risk (``hitl_console.engine.risk``) reaching
``escalation_risk``. ``escalation_turns`` is the number of customer+AI turns
up to and including the escalating event. ``holder`` is ``ai``, ``waiting``
(escalated, or routed to humans by the platform, and no human yet),
``human`` (after ``human.joined``) or ``ended``; ``waiting_since`` says
since when a waiting customer waits. A conversation closed as abandoned keeps
its ``waiting_since``, so a reopen restores the wait with the holder.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from hitl_console.config import Config
from hitl_console.engine.cues import voice_blend
from hitl_console.engine.highstakes import Finding, HighStakesDetector, words_of
from hitl_console.engine.risk import WAIT_FIRST_S, RiskModel, pending_flags, risk_features
from hitl_console.engine.routing import RoutingMatcher
from hitl_console.engine.state import (
    ActionRecord,
    Approval,
    ConversationState,
    CustomerProfile,
    EngineUpdate,
    Notice,
    Turn,
)
from hitl_console.engine.scorers import LoopScorer, Scorers, Signal, build_scorers
from hitl_console.engine.triggers import clear, fire, quote, remembered
from hitl_console.protocol.events import (
    AiAction,
    ApprovalRequested,
    ApprovalResolved,
    ConversationEnded,
    ConversationStarted,
    EscalationRequested,
    Event,
    HumanJoined,
    HumanLeft,
    Message,
    Scorecard,
)
from hitl_console.text import number

__all__ = ["SignalEngine", "tune_gc"]

GC_FULL_THRESHOLD = 100
"""Middle-generation collections between full ones with ``tune_gc`` (CPython's default is 10)."""


def tune_gc(full_threshold: int = GC_FULL_THRESHOLD, *, freeze: bool = True) -> None:
    """Garbage-collector settings for a process that feeds the engine many events.

    The engine keeps every conversation's state (turns, timeline, triggers):
    long-lived objects without reference cycles, freed by reference counting
    when a conversation is forgotten. With CPython's defaults the collector
    takes about a tenth of the ingest pipeline, most of it in *full* collections,
    each of which rescans the whole heap. This makes full collections ten
    times rarer (CPython 3.11 still requires the old generation to have grown
    by a quarter before one runs) and leaves the young generation at its
    default, whose small, cache-warm scans free short-lived cycles promptly.
    With ``freeze``, everything alive now (imports, config, a recording already
    loaded) moves to the permanent generation, so no full collection rescans it.
    On the 100,000-event benchmark this takes the collector from about a tenth
    to about 3% of the time; measured against a larger young threshold (20,000,
    which was slower: its scans miss the CPU cache) and other mixes.

    Meant for the console and headless commands, once, after start-up or
    after loading a recording. Idempotent; never lowers a higher threshold.
    """
    import gc

    if freeze:
        gc.collect()
        gc.freeze()
    t0, t1, t2 = gc.get_threshold()
    if t2 < full_threshold:
        gc.set_threshold(t0, t1, full_threshold)

log = logging.getLogger(__name__)

INF = float("inf")

_new = tuple.__new__
"""Builds a state ``NamedTuple`` from all its fields at once: about half the
cost of calling the class, which matters for the turn every message makes."""


@dataclass(slots=True)
class _Track:
    """Engine-private running figures of one conversation (not part of the state API)."""

    state: ConversationState
    """The conversation these figures belong to (one dict lookup finds both)."""
    sent_sum: float = 0.0
    sent_n: int = 0
    last_sentiment: float | None = None
    last_confidence: float | None = None
    # recent turns that count for repeats, per role, as parallel tuples (seq, key);
    # tuples of plain values are not tracked by the garbage collector, lists are
    customer_seqs: tuple[int, ...] = ()
    customer_keys: tuple[object, ...] = ()
    ai_seqs: tuple[int, ...] = ()
    ai_keys: tuple[object, ...] = ()
    """What the loop scorer keeps of each (``LoopScorer.key``)."""
    stalls: int = 0
    """AI turns since the last progress that only said it is still working on it."""
    customer_repeat: str | None = None
    ai_repeat: str | None = None
    stalled: str | None = None
    since_progress: int = 0
    progress_ts: float = 0.0
    progress_seq: int = 0
    turns_ca: int = 0
    last_intent: str | None = None
    fired: tuple[str, ...] = ()
    """Kinds that ever fired, in firing order (replaced, not mutated: it changes a
    handful of times; a tuple of strings is not tracked by the collector)."""
    # the risk's evidence (hitl_console.engine.risk.risk_features) beyond the state's
    high_stakes_strength: float = 1.0
    human_request_strength: float = 1.0
    """The scorers' certainty when those triggers last fired."""
    lowest_sentiment: float | None = None
    sentiment_drop: float = 0.0
    """The customer's earlier average minus the last sentiment."""
    customer_turns: int = 0
    customer_words: int = 0
    wait_since: float = INF
    """When the customer's oldest unanswered message came (INF: none unanswered)."""
    wait_next: float = INF
    """When ``tick`` next rescores the unanswered customer (``risk.WAIT_FIRST_S``, then doubling)."""
    routing_n: int = 0
    valuable: bool = False
    pending_any: bool = False
    pending_large: bool = False
    pending_dirty: bool = False
    dirty: bool = True
    """Some input of the risk changed since it was last scored (or it never was):
    an event that changed none of them cannot change the risk nor escalate."""
    # the deadline heap (SignalEngine.tick): the time of this conversation's live
    # entry (INF: none) and the entry's number; older entries are stale
    due: float = INF
    gen: int = 0
    expiry: float = INF
    """The earliest ``expires_ts`` of a pending approval (INF: none)."""
    holder_before: str = "ai"
    """Who held the conversation when it was closed as abandoned (a reopen restores it)."""


def _best_repeat(loop: LoopScorer, key: object, seqs: tuple[int, ...], keys: tuple[object, ...]) -> tuple[int, float] | None:
    """The seq and similarity of the most similar remembered turn at or above the
    scorer's threshold, or None."""
    best: tuple[int, float] | None = None
    threshold = loop.threshold
    for i, other in enumerate(keys):
        score = loop.similarity(key, other)
        if score >= threshold and (best is None or score > best[1]):
            best = (seqs[i], score)
    return best


def _sure(found: Signal) -> str:
    """How sure a scorer was, for a reason (rules are always sure: nothing to say)."""
    return "" if found.score >= 1.0 else f" ({found.score:.0%} sure)"


def _reason(found: Signal) -> str:
    return f"{found.label}{_sure(found)}: \u201c{found.evidence}\u201d"


class SignalEngine:
    """Keeps a ``ConversationState`` per conversation up to date, event by event."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config if config is not None else Config()
        t = self.config.thresholds
        self.thresholds = t
        self.conversations: dict[str, ConversationState] = {}
        self._tracks: dict[str, _Track] = {}
        self._open: dict[str, ConversationState] = {}
        self._ended: OrderedDict[str, float] = OrderedDict()
        """Ended conversations, oldest end first: key -> when it ended."""
        self._aliases: dict[tuple[str, str], str] = {}
        """(feed, the feed's id) -> key, for ids that another feed used first."""
        self.id_collisions = 0
        """How many conversation ids arrived from a second feed (each kept apart)."""
        self._stakes = HighStakesDetector(t, self.config.topics)
        self._scorers: Scorers = build_scorers(self.config, self._stakes)
        self._routing = RoutingMatcher(self.config.routing)
        # the config is frozen: the thresholds the hot path reads, read once
        self._no_progress_s = t.no_progress_seconds
        self._no_progress_turns = t.no_progress_turns
        self._window = t.loop_window
        self._low_confidence = t.low_confidence
        self._sentiment_floor = t.sentiment_floor
        self._sentiment_drop = t.sentiment_drop
        self._sentiment_clear = t.sentiment_clear
        self._voice_weight = t.voice_tone_weight
        self._escalation_risk = t.escalation_risk
        self._risk: RiskModel = RiskModel.from_config(self.config.risk)
        self._abandon_s = t.abandoned_after_seconds or 0.0
        self._heap: list[tuple[float, int, str]] = []
        """(due, entry number, key): when a time-based rule may next apply to a
        conversation. An entry is never later than the true deadline (those only
        move later, or a new, earlier entry is pushed), so ``tick`` pops only what
        is due and re-checks it; an entry whose number is not its track's is stale."""
        self._pushes = 0
        self._handlers: dict[str, Callable[[ConversationState, _Track, object, EngineUpdate], None]] = {
            "conversation.started": self._started,  # type: ignore[dict-item]
            "message": self._message,  # type: ignore[dict-item]
            "ai.action": self._action,  # type: ignore[dict-item]
            "ai.escalation_requested": self._escalation_requested,  # type: ignore[dict-item]
            "approval.requested": self._approval_requested,  # type: ignore[dict-item]
            "approval.resolved": self._approval_resolved,  # type: ignore[dict-item]
            "human.joined": self._human_joined,  # type: ignore[dict-item]
            "human.left": self._human_left,  # type: ignore[dict-item]
            "conversation.ended": self._ended_event,  # type: ignore[dict-item]
            "scorecard": self._scorecard,  # type: ignore[dict-item]
        }

    # ------------------------------------------------------------ public API

    def scorer_names(self) -> dict[str, str]:
        """Which scorer runs for each signal, e.g. ``{"high_stakes": "model", ...}``
        (for ``--version`` and ``analyze``)."""
        return self._scorers.describe()

    def apply(self, event: Event, feed: str = "") -> EngineUpdate:
        """Fold one validated event into its conversation's state.

        Creates the conversation implicitly when its ``conversation.started``
        was never seen (the console may join a feed mid-stream). Heartbeats,
        acks and anything without a ``conversation_id`` are ignored. Never
        raises: a bug in a detector is logged and the event still counts.
        """
        cid = getattr(event, "conversation_id", None)
        handler = self._handlers.get(getattr(event, "type", ""))
        if cid is None or handler is None:
            return EngineUpdate(cid or "")
        if self._aliases:  # this feed's id may be kept as id@feed
            cid = self._aliases.get((feed, cid), cid)
        track = self._tracks.get(cid)
        if track is None:
            track = self._create(cid, event.ts, feed)
        elif feed and track.state.feed != feed and track.state.feed:
            # another feed already uses this id: a different conversation
            track = self._create(self._alias(feed, cid), event.ts, feed, wire_id=cid)
            cid = track.state.conversation_id
        update = EngineUpdate(cid)
        state = track.state
        try:
            seq = event.seq
            ts = event.ts
            if seq > state.last_seq:
                state.last_seq = seq
            if ts > state.last_ts:
                state.last_ts = ts
            if state.timed_out:
                self._reopen(state, track, event, update)
            handler(state, track, event, update)
            if not state.ended:
                if track.stalled is None and ts - track.progress_ts >= self._no_progress_s:
                    self._check_stalled_time(state, track, seq, ts, update)
                if track.dirty:
                    self._rescore(state, track, seq, ts, update)
                if update.approval is not None:
                    track.expiry = _earliest_expiry(state)
                self._schedule(state, track)
        except Exception:  # never let one odd event stop the floor
            log.exception("signal engine failed on %s seq=%s of %s", event.type, event.seq, cid)
        state.version += 1
        return update

    def tick(self, now: float) -> list[EngineUpdate]:
        """Time-based rules: approvals expiring, no progress for
        ``no_progress_seconds``, and conversations silent for
        ``abandoned_after_seconds`` closed as abandoned. Returns one update per
        conversation that changed.

        Costs what is due, not what is open: only conversations whose deadline
        passed are looked at (a heap of deadlines, see ``_schedule``)."""
        updates: list[EngineUpdate] = []
        heap = self._heap
        tracks = self._tracks
        while heap and heap[0][0] <= now:
            _due, gen, cid = heapq.heappop(heap)
            track = tracks.get(cid)
            if track is None or track.gen != gen:
                continue  # forgotten, or superseded by an earlier entry
            track.due = INF
            state = track.state
            if state.ended:
                continue
            update = self._tick_one(state, track, cid, now)
            if update is not None:
                state.version += 1
                updates.append(update)
            if not state.ended:
                self._schedule(state, track)
        return updates

    def _tick_one(self, state: ConversationState, track: _Track, cid: str, now: float) -> EngineUpdate | None:
        """The time-based rules for one conversation at ``now``."""
        update: EngineUpdate | None = None
        if track.expiry <= now:
            for approval in state.approvals.values():
                if approval.status == "pending" and approval.expires_ts is not None and approval.expires_ts <= now:
                    update = update or EngineUpdate(conversation_id=cid)
                    approval.status = "expired"
                    track.pending_dirty = track.dirty = True
                    approval.resolved_ts = approval.expires_ts
                    state.timeline.append(
                        Notice(state.last_seq, approval.expires_ts, f"{approval.action} ({approval.approval_id}) expired with no decision", "approval")
                    )
                    update.approval = approval
            track.expiry = _earliest_expiry(state)
        if track.stalled is None and state.holder in ("ai", "waiting") and now - track.progress_ts >= self._no_progress_s:
            update = update or EngineUpdate(conversation_id=cid)
            self._check_stalled_time(state, track, state.last_seq, now, update)
        if update is not None:
            self._rescore(state, track, state.last_seq, now, update)
        if track.wait_next <= now:
            # the unanswered customer's wait: the risk is rescored (and may escalate);
            # an update is returned only when that escalated it
            waited = now - track.wait_since
            track.wait_next = track.wait_since + (2.0 * waited if waited > WAIT_FIRST_S else 2.0 * WAIT_FIRST_S)
            if update is None:
                wait_update = EngineUpdate(conversation_id=cid)
                self._rescore(state, track, state.last_seq, now, wait_update)
                if wait_update.escalated_now:
                    update = wait_update
        if self._abandon_s and now - state.last_ts >= self._abandon_s:
            update = update or EngineUpdate(conversation_id=cid)
            self._abandon(state, track, now, update)
        return update

    def _schedule(self, state: ConversationState, track: _Track) -> None:
        """Make sure the heap holds an entry for the conversation's next deadline.

        Deadlines move later as events arrive (progress, activity), and an entry
        that comes up early is re-checked and pushed again, so an event only
        pushes when its deadline is earlier than the live entry's."""
        due = track.expiry
        if track.wait_next < due:
            due = track.wait_next
        if track.stalled is None and state.holder in ("ai", "waiting"):
            stall = track.progress_ts + self._no_progress_s
            if stall < due:
                due = stall
        if self._abandon_s:
            silent = state.last_ts + self._abandon_s
            if silent < due:
                due = silent
        if due < track.due:
            self._pushes += 1
            track.gen = self._pushes
            track.due = due
            heapq.heappush(self._heap, (due, self._pushes, state.conversation_id))

    def _abandon(self, state: ConversationState, track: _Track, now: float, update: EngineUpdate) -> None:
        """Close a conversation nobody ended: the customer went away."""
        silent = now - state.last_ts
        track.holder_before = state.holder
        update.ended = True
        state.ended = True
        state.timed_out = True
        state.outcome = "abandoned"
        state.resolved_by = None
        state.holder = "ended"
        state.timeline.append(_new(Notice, (state.last_seq, now, f"closed as abandoned: no event for {_duration(silent)}", "ended")))
        self._close(state.conversation_id, now)

    def _reopen(self, state: ConversationState, track: _Track, event: Event, update: EngineUpdate) -> None:
        """An event for a conversation closed as abandoned: it was not over after
        all (a ``conversation.started`` is a new conversation under the same id,
        which ``_started`` handles; a ``conversation.ended`` gives the feed's own outcome)."""
        state.timed_out = False
        if event.type == "conversation.started":
            return
        state.ended = False
        state.outcome = None
        state.holder = track.holder_before  # type: ignore[assignment]
        self._ended.pop(state.conversation_id, None)
        self._open[state.conversation_id] = state
        if event.type != "conversation.ended":
            state.timeline.append(_new(Notice, (event.seq, event.ts, "reopened: an event after it was closed as abandoned", "started")))

    def _close(self, cid: str, ts: float) -> None:
        """Move a conversation from the open set to the ended ones (newest last)."""
        self._open.pop(cid, None)
        ended = self._ended
        ended.pop(cid, None)
        ended[cid] = ts

    def active(self) -> list[ConversationState]:
        """Conversations not ended, highest risk first; equal risks: most recent activity first."""
        return sorted(self._open.values(), key=lambda s: (-s.risk, -s.last_ts))

    def forget_ended(self, keep: int = 1000) -> int:
        """Drop all but the ``keep`` most recently ended conversations; returns how many
        were dropped. Keeps a long-running console's memory bounded."""
        dropped = 0
        while len(self._ended) > max(0, keep):
            cid, _ = self._ended.popitem(last=False)
            self._forget(cid)
            dropped += 1
        return dropped

    def forget_ended_before(self, ts: float) -> list[ConversationState]:
        """Drop the conversations that ended before ``ts`` and return them, in the
        order they ended: what a streaming reader emits once late events (a
        scorecard after the end) can no longer arrive."""
        ended = self._ended
        gone: list[ConversationState] = []
        while ended:
            cid = next(iter(ended))
            if ended[cid] >= ts:
                break
            del ended[cid]
            state = self._forget(cid)
            if state is not None:
                gone.append(state)
        return gone

    def _forget(self, cid: str) -> ConversationState | None:
        state = self.conversations.pop(cid, None)
        self._tracks.pop(cid, None)
        if state is not None and state.wire_id:
            self._aliases.pop((state.feed, state.wire_id), None)
        return state

    # ------------------------------------------------------------ helpers

    def _alias(self, feed: str, wire_id: str) -> str:
        """The key for ``wire_id`` of ``feed`` when another feed owns that id:
        ``id@feed``. Feeds of different platforms may well number conversations
        alike; merging their events would mix two customers in one transcript."""
        key = f"{wire_id}@{feed}"
        self._aliases[(feed, wire_id)] = key
        self.id_collisions += 1
        owner = self.conversations[wire_id].feed
        log.warning("conversation id %r comes from feeds %r and %r: the one from %r is shown as %r", wire_id, owner, feed, feed, key)
        return key

    def _create(self, cid: str, ts: float, feed: str, wire_id: str = "") -> _Track:
        state = ConversationState(conversation_id=cid, feed=feed, started_ts=ts, last_ts=ts, wire_id=wire_id)
        self.conversations[cid] = state
        self._open[cid] = state
        track = self._tracks[cid] = _Track(state, progress_ts=ts)
        return track

    def _fire(
        self, state: ConversationState, track: _Track, update: EngineUpdate, kind: str, seq: int, ts: float,
        reason: str, evidence: str = "", strength: float = 1.0,
    ) -> None:
        """Fire ``kind``; ``strength`` is the scorer's certainty (the risk weighs it)."""
        if fire(state, update, kind, seq, ts, reason, evidence, len(state.turns)) is not None:  # type: ignore[arg-type]
            if kind not in track.fired:
                track.fired = (*track.fired, kind)
            if kind == "high_stakes":
                track.high_stakes_strength = strength
            elif kind == "human_request":
                track.human_request_strength = strength
            track.dirty = True

    def _clear(self, state: ConversationState, track: _Track, kind: str) -> None:
        if kind in state.active:
            clear(state, kind)
            track.dirty = True

    def _high_stakes(self, state: ConversationState, track: _Track, update: EngineUpdate, finding: Finding | None, seq: int, ts: float) -> None:
        if finding is not None and "high_stakes" not in state.active:
            self._fire(state, track, update, "high_stakes", seq, ts, finding.reason(), finding.evidence)

    def _progress(self, state: ConversationState, track: _Track, seq: int, ts: float) -> None:
        if track.since_progress:
            track.dirty = True
        track.since_progress = 0
        track.stalls = 0
        track.progress_ts = ts
        track.progress_seq = seq
        if track.stalled or track.customer_repeat or track.ai_repeat:
            track.stalled = track.customer_repeat = track.ai_repeat = None
            self._sync_loop(state, track, None, seq, ts)

    def _sync_loop(self, state: ConversationState, track: _Track, update: EngineUpdate | None, seq: int, ts: float) -> None:
        """Make ``loop`` and ``loop_warning`` agree with the three loop conditions."""
        warning = track.customer_repeat or track.ai_repeat or track.stalled
        if warning == state.loop_warning:
            return
        state.loop_warning = warning
        if warning is None:
            self._clear(state, track, "loop")
        elif update is not None:
            self._fire(state, track, update, "loop", seq, ts, warning)

    def _check_stalled_time(self, state: ConversationState, track: _Track, seq: int, now: float, update: EngineUpdate) -> None:
        if track.stalled is not None or state.holder not in ("ai", "waiting"):
            return
        idle = now - track.progress_ts
        if idle >= self.thresholds.no_progress_seconds:
            track.stalled = f"waiting {_duration(idle)} with no progress (since {_clock(track.progress_ts)})"
            self._sync_loop(state, track, update, seq, now)

    def _escalate(self, state: ConversationState, update: EngineUpdate, seq: int, ts: float, cause: str | None) -> None:
        """Mark the escalation; the timeline says so unless ``cause`` is None (the
        notice of what escalated, a person joining, already says it)."""
        if state.escalated_at_seq is not None:
            return
        state.escalated_at_seq = seq
        state.escalated_ts = ts
        state.escalation_turns = self._tracks[state.conversation_id].turns_ca
        update.escalated_now = True
        if state.holder == "ai":
            state.holder = "waiting"
            state.waiting_since = ts
        if cause is not None:
            state.timeline.append(Notice(seq, ts, f"escalated to a human{': ' + cause if cause else ''}", "escalation"))

    def _rescore(self, state: ConversationState, track: _Track, seq: int, ts: float, update: EngineUpdate) -> None:
        """The risk (``hitl_console.engine.risk``) at ``ts`` from the conversation's
        evidence, and escalation when it reaches the threshold."""
        track.dirty = False
        if track.pending_dirty:
            track.pending_any, track.pending_large = pending_flags(
                (a for a in state.approvals.values() if a.status == "pending"), self.thresholds.high_stakes_amount
            )
            track.pending_dirty = False
        risk = self._risk.score(self._features(state, track, ts))
        state.risk = risk
        if risk > state.peak_risk:
            state.peak_risk = risk
        if state.escalated_at_seq is None and not state.ended:
            active = state.active
            if "ai_request" in active:
                self._escalate(state, update, seq, ts, "")  # the trigger just above says why
            elif "human_request" in active:
                self._escalate(state, update, seq, ts, "")
            elif risk >= self._escalation_risk:
                self._escalate(state, update, seq, ts, f"risk {risk:.2f} reached {self._escalation_risk:.2f}")

    def _features(self, state: ConversationState, track: _Track, ts: float) -> list[float]:
        since = track.wait_since
        return risk_features(
            state.active, track.fired, track.high_stakes_strength, track.human_request_strength,
            track.since_progress, self._no_progress_turns,
            track.last_sentiment, track.sentiment_drop, track.lowest_sentiment, track.last_confidence,
            track.customer_turns, track.customer_words, ts - since if since < ts else 0.0,
            track.routing_n, track.valuable, track.pending_any, track.pending_large,
        )

    def risk_features(self, conversation_id: str, now: float | None = None) -> list[float]:
        """The risk's feature vector (``risk.FEATURES`` order) of a conversation at
        ``now`` (default: its last event), for calibration; [] for an unknown id."""
        track = self._tracks.get(conversation_id)
        if track is None:
            return []
        if track.pending_dirty:  # as _rescore would see them
            track.pending_any, track.pending_large = pending_flags(
                (a for a in track.state.approvals.values() if a.status == "pending"), self.thresholds.high_stakes_amount
            )
            track.pending_dirty = False
        return self._features(track.state, track, track.state.last_ts if now is None else now)

    # ------------------------------------------------------------ handlers

    def _started(self, state: ConversationState, track: _Track, ev: ConversationStarted, update: EngineUpdate) -> None:
        update.started = True
        c = ev.customer
        state.channel = ev.channel
        state.queue = ev.queue
        state.customer = customer = CustomerProfile(c.id, c.name, c.tier, c.lifetime_value, c.open_complaints, c.locale)
        state.contact_reason = ev.contact_reason
        state.handled_by = handled_by = ev.handled_by
        # an implicit conversation keeps its earliest time; otherwise the start is the start
        state.started_ts = min(state.started_ts, ev.ts) if (state.turns or state.actions) else ev.ts
        state.saw_start = True
        if state.ended:  # the id was reused: a new conversation
            state.ended = False
            state.outcome = state.resolved_by = None
            self._ended.pop(state.conversation_id, None)
            self._open[state.conversation_id] = state
        if state.holder == "ai" and handled_by == "human" and state.agent is None:
            state.holder = "waiting"
            state.waiting_since = state.started_ts
        routing = self._routing
        state.routing_names, state.routing_flags = routing.broken(customer, ev.contact_reason, handled_by)
        flags = state.routing_flags
        track.routing_n = len(flags)
        track.valuable = routing.is_valuable(customer)
        track.dirty = True
        where = f"{ev.channel}, queue {ev.queue}" if ev.queue else ev.channel
        first = "the AI answers" if handled_by == "ai" else "for a human first"
        state.timeline.append(_new(Notice, (ev.seq, ev.ts, f"conversation started ({where}); {first}", "started")))
        self._progress(state, track, ev.seq, ev.ts)

    def _message(self, state: ConversationState, track: _Track, ev: Message, update: EngineUpdate) -> None:
        role = ev.role
        text = ev.text
        seq = ev.seq
        ts = ev.ts
        intent = ev.intent
        topics = ev.topics
        topic_tuple = tuple(topics) if topics else ()
        scorers = self._scorers
        words: list[str] = []
        lower = ""
        if role == "customer" or role == "ai":
            lower = text.lower()
            words = words_of(lower)
        closing = False
        s = 0.0
        if role == "customer":
            fed = ev.sentiment
            estimated = fed is None
            if fed is None:
                s, closing = scorers.sentiment.score(text, lower, words)
            else:
                s = fed
            voice = ev.voice
            tone = interruptions = None
            if voice is not None:
                tone, interruptions = voice.tone, voice.interruptions
                if estimated:  # a sentiment the feed sends is never overwritten, not even by its own tone
                    s = voice_blend(s, tone, self._voice_weight)
            turn = _new(Turn, (seq, ts, role, text, ev.confidence, s, estimated, intent, topic_tuple, ev.author, tone, interruptions))
        else:
            turn = _new(Turn, (seq, ts, role, text, ev.confidence, None, False, intent, topic_tuple, ev.author, None, None))
        state.turns.append(turn)
        state.timeline.append(turn)
        new_topic = False
        if intent and intent not in state.intents:
            state.intents = (*state.intents, intent)
        if topics:
            seen = state.topics
            for topic in topics:
                if topic not in seen:
                    seen = (*seen, topic)
                    new_topic = True
            state.topics = seen
            finding = self._stakes.check_topics(topics)
            if finding is not None and "high_stakes" not in state.active:
                self._fire(state, track, update, "high_stakes", seq, ts, finding.reason(), finding.evidence)

        if role == "customer":
            track.turns_ca += 1
            active = state.active
            # sentiment (scored above, before the turn was built)
            n = track.sent_n
            if s <= self._sentiment_floor:
                if "sentiment" not in active:
                    floor = self._sentiment_floor
                    self._fire(state, track, update, "sentiment", seq, ts,
                               f"customer sentiment {number(s, '+.2f')} at or below {number(floor, '+.2f')}: {quote(text)}", text)
            elif n and not closing and track.sent_sum / n - s >= self._sentiment_drop:
                if "sentiment" not in active:
                    avg = track.sent_sum / n
                    self._fire(state, track, update, "sentiment", seq, ts,
                               f"customer sentiment fell {avg - s:.2f} (average {number(avg, '+.2f')} to {number(s, '+.2f')}): {quote(text)}", text)
            elif s > self._sentiment_clear and "sentiment" in active:
                self._clear(state, track, "sentiment")
            track.sentiment_drop = track.sent_sum / n - s if n else 0.0
            track.sent_sum += s
            track.sent_n = n + 1
            track.last_sentiment = s
            low = track.lowest_sentiment
            if low is None or s < low:
                track.lowest_sentiment = s
            track.customer_turns += 1
            track.customer_words += len(words)
            if track.wait_since == INF:
                track.wait_since = ts
                track.wait_next = ts + WAIT_FIRST_S
            track.dirty = True
            if "high_stakes" not in active:
                found = scorers.high_stakes.score(text, lower, words, True)
                if found is not None:
                    self._fire(state, track, update, "high_stakes", seq, ts, _reason(found), found.evidence, found.score)
            if "human_request" not in active and state.holder != "human":  # a person is already there
                found = scorers.human_request.score(text, lower, words)
                if found is not None:
                    self._fire(state, track, update, "human_request", seq, ts,
                               f"customer asked for a person{_sure(found)}: {quote(text)}", found.evidence, found.score)
            # progress by intent/topic
            last_intent = track.last_intent
            if (intent and intent != last_intent and last_intent is not None) or (new_topic and track.turns_ca > 1):
                self._progress(state, track, seq, ts)
            if intent:
                track.last_intent = intent
            loop = scorers.loop
            again = loop.reask(lower, words)
            key = loop.key(text, lower, words)
            if key is not None:
                hit = _best_repeat(loop, key, track.customer_seqs, track.customer_keys)
                track.customer_seqs, track.customer_keys = remembered(track.customer_seqs, track.customer_keys, seq, key, self._window)
                if hit is not None:
                    track.customer_repeat = f"customer repeated what they said at {_clock(_turn_ts(state, hit[0]))} ({hit[1]:.0%} similar): {quote(text, 60)}"
                elif again is None:
                    track.customer_repeat = None
            if again is not None and track.turns_ca > 1:
                track.customer_repeat = f"customer says they are asking again ({quote(again, 40)}): {quote(text, 60)}"
        elif role == "ai":
            track.turns_ca += 1
            c = ev.confidence
            if track.wait_since != INF:  # answered
                track.wait_since = track.wait_next = INF
                track.dirty = True
            if c is not None:
                if c != track.last_confidence:
                    track.last_confidence = c
                    track.dirty = True
                if c < self._low_confidence:
                    if "low_confidence" not in state.active:
                        low = self._low_confidence
                        self._fire(state, track, update, "low_confidence", seq, ts,
                                   f"AI confidence {c:.2f} below {low:.2f}: {quote(text)}", f"{c:.2f}")
                elif "low_confidence" in state.active:
                    self._clear(state, track, "low_confidence")
            # AI turns: only money and configured patterns count
            if "high_stakes" not in state.active:
                found = scorers.high_stakes.score(text, lower, words, False)
                if found is not None:
                    self._fire(state, track, update, "high_stakes", seq, ts, _reason(found), found.evidence, found.score)
            loop = scorers.loop
            if loop.stall(lower, words):
                track.stalls += 1
                if track.stalls >= 2 and track.stalled is None:
                    track.stalled = f"the AI said it is still working on it {track.stalls} times without doing anything: {quote(text, 60)}"
            key = loop.key(text, lower, words)
            if key is not None:
                hit = _best_repeat(loop, key, track.ai_seqs, track.ai_keys)
                track.ai_repeat = (
                    f"AI repeated its answer from {_clock(_turn_ts(state, hit[0]))} ({hit[1]:.0%} similar): {quote(text, 60)}" if hit else None
                )
                track.ai_seqs, track.ai_keys = remembered(track.ai_seqs, track.ai_keys, seq, key, self._window)
        else:
            if role == "human":
                if track.wait_since != INF:  # answered by a person
                    track.wait_since = track.wait_next = INF
                    track.dirty = True
                if ev.author and state.agent is None and state.holder == "human":
                    state.agent = ev.author
                self._progress(state, track, seq, ts)
            return
        # a customer or AI turn: count it towards "no progress"
        since = track.since_progress = track.since_progress + 1
        track.dirty = True
        if track.stalled is None and since >= self._no_progress_turns:
            track.stalled = f"{since} turns without progress (since {_clock(track.progress_ts)})"
        if (track.customer_repeat or track.ai_repeat or track.stalled) != state.loop_warning:
            self._sync_loop(state, track, update, seq, ts)

    def _action(self, state: ConversationState, track: _Track, ev: AiAction, update: EngineUpdate) -> None:
        record = _new(ActionRecord, (ev.seq, ev.ts, ev.name, ev.status, ev.detail, ev.amount, ev.currency))
        state.actions.append(record)
        state.timeline.append(record)
        if ev.amount is not None:
            self._high_stakes(state, track, update, self._stakes.check_amount(ev.amount, ev.currency, f"action {ev.name}"), ev.seq, ev.ts)
        if ev.status == "ok":
            self._progress(state, track, ev.seq, ev.ts)

    def _escalation_requested(self, state: ConversationState, track: _Track, ev: EscalationRequested, update: EngineUpdate) -> None:
        if "ai_request" in state.active:  # the trigger is listed once; a new request says so here
            state.timeline.append(Notice(ev.seq, ev.ts, f"the AI asked again for a human: {ev.reason}", "escalation_requested"))
        self._fire(state, track, update, "ai_request", ev.seq, ev.ts, f"AI asked for a human: {quote(ev.reason)}", ev.reason)

    def _approval_requested(self, state: ConversationState, track: _Track, ev: ApprovalRequested, update: EngineUpdate) -> None:
        approval = Approval(
            ev.approval_id, state.conversation_id, ev.seq, ev.ts, ev.action, ev.amount, ev.currency, ev.rationale, ev.expires_ts
        )
        state.approvals[ev.approval_id] = approval
        state.timeline.append(approval)
        update.approval = approval
        track.pending_dirty = track.dirty = True
        self._high_stakes(state, track, update, self._stakes.check_amount(ev.amount, ev.currency, f"approval for {ev.action}"), ev.seq, ev.ts)

    def _approval_resolved(self, state: ConversationState, track: _Track, ev: ApprovalResolved, update: EngineUpdate) -> None:
        approval = state.approvals.get(ev.approval_id)
        if approval is None:  # resolved before we saw the request (joined mid-stream)
            approval = Approval(ev.approval_id, state.conversation_id, ev.seq, ev.ts, "(unknown action)")
            state.approvals[ev.approval_id] = approval
        approval.status = ev.decision
        track.pending_dirty = track.dirty = True
        approval.by = ev.by
        approval.note = ev.note
        approval.resolved_ts = ev.ts
        what = f"{approval.action} ({ev.approval_id})"
        said = f"{ev.by} {ev.decision} {what}" if ev.by else f"{what} {ev.decision}"
        state.timeline.append(Notice(ev.seq, ev.ts, said, "approval"))
        update.approval = approval
        if ev.decision in ("approved", "denied"):
            self._progress(state, track, ev.seq, ev.ts)

    def _human_joined(self, state: ConversationState, track: _Track, ev: HumanJoined, update: EngineUpdate) -> None:
        from_ai = state.holder == "ai"
        state.holder = "human"
        state.agent = ev.agent
        state.waiting_since = None
        # one notice: "root joined" then "escalated: root joined" said it twice
        state.timeline.append(Notice(ev.seq, ev.ts, f"{ev.agent} joined" + (" and took over from the AI" if from_ai else ""), "human_joined"))
        self._escalate(state, update, ev.seq, ev.ts, None)
        self._clear(state, track, "human_request")
        self._clear(state, track, "ai_request")
        self._progress(state, track, ev.seq, ev.ts)

    def _human_left(self, state: ConversationState, track: _Track, ev: HumanLeft, update: EngineUpdate) -> None:
        said = f"{ev.agent} handed back to the AI" if ev.back_to_ai else f"{ev.agent} left without handing back; the customer waits for a human"
        state.timeline.append(Notice(ev.seq, ev.ts, said, "human_left"))
        if state.agent in (None, ev.agent):
            state.agent = None
            state.holder = "ai" if ev.back_to_ai else "waiting"
            state.waiting_since = None if ev.back_to_ai else ev.ts
        track.progress_ts = ev.ts

    def _ended_event(self, state: ConversationState, track: _Track, ev: ConversationEnded, update: EngineUpdate) -> None:
        update.ended = True
        state.ended = True
        state.outcome = ev.outcome
        state.resolved_by = ev.resolved_by
        if ev.csat is not None:
            state.csat = ev.csat
        state.holder = "ended"
        state.waiting_since = None
        by = f" by {ev.resolved_by}" if ev.resolved_by else ""
        csat = f", CSAT {ev.csat}" if ev.csat is not None else ""
        state.timeline.append(_new(Notice, (ev.seq, ev.ts, f"ended: {ev.outcome}{by}{csat}", "ended")))
        self._close(state.conversation_id, ev.ts)

    def _scorecard(self, state: ConversationState, track: _Track, ev: Scorecard, update: EngineUpdate) -> None:
        state.scorecard = {"overall": ev.overall, "criteria": dict(ev.criteria), "notes": ev.notes, "seq": ev.seq}


def _earliest_expiry(state: ConversationState) -> float:
    """The earliest ``expires_ts`` among the conversation's pending approvals (INF: none)."""
    earliest = INF
    for approval in state.approvals.values():
        expires = approval.expires_ts
        if approval.status == "pending" and expires is not None and expires < earliest:
            earliest = expires
    return earliest


def _clock(ts: float) -> str:
    """``14:02:37``, the console's local time of an event: what a person reads in
    trigger reasons and alerts (a seq number means nothing to them)."""
    return time.strftime("%H:%M:%S", time.localtime(ts))


def _turn_ts(state: ConversationState, seq: int) -> float:
    """The time of the turn ``seq`` (a repeat's earlier turn); the latest turn's when
    it has left the transcript. Searched from the end: repeats are recent."""
    for turn in reversed(state.turns):
        if turn.seq == seq:
            return turn.ts
    return state.turns[-1].ts if state.turns else 0.0


def _duration(seconds: float) -> str:
    """``45 s``, ``26 min``, ``3.5 h``: how long a conversation was silent or waited."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
