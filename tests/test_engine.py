"""SignalEngine: escalation, holder, routing flags, risk, implicit conversations, memory."""

from __future__ import annotations

import pytest

from hitl_console.config import Config, RoutingRules, Thresholds
from hitl_console.engine.engine import SignalEngine
from hitl_console.engine.state import ActionRecord, Approval, Notice, TriggerHit, Turn
from hitl_console.protocol.events import Heartbeat, event_adapter
from tests.test_triggers import Feed, kinds


def test_escalation_on_human_request_sets_moment_and_turns():
    f = Feed(SignalEngine())
    f.start()
    f.customer("Hi, my parcel is late", sentiment=0.0)
    f.ai("Sorry to hear that, let me check.")
    u = f.customer("I want to speak to a real person", sentiment=-0.2)
    s = f.state
    assert u.escalated_now
    assert s.escalated_at_seq == f.seq
    assert s.escalated_ts == f.ts
    assert s.escalation_turns == 3
    assert s.time_to_escalation == pytest.approx(3.0)
    assert s.holder == "waiting"
    assert not f.customer("hello?").escalated_now  # only the first moment counts
    assert s.escalated_at_seq == 4


def test_escalation_on_ai_request_and_human_joining():
    f = Feed(SignalEngine())
    f.start()
    u = f.send("ai.escalation_requested", reason="policy exception")
    assert u.escalated_now and f.state.escalation_turns == 0
    g = Feed(SignalEngine(), cid="c-2")
    g.start()
    g.customer("question about my plan", sentiment=0.1)
    u = g.send("human.joined", agent="dana")
    assert u.escalated_now and g.state.holder == "human" and g.state.agent == "dana"
    assert g.state.escalated_at_seq == g.seq


def test_escalation_when_risk_reaches_threshold():
    f = Feed(SignalEngine(Config(thresholds=Thresholds(escalation_risk=0.5))))
    f.start()
    u = f.customer("I'm calling my lawyer, this is an absolute disgrace!!", sentiment=-0.9)
    assert set(kinds(u)) == {"high_stakes", "sentiment"}
    assert f.state.risk >= 0.5 and u.escalated_now
    assert any(isinstance(i, Notice) and i.text.startswith("escalated to a human: risk") for i in f.state.timeline)


def test_no_escalation_for_calm_conversation():
    f = Feed(SignalEngine())
    f.start()
    f.customer("Can I change my delivery address?", sentiment=0.1)
    f.ai("Yes, I've updated it.", 0.95)
    f.send("ai.action", name="update_address", status="ok")
    f.send("conversation.ended", outcome="resolved", resolved_by="ai", csat=5)
    s = f.state
    assert s.escalated_at_seq is None and s.escalation_turns is None and s.time_to_escalation is None
    assert s.holder == "ended" and s.outcome == "resolved" and s.csat == 5 and s.ended
    assert s.risk < 0.2


def test_holder_transitions():
    f = Feed(SignalEngine())
    f.start()
    assert f.state.holder == "ai"
    f.send("ai.escalation_requested", reason="x")
    assert f.state.holder == "waiting"
    f.send("human.joined", agent="dana")
    assert (f.state.holder, f.state.agent) == ("human", "dana")
    f.send("message", role="human", text="Hi, Dana here", author="dana")
    f.send("human.left", agent="dana", back_to_ai=True)
    assert (f.state.holder, f.state.agent) == ("ai", None)
    f.send("human.joined", agent="lee")
    f.send("human.left", agent="lee", back_to_ai=False)
    assert f.state.holder == "waiting"
    u = f.send("conversation.ended", outcome="transferred")
    assert u.ended and f.state.holder == "ended"


def test_routing_flags():
    rules = RoutingRules(min_lifetime_value=5000)
    engine = SignalEngine(Config(routing=rules))
    f = Feed(engine)
    f.start(
        customer={"id": "u", "tier": "Platinum", "open_complaints": 3, "lifetime_value": 12000},
        contact_reason="cancellation_request",
    )
    flags = f.state.routing_flags
    assert len(flags) == 4
    assert any("Platinum" in x for x in flags) and any("3 open complaints" in x for x in flags)
    assert any("cancellation" in x for x in flags) and any("12,000" in x for x in flags)

    g = Feed(engine, cid="c-2")
    g.start(customer={"id": "u", "tier": "platinum"}, handled_by="human")
    assert g.state.routing_flags == () and g.state.holder == "waiting"

    h = Feed(engine, cid="c-3")
    h.start(customer={"id": "u", "tier": "silver", "open_complaints": 2}, contact_reason="billing")
    assert h.state.routing_flags == ()
    assert f.state.risk > h.state.risk  # flags and value raise risk


def test_risk_rises_with_evidence_and_orders_active():
    engine = SignalEngine()
    calm = Feed(engine, cid="calm")
    calm.start()
    calm.customer("Thanks, all good", sentiment=0.5)
    upset = Feed(engine, cid="upset")
    upset.start()
    upset.customer("This is a disgrace", sentiment=-0.8)
    worst = Feed(engine, cid="worst")
    worst.start()
    worst.customer("Someone hacked my account and I'm furious", sentiment=-0.9)
    worst.ai("Maybe reset it?", 0.2)
    assert calm.state.risk < upset.state.risk < worst.state.risk
    assert [s.conversation_id for s in engine.active()] == ["worst", "upset", "calm"]
    peak = worst.state.peak_risk
    worst.send("human.joined", agent="dana")
    worst.ai("Sorted, your account is secure now.", 0.95)
    worst.customer("Thank you so much", sentiment=0.6)
    assert worst.state.risk < peak and worst.state.peak_risk == peak
    worst.send("conversation.ended", outcome="resolved")
    assert "worst" not in [s.conversation_id for s in engine.active()]


def test_active_ties_are_broken_by_recent_activity():
    engine = SignalEngine()
    a = Feed(engine, cid="a", ts=100)
    a.start()
    b = Feed(engine, cid="b", ts=200)
    b.start()
    assert a.state.risk == b.state.risk
    assert [s.conversation_id for s in engine.active()] == ["b", "a"]


def test_implicit_conversation_and_late_start():
    engine = SignalEngine()
    msg = event_adapter.validate_python(
        {"v": 1, "type": "message", "seq": 10, "ts": 50.0, "conversation_id": "mid", "role": "customer", "text": "still waiting"}
    )
    u = engine.apply(msg, feed="ws1")
    s = engine.conversations["mid"]
    assert not u.started and not s.saw_start and s.feed == "ws1" and s.started_ts == 50.0 and len(s.turns) == 1
    for event in [
        {"type": "approval.resolved", "approval_id": "zz", "decision": "approved"},
        {"type": "human.left", "agent": "x"},
        {"type": "scorecard", "overall": 0.4, "criteria": {"empathy": 0.2}},
    ]:
        engine.apply(event_adapter.validate_python({"v": 1, "seq": 11, "ts": 51.0, "conversation_id": "other-" + event["type"], **event}))
    assert engine.conversations["other-approval.resolved"].approvals["zz"].status == "approved"
    assert engine.conversations["other-scorecard"].scorecard["criteria"] == {"empathy": 0.2}
    start = event_adapter.validate_python(
        {"v": 1, "type": "conversation.started", "seq": 12, "ts": 40.0, "conversation_id": "mid", "channel": "voice",
         "queue": "q", "customer": {"id": "u-9", "tier": "gold"}}
    )
    assert engine.apply(start).started
    assert s.saw_start and s.channel == "voice" and s.customer.tier == "gold" and s.started_ts == 40.0
    assert len(s.turns) == 1


def test_ignores_heartbeats_and_never_raises_on_odd_events():
    engine = SignalEngine()
    u = engine.apply(Heartbeat(type="heartbeat", ts=1.0))  # type: ignore[arg-type]
    assert u.conversation_id == "" and engine.conversations == {}
    odd = [
        {"type": "message", "role": "system", "text": ""},
        {"type": "message", "role": "customer", "text": "\x1b[2J\x07" * 50},
        {"type": "message", "role": "customer", "text": "x" * 100_000},
        {"type": "message", "role": "ai", "text": "", "confidence": 0.0},
        {"type": "message", "role": "human", "text": "hi"},
        {"type": "ai.action", "name": "", "status": "failed", "amount": -5.0},
        {"type": "approval.requested", "approval_id": "a", "action": "", "expires_ts": 0.0},
        {"type": "approval.resolved", "approval_id": "a", "decision": "expired"},
        {"type": "conversation.ended", "outcome": "abandoned"},
        {"type": "message", "role": "customer", "text": "after the end \U0001f600"},
        {"type": "conversation.started", "channel": "sms", "queue": "", "customer": {"id": ""}},
    ]
    for i, fields in enumerate(odd, 1):
        engine.apply(event_adapter.validate_python({"v": 1, "seq": i, "ts": float(i), "conversation_id": "odd", **fields}))
    s = engine.conversations["odd"]
    assert s.version == len(odd) and s.last_seq == len(odd)
    assert not s.ended  # the id was reused by a new start


def test_timeline_order_and_versions():
    f = Feed(SignalEngine())
    f.start()
    f.customer("I want a refund of my $900", sentiment=-0.2)
    f.send("ai.action", name="lookup_order", status="ok")
    f.send("approval.requested", approval_id="ap1", action="refund", amount=900.0, currency="USD", expires_ts=f.ts + 60)
    f.send("approval.resolved", approval_id="ap1", decision="approved", by="dana")
    types = [type(i) for i in f.state.timeline]
    assert types == [Notice, Turn, TriggerHit, ActionRecord, Approval, Notice]
    seqs = [i.seq for i in f.state.timeline]
    assert seqs == sorted(seqs)
    assert f.state.version == 5
    assert f.state.approvals["ap1"].status == "approved" and f.state.approvals["ap1"].by == "dana"


def test_tick_expires_approvals():
    engine = SignalEngine()
    f = Feed(engine)
    f.start()
    expires = f.ts + 30
    u = f.send("approval.requested", approval_id="ap1", action="refund", amount=50.0, expires_ts=expires)
    assert u.approval.status == "pending" and f.state.pending_approvals(f.ts)
    risk_pending = f.state.risk
    assert engine.tick(expires - 1) == []
    updates = engine.tick(expires + 1)
    assert len(updates) == 1 and updates[0].approval.status == "expired"
    assert f.state.approvals["ap1"].resolved_ts == expires
    assert f.state.risk < risk_pending
    assert engine.tick(expires + 2) == []


def test_forget_ended_bounds_memory():
    engine = SignalEngine()
    for i in range(10):
        f = Feed(engine, cid=f"c{i}", ts=100 + i)
        f.start()
        f.customer("hello there friend")
        if i < 8:
            f.send("conversation.ended", outcome="resolved")
    assert engine.forget_ended(keep=3) == 5
    assert set(engine.conversations) == {"c5", "c6", "c7", "c8", "c9"}
    assert engine.forget_ended(keep=3) == 0
    assert len(engine.active()) == 2


def test_many_conversations_interleaved_stay_separate():
    engine = SignalEngine()
    feeds = [Feed(engine, cid=f"c{i}") for i in range(5)]
    for f in feeds:
        f.start()
    questions = ["Where is my parcel?", "Can I pay by invoice instead?", "How do I change my address?"]
    for round_ in range(3):
        for i, f in enumerate(feeds):
            f.customer(f"{questions[round_]} (ref {i})", sentiment=0.0)
    assert all(len(f.state.turns) == 3 for f in feeds)
    assert all("loop" not in f.state.active for f in feeds)


def test_an_id_used_by_two_feeds_stays_two_conversations() -> None:
    """Two platforms may number conversations alike; their events must not mix."""
    engine = SignalEngine()
    seq = 0

    def say(text: str, feed: str = "") -> None:
        nonlocal seq
        seq += 1
        event = event_adapter.validate_python(
            {"type": "message", "seq": seq, "ts": 1000.0 + seq, "conversation_id": "c-9", "role": "customer", "text": text}
        )
        engine.apply(event, feed)

    say("hello from a", "a")
    say("hello from b", "b")
    say("again from a", "a")
    first, second = engine.conversations["c-9"], engine.conversations["c-9@b"]
    assert [t.text for t in first.turns] == ["hello from a", "again from a"] and first.feed_id == "c-9"
    assert [t.text for t in second.turns] == ["hello from b"] and second.feed_id == "c-9"
    assert engine.id_collisions == 1
    say("no feed name: one recording, not split")
    assert first.turns[-1].text.startswith("no feed name") and len(second.turns) == 1
    # the owner ends and is forgotten: feed b's conversation keeps its key
    seq += 1
    engine.apply(event_adapter.validate_python(
        {"type": "conversation.ended", "seq": seq, "ts": 1000.0 + seq, "conversation_id": "c-9", "outcome": "resolved"}), "a")
    assert engine.forget_ended(keep=0) == 1 and "c-9" not in engine.conversations
    say("b goes on", "b")
    assert [t.text for t in engine.conversations["c-9@b"].turns] == ["hello from b", "b goes on"]
    assert "c-9" not in engine.conversations
