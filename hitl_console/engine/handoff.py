"""The handoff summary: what a person taking over needs to read in ten seconds.

Built from the conversation state alone, deterministically and offline (no
model, no network), so that the same conversation always gives the same
summary and ``analyze`` can put it in its output:

* what the customer wants: their first real statement of the need, the
  intents and topics, and entities (order/ticket/invoice numbers, sums with
  currency, e-mail addresses and phone numbers);
* what the AI tried: its tool actions with status, its last answers
  (shortened);
* why it escalates: the triggers with their evidence, routing flags, the
  escalation moment;
* the sentiment trajectory: start -> lowest -> now, with a trend word;
* the customer profile and pending approvals.

Contact details are **redacted** in the entity list (``j***@example.com``,
``***-***-**89``): the summary is meant to be pasted into tickets and chat,
the agent already sees the real contact on the platform, and a summary that
leaks addresses into a Slack channel is worse than one that makes the agent
click once. Message texts stay raw in ``to_dict()`` (the caller decides how
to render untrusted text); ``to_markdown()`` shortens them to one printable
line and escapes Markdown so that customer text cannot add headings, links
or emphasis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

from hitl_console.durations import duration
from hitl_console.engine import attention
from hitl_console.engine.highstakes import parse_amounts
from hitl_console.engine.state import ConversationState
from hitl_console.text import amount as amount_text, number, one_line

__all__ = ["HandoffSummary", "build_handoff", "extract_entities"]

ANSWER_CHARS = 160
NEED_CHARS = 240
MAX_ANSWERS = 4

_REFERENCE = re.compile(
    r"\b(?P<kind>order|ticket|case|invoice|booking|reservation|reference|ref|tracking|account|acct|claim|refund)"
    r"(?:\s+(?:number|no\.?|num|id))?\s*(?:#|:|is)?\s*(?P<id>[A-Za-z]{0,4}-?\d[\w-]{2,})",
    re.IGNORECASE,
)
_HASH_ID = re.compile(r"(?<![\w#])#(?P<id>[A-Za-z]{0,4}-?\d[\w-]{2,})")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<![\w])\+?\d[\d\s().-]{7,}\d(?![\w])")
_SHORT_TURN_WORDS = 3


@dataclass(slots=True)
class HandoffSummary:
    """Everything the handoff shows; ``to_dict`` is JSON-able, ``to_markdown`` readable."""

    conversation_id: str
    channel: str
    queue: str
    holder: str
    agent: str | None
    headline: str
    need: str | None
    """The customer's first statement of the need (raw text)."""
    why: list[dict[str, str]] = field(default_factory=list)
    """Why it needs a person, strongest first, each reason once, in plain words:
    ``{"kind": ..., "text": ...}`` (``hitl_console.engine.attention.why_lines``)."""
    about: list[str] = field(default_factory=list)
    """The intents and topics in words (``billing dispute``), without those that
    only repeat the why (an intent of asking for a human)."""
    intents: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    entities: dict[str, list[str]] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    triggers: list[dict[str, Any]] = field(default_factory=list)
    routing_flags: list[str] = field(default_factory=list)
    loop_warning: str | None = None
    escalated_at_seq: int | None = None
    escalation_turns: int | None = None
    time_to_escalation_s: float | None = None
    sentiment: dict[str, Any] = field(default_factory=dict)
    customer: dict[str, Any] = field(default_factory=dict)
    pending_approvals: list[dict[str, Any]] = field(default_factory=list)
    risk: float = 0.0
    peak_risk: float = 0.0
    turns: int = 0
    outcome: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (raw texts; callers render them safely).

        Shallow: the lists and dicts are the summary's own, built fresh by
        ``build_handoff`` for this summary alone, so no deep copy is made
        (``dataclasses.asdict`` cost more than building the summary)."""
        return {name: getattr(self, name) for name in _FIELDS}

    def to_markdown(self) -> str:
        """A Markdown brief; untrusted text is one-lined, shortened and escaped."""
        lines = [f"## Handoff: {_md(self.conversation_id, 80)}", "", f"**{_md(self.headline, 200)}**", ""]
        lines.append("### Why it needs a person")
        if not self.why:
            lines.append(f"- {NO_WARNING}")
        for reason in self.why:
            lines.append(f"- {_md(reason['text'], 240)}")
        escalated = escalation_words(self.escalation_turns, self.time_to_escalation_s) if self.escalated_at_seq is not None else ""
        if escalated:
            lines.append(f"- {escalated[:1].upper()}{escalated[1:]}")
        lines += ["", "### What the customer wants"]
        lines.append(f"- Need: {_md(self.need, NEED_CHARS) if self.need else 'not stated yet'}")
        if self.about:
            lines.append(f"- About: {', '.join(_md(a, 40) for a in self.about)}")
        for kind, values in self.entities.items():
            if values:
                lines.append(f"- {kind.capitalize()}: {', '.join(_md(v, 60) for v in values)}")
        lines += ["", "### What the AI tried"]
        if not self.actions and not self.answers:
            lines.append(f"- {NOTHING_TRIED}")
        for a in self.actions:
            amount = f" {_amount(a['amount'], a['currency'])}" if a.get("amount") is not None else ""
            detail = f": {_md(a['detail'], 80)}" if a.get("detail") else ""
            lines.append(f"- Action `{_code(a['name'])}` {a['status']}{amount}{detail}")
        for ans in self.answers:
            conf = f" (confidence {ans['confidence']:.2f})" if ans.get("confidence") is not None else ""
            lines.append(f"- Said{conf}: {_md(ans['text'], ANSWER_CHARS)}")
        s = self.sentiment
        lines += ["", "### Sentiment"]
        if s.get("start") is None:
            lines.append(f"- {NO_MOOD}")
        else:
            est = " (estimated)" if s.get("estimated") else ""
            lines.append(f"- {mood_words(s)}: {s['trend']}{est}")
        c = self.customer
        profile = [f"id {_md(c['id'], 40)}"] if c.get("id") else []
        profile += [_md(p, 60) for p in profile_words(c)]
        if profile:
            lines += ["", "### Customer", "- " + ", ".join(profile)]
        if self.pending_approvals:
            lines += ["", "### Pending approvals"]
            for a in self.pending_approvals:
                amount = f" {_amount(a['amount'], a['currency'])}" if a.get("amount") is not None else ""
                why = f": {_md(a['rationale'], 120)}" if a.get("rationale") else ""
                lines.append(f"- `{_code(a['approval_id'])}` {_md(a['action'], 60)}{amount}{why}")
        peak = f" (peak {self.peak_risk:.2f})" if round(self.peak_risk, 2) > round(self.risk, 2) else ""
        turns = f"{self.turns} turn{'' if self.turns == 1 else 's'}"
        lines += ["", f"Risk {self.risk:.2f}{peak}, {turns}, {_md(holder_words(self.holder, self.agent, self.outcome), 80)}"]
        return "\n".join(lines) + "\n"


NO_WARNING = "No warning has fired"
NOTHING_TRIED = "The AI has not answered or acted yet"
NO_MOOD = "No reading of the customer's mood yet"
"""What the summary says when a section has nothing: a sentence, not a zero."""


def escalation_words(turns: int | None, seconds: float | None) -> str:
    """``escalated after 4 turns, 2m10s in``; ``escalated at the first message``
    rather than "after 0 turns" (empty when nothing is known)."""
    if turns is None and seconds is None:
        return ""
    if not turns:
        return "escalated at the first message"
    when = f", {duration(seconds)} in" if seconds else ""
    return f"escalated after {turns} turn{'' if turns == 1 else 's'}{when}"


def mood_words(sentiment: dict[str, Any]) -> str:
    """``+0.10 → lowest -0.70 → now -0.50``, without the steps that say the
    same number twice (one reading is ``now -0.20``; a low that is the start
    or the end is not repeated)."""
    start, lowest, now = sentiment["start"], sentiment["lowest"], sentiment["now"]
    if sentiment.get("points", 2) <= 1 or (start == lowest == now):
        return f"now {number(now, '+.2f')}"
    steps = [f"{number(start, '+.2f')}"]
    if lowest not in (start, now):
        steps.append(f"lowest {number(lowest, '+.2f')}")
    steps.append(f"now {number(now, '+.2f')}")
    return " \u2192 ".join(steps)


def profile_words(customer: dict[str, Any]) -> list[str]:
    """The customer's profile as a supervisor says it, leaving out what is
    unknown and the zeros that say nothing ("0 open complaints", "lifetime
    value 0"): ``gold tier``, ``lifetime value 4,200.00``, ``1 open complaint``, ``en-GB``."""
    words: list[str] = []
    if customer.get("tier"):
        words.append(f"{one_line(customer['tier'], 20)} tier")
    value = customer.get("lifetime_value")
    if value:
        words.append(f"lifetime value {amount_text(value)}")  # as formatting.money shows money: bounded, never -0.00
    complaints = customer.get("open_complaints")
    if complaints:
        words.append(f"{complaints} open complaint{'' if complaints == 1 else 's'}")
    if customer.get("locale"):
        words.append(one_line(customer["locale"], 12))
    return words


def holder_words(holder: str, agent: str | None, outcome: str | None = None) -> str:
    """Who has the conversation, in words (not the state's ``waiting`` / ``ai``)."""
    if holder == "human":
        return f"held by {one_line(agent or 'a person', 40)}"
    if holder == "waiting":
        return "waiting for a human"
    if holder == "ended":
        return f"ended ({one_line(outcome, 40)})" if outcome else "ended"
    return "the AI has it"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


_FIELDS = tuple(f.name for f in fields(HandoffSummary))


def _md(text: str | None, limit: int) -> str:
    """Untrusted text as one escaped Markdown line."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(text or "", limit))


def _code(text: str) -> str:
    return one_line(text, 60).replace("`", "'")


def _amount(value: float, currency: str | None) -> str:
    return amount_text(value, currency)


def _redact_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _redact_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return "***" + digits[-2:]


def extract_entities(texts: list[str]) -> dict[str, list[str]]:
    """References, sums, e-mails and phone numbers mentioned, in order, without repeats.

    E-mails and phone numbers are redacted (see the module docstring).
    """
    refs: list[str] = []
    amounts: list[str] = []
    emails: list[str] = []
    phones: list[str] = []
    for text in texts:
        for m in _REFERENCE.finditer(text):
            _add(refs, f"{m.group('kind').lower()} {m.group('id')}")
        for m in _HASH_ID.finditer(text):
            _add(refs, f"#{m.group('id')}")
        for value, currency, _said in parse_amounts(text):
            _add(amounts, _amount(value, currency))
        for m in _EMAIL.finditer(text):
            _add(emails, _redact_email(m.group(0)))
        scrubbed = _EMAIL.sub(" ", text)
        for m in _PHONE.finditer(scrubbed):
            digits = re.sub(r"\D", "", m.group(0))
            if 8 <= len(digits) <= 15 and not any(digits in r for r in refs):
                _add(phones, _redact_phone(m.group(0)))
    return {"references": refs, "amounts": amounts, "emails": emails, "phones": phones}


def _add(items: list[str], value: str) -> None:
    if value not in items:
        items.append(value)


def _trend(start: float, lowest: float, now: float) -> str:
    if now - start >= 0.2:
        return "improving"
    if start - now >= 0.2:
        return "worsening"
    if now - lowest >= 0.3:
        return "recovering"
    return "steady"


_REPEATS_THE_WHY = re.compile(r"human|agent|person|operator|representative|escalat", re.IGNORECASE)


def _about(state: ConversationState) -> list[str]:
    """Topics and intents as words, each once; intents that only say the
    customer wants a person are left out (the why says so)."""
    words: list[str] = []
    for raw in (*state.topics, *state.intents):
        if raw in state.intents and raw not in state.topics and _REPEATS_THE_WHY.search(raw):
            continue
        word = " ".join(one_line(raw, 60).replace("_", " ").replace("-", " ").split())
        if word and word.lower() not in (w.lower() for w in words):
            words.append(word)
    return words


def build_handoff(state: ConversationState, now: float | None = None) -> HandoffSummary:
    """The summary of one conversation as it stands now (``now`` adds how long
    a waiting customer has waited to the why)."""
    customer_turns = [t for t in state.turns if t.role == "customer"]
    need = None
    for t in customer_turns:
        if len(t.text.split()) >= _SHORT_TURN_WORDS:
            need = t.text
            break
    if need is None and customer_turns:
        need = customer_turns[0].text

    actions = [
        {"seq": a.seq, "name": a.name, "status": a.status, "detail": a.detail, "amount": a.amount, "currency": a.currency}
        for a in state.actions
    ]
    ai_turns = [t for t in state.turns if t.role == "ai"]
    answers = [
        {"seq": t.seq, "text": t.text, "short": one_line(t.text, ANSWER_CHARS), "confidence": t.confidence}
        for t in ai_turns[-MAX_ANSWERS:]
    ]
    triggers = [
        {"kind": h.kind, "seq": h.seq, "ts": h.ts, "reason": h.reason, "evidence": h.evidence, "active": h.kind in state.active}
        for h in state.triggers
    ]
    # a kind listed twice is "active" only on its last listing
    last_of: dict[str, int] = {}
    for i, listed in enumerate(triggers):
        last_of[str(listed["kind"])] = i
    for i, listed in enumerate(triggers):
        if last_of[str(listed["kind"])] != i:
            listed["active"] = False

    sentiments = [(t.sentiment, t.sentiment_estimated) for t in customer_turns if t.sentiment is not None]
    if sentiments:
        values = [s for s, _ in sentiments]
        start, lowest, latest = values[0], min(values), values[-1]  # not "now": that is the clock's
        sentiment = {
            "start": round(start, 3),
            "lowest": round(lowest, 3),
            "now": round(latest, 3),
            "trend": _trend(start, lowest, latest),
            "estimated": any(e for _, e in sentiments),
            "points": len(values),
        }
    else:
        sentiment = {"start": None, "lowest": None, "now": None, "trend": "unknown", "estimated": False, "points": 0}

    c = state.customer
    customer = {
        "id": c.id,
        "name": c.name,
        "tier": c.tier,
        "lifetime_value": c.lifetime_value,
        "open_complaints": c.open_complaints,
        "locale": c.locale,
    }
    pending = [
        {
            "approval_id": a.approval_id,
            "action": a.action,
            "amount": a.amount,
            "currency": a.currency,
            "rationale": a.rationale,
            "expires_ts": a.expires_ts,
        }
        for a in state.approvals.values()
        if a.status == "pending"
    ]
    entities = extract_entities([t.text for t in customer_turns])

    return HandoffSummary(
        conversation_id=state.conversation_id,
        channel=state.channel,
        queue=state.queue,
        holder=state.holder,
        agent=state.agent,
        headline=_headline(state, need, triggers, sentiment, pending),
        need=need,
        why=[{"kind": kind, "text": text} for kind, text in attention.why_lines(state, now)],
        about=_about(state),
        intents=list(state.intents),
        topics=list(state.topics),
        entities=entities,
        actions=actions,
        answers=answers,
        triggers=triggers,
        routing_flags=list(state.routing_flags),
        loop_warning=state.loop_warning,
        escalated_at_seq=state.escalated_at_seq,
        escalation_turns=state.escalation_turns,
        time_to_escalation_s=round(state.time_to_escalation, 3) if state.time_to_escalation is not None else None,
        sentiment=sentiment,
        customer=customer,
        pending_approvals=pending,
        risk=state.risk,
        peak_risk=state.peak_risk,
        turns=len(state.turns),
        outcome=state.outcome,
    )


def _headline(
    state: ConversationState,
    need: str | None,
    triggers: list[dict[str, Any]],
    sentiment: dict[str, Any],
    pending: list[dict[str, Any]],
) -> str:
    """One line: who, what, why now."""
    who = f"{state.customer.tier} customer" if state.customer.tier else "Customer"
    what = one_line(need, 80) if need else "no request yet"
    kinds: list[str] = []
    for t in triggers:
        word = attention.phrase(state, str(t["kind"]))
        if word not in kinds:
            kinds.append(word)
    if pending:
        kinds.append(f"{len(pending)} approval{'' if len(pending) == 1 else 's'} waiting")
    why = f" \u2014 {'; '.join(kinds)}" if kinds else ""
    return f"{who}: {what}{why}"
