"""Text detectors behind the triggers, and the fire/clear bookkeeping.

The engine (``hitl_console.engine.engine``) decides *when* a detector runs
(which role, which event) and what counts as progress; this module answers
the narrow question of the rules whether a customer turn asks for a person
(``hitl_console.engine.scorers`` chooses between it and the model), keeps the
recent turns a loop is looked for in, and the rule that a trigger kind is
listed when it first becomes true and again only after it cleared.
"""

from __future__ import annotations

import re

from hitl_console.engine.highstakes import negated_before
from hitl_console.engine.state import ConversationState, EngineUpdate, TriggerHit, TriggerKind
from hitl_console.text import one_line

__all__ = [
    "QUOTE_CHARS",
    "quote",
    "is_human_request",
    "remembered",
    "fire",
    "clear",
]

QUOTE_CHARS = 80
"""How much of a message a trigger reason quotes."""


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """Untrusted text shortened to one printable line, in quotation marks."""
    return f"\u201c{one_line(text, limit)}\u201d"


# ------------------------------------------------------------ human request

_PEOPLE = r"(?:person|people|human|humans|agent|agents|representative|rep|someone|somebody|manager|supervisor|operator|staff|employee)"
_REQUEST = re.compile(
    # speak / talk / connect me ... to a (real) person
    r"\b(?:speak|talk|chat|connect|transfer|put|pass|get|give|escalate)\b[^.!?]{0,24}?\b(?:to|with|me)\b"
    r"[^.!?]{0,16}?\b(?:a|an|the|your|some|any)?\s*(?:real|actual|live|proper|actual)?\s*" + _PEOPLE + r"\b"
    # I want / need / demand a (real) person
    r"|\b(?:want|need|request|demand|prefer|like|get me|give me)\b\s+(?:to\s+(?:have|get)\s+)?(?:a|an|the|your|some)\s+"
    r"(?:real\s+|actual\s+|live\s+)?(?:person|human|agent|representative|rep|manager|supervisor|operator)\b"
    # "human please", "agent, please"
    r"|\b(?:human|agent|representative|operator|person|manager|supervisor)\b,?\s+(?:please|now|asap)\b"
    # "escalate this", "is there a person I can talk to"
    r"|\bescalate (?:this|it|me|my)\b"
    r"|\bis there (?:a|any|an actual|a real|a live) (?:person|human|agent|one)\b\s+(?:i|to|who|available|there|that)\b"
)
_REQUEST_ANCHORS = frozenset(
    "person people human humans agent agents representative rep someone somebody manager supervisor "
    "operator staff employee escalate".split()
)
REQUEST_ANCHORS = _REQUEST_ANCHORS
"""Without one of these words ``is_human_request`` is None (callers may skip it)."""
_ALONE = frozenset({"agent", "human", "representative", "operator", "person", "manager", "supervisor", "rep"})
_ALONE_FILLER = frozenset({"a", "an", "real", "live", "actual", "please", "now", "pls", "plz", "the", "to", "speak", "talk"})


def is_human_request(lower: str, words: list[str]) -> str | None:
    """The phrase with which a customer asks for a person, or None.

    Matches "can I speak to a real person", "connect me with an agent",
    "I want a human", "manager please", "escalate this" and a bare "agent!" or
    "representative"; not "are you human?", "you're not human, are you?",
    "the agent told me ...", nor a negated "I don't want to talk to anyone,
    just fix it". ``lower`` is the lower-cased text, ``words`` its words
    (``hitl_console.engine.highstakes.words_of``).
    """
    if _REQUEST_ANCHORS.isdisjoint(words):
        return None
    if len(words) <= 4 and not _ALONE.isdisjoint(words) and _ALONE_FILLER.issuperset(w for w in words if w not in _ALONE):
        return lower.strip()
    for m in _REQUEST.finditer(lower):
        if not negated_before(lower, m.start()):
            return m.group(0)
    return None


# ------------------------------------------------------------ loops


def remembered(
    seqs: tuple[int, ...], keys: tuple[object, ...], seq: int, key: object, window: int
) -> tuple[tuple[int, ...], tuple[object, ...]]:
    """The recent turns with this one added, keeping the last ``window``. The
    engine keeps tuples (of plain values, so the garbage collector stops
    tracking them) rather than lists. Comparing them is the loop scorer's job
    (``hitl_console.engine.scorers``)."""
    seqs = seqs + (seq,)
    keys = keys + (key,)
    if len(keys) > window:
        return seqs[1:], keys[1:]
    return seqs, keys


# ------------------------------------------------------------ bookkeeping


def fire(
    state: ConversationState,
    update: EngineUpdate,
    kind: TriggerKind,
    seq: int,
    ts: float,
    reason: str,
    evidence: str = "",
    turn_index: int = 0,
) -> TriggerHit | None:
    """Make ``kind`` active; list it only if it was not active already."""
    if kind in state.active:
        return None
    state.active = state.active | {kind}
    hit = TriggerHit(kind, seq, ts, reason, evidence, turn_index)
    state.triggers = (*state.triggers, hit)
    state.timeline.append(hit)
    update.fired = (*update.fired, hit)
    return hit


def clear(state: ConversationState, kind: str) -> bool:
    """Make ``kind`` inactive so that it may be listed again when it comes back."""
    if kind in state.active:
        state.active = state.active - {kind}
        return True
    return False
