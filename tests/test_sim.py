"""The simulator's scripts (offline feeds) and its live platform state machine.

The platform is driven on a virtual clock (``tick(now)`` / ``execute(..., now)``)
so these tests never sleep, except the one that checks the asyncio driver.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

import pytest

from hitl_console.protocol.events import event_adapter
from hitl_console.sim.platform import SimPlatform
from hitl_console.sim.plans import build_plan
from hitl_console.sim.scenarios import HOSTILE_TEXTS, SCENARIOS
from hitl_console.sim.timeline import generate_events

T0 = 1_000_000.0


# ----------------------------------------------------------------- generate_events


@pytest.fixture(scope="module")
def feed() -> list[dict[str, Any]]:
    return generate_events(7, 2000)


def by_conversation(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for event in events:
        out[event["conversation_id"]].append(event)
    return out


def test_generate_events_is_deterministic_per_seed() -> None:
    assert generate_events(5, 150) == generate_events(5, 150)
    assert generate_events(5, 150) != generate_events(6, 150)


def test_every_event_validates_and_has_only_protocol_fields(feed: list[dict[str, Any]]) -> None:
    for event in feed:
        model = event_adapter.validate_python(event)
        assert set(event) <= set(type(model).model_fields), event
        if event["type"] == "message" and "voice" in event:
            assert set(event["voice"]) <= {"tone", "interruptions"}


def test_seq_is_strict_from_one_and_time_never_goes_back(feed: list[dict[str, Any]]) -> None:
    assert [e["seq"] for e in feed] == list(range(1, len(feed) + 1))
    assert all(a["ts"] <= b["ts"] for a, b in zip(feed, feed[1:]))
    assert feed[0]["ts"] >= 1763931600.0


def test_each_conversation_starts_first_and_ends_once(feed: list[dict[str, Any]]) -> None:
    for cid, events in by_conversation(feed).items():
        assert events[0]["type"] == "conversation.started", cid
        ended = [i for i, e in enumerate(events) if e["type"] == "conversation.ended"]
        assert len(ended) == 1, cid
        assert all(e["type"] == "scorecard" for e in events[ended[0] + 1 :]), cid


def test_conversations_are_interleaved_at_about_the_requested_concurrency() -> None:
    events = generate_events(3, 1500, concurrency=40)
    open_now, samples = 0, []
    for event in events:
        open_now += {"conversation.started": 1, "conversation.ended": -1}.get(event["type"], 0)
        samples.append(open_now)
    mean = sum(samples) / len(samples)
    assert 20 <= mean <= 60, mean
    firsts = [e["conversation_id"] for e in events[:200]]
    switches = sum(1 for a, b in zip(firsts, firsts[1:]) if a != b)
    assert switches > 100  # interleaved, not one conversation after another


def test_sentiment_only_when_asked_and_ai_turns_carry_confidence() -> None:
    plain = generate_events(9, 100)
    rich = generate_events(9, 100, feed_sentiment=True)
    customer = [e for e in plain if e["type"] == "message" and e["role"] == "customer"]
    assert customer and all("sentiment" not in e for e in customer)
    assert all("sentiment" in e for e in rich if e["type"] == "message" and e["role"] == "customer")
    assert all(0 <= e["confidence"] <= 1 for e in plain if e["type"] == "message" and e["role"] == "ai")
    # Apart from sentiment, the two feeds are the same.
    strip = [{k: v for k, v in e.items() if k != "sentiment"} for e in rich]
    assert strip == plain


def test_mix_covers_every_pattern_a_supervisor_needs(feed: list[dict[str, Any]]) -> None:
    reasons = {e["contact_reason"] for e in feed if e["type"] == "conversation.started"}
    assert {"unauthorised charge", "product safety", "complaint", "account compromised", "refund request"} <= reasons
    channels = collections.Counter(e["channel"] for e in feed if e["type"] == "conversation.started")
    assert set(channels) == {"chat", "voice", "email", "sms"}
    assert channels["email"] + channels["sms"] < channels["chat"] / 3
    tiers = {e["customer"]["tier"] for e in feed if e["type"] == "conversation.started"}
    assert tiers == {"standard", "gold", "platinum"}
    queues = {e["queue"] for e in feed if e["type"] == "conversation.started"}
    assert queues == {"billing", "orders", "tech support", "account"}
    decisions = {e["decision"] for e in feed if e["type"] == "approval.resolved"}
    assert decisions == {"approved", "denied", "expired"}
    outcomes = collections.Counter(e["outcome"] for e in feed if e["type"] == "conversation.ended")
    assert set(outcomes) == {"resolved", "unresolved", "abandoned", "transferred"}
    ai_resolved = sum(1 for e in feed if e["type"] == "conversation.ended" and e["outcome"] == "resolved" and e.get("resolved_by") == "ai")
    assert 0.70 <= ai_resolved / 2000 <= 0.85
    types = {e["type"] for e in feed}
    assert {"ai.escalation_requested", "human.joined", "human.left", "scorecard", "ai.action"} <= types
    texts = [e["text"] for e in feed if e["type"] == "message"]
    assert any(t in HOSTILE_TEXTS for t in texts)
    assert any("\x1b" in t for t in texts) and any("[/]" in t for t in texts)
    assert any(t.lower().startswith(("can i talk to a real person", "i want to speak to a human")) for t in texts)
    assert any(e["type"] == "message" and "voice" in e for e in feed)


def test_loops_repeat_the_ai_answer_and_anger_falls() -> None:
    events = generate_events(4, 60, mix={"loop": 1, "angry": 1}, feed_sentiment=True)
    saw_loop = saw_anger = False
    for conv in by_conversation(events).values():
        ai = collections.Counter(e["text"] for e in conv if e["type"] == "message" and e["role"] == "ai")
        if ai and max(ai.values()) >= 3:
            saw_loop = True
        sentiments = [e["sentiment"] for e in conv if e["type"] == "message" and e["role"] == "customer"]
        if conv[0]["contact_reason"] in ("late delivery", "refund delay", "repeated fault"):
            assert sentiments[2] < sentiments[0]
            saw_anger = True
    assert saw_loop and saw_anger


def test_approvals_expire_at_expires_ts() -> None:
    events = generate_events(12, 80, mix={"big_refund": 1, "approval": 1})
    requested = {e["approval_id"]: e for e in events if e["type"] == "approval.requested"}
    assert requested
    for e in events:
        if e["type"] == "approval.resolved":
            req = requested[e["approval_id"]]
            assert 120 <= req["expires_ts"] - req["ts"] <= 300
            if e["decision"] == "expired":
                assert e["ts"] == pytest.approx(req["expires_ts"], abs=0.002)
            else:
                assert e["ts"] < req["expires_ts"] and e["by"]
    big = [r for r in requested.values() if r["amount"] > 1000]
    assert big and all(r["currency"] == "USD" and r["rationale"] for r in big)


def test_generates_100k_events_quickly() -> None:
    started = time.perf_counter()
    events = generate_events(1, 11_000)
    elapsed = time.perf_counter() - started
    assert len(events) > 100_000
    assert elapsed < 15, elapsed  # ~2 s on a quiet machine; loose for a shared one


def test_build_plan_rejects_unknown_scenarios() -> None:
    import random

    with pytest.raises(ValueError):
        build_plan(random.Random(1), "c-1", "nope")
    with pytest.raises(ValueError):
        generate_events(1, 3, mix={"nope": 1})
    for name in SCENARIOS:
        plan = build_plan(random.Random(2), "c-2", name)
        assert plan.scenario == name and plan.steps and plan.customer_replies


# ----------------------------------------------------------------- platform


def cmd(op: str, cid: str, agent: str = "alice", rid: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"v": 1, "op": op, "request_id": rid or f"{op}-{agent}-{cid}", "agent": agent, "conversation_id": cid, **extra}


def drive(p: SimPlatform, start: float, seconds: float, step: float = 0.25) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    t = start
    while t < start + seconds:
        t += step
        out.extend(p.tick(t))
    return out


def of(events: list[dict[str, Any]], cid: str) -> list[dict[str, Any]]:
    return [e for e in events if e.get("conversation_id") == cid]


def platform(**kw: Any) -> SimPlatform:
    kw.setdefault("rate", 0.0)
    kw.setdefault("pace", 0.1)
    p = SimPlatform(clock=lambda: T0, **kw)
    p.begin(T0)
    return p


def until(p: SimPlatform, start: float, predicate: Any, limit: float = 600.0) -> tuple[float, list[dict[str, Any]]]:
    """Tick until an event satisfies ``predicate``; returns the time and events so far."""
    out: list[dict[str, Any]] = []
    t = start
    while t < start + limit:
        t += 0.25
        batch = p.tick(t)
        out.extend(batch)
        if any(predicate(e) for e in batch):
            return t, out
    raise AssertionError("condition never met")


def test_platform_events_validate_and_number_strictly() -> None:
    p = SimPlatform(rate=3.0, seed=3, pace=0.2, initial_conversations=8, clock=lambda: T0)
    events = p.tick(T0)
    assert sum(e["type"] == "conversation.started" for e in events) == 8
    events += drive(p, T0, 300)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    for e in events:
        event_adapter.validate_python(e)
        assert "sentiment" not in e
    assert p.started_count > 8 + 300 * 3 * 0.6
    assert any(e["type"] == "conversation.ended" for e in events)


def test_max_conversations_caps_arrivals() -> None:
    p = SimPlatform(rate=5.0, pace=0.1, max_conversations=4, initial_conversations=2, clock=lambda: T0)
    events = drive(p, T0, 120)
    assert p.started_count == 4
    assert sum(e["type"] == "conversation.started" for e in events) == 4


def test_takeover_pauses_the_ai_until_release() -> None:
    p = platform()
    cid, _ = p.start_conversation("fraud", T0)
    t, _ = until(p, T0, lambda e: e.get("role") == "customer")
    ack, events = p.execute(cmd("takeover", cid), t)
    assert ack == {"v": 1, "type": "ack", "request_id": f"takeover-alice-{cid}", "ok": True}
    assert [e["type"] for e in events] == ["human.joined"] and events[0]["agent"] == "alice"
    held = drive(p, t, 900)  # 15 minutes at pace 0.1 = 150 scripted minutes
    assert not [e for e in of(held, cid) if e.get("role") == "ai" or e["type"] in ("ai.action", "conversation.ended")]
    assert p.conversations[cid].holder == "alice"

    t += 900
    ack, events = p.execute(cmd("send", cid, text="Hi, I'm Alice from the fraud team."), t)
    assert ack["ok"] and events[0]["role"] == "human" and events[0]["author"] == "alice"
    reply = [e for e in drive(p, t, 2.0) if e.get("conversation_id") == cid]
    assert len(reply) == 1 and reply[0]["role"] == "customer"
    assert reply[0]["text"] == p.conversations[cid].plan.customer_replies[0]
    assert reply[0]["ts"] - t <= 4.0 * 0.1 + 0.25

    t += 2.0
    ack, events = p.execute(cmd("release", cid), t)
    assert ack["ok"] and events[0]["type"] == "human.left" and events[0]["back_to_ai"] is True
    after = of(drive(p, t, 300), cid)
    assert after[0]["type"] == "message" and after[0]["role"] == "ai"  # the AI resumes and wraps up
    ended = [e for e in after if e["type"] == "conversation.ended"]
    assert ended and ended[0]["outcome"] == "resolved" and ended[0]["resolved_by"] == "human"


def test_release_without_messages_resumes_the_script() -> None:
    p = platform()
    cid, _ = p.start_conversation("happy", T0)
    ack, _ = p.execute(cmd("takeover", cid), T0)
    assert ack["ok"]
    assert not of(drive(p, T0, 60), cid)
    p.execute(cmd("release", cid), T0 + 60)
    after = of(drive(p, T0 + 60, 600), cid)
    assert after and after[0]["role"] == "customer"  # the script goes on where it paused
    assert any(e.get("role") == "ai" for e in after)
    assert any(e["type"] == "conversation.ended" for e in after)


def test_two_agents_never_both_hold_a_conversation() -> None:
    p = platform()
    cid, _ = p.start_conversation("angry", T0)
    assert p.execute(cmd("takeover", cid, "alice"), T0)[0]["ok"]
    ack, events = p.execute(cmd("takeover", cid, "bob"), T0)
    assert ack["ok"] is False and ack["error"] == "held by alice" and events == []
    for op, extra in (("send", {"text": "hi"}), ("release", {}), ("end", {"outcome": "resolved"})):
        ack, events = p.execute(cmd(op, cid, "bob", **extra), T0)
        assert ack["ok"] is False and "alice" in ack["error"] and events == []
    ack, events = p.execute(cmd("takeover", cid, "alice", rid="again"), T0)
    assert ack["ok"] and events == []  # idempotent retry: no second human.joined
    p.execute(cmd("release", cid, "alice"), T0 + 1)
    assert p.execute(cmd("takeover", cid, "bob", rid="now-bob"), T0 + 2)[0]["ok"]
    assert p.conversations[cid].holder == "bob"


def request_approval(p: SimPlatform, scenario: str = "big_refund") -> tuple[str, dict[str, Any], float]:
    cid, _ = p.start_conversation(scenario, T0)
    t, events = until(p, T0, lambda e: e["type"] == "approval.requested")
    request = [e for e in events if e["type"] == "approval.requested"][0]
    return cid, request, t


def test_approve_then_the_ai_refunds_and_tells_the_customer() -> None:
    p = platform()
    cid, request, t = request_approval(p)
    assert request["amount"] > 1000 and request["action"] in ("refund", "account_credit")
    assert 12 <= request["expires_ts"] - request["ts"] <= 30  # 2-5 minutes at pace 0.1
    ack, events = p.execute(cmd("approve", cid, approval_id=request["approval_id"], note="photos ok"), t)
    assert ack["ok"]
    assert events[0] == {**events[0], "type": "approval.resolved", "decision": "approved", "by": "alice", "note": "photos ok"}
    after = of(drive(p, t, 300), cid)
    action = next(e for e in after if e["type"] == "ai.action")
    assert action["status"] == "ok" and action["amount"] == request["amount"]
    assert any(e.get("role") == "ai" and "approved" in e["text"] for e in after)
    assert next(e for e in after if e["type"] == "conversation.ended")["resolved_by"] == "ai"
    ack, _ = p.execute(cmd("approve", cid, rid="twice", approval_id=request["approval_id"]), t + 400)
    assert ack["ok"] is False


def test_deny_then_the_ai_says_so() -> None:
    p = platform(seed=11)
    cid, request, t = request_approval(p, "approval")
    ack, events = p.execute(cmd("deny", cid, "bob", approval_id=request["approval_id"]), t)
    assert ack["ok"] and events[0]["decision"] == "denied" and events[0]["by"] == "bob"
    after = of(drive(p, t, 300), cid)
    assert not any(e["type"] == "ai.action" for e in after)
    assert any(e.get("role") == "ai" for e in after)
    assert next(e for e in after if e["type"] == "conversation.ended")["outcome"] == "unresolved"


def test_unanswered_approval_expires() -> None:
    p = platform(seed=5)
    cid, request, t = request_approval(p)
    after = of(drive(p, t, 60), cid)
    resolved = next(e for e in after if e["type"] == "approval.resolved")
    assert resolved["decision"] == "expired" and "by" not in resolved
    assert resolved["ts"] == pytest.approx(request["expires_ts"], abs=0.01)
    ack, _ = p.execute(cmd("approve", cid, approval_id=request["approval_id"]), t + 60)
    assert ack["ok"] is False and "expired" in ack["error"]


def test_approval_decided_while_held_keeps_the_ai_quiet() -> None:
    p = platform(seed=8)
    cid, request, t = request_approval(p)
    p.execute(cmd("takeover", cid), t)
    ack, events = p.execute(cmd("approve", cid, "bob", approval_id=request["approval_id"]), t)
    assert ack["ok"]
    assert [e["type"] for e in events] == ["approval.resolved", "ai.action", "message"]
    assert events[2]["role"] == "system" and "approved by bob" in events[2]["text"]
    assert not [e for e in of(drive(p, t, 120), cid) if e.get("role") == "ai"]


def test_end_closes_the_conversation_as_resolved_by_the_human() -> None:
    p = platform()
    cid, _ = p.start_conversation("ask_human", T0)
    p.execute(cmd("takeover", cid), T0)
    ack, events = p.execute(cmd("end", cid, outcome="resolved"), T0 + 1)
    assert ack["ok"] and events[-1]["type"] == "conversation.ended"
    assert events[-1]["outcome"] == "resolved" and events[-1]["resolved_by"] == "human" and 1 <= events[-1]["csat"] <= 5
    assert not of(drive(p, T0 + 1, 300), cid)
    ack, _ = p.execute(cmd("send", cid, text="hello?"), T0 + 400)
    assert ack["ok"] is False and "ended" in ack["error"]


def test_command_errors_are_acked_with_a_reason() -> None:
    p = platform()
    cid, _ = p.start_conversation("happy", T0)
    ack, _ = p.execute(cmd("takeover", "c-nope"), T0)
    assert ack["ok"] is False and "unknown conversation" in ack["error"]
    ack, _ = p.execute(cmd("send", cid, text="hi"), T0)
    assert ack["ok"] is False and "take it over first" in ack["error"]
    ack, _ = p.execute(cmd("release", cid), T0)
    assert ack["ok"] is False
    ack, _ = p.execute(cmd("approve", cid, approval_id="ap-x"), T0)
    assert ack["ok"] is False and "unknown approval" in ack["error"]
    ack, _ = p.execute({"v": 1, "op": "send", "request_id": "r-bad", "agent": "a", "conversation_id": cid}, T0)
    assert ack == {"v": 1, "type": "ack", "request_id": "r-bad", "ok": False, "error": ack["error"]}
    assert "invalid command" in ack["error"] and "text" in ack["error"]
    ack, _ = p.execute({"v": 1, "op": "explode", "request_id": "r-x"}, T0)
    assert ack["ok"] is False
    assert p.execute({"op": "takeover", "agent": "a", "conversation_id": cid}, T0) == (None, [])
    assert p.execute("{not json", T0) == (None, [])
    assert p.execute(b"\xff\xfe", T0) == (None, [])
    assert p.conversations[cid].holder is None


def test_handle_command_replies_before_publishing() -> None:
    p = platform()
    cid, _ = p.start_conversation("happy", T0)
    order: list[str] = []
    p.add_listener(lambda batch: order.extend(e["type"] for e in batch))
    ack = p.handle_command(cmd("takeover", cid), reply=lambda a: order.append(a["type"]), now=T0)
    assert ack is not None and ack["ok"]
    assert order == ["ack", "human.joined"]


def test_retention_and_resume() -> None:
    p = SimPlatform(rate=5.0, pace=0.1, retain=100, clock=lambda: T0)
    events = drive(p, T0, 120)
    assert len(events) > 150
    assert p.events_since(0) == events[-100:]
    assert p.events_since(events[-4]["seq"]) == events[-3:]
    assert p.events_since(p.last_seq) == []
    assert p.oldest_retained_seq == events[-100]["seq"]


def test_heartbeat_is_the_protocol_shape() -> None:
    p = platform()
    assert p.heartbeat(T0 + 0.5) == {"v": 1, "type": "heartbeat", "ts": T0 + 0.5}


async def test_run_publishes_events_and_heartbeats() -> None:
    p = SimPlatform(rate=20.0, pace=0.05, initial_conversations=3)
    got: list[dict[str, Any]] = []
    p.add_listener(got.extend)
    p.publish(p.begin())
    stop = asyncio.Event()
    task = asyncio.create_task(p.run(stop))
    try:
        await asyncio.wait_for(_wait_for(lambda: sum(e["type"] == "heartbeat" for e in got) >= 2), 5.0)
    finally:
        stop.set()
        await asyncio.wait_for(task, 2.0)
    assert sum(e["type"] == "conversation.started" for e in got) >= 3
    seqs = [e["seq"] for e in got if e["type"] != "heartbeat"]
    assert seqs == list(range(1, len(seqs) + 1))


async def _wait_for(predicate: Any) -> None:
    while not predicate():
        await asyncio.sleep(0.05)


def test_backlog_without_a_cursor_is_the_open_floor() -> None:
    p = SimPlatform(rate=2.0, pace=0.1, initial_conversations=5, clock=lambda: T0)
    events = p.tick(T0) + drive(p, T0, 90)
    snapshot, at = p.backlog(None)
    assert at == p.last_seq
    open_ids = {c.conversation_id for c in p.open_conversations()}
    assert open_ids and {e["conversation_id"] for e in snapshot} == open_ids
    assert [e for e in events if e["conversation_id"] in open_ids] == snapshot
    for cid in open_ids:
        assert next(e for e in snapshot if e["conversation_id"] == cid)["type"] == "conversation.started"
    assert p.backlog(events[9]["seq"]) == (events[10:], p.last_seq)
    assert p.backlog(p.last_seq) == ([], p.last_seq)
    assert p.backlog(p.last_seq + 1000) == (snapshot, p.last_seq)  # a cursor from an earlier run


def test_ended_conversations_are_forgotten_after_a_while() -> None:
    """A simulator left running for days must not keep every conversation it ever had."""
    from hitl_console.sim.platform import KEEP_ENDED_S, SimPlatform

    t = 1_000.0
    platform = SimPlatform(rate=2.0, seed=3, pace=0.01, clock=lambda: t)
    platform.begin(t)
    for _ in range(400):
        t += 0.5
        platform.tick(t)
    ended = {cid for cid, c in platform.conversations.items() if c.ended}
    assert ended, "some conversations should have ended by now"
    t += KEEP_ENDED_S + 1
    platform.tick(t)
    assert not ended & set(platform.conversations)
    assert platform.started_count > len(platform.conversations)
