"""Which conversations people review, in which queue, and what comes out of it.

**Selection** (:func:`selection_reason`). Every conversation that the AI was
unsure about, that a trigger flagged, or that was escalated is selected; of
the rest a share ``ReviewConfig.sample_rate`` is sampled. The sample is
decided by a hash of ``(seed, conversation id)``, not by a random draw, so
the same conversation is in or out on every run, on every machine, and a
re-run never reshuffles what reviewers already see.

**Queues** (:func:`queue_specs`). Each queue has a role and matches a
selected conversation when it is in the queue's *scope* and meets *any* of
its *criteria*:

* scope: ``queues`` (the feed's routing queues, e.g. ``billing``); empty
  means all of them. A team lead's queue is a scope: their own teams.
* criteria: ``topics`` (any topic in the list), ``triggers`` (any trigger
  kind fired; also ``off_script`` and ``escalated``, below) and
  ``max_score`` (score at or under it). No criteria means every selected
  conversation in scope.

``off_script`` is true when the AI did something its script did not plan
for: a tool call that failed, or an approval a human denied.

Without configured queues the defaults are: ``compliance`` (regulatory and
high-stakes topics or the high_stakes trigger), ``qa`` (loops, scores at or
under 0.5, off-script) and ``team-lead`` (everything selected, all teams).

Items are ordered lowest score first: the worst conversations are reviewed
before the sample of ordinary ones.

**Export** (:func:`export_records`): reviewed examples as JSON lines, the
format of ``docs/review-export.md``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from hitl_console.analysis.scorecard import Score, score_conversation
from hitl_console.durations import clock_time
from hitl_console.config import Config, ReviewConfig, ReviewQueueConfig, Thresholds, TopicRules
from hitl_console.engine.attention import trigger_words
from hitl_console.engine.state import ConversationState
from hitl_console.store.reviews import ConversationKey, ConversationReview, NewItem, ReviewStore, conversation_key
from hitl_console.text import number, one_line, terminal_safe_json

EXPORT_FORMAT = "hitl-console.review-export"
EXPORT_VERSION = 1
PSEUDO_TRIGGERS = ("off_script", "escalated")
"""Criteria a queue may list under ``triggers`` besides the engine's trigger kinds."""


# ---------------------------------------------------------------- selection


def sample_fraction(conversation_id: str, seed: int = 0) -> float:
    """A stable number in [0, 1) for a conversation: the sampling draw.

    SHA-256 rather than ``hash()``, whose value changes between runs.
    """
    digest = hashlib.sha256(f"{seed}:{conversation_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_off_script(state: ConversationState) -> bool:
    """A failed tool call or a denied approval (see the module docstring)."""
    return any(a.status == "failed" for a in state.actions) or any(
        a.status == "denied" for a in state.approvals.values()
    )


REASON_WORDS: dict[str, str] = {
    "escalated": "escalated",
    "low_confidence": "AI unsure",
    "flagged": "flagged",
    "sampled": "sampled",
}
"""What a reviewer reads for each :func:`selection_reason` (the store keeps the id)."""


def reason_words(reason: str) -> str:
    """A selection reason in words ("low_confidence" -> "AI unsure")."""
    return REASON_WORDS.get(reason, reason.replace("_", " "))


def role_words(role: str) -> str:
    """A review role as a person says it ("team_lead" -> "team lead")."""
    return role.replace("_", " ")


def selection_reason(
    state: ConversationState,
    review: ReviewConfig | None = None,
    thresholds: Thresholds | None = None,
) -> str | None:
    """Why the conversation is selected for review, or None when it is not.

    In order of precedence: ``escalated``, ``low_confidence`` (an AI turn
    under the threshold, or the trigger), ``flagged`` (any other trigger or a
    routing flag), ``sampled``.
    """
    review = review or ReviewConfig()
    thresholds = thresholds or Thresholds()
    if state.escalated:
        return "escalated"
    kinds = {h.kind for h in state.triggers}
    if "low_confidence" in kinds or any(c < thresholds.low_confidence for c in state.confidences()):
        return "low_confidence"
    if kinds or state.routing_flags:
        return "flagged"
    if sample_fraction(state.conversation_id, review.seed) < review.sample_rate:
        return "sampled"
    return None


# ---------------------------------------------------------------- queues


def default_queues(topics: TopicRules | None = None) -> list[ReviewQueueConfig]:
    """The queues used when the config defines none (see the module docstring)."""
    topics = topics or TopicRules()
    regulated = list(dict.fromkeys([*topics.high_stakes, "regulatory", "compliance", "privacy"]))
    return [
        ReviewQueueConfig(name="compliance", role="compliance", topics=regulated, triggers=["high_stakes"]),
        ReviewQueueConfig(name="qa", role="qa", triggers=["loop", "off_script"], max_score=0.5),
        ReviewQueueConfig(name="team-lead", role="team_lead"),
    ]


def queue_specs(config: Config | None = None) -> list[ReviewQueueConfig]:
    """The configured review queues, or the defaults."""
    config = config or Config()
    return list(config.review.queues) or default_queues(config.topics)


def matches(spec: ReviewQueueConfig, state: ConversationState, score: Score) -> bool:
    """Whether a selected conversation belongs in the queue ``spec`` (scope, then any criterion)."""
    if spec.queues and state.queue not in spec.queues:
        return False
    criteria = bool(spec.topics or spec.triggers or spec.max_score is not None)
    if not criteria:
        return True
    if spec.topics and set(spec.topics) & set(state.topics):
        return True
    if spec.triggers:
        fired = {h.kind for h in state.triggers}
        if is_off_script(state):
            fired.add("off_script")
        if state.escalated:
            fired.add("escalated")
        if fired & set(spec.triggers):
            return True
    return spec.max_score is not None and score.overall <= spec.max_score


@dataclass(slots=True)
class QueueEntry:
    """One conversation in one review queue."""

    conversation_id: str
    queue: str
    role: str
    reason: str
    score: Score
    state: ConversationState = field(repr=False)

    def to_dict(self) -> dict:
        s = self.state
        return {
            "conversation_id": self.conversation_id,
            "queue": self.queue,
            "role": self.role,
            "reason": self.reason,
            "score": self.score.to_dict(),
            "feed_queue": s.queue,
            "topics": list(s.topics),
            "triggers": sorted({h.kind for h in s.triggers}),
            "outcome": s.outcome,
            "escalated": s.escalated,
        }


def build_queues(
    conversations: Iterable[ConversationState],
    config: Config | None = None,
    *,
    scores: Mapping[str, Score] | None = None,
    role: str | None = None,
    include_open: bool = False,
) -> list[QueueEntry]:
    """Entries of every queue (or of the queues of ``role``; a queue name also
    works), lowest score first. Only ended conversations unless ``include_open``."""
    config = config or Config()
    specs = [s for s in queue_specs(config) if role is None or role in (s.role, s.name)]
    scores = scores or {}
    out: list[QueueEntry] = []
    for state in conversations:
        if not state.ended and not include_open:
            continue
        reason = selection_reason(state, config.review, config.thresholds)
        if reason is None:
            continue
        score = scores.get(state.conversation_id) or score_conversation(state, config.thresholds)
        for spec in specs:
            if matches(spec, state, score):
                out.append(QueueEntry(state.conversation_id, spec.name, spec.role, reason, score, state))
    out.sort(key=lambda e: (e.score.overall, e.queue, -e.state.started_ts, e.conversation_id))
    return out


def enqueue(store: ReviewStore, entries: Iterable[QueueEntry], now: float | None = None) -> int:
    """Put entries in the review store (with a snapshot); returns how many were new."""
    return store.add_items(
        (
            NewItem(
                conversation_id=e.state.feed_id,
                queue=e.queue,
                role=e.role,
                reason=e.reason,
                score=e.score.overall,
                feed=e.state.feed,
                snapshot=snapshot(e.state, e.score),
            )
            for e in entries
        ),
        now=now,
    )


# ---------------------------------------------------------------- what a reviewer reads


def snapshot(state: ConversationState, score: Score | None = None) -> dict[str, Any]:
    """The conversation as a reviewer (and the export) needs it, as plain JSON.

    Text is kept as the feed sent it (the export must be faithful); whoever
    puts it on a terminal passes it through :func:`hitl_console.text.printable`.
    """
    return {
        "id": state.conversation_id,
        "feed": state.feed,
        "queue": state.queue,
        "channel": state.channel,
        "contact_reason": state.contact_reason,
        "topics": list(state.topics),
        "started_ts": state.started_ts,
        "outcome": state.outcome,
        "resolved_by": state.resolved_by,
        "csat": state.csat,
        "escalated": state.escalated,
        "escalated_at_seq": state.escalated_at_seq,
        "score": score.to_dict() if score else None,
        "turns": [
            {
                k: v
                for k, v in (
                    ("seq", t.seq),
                    ("ts", t.ts),
                    ("role", t.role),
                    ("text", t.text),
                    ("confidence", t.confidence),
                    ("sentiment", t.sentiment),
                    ("author", t.author),
                )
                if v is not None
            }
            for t in state.turns
        ],
        "triggers": [{"kind": h.kind, "seq": h.seq, "ts": h.ts, "reason": h.reason} for h in state.triggers],
    }


def render_transcript(snap: Mapping[str, Any], width: int = 100) -> str:
    """The transcript with the triggers where they fired, as plain printable text
    (no markup, no escapes) for ``review queue --show`` and logs."""
    triggers = sorted(snap.get("triggers") or [], key=lambda h: h.get("seq", 0))
    lines: list[str] = []
    ti = 0
    for turn in snap.get("turns") or []:
        while ti < len(triggers) and triggers[ti].get("seq", 0) < turn.get("seq", 0):
            lines.append(f"         !! {one_line(trigger_words(str(triggers[ti]['kind']), str(triggers[ti].get('reason', ''))), width)}")
            ti += 1
        extra = ""
        if turn.get("confidence") is not None:
            extra = f" (conf {turn['confidence']:.2f})"
        elif turn.get("sentiment") is not None:
            extra = f" (sent {number(turn['sentiment'], '+.2f')})"
        who = turn.get("role", "?") if not turn.get("author") else f"{turn['role']}:{turn['author']}"
        when = clock_time(turn["ts"]) if isinstance(turn.get("ts"), (int, float)) else f"#{turn.get('seq', '?')}"
        lines.append(f"{when:<8} {one_line(who, 16):<10} {one_line(str(turn.get('text', '')), width)}{extra}")
    for hit in triggers[ti:]:
        lines.append(f"         !! {one_line(trigger_words(str(hit['kind']), str(hit.get('reason', ''))), width)}")
    return "\n".join(lines)


# ---------------------------------------------------------------- export


def _transcript_upto(snap: Mapping[str, Any], seq: int | None) -> list[dict[str, Any]]:
    turns = snap.get("turns") or []
    out = [
        {k: t[k] for k in ("seq", "role", "text", "confidence", "author") if k in t}
        for t in turns
        if seq is None or t.get("seq", 0) <= seq
    ]
    return out


def export_records(
    store: ReviewStore,
    *,
    since: float | None = None,
    conversations: Iterable[ConversationState] | None = None,
) -> Iterator[dict[str, Any]]:
    """Reviewed examples, one dict per line of the export (``docs/review-export.md``).

    One record per corrected AI turn; a conversation with verdicts or tags
    but no correction gives one record for the whole conversation (``turn``
    null). The conversation comes from the snapshot taken when it was queued,
    or from ``conversations`` (e.g. rebuilt from the journal) when it was
    never queued, matched by feed and the feed's id; a conversation found in
    neither is exported without a transcript rather than dropped, since its
    verdict is still a label.
    """
    by_key = {conversation_key(state): state for state in conversations or ()}
    for review in store.reviewed(since):
        yield from _records_for(store, review, by_key)


def _records_for(
    store: ReviewStore, review: ConversationReview, conversations: Mapping[ConversationKey, ConversationState]
) -> Iterator[dict[str, Any]]:
    cid = review.conversation_id
    snap = store.snapshot(cid, feed=review.feed)
    if snap is None and review.key in conversations:
        snap = snapshot(conversations[review.key])
    snap = snap or {"id": cid, "feed": review.feed}
    latest = review.verdicts[-1] if review.verdicts else None
    takeover = review.takeover[-1] if review.takeover else None
    conversation = {
        "id": cid,
        "feed": review.feed or snap.get("feed"),
        "queue": snap.get("queue"),
        "channel": snap.get("channel"),
        "contact_reason": snap.get("contact_reason"),
        "topics": snap.get("topics") or [],
        "outcome": snap.get("outcome"),
        "escalated": snap.get("escalated"),
    }
    base = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "conversation": conversation,
        "review_queue": latest.queue if latest else store.queue_of(cid, feed=review.feed),
        "verdict": latest.verdict.value if latest else None,
        "verdict_note": latest.note if latest else None,
        "escalation_needed": (
            latest.verdict.escalation_needed
            if latest and latest.verdict.escalation_needed is not None
            else (takeover.escalation_needed if takeover else None)
        ),
        "tags": list(review.tags),
        "triggers": [{"kind": h["kind"], "seq": h["seq"], "reason": h.get("reason", "")} for h in snap.get("triggers") or []],
    }
    turns = {t.get("seq"): t for t in snap.get("turns") or []}
    if review.corrections:
        for c in review.corrections:
            turn = turns.get(c.turn_seq)
            yield {
                **base,
                "turn": {
                    "seq": c.turn_seq,
                    "role": turn.get("role") if turn else "ai",
                    "text": turn.get("text") if turn else c.original_text,
                    "confidence": turn.get("confidence") if turn else None,
                },
                "transcript": _transcript_upto(snap, c.turn_seq),
                "corrected_response": c.corrected_text,
                "reviewer": c.reviewer,
                "ts": c.ts,
            }
        return
    who = latest.reviewer if latest else (takeover.agent if takeover else None)
    when = latest.ts if latest else (takeover.ts if takeover else None)
    yield {
        **base,
        "turn": None,
        "transcript": _transcript_upto(snap, None),
        "corrected_response": None,
        "reviewer": who,
        "ts": when,
    }


def write_jsonl(records: Iterable[Mapping[str, Any]], out: IO[str]) -> int:
    """Write records as JSON lines (UTF-8, no ASCII escaping); return how many."""
    n = 0
    for record in records:
        out.write(terminal_safe_json(json.dumps(record, ensure_ascii=False, separators=(",", ":"))) + "\n")
        n += 1
    return n


__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "QueueEntry",
    "build_queues",
    "default_queues",
    "enqueue",
    "export_records",
    "is_off_script",
    "matches",
    "queue_specs",
    "render_transcript",
    "sample_fraction",
    "selection_reason",
    "reason_words",
    "role_words",
    "REASON_WORDS",
    "snapshot",
    "write_jsonl",
]
