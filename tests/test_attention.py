"""Who needs a person first and why: the engine's order and words for the floor and the handoff."""

from __future__ import annotations

from hitl_console.config import Config, Thresholds
from hitl_console.engine import attention
from hitl_console.engine.engine import SignalEngine
from tests.test_triggers import Feed


def test_waiting_since_follows_the_holder() -> None:
    f = Feed(SignalEngine())
    f.start()
    assert f.state.waiting_since is None and attention.waited(f.state, f.ts + 50) is None
    f.send("ai.escalation_requested", reason="policy exception", dt=5.0)
    escalated = f.ts
    assert f.state.waiting_since == escalated
    assert attention.waited(f.state, escalated + 134) == 134
    f.send("human.joined", agent="dana")
    assert f.state.waiting_since is None and attention.waited(f.state, f.ts + 9) is None
    f.send("human.left", agent="dana", back_to_ai=False, dt=3.0)
    assert f.state.holder == "waiting" and f.state.waiting_since == f.ts
    f.send("human.joined", agent="lee")
    f.send("human.left", agent="lee", back_to_ai=True)
    assert f.state.holder == "ai" and f.state.waiting_since is None
    f.send("conversation.ended", outcome="resolved")
    assert f.state.waiting_since is None


def test_routed_to_humans_waits_from_the_start() -> None:
    f = Feed(SignalEngine())
    f.start(handled_by="human")
    assert f.state.holder == "waiting" and f.state.waiting_since == f.state.started_ts


def test_a_legal_complaint_held_by_the_ai_is_a_routing_breach_until_it_escalates() -> None:
    f = Feed(SignalEngine(Config(thresholds=Thresholds(escalation_risk=0.95))))  # nothing escalates on risk alone
    f.start(customer={"id": "u-1", "name": "Grace Larsen", "tier": "standard"}, contact_reason="complaint")
    assert f.state.routing_names == ("complaint",)
    assert len(f.state.routing_flags) == 1 and "complaint" in f.state.routing_flags[0]
    f.customer("This is the third time I'm writing. If this isn't fixed today I'm contacting my lawyer.", sentiment=-0.6)
    state = f.state
    assert state.holder == "ai" and attention.routing_breach(state)
    words = [w for _, w in attention.reasons(state)]
    assert words[0] == "legal threat" and "human first: complaint" in words
    assert [text for _, text in attention.why_lines(state)][1] == "Routing rules want a human first: complaint; the AI still has it."
    f.send("ai.escalation_requested", reason="legal threat")
    assert not attention.routing_breach(f.state)
    assert "human first: complaint" not in [w for _, w in attention.reasons(f.state)]
    why = [text for _, text in attention.why_lines(f.state, f.state.waiting_since + 65)]
    assert why[0].startswith("Legal threat: \u201c") and "lawyer" in why[0]
    # the AI's reason repeats the legal threat: said once, no doubled words
    assert "The AI asked for a human." in why
    assert "Routing rules want a human first: complaint." in why
    assert why[-1] == "Waiting for a human for 1m05s."
    assert not any("AI AI" in w or "_" in w or " seq " in w for w in why)


def _waiting(engine: SignalEngine, cid: str, since: float, *, risky: bool) -> Feed:
    f = Feed(engine, cid=cid, ts=since - 2.0)
    f.start()
    if risky:
        f.customer("There's a charge of $4,000 on my card I never made!!", sentiment=-0.8)
    else:
        f.customer("Can I change the delivery address of my order?", sentiment=0.1)
    f.send("ai.escalation_requested", reason="needs a person")
    return f


def test_waiting_customers_rank_first_by_wait_and_risk() -> None:
    engine = SignalEngine()
    hot_ai = Feed(engine, cid="hot-ai")
    hot_ai.start()
    hot_ai.customer("I'm calling my lawyer, this is an absolute disgrace!!", sentiment=-0.9)
    breach = Feed(engine, cid="breach", ts=1_100.0)
    breach.start(customer={"id": "u-9", "tier": "platinum"})
    calm = Feed(engine, cid="calm", ts=1_100.0)
    calm.start()
    now = 1_300.0
    fresh_risky = _waiting(engine, "fresh-risky", now - 5, risky=True)
    routine = _waiting(engine, "routine", now - 20, risky=False)
    _waiting(engine, "long-routine", now - 300, risky=False)
    if engine.conversations["hot-ai"].holder == "waiting":
        engine.conversations["hot-ai"].holder = "ai"  # keep one risky AI-held row for the comparison
    assert fresh_risky.state.risk > engine.conversations["hot-ai"].risk * 0.5 and fresh_risky.state.risk > 0.3 + routine.state.risk
    states = list(engine.conversations.values())
    ordered = [s.conversation_id for s in sorted(states, key=lambda s: attention.floor_key(s, now))]
    # five minutes of waiting beats risk; a risky customer who just began waiting beats a routine 20 s wait;
    # every waiting customer above the AI's conversations; a routing breach above the rest
    assert ordered == ["long-routine", "fresh-risky", "routine", "breach", "hot-ai", "calm"]
    assert attention.urgency(engine.conversations["calm"], now) == 0.0


def test_the_ai_reason_is_not_repeated_when_it_restates_the_customer() -> None:
    f = Feed(SignalEngine())
    f.start()
    f.customer("I want to speak to a human", sentiment=-0.1)
    f.send("ai.escalation_requested", reason="customer asked for a human")
    why = [text for _, text in attention.why_lines(f.state)]
    assert why[0].startswith("The customer asked for a person")
    assert "The AI asked for a human." in why and not any("customer asked for a human" in w for w in why)
    g = Feed(SignalEngine(), cid="c-2")
    g.start()
    g.send("ai.escalation_requested", reason="policy exception needs sign-off")
    assert [text for _, text in attention.why_lines(g.state)] == ["The AI asked for a human: policy exception needs sign-off."]
