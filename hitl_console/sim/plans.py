"""Conversation plans of the simulated AI-agent platform.

:func:`build_plan` turns a seeded ``random.Random`` into a
:class:`ConversationPlan`: the ``conversation.started`` fields, the scripted
steps, what the customer says back to a human, and how the AI wraps up after
a hand-back, from the data in :mod:`hitl_console.sim.scenarios`. Two
consumers decide *when* a plan plays: :mod:`hitl_console.sim.timeline`
(offline, many conversations on one timeline) and
:mod:`hitl_console.sim.platform` (live, turn by turn, with a supervisor).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hitl_console.sim.scenarios import (
    AI_CLOSINGS,
    CARRIERS,
    DAYS,
    DEFAULT_MIX,
    FIRST_NAMES,
    GOODBYES,
    HOSTILE_TEXTS,
    INTENTS,
    LAST_NAMES,
    LOCALES,
    MONTHS,
    OPENERS,
    PATTERNS,
    PRODUCTS,
    SCENARIOS,
    THANKS,
    Intent,
)

# ----------------------------------------------------------------- steps


@dataclass(slots=True)
class Step:
    """One scripted thing that happens ``delay`` seconds after the previous one.

    ``type`` is a protocol event type, or one of two pauses that only make
    sense to a player: ``"wait_human"`` (the AI has asked for a person and
    waits up to ``timeout`` seconds; ``branches["timeout"]`` runs if nobody
    comes) and ``approval.requested``, whose ``branches`` hold what happens
    after ``approved``, ``denied`` and ``expired``.
    """

    delay: float
    type: str
    fields: dict[str, Any] = field(default_factory=dict)
    branches: dict[str, list[Step]] | None = None
    timeout: float = 0.0


@dataclass(slots=True)
class ConversationPlan:
    """Everything one simulated conversation will say and do, decided up front."""

    conversation_id: str
    scenario: str
    started: dict[str, Any]
    steps: list[Step]
    slots: dict[str, str]
    customer_replies: tuple[str, ...]
    """What the customer says to a human, in order (then ``GENERIC_REPLIES``)."""
    human_lines: tuple[str, ...]
    """What a competent human would say here (offline supervisors use them)."""
    wrap_up: list[Step]
    """The AI's closing turns after a human hands the conversation back."""
    needs_human: bool = False


# ----------------------------------------------------------------- building a plan


def _money(value: float) -> str:
    return f"{value:,.2f}"


def _customer(rng: random.Random, *, misfit: bool = False) -> dict[str, Any]:
    roll = rng.random()
    tier = "platinum" if misfit and roll < 0.6 else ("standard" if roll < 0.8 else "gold" if roll < 0.95 else "platinum")
    ltv = {"standard": (40, 1500), "gold": (1500, 8000), "platinum": (8000, 60000)}[tier]
    complaints = rng.choice((0, 0, 0, 0, 0, 0, 1, 1, 2))
    if misfit and (tier != "platinum" or rng.random() < 0.4):
        complaints = rng.randint(3, 6)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return {
        "id": f"u-{rng.randint(10000, 99999)}",
        "name": f"{first} {last}",
        "tier": tier,
        "lifetime_value": round(rng.uniform(*ltv), 2),
        "open_complaints": complaints,
        "locale": rng.choice(LOCALES),
    }


def _channel(rng: random.Random) -> str:
    roll = rng.random()
    return "chat" if roll < 0.62 else "voice" if roll < 0.9 else "email" if roll < 0.95 else "sms"


class _Builder:
    """Accumulates steps with channel-appropriate delays and message fields."""

    def __init__(self, rng: random.Random, channel: str, slots: dict[str, str]) -> None:
        self.rng = rng
        self.channel = channel
        self.slots = slots
        self.steps: list[Step] = []

    def fill(self, template: str) -> str:
        # str.format would choke on customer-style braces; replace known slots only.
        text = template
        if "{" in text:
            for key, value in self.slots.items():
                text = text.replace("{" + key + "}", value)
        return text

    def customer_gap(self) -> float:
        r = self.rng
        if self.channel == "voice":
            return r.uniform(2.0, 8.0)
        if self.channel == "email":
            return r.uniform(600.0, 2400.0)
        if self.channel == "sms":
            return r.uniform(20.0, 120.0)
        return r.uniform(6.0, 40.0)

    def ai_gap(self) -> float:
        return self.rng.uniform(1.5, 3.5) if self.channel == "voice" else self.rng.uniform(2.0, 7.0)

    def customer(self, template: str, sentiment: float, *, first: bool = False, topics: tuple[str, ...] = (), intent: str | None = None) -> Step:
        delay = self.rng.uniform(1.0, 4.0) if first else self.customer_gap()
        fields: dict[str, Any] = {"role": "customer", "text": self.fill(template), "sentiment": round(max(-1.0, min(1.0, sentiment)), 2)}
        if self.channel == "voice":
            tone = max(-1.0, min(1.0, sentiment + self.rng.uniform(-0.15, 0.15)))
            interruptions = 0 if sentiment > -0.3 else self.rng.randint(0, 2) + (2 if sentiment < -0.6 else 0)
            fields["voice"] = {"tone": round(tone, 2), "interruptions": interruptions}
        if intent:
            fields["intent"] = intent
        if topics:
            fields["topics"] = list(topics)
        step = Step(delay, "message", fields)
        self.steps.append(step)
        return step

    def ai(self, template: str, confidence: float, *, delay: float | None = None) -> Step:
        fields = {"role": "ai", "text": self.fill(template), "confidence": round(max(0.0, min(1.0, confidence)), 2)}
        step = Step(self.ai_gap() if delay is None else delay, "message", fields)
        self.steps.append(step)
        return step

    def event(self, type_: str, delay: float | None = None, **fields: Any) -> Step:
        step = Step(self.rng.uniform(0.5, 2.0) if delay is None else delay, type_, fields)
        self.steps.append(step)
        return step

    def ended(self, outcome: str, resolved_by: str | None = None, csat: int | None = None, delay: float | None = None) -> None:
        fields: dict[str, Any] = {"outcome": outcome}
        if resolved_by:
            fields["resolved_by"] = resolved_by
        if csat is not None:
            fields["csat"] = csat
        self.event("conversation.ended", delay if delay is not None else self.rng.uniform(3.0, 15.0), **fields)

    def scorecard(self, good: bool, notes: str | None = None) -> None:
        r = self.rng
        lo, hi = (0.78, 0.99) if good else (0.25, 0.65)
        criteria = {
            "accuracy": round(r.uniform(lo, hi), 2),
            "empathy": round(r.uniform(lo, hi), 2),
            "policy_compliance": round(r.uniform(max(lo, 0.6), 1.0), 2),
            "resolution": round(r.uniform(lo, hi), 2),
        }
        fields: dict[str, Any] = {"overall": round(sum(criteria.values()) / len(criteria), 2), "criteria": criteria}
        if notes:
            fields["notes"] = notes
        self.event("scorecard", r.uniform(30.0, 120.0), **fields)


def _slots(rng: random.Random, customer: dict[str, Any]) -> dict[str, str]:
    first = customer["name"].split()[0]
    return {
        "first": first,
        "order": f"{rng.randint(1000, 9999)}-{rng.randint(100, 999)}",
        "amount": _money(round(rng.uniform(9.0, 240.0), 2)),
        "big": _money(round(rng.uniform(1050.0, 2600.0), 2)),
        "product": rng.choice(PRODUCTS),
        "carrier": rng.choice(CARRIERS),
        "month": rng.choice(MONTHS),
        "day": rng.choice(DAYS),
        "date": f"Nov {rng.randint(1, 22)}",
        "last4": f"{rng.randint(0, 9999):04d}",
    }


def _ai_closing(b: _Builder) -> list[Step]:
    """Wrap-up after a hand-back, shared by every scenario."""
    r = b.rng
    sub = _Builder(r, b.channel, b.slots)
    sub.ai("Thanks for your patience, {first}. My colleague has taken care of this. Is there anything else I can help with?", r.uniform(0.85, 0.96), delay=r.uniform(2.0, 5.0))
    sub.customer(r.choice(GOODBYES), 0.3)
    sub.ended("resolved", "human", r.choice((3, 4, 4, 5, 5)))
    return sub.steps


def _routine(b: _Builder, intent: Intent, *, sentiment: float = 0.1) -> None:
    """A routine exchange resolved by the AI; the bulk of any floor."""
    r = b.rng
    opening = r.choice(OPENERS) + r.choice(intent.opening) if r.random() < 0.5 else r.choice(intent.opening)
    b.customer(opening, sentiment + r.uniform(-0.2, 0.1), first=True, topics=intent.topics, intent=intent.key)
    if intent.action and r.random() < 0.9:
        name, detail = intent.action
        fields: dict[str, Any] = {"name": name, "status": "ok", "detail": b.fill(detail)}
        if intent.refund:
            fields["amount"] = float(b.slots["amount"].replace(",", ""))
            fields["currency"] = "USD"
        b.event("ai.action", r.uniform(1.0, 3.0), **fields)
    b.ai(r.choice(intent.answer), r.uniform(0.78, 0.97))
    if intent.followups and r.random() < 0.6:
        question, answer = r.choice(intent.followups)
        b.customer(question, sentiment + r.uniform(-0.1, 0.2))
        b.ai(answer, r.uniform(0.74, 0.96))


def _happy(b: _Builder, intent: Intent, *, misfit: bool = False) -> None:
    r = b.rng
    _routine(b, intent)
    roll = r.random()
    if roll < 0.04 and not misfit:  # the customer simply leaves once answered
        b.ended("abandoned", delay=r.uniform(60.0, 240.0))
        return
    if roll < 0.06 and not misfit:  # routed elsewhere by the platform
        b.ai("That needs our specialist team, so I'm transferring you now; they'll have this whole conversation.", r.uniform(0.7, 0.9))
        b.ended("transferred", delay=r.uniform(2.0, 6.0))
        return
    b.customer(r.choice(THANKS), r.uniform(0.4, 0.8))
    b.ai(r.choice(AI_CLOSINGS), r.uniform(0.9, 0.99))
    if r.random() < 0.6:
        b.customer(r.choice(GOODBYES), r.uniform(0.2, 0.6))
    csat = r.choice((4, 5, 5, 5, 4, 3)) if not misfit else r.choice((3, 4, 4, 5))
    b.ended("resolved", "ai", csat)
    if r.random() < 0.5:
        b.scorecard(True, "routine request handled end to end by the AI" if not misfit else "routed to the AI despite the customer profile")


def _escalation_tail(b: _Builder, pattern: dict[str, Any], reason: str, *, ai_requests: bool = True) -> None:
    """The AI asks for a person (or not) and waits; if nobody comes the customer goes."""
    r = b.rng
    if ai_requests:
        b.event("ai.escalation_requested", r.uniform(0.3, 1.5), reason=reason)
    timeout = _wait_timeout(r)
    tail = _Builder(r, b.channel, b.slots)
    tail.customer(r.choice(("Hello? Is anyone coming?", "Still waiting...", "I've been waiting ages. Forget it.")), pattern["sentiment"][1] - 0.1)
    if r.random() < 0.65:
        tail.ended("abandoned", delay=r.uniform(30.0, 120.0))
    else:
        tail.ai("I'm transferring you to the phone team, who can call you back within the hour.", r.uniform(0.6, 0.85))
        tail.ended("transferred", delay=r.uniform(2.0, 6.0))
    if r.random() < 0.5:
        tail.scorecard(False, f"needed a human: {reason}")
    b.steps.append(Step(r.uniform(0.5, 2.0), "wait_human", {"reason": reason}, {"timeout": tail.steps}, timeout))


def _wait_timeout(r: random.Random) -> float:
    """How long a conversation waits for a person before the customer gives up."""
    return r.uniform(90.0, 300.0)


def _pattern(b: _Builder, name: str, variant: tuple[Any, ...]) -> None:
    r = b.rng
    p = PATTERNS[name]
    s0, s1 = p["sentiment"]
    if name == "low_confidence":
        k = p["variants"].index(variant)
        b.customer(variant[2], s0, first=True, intent="policy_question")
        b.ai(p["ai"][k], r.uniform(0.22, 0.48))
        b.customer(r.choice(p["customer_more"]), (s0 + s1) / 2)
        b.ai(r.choice(p["ai_more"]), r.uniform(0.2, 0.45))
        if r.random() < 0.35:  # sometimes the customer settles for it
            b.customer("ok I guess I'll check the website", s1)
            b.ended("unresolved", "ai", r.choice((2, 3)))
            b.scorecard(False, "answered with low confidence")
            return
        _escalation_tail(b, p, p["escalate_reason"], ai_requests=r.random() < 0.5)
    elif name in ("fraud", "legal", "safety", "hacked", "ai_escalates"):
        b.customer(variant[2], s0, first=True, topics=(variant[1],))
        if name == "hacked":
            b.event("ai.action", r.uniform(1.0, 2.0), name="revoke_sessions", status="ok", detail="all sessions signed out")
        b.ai(r.choice(p["ai"]), r.uniform(0.6, 0.85))
        if name != "ai_escalates" and r.random() < 0.6:
            b.customer(r.choice(("Please hurry.", "How long will this take?", "I need this sorted NOW.")), s1)
        _escalation_tail(b, p, p["escalate_reason"], ai_requests=name != "legal" or r.random() < 0.5)
    elif name == "angry":
        lines, answers = variant[2], variant[3]
        for i, (line, answer) in enumerate(zip(lines, answers)):
            if i == len(lines) - 1 and r.random() < p["hostile"]:
                line = r.choice(HOSTILE_TEXTS)
            b.customer(line, s0 + (s1 - s0) * i / (len(lines) - 1), first=i == 0)
            b.ai(answer, r.uniform(0.55, 0.8))
        _escalation_tail(b, p, p["escalate_reason"], ai_requests=r.random() < 0.4)
    elif name == "loop":
        question, answer = variant[2], variant[3]
        b.customer(question, s0, first=True)
        b.ai(answer, r.uniform(0.55, 0.72))
        rounds = r.randint(2, 3)
        for i in range(rounds):
            b.customer(r.choice(p["repeat"]).replace("{q}", b.fill(question)), s0 + (s1 - s0) * (i + 1) / rounds)
            b.ai(answer, r.uniform(0.55, 0.72))
        b.customer("You keep saying the same thing.", s1)
        _escalation_tail(b, p, p["escalate_reason"], ai_requests=r.random() < 0.5)
    elif name == "ask_human":
        b.customer(variant[2], s0, first=True)
        b.ai(r.choice(p["ai"]), r.uniform(0.8, 0.95))
        b.customer(r.choice(p["ask"]), s1, intent="request_human")
        b.ai(p["ai_hand"], r.uniform(0.85, 0.97))
        _escalation_tail(b, p, p["escalate_reason"], ai_requests=r.random() < 0.5)
    else:  # pragma: no cover - build_plan only passes PATTERNS keys
        raise ValueError(name)


def _approval(b: _Builder, *, big: bool) -> None:
    """The AI wants to refund; a human must approve first (strict HITL)."""
    r = b.rng
    amount = b.slots["big"] if big else b.slots["amount"]
    value = float(amount.replace(",", ""))
    openings = (
        "My {product} arrived broken, I want a full refund of $" + amount,
        "I returned the {product} 3 weeks ago and still no refund ($" + amount + ")",
        "Please refund order {order}, it never arrived. That's $" + amount,
    )
    b.customer(r.choice(openings), -0.3, first=True, topics=("refund",))
    b.event("ai.action", r.uniform(1.0, 2.5), name="lookup_order", status="ok", detail=b.fill("order {order} found, delivered {date}"))
    b.ai(f"I'm sorry about that, {{first}}. I've prepared a refund of ${amount}; a colleague needs to approve it, which usually takes a minute or two.", r.uniform(0.75, 0.92))
    action = "refund" if r.random() < 0.85 else "account_credit"
    rationale = r.choice((
        "item damaged on arrival; photos provided",
        "carrier confirmed lost in transit",
        "return received at warehouse, refund not triggered",
        "customer reports product defect within warranty",
    ))
    approved = _Builder(r, b.channel, b.slots)
    approved.event("ai.action", r.uniform(1.0, 3.0), name=action, status="ok", detail=f"{action} issued", amount=value, currency="USD")
    approved.ai(f"Good news: your refund of ${amount} has been approved and issued. It will show on your card within 3-5 business days.", r.uniform(0.88, 0.97))
    approved.customer(r.choice(THANKS), 0.5)
    approved.ended("resolved", "ai", r.choice((4, 5, 5)))
    approved.scorecard(True, "refund approved by a supervisor")
    denied = _Builder(r, b.channel, b.slots)
    denied.ai("I'm sorry, I can't issue that refund right now. I've opened a case so a specialist can review the order and email you within 24 hours.", r.uniform(0.7, 0.9))
    denied.customer(r.choice(("That's disappointing.", "Seriously? Fine.", "ok, I'll wait for the email")), -0.5)
    denied.ended("unresolved", "ai", r.choice((1, 2, 3)))
    expired = _Builder(r, b.channel, b.slots)
    expired.ai("I'm sorry this is taking longer than expected. I've escalated the refund so it isn't lost; you'll get an email once it's processed.", r.uniform(0.6, 0.8))
    expired.customer(r.choice(("So I still don't have my money.", "This is taking forever", "ok")), -0.6)
    expired.ended("unresolved", "ai", r.choice((1, 2, 2, 3)))
    expired.scorecard(False, "approval expired unanswered")
    b.steps.append(
        Step(
            r.uniform(1.0, 3.0),
            "approval.requested",
            {"action": action, "amount": value, "currency": "USD", "rationale": rationale, "expires_in": r.uniform(120.0, 300.0)},
            {"approved": approved.steps, "denied": denied.steps, "expired": expired.steps},
        )
    )


def _odd_text(b: _Builder) -> None:
    """Hostile or odd text from a customer; the console must show it literally."""
    r = b.rng
    b.customer(r.choice(HOSTILE_TEXTS), -0.4, first=True)
    b.ai("I'm sorry for the trouble. Could you share your order number so I can look into it?", r.uniform(0.6, 0.8))
    b.customer(r.choice(("{order} [/] [b]hurry", "it's {order}. [red]now[/red]", "{order}\x1b[2J")), -0.5)
    b.event("ai.action", r.uniform(1.0, 2.0), name="lookup_order", status="ok", detail=b.fill("order {order} found"))
    b.ai("Thanks. I can see order {order}; the refund was issued this morning and should reach your card within 3-5 business days.", r.uniform(0.75, 0.9))
    b.customer(r.choice(THANKS), 0.2)
    b.ended("resolved", "ai", r.choice((3, 4)))


def pick_scenario(rng: random.Random, mix: Mapping[str, float] | None = None) -> str:
    """One scenario name drawn from ``mix`` (default :data:`DEFAULT_MIX`)."""
    weights = mix or DEFAULT_MIX
    names = [n for n, w in weights.items() if w > 0]
    if not names:
        raise ValueError("mix has no scenario with a positive weight")
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        raise ValueError(f"unknown scenarios in mix: {sorted(unknown)}")
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def build_plan(rng: random.Random, conversation_id: str, scenario: str | None = None, *, mix: Mapping[str, float] | None = None) -> ConversationPlan:
    """Decide one conversation: who, where, why, and every scripted turn.

    Deterministic for the state of ``rng``. ``scenario`` forces one (tests and
    sample recordings); otherwise it is drawn from ``mix``.
    """
    name = scenario or pick_scenario(rng, mix)
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}")
    misfit = name == "misfit"
    customer = _customer(rng, misfit=misfit)
    channel = _channel(rng)
    slots = _slots(rng, customer)
    b = _Builder(rng, channel, slots)
    pattern = PATTERNS.get(name)
    needs_human = name not in ("happy", "misfit", "odd_text")
    if name in ("happy", "misfit"):
        intent = rng.choice(INTENTS)
        queue, reason = intent.queue, intent.contact_reason
        _happy(b, intent, misfit=misfit)
        replies: tuple[str, ...] = ("Thanks!", "Ok, and how long will that take?", "Great, that's all I needed.")
        human = ("Hi {first}, I'm reviewing this with the assistant. Everything looks in order.",)
    elif name in ("big_refund", "approval"):
        queue, reason = rng.choice(("billing", "orders")), "refund request"
        _approval(b, big=name == "big_refund")
        replies = ("Thank you. When will I see the money?", "Ok great.", "Can you confirm by email?")
        human = ("Hi {first}, I've reviewed the refund and approved it; you'll see it in 3-5 business days.",)
    elif name == "odd_text":
        queue, reason = "orders", "refund status"
        _odd_text(b)
        replies = ("[/] ok whatever", "fine. thanks", "\x1b[1mthanks\x1b[0m")
        human = ("Hi {first}, I've checked order {order}: the refund has been issued.",)
    else:
        assert pattern is not None
        variant = rng.choice(pattern["variants"])
        queue, reason = variant[0], variant[1]
        _pattern(b, name, variant)
        replies, human = pattern["replies"], pattern["human"]
    started = {
        "channel": channel,
        "queue": queue,
        "customer": customer,
        "contact_reason": reason,
        "handled_by": "ai",
    }
    return ConversationPlan(
        conversation_id=conversation_id,
        scenario=name,
        started=started,
        steps=b.steps,
        slots=slots,
        customer_replies=tuple(b.fill(t) for t in replies),
        human_lines=tuple(b.fill(t) for t in human),
        wrap_up=_ai_closing(b),
        needs_human=needs_human,
    )


def customer_message_fields(plan: ConversationPlan, text: str, sentiment: float, rng: random.Random) -> dict[str, Any]:
    """Fields of a customer turn outside the script (a reply to a human)."""
    fields: dict[str, Any] = {"role": "customer", "text": text, "sentiment": round(max(-1.0, min(1.0, sentiment)), 2)}
    if plan.started["channel"] == "voice":
        fields["voice"] = {"tone": round(max(-1.0, min(1.0, sentiment + rng.uniform(-0.1, 0.1))), 2), "interruptions": 0}
    return fields
