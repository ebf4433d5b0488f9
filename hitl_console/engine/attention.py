"""Who needs a person first, and why, in a few words.

The floor's default order and the words on each row come from here, so the
console, the headless commands and the tests agree on them, and the widgets
only render:

* **order** (:func:`floor_key`): customers *waiting* for a human come first,
  the one whose wait counts most at the top (:func:`urgency`: time waited,
  with a head start for risk); then conversations the routing rules send to a human
  first but the AI still holds (:func:`routing_breach`); then the rest by risk;
* **why** (:func:`reasons`): the active reasons as short phrases a supervisor
  reads at a glance ("legal threat", "asked for a person", "human first:
  complaint"), strongest first; :func:`why_lines` gives the same reasons as
  sentences for the handoff summary.

Pure functions of a ``ConversationState`` and a clock; no UI, no I/O.
"""

from __future__ import annotations

import re

from hitl_console.durations import duration
from hitl_console.engine.state import TRIGGER_NAMES, ConversationState, TriggerHit
from hitl_console.text import number, one_line

__all__ = [
    "URGENCY_RISK_SECONDS",
    "STRENGTH",
    "waited",
    "routing_breach",
    "urgency",
    "floor_key",
    "floor_rank",
    "reasons",
    "phrase",
    "why_lines",
    "reason_after_name",
    "trigger_words",
]

URGENCY_RISK_SECONDS = 120.0
"""Risk counts as waiting time: a waiting customer at risk 1.0 ranks as if
they had waited two minutes more than they have. So a legal threat that has
just started waiting (risk 0.6: 72 s) goes above a routine question waiting
for 30 s (risk 0.3: 30 + 36 = 66 s), and a calm customer who has waited five
minutes goes above both. Two minutes: customers give up after a few minutes
of waiting (the simulator's patience is 90-300 s)."""

STRENGTH: tuple[str, ...] = ("high_stakes", "human_request", "ai_request", "routing", "sentiment", "loop", "low_confidence")
"""Reason kinds, strongest first: what a person must handle (money, the law,
safety), what someone asked for, the house rules, then how it is going.
``routing`` is not a trigger: it is :func:`routing_breach`."""

_SHORT_LABELS = {
    # labels of hitl_console.engine.highstakes.Finding.reason that are long for a row
    "fraud or unauthorised charge": "possible fraud",
    "matches a configured high-stakes pattern": "high-stakes pattern",
}
_SURE = re.compile(r"\s*\((\d+% sure)\)\s*$")


def waited(state: ConversationState, now: float) -> float | None:
    """Seconds a waiting customer has waited for a human (None: nobody waits, or since when is unknown)."""
    if state.holder != "waiting":
        return None
    since = state.waiting_since if state.waiting_since is not None else state.escalated_ts
    if since is None:
        return None
    return max(0.0, now - since)


def routing_breach(state: ConversationState) -> bool:
    """The routing rules send this conversation to a human first, and the AI
    still holds it: it never escalated and no human ever joined."""
    return bool(state.routing_flags) and state.holder == "ai" and not state.escalated and not state.ended


def urgency(state: ConversationState, now: float) -> float:
    """A waiting customer's wait in seconds plus the risk's head start (see
    :data:`URGENCY_RISK_SECONDS`); 0 for everyone else."""
    if state.holder != "waiting":
        return 0.0
    return (waited(state, now) or 0.0) + URGENCY_RISK_SECONDS * state.risk


def floor_key(state: ConversationState, now: float) -> tuple:
    """Sort key of the floor's default order (see the module docstring)."""
    if state.holder == "waiting":
        return (0, -urgency(state, now), -state.risk, state.started_ts, state.conversation_id)
    if routing_breach(state):
        return (1, -state.risk, state.started_ts, state.conversation_id)
    return (2, -state.risk, state.started_ts, state.conversation_id)


def floor_rank(state: ConversationState) -> tuple:
    """The order of :func:`floor_key` without a clock, so a floor can keep it
    up to date one changed conversation at a time.

    Every wait grows at the same pace, so among waiting customers ``-urgency``
    orders as ``since - URGENCY_RISK_SECONDS * risk``, which does not move as
    time passes. A waiting customer whose wait began at an unknown time goes
    after those whose wait is known (``floor_key`` counts it as a wait of 0 s,
    which sinks as the others' waits grow)."""
    if state.holder == "waiting":
        since = state.waiting_since if state.waiting_since is not None else state.escalated_ts
        if since is None:
            return (0, 1, -state.risk, state.started_ts, state.conversation_id)
        return (0, 0, since - URGENCY_RISK_SECONDS * state.risk, -state.risk, state.started_ts, state.conversation_id)
    if routing_breach(state):
        return (1, -state.risk, state.started_ts, state.conversation_id)
    return (2, -state.risk, state.started_ts, state.conversation_id)


def _last_hit(state: ConversationState, kind: str) -> TriggerHit | None:
    for hit in reversed(state.triggers):
        if hit.kind == kind:
            return hit
    return None


def _label(reason: str) -> str:
    """The label a high-stakes reason starts with ("legal threat: “…”" -> "legal threat")."""
    head = reason.split(":", 1)[0].split("\u201c", 1)[0]
    head = _SURE.sub("", head).strip()
    return _SHORT_LABELS.get(head.lower(), head)


def phrase(state: ConversationState, kind: str) -> str:
    """A few words for one reason kind (a trigger kind or ``routing``), from the state."""
    if kind == "high_stakes":
        hit = _last_hit(state, kind)
        label = _label(hit.reason) if hit is not None else ""
        return one_line(label, 28) if label else "high stakes"
    if kind == "human_request":
        return "asked for a person"
    if kind == "ai_request":
        return "AI asked for help"
    if kind == "routing":
        return "human first: " + one_line(", ".join(state.routing_names) or "routing rule", 40)
    if kind == "sentiment":
        return "customer upset"
    if kind == "loop":
        return "going in circles"
    if kind == "low_confidence":
        confidence = state.last_confidence
        return "AI unsure" if confidence is None else f"AI unsure ({number(confidence)})"
    return kind.replace("_", " ")


def _kinds(state: ConversationState) -> list[str]:
    active = state.active
    breach = routing_breach(state)
    return [k for k in STRENGTH if (k == "routing" and breach) or k in active]


def reasons(state: ConversationState) -> tuple[tuple[str, str], ...]:
    """The active reasons as ``(kind, a few words)``, strongest first; empty when none holds."""
    return tuple((kind, phrase(state, kind)) for kind in _kinds(state))


def _evidence(hit: TriggerHit | None, limit: int = 90) -> str:
    if hit is None or not hit.evidence:
        return ""
    return "\u201c" + one_line(hit.evidence, limit) + "\u201d"


def why_lines(state: ConversationState, now: float | None = None) -> list[tuple[str, str]]:
    """Why this conversation needs a person, as ``(kind, sentence)``, strongest
    first, each reason once, in plain words: what the handoff summary says first.

    Includes the wait (kind ``waiting``) when ``now`` is given and a customer waits,
    and the routing rules whenever they were broken (the AI had it first), even
    after the escalation."""
    lines: list[tuple[str, str]] = []
    said: list[str] = []
    for kind in STRENGTH:
        if kind == "routing":
            if state.routing_flags:
                rules = ", ".join(state.routing_names) or "a routing rule"
                still = "; the AI still has it" if routing_breach(state) else ""
                lines.append((kind, f"Routing rules want a human first: {rules}{still}."))
            continue
        if kind not in state.active:
            continue
        hit = _last_hit(state, kind)
        quote = _evidence(hit)
        if kind == "high_stakes":
            label = _label(hit.reason) if hit is not None else "high stakes"
            said.append(label.lower())
            text = f"{label[:1].upper()}{label[1:]}" + (f": {quote}" if quote else ".")
        elif kind == "human_request":
            said += ["asked for a person", "asked for a human", "wants a person", "wants a human"]
            text = "The customer asked for a person" + (f": {quote}" if quote else ".")
        elif kind == "ai_request":
            why = one_line(hit.evidence, 90) if hit is not None and hit.evidence else ""
            if why and not any(words in why.lower() for words in said):  # the AI's reason adds something
                text = f"The AI asked for a human: {why}."
            else:
                text = "The AI asked for a human."
        elif kind == "sentiment":
            value = state.last_sentiment
            mood = f" (sentiment {number(value, '+.2f')})" if value is not None else ""
            text = f"The customer is upset{mood}."  # the need and the transcript quote them
        elif kind == "loop":
            text = "Going in circles: " + one_line(state.loop_warning or "the conversation is not moving on", 120)
        else:  # low_confidence
            confidence = state.last_confidence
            text = "The AI is unsure of its answers" + (f" (confidence {confidence:.2f})." if confidence is not None else ".")
        lines.append((kind, text))
    earlier: list[str] = []
    for kind in STRENGTH:
        if kind != "routing" and kind not in state.active and _last_hit(state, kind) is not None:
            words = "AI unsure" if kind == "low_confidence" else phrase(state, kind)  # not today's confidence
            if words not in earlier:
                earlier.append(words)
    if earlier:
        lines.append(("earlier", f"Earlier, cleared since: {', '.join(earlier)}."))
    wait = waited(state, now) if now is not None else None
    if wait is not None:
        lines.append(("waiting", f"Waiting for a human for {duration(wait)}."))
    return lines


def _same_words(text: str) -> str:
    return " ".join(text.lower().replace("person", "human").split())


def reason_after_name(name: str, reason: str) -> str:
    """A trigger's reason without a lead that repeats the trigger's name, which
    is shown just before it ("AI asked for a human: AI asked for a human: ...";
    "customer asked for a human  customer asked for a person (72% sure): ..."
    becomes "(72% sure) ..."). "person" and "human" count as the same word."""
    lead, sep, rest = reason.partition(": ")
    if not sep:
        return reason
    sure = _SURE.search(lead)
    base = lead[: sure.start()] if sure else lead
    if _same_words(base) != _same_words(name):
        return reason
    return f"({sure.group(1)}) {rest}" if sure else rest



def trigger_words(kind: str, reason: str) -> str:
    """One line for a trigger firing that says its name once: the reason alone
    when its lead already names the trigger ("AI asked for a human: “…”",
    "customer sentiment -0.60 at or below -0.50: “…”"), else name, then reason
    ("high stakes: legal threat: “…”"). The lead restates the name when it
    holds the name's last word ("person" counting as "human")."""
    name = TRIGGER_NAMES.get(kind, kind.replace("_", " "))
    lead = _same_words(reason.partition(": ")[0])
    key = _same_words(name).split()[-1:] or [""]
    if key[0] and key[0] in lead.split():
        return reason
    return f"{name}: {reason}"
