"""What the review screens show of an item, as plain text: verdict keys, columns, scores, claims, the timeline.

Everything from the feed passes through :func:`~hitl_console.text.one_line`
or :func:`~hitl_console.text.printable`; nothing here is markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from textual.content import Content
from textual.widgets.option_list import Option

from hitl_console.engine.attention import reason_after_name
from hitl_console.engine.state import TRIGGER_NAMES
from hitl_console.store.reviews import ReviewItem, Verdict
from hitl_console.text import number, one_line, printable
from hitl_console.tui import formatting




VERDICTS: dict[str, tuple[Verdict, str, str]] = {
    "1": (Verdict.ESCALATION_NEEDED, "Needed", "a human was needed"),
    "2": (Verdict.ESCALATION_NOT_NEEDED, "Not needed", "no human was needed"),
    "3": (Verdict.AI_RIGHT, "AI right", "the AI handled it right"),
    "4": (Verdict.AI_WRONG, "AI wrong", "the AI got it wrong"),
}
"""Verdict keys: the first two answer "was a human needed?" (escalation
accuracy), the last two "was the AI right?" (training examples)."""

COLUMNS = (
    ("score", "Score", 5),
    ("conversation", "Conversation", 14),
    ("queue", "Queue", 11),
    ("reason", "Reason", 14),
    ("claim", "Claim", 12),
    ("why", "Why", 60),
    ("triggers", "Triggers", 22),
    ("role", "Role", 10),
)
"""Most useful first: at 80 columns score, conversation, queue, reason, claim
and the start of "why" are in view; the rest scrolls."""
CLAIM_COLUMN = 4

ROLE_LABEL = {"customer": "Customer", "ai": "AI", "human": "Agent", "system": "System"}




def score_why(snap: Mapping[str, Any] | None, limit: int = 3) -> str:
    """What made the score low, from a snapshot's score: its notes, else the weakest criteria
    (the same rule as :meth:`~hitl_console.analysis.scorecard.Score.why`)."""
    score = (snap or {}).get("score") or {}
    notes = [one_line(str(n), 80) for n in score.get("notes") or []]
    if notes:
        return "; ".join(notes[:limit])
    criteria = score.get("criteria") or {}
    weakest = sorted(((str(k), float(v)) for k, v in criteria.items()), key=lambda kv: kv[1])[:limit]
    return ", ".join(f"{one_line(k, 30)} {v:.2f}" for k, v in weakest)


def trigger_kinds(snap: Mapping[str, Any] | None) -> str:
    """The triggers that fired, by the names every screen uses (``TRIGGER_NAMES``)."""
    kinds = sorted({str(h.get("kind", "?")) for h in (snap or {}).get("triggers") or []})
    return ", ".join(one_line(TRIGGER_NAMES.get(k, k.replace("_", " ")), 30) for k in kinds) or formatting.DASH


def turn_number(snap: Mapping[str, Any], seq: int) -> int | None:
    """Which turn of the transcript (counted from 1) has the feed's ``seq``: what a
    correction names, since a seq number means nothing to a reviewer."""
    for n, turn in enumerate(snap.get("turns") or [], start=1):
        if int(turn.get("seq", -1)) == seq:
            return n
    return None


def claim_label(item: ReviewItem, me: str, now: float) -> str:
    """``you``, ``rita 25m`` (another reviewer, time left on the claim) or empty."""
    if not item.claimed(now):
        return ""
    if item.claimed_by == me:
        return "you"
    left = formatting.duration((item.claim_expires or now) - now)
    return f"{one_line(item.claimed_by or '?', 16)} {left}"


def refusal(item: ReviewItem | None, now: float) -> str:
    """Why a claim was refused, in words a reviewer can act on."""
    if item is None:
        return "That item is no longer in the review queue."
    if item.status == "done":
        return f"{one_line(item.conversation_id, 40)} has already been reviewed."
    if item.claimed(now):
        until = formatting.clock_time(item.claim_expires)
        return f"{one_line(item.claimed_by or '?', 32)} is reviewing {one_line(item.conversation_id, 40)} (claimed until {until})."
    return f"Could not claim {one_line(item.conversation_id, 40)}; try again."


def timeline_options(
    snap: Mapping[str, Any],
    *,
    low_confidence: float,
    corrections: Mapping[int, Sequence[tuple[str, str]]] | None = None,
) -> list[Option]:
    """The transcript as options: one per turn (id ``turn:SEQ``), with each
    trigger (a disabled option) where it fired, and the corrections made to
    a turn under it. Text is feed text: plain strings into ``Content`` only."""
    corrections = corrections or {}
    triggers = sorted(snap.get("triggers") or [], key=lambda h: h.get("seq", 0))
    out: list[Option] = []
    ti = 0

    def trigger_option(hit: Mapping[str, Any], n: int) -> Option:
        kind = one_line(str(hit.get("kind", "?")), 30)
        name = TRIGGER_NAMES.get(kind, kind.replace("_", " "))
        return Option(
            Content.assemble(
                ("⚑ ", "$text-warning bold"),
                (name.upper(), "$text-warning bold"),
                "  ",
                one_line(reason_after_name(name, str(hit.get("reason", ""))), 300),
            ),
            id=f"trigger:{n}",
            disabled=True,
        )

    for turn in snap.get("turns") or []:
        seq = int(turn.get("seq", 0))
        while ti < len(triggers) and triggers[ti].get("seq", 0) < seq:
            out.append(trigger_option(triggers[ti], ti))
            ti += 1
        role = str(turn.get("role", "system"))
        head: list[str | tuple[str, str]] = [(ROLE_LABEL.get(role, "System"), "bold")]
        if turn.get("author"):
            head += [" ", (one_line(str(turn["author"]), 32), "bold")]
        head += [("  " + formatting.clock_time(turn.get("ts")), "dim")]  # the time, not the feed's seq
        confidence = turn.get("confidence")
        if role == "ai" and confidence is not None:
            style = "$text-error bold" if float(confidence) < low_confidence else "dim"
            head += [("  confidence ", "dim"), (number(float(confidence)), style)]
        sentiment = turn.get("sentiment")
        if role == "customer" and sentiment is not None:
            value = float(sentiment)
            style = "$text-error" if value <= -0.5 else "$text-warning" if value < -0.1 else "dim"
            head += [("  sentiment ", "dim"), (f"{number(value, '+.2f')}", style)]
        body = printable(str(turn.get("text", ""))).rstrip("\n") or " "
        parts: list[str | tuple[str, str]] = [*head, "\n", body]
        for reviewer, text in corrections.get(seq, ()):
            parts += ["\n", (f"✎ corrected by {one_line(reviewer, 32)}: ", "$text-success bold"), printable(text).rstrip("\n")]
        out.append(Option(Content.assemble(*parts), id=f"turn:{seq}"))
    for n, hit in enumerate(triggers[ti:], start=ti):
        out.append(trigger_option(hit, n))
    return out


VERDICT_HINT = " · ".join(f"{key} {label.lower()}" for key, (_, label, _) in VERDICTS.items())
