"""Simulated conversations laid out on a timeline, offline, as a real
platform would have emitted them (recordings, benchmarks, tests)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from hitl_console.sim.plans import ConversationPlan, build_plan, customer_message_fields
from hitl_console.sim.scenarios import START_TS, SUPERVISORS

def _flatten(plan: ConversationPlan, rng: random.Random) -> list[tuple[float, str, dict[str, Any]]]:
    """Play a plan offline: (seconds from start, type, fields), with simulated supervisors.

    Pauses are resolved the way a staffed floor resolves them: most requests
    for a person get one (who talks to the customer, then ends or hands
    back); approvals are approved, denied, or left to expire.
    """
    out: list[tuple[float, str, dict[str, Any]]] = [(0.0, "conversation.started", dict(plan.started))]
    t = 0.0
    steps = list(plan.steps)
    i = 0
    approvals = 0
    while i < len(steps):
        step = steps[i]
        i += 1
        t += step.delay
        if step.type == "wait_human":
            if rng.random() < 0.6:  # a supervisor picks it up
                agent = rng.choice(SUPERVISORS)
                t += rng.uniform(15.0, min(step.timeout, 120.0))
                out.append((t, "human.joined", {"agent": agent}))
                replies = list(plan.customer_replies)
                sentiment = -0.3
                for k, line in enumerate(plan.human_lines):
                    t += rng.uniform(8.0, 30.0)
                    out.append((t, "message", {"role": "human", "text": line, "author": agent}))
                    if k < len(replies):
                        sentiment = min(0.7, sentiment + 0.35)
                        t += rng.uniform(5.0, 25.0)
                        out.append((t, "message", customer_message_fields(plan, replies[k], sentiment, rng)))
                if rng.random() < 0.55:
                    t += rng.uniform(5.0, 20.0)
                    fields: dict[str, Any] = {"outcome": "resolved", "resolved_by": "human", "csat": rng.choice((3, 4, 4, 5, 5))}
                    out.append((t, "conversation.ended", fields))
                    if rng.random() < 0.5:
                        t += rng.uniform(30.0, 120.0)
                        crit = {k: round(rng.uniform(0.6, 0.95), 2) for k in ("accuracy", "empathy", "policy_compliance", "resolution")}
                        out.append((t, "scorecard", {"overall": round(sum(crit.values()) / 4, 2), "criteria": crit, "notes": "resolved after human takeover"}))
                    break
                t += rng.uniform(3.0, 10.0)
                out.append((t, "human.left", {"agent": agent, "back_to_ai": True}))
                steps[i:] = plan.wrap_up
                continue
            t += step.timeout
            steps[i:] = (step.branches or {}).get("timeout", [])
            continue
        if step.type == "approval.requested":
            approvals += 1
            fields = dict(step.fields)
            expires_in = fields.pop("expires_in", 180.0)
            approval_id = f"ap-{plan.conversation_id}-{approvals}"
            out.append((t, "approval.requested", {"approval_id": approval_id, **fields, "_expires_in": expires_in}))
            roll = rng.random()
            if roll < 0.5:
                decision, wait = "approved", rng.uniform(20.0, expires_in * 0.8)
            elif roll < 0.65:
                decision, wait = "denied", rng.uniform(20.0, expires_in * 0.8)
            else:
                decision, wait = "expired", expires_in
            t += wait
            resolved: dict[str, Any] = {"approval_id": approval_id, "decision": decision}
            if decision != "expired":
                resolved["by"] = rng.choice(SUPERVISORS)
                if decision == "denied":
                    resolved["note"] = rng.choice(("needs photos first", "order flagged for review", "over the monthly limit for this account"))
            out.append((t, "approval.resolved", resolved))
            steps[i:] = (step.branches or {}).get(decision, [])
            continue
        out.append((t, step.type, step.fields))
    return out


def generate_events(
    seed: int,
    conversations: int,
    start_ts: float = START_TS,
    concurrency: int = 50,
    *,
    feed_sentiment: bool = False,
    mix: Mapping[str, float] | None = None,
    id_prefix: str = "c-",
) -> list[dict[str, Any]]:
    """A recorded feed: ``conversations`` conversations as wire-form event dicts.

    Conversations start as a Poisson process whose rate keeps about
    ``concurrency`` of them open at once, and their events are interleaved in
    time order, as a live platform would have sent them. ``seq`` starts at 1
    and increases by one; ``ts`` never decreases. The same arguments always
    give the same events, so tests and benchmarks can share recordings.

    Customer turns carry no ``sentiment`` unless ``feed_sentiment`` (the
    console is expected to estimate it). ``mix`` overrides the scenario
    weights (:data:`DEFAULT_MIX`), e.g. ``{"fraud": 1, "angry": 1}``.
    Conversation ids are ``id_prefix`` + ``10000 + n``; give two feeds that
    are merged different prefixes. Conversation *n* of a seed follows the same
    plan as conversation *n* of a live :class:`~hitl_console.sim.platform.SimPlatform`
    with that seed (the timing and the supervisors' actions differ).
    """
    if conversations < 0:
        raise ValueError("conversations must be >= 0")
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    timelines: list[tuple[str, list[tuple[float, str, dict[str, Any]]]]] = []
    total = 0.0
    for n in range(conversations):
        rng = random.Random(seed * 1_000_003 + n)
        cid = f"{id_prefix}{10000 + n}"
        plan = build_plan(rng, cid, mix=mix)
        line = _flatten(plan, rng)
        timelines.append((cid, line))
        total += line[-1][0]
    mean = total / conversations if conversations else 1.0
    rate = concurrency / max(mean, 1.0)
    arrivals = random.Random(seed)
    heap: list[tuple[float, int, int, str, dict[str, Any]]] = []
    t = start_ts
    for n, (cid, line) in enumerate(timelines):
        if n:
            t += arrivals.expovariate(rate)
        for k, (offset, type_, fields) in enumerate(line):
            heap.append((round(t + offset, 3), n, k, type_, fields))
    heap.sort(key=lambda e: (e[0], e[1], e[2]))
    out: list[dict[str, Any]] = []
    append = out.append
    for seq, (ts, n, _k, type_, fields) in enumerate(heap, start=1):
        event: dict[str, Any] = {"v": 1, "type": type_, "seq": seq, "ts": ts, "conversation_id": timelines[n][0]}
        if type_ == "message" and not feed_sentiment and "sentiment" in fields:
            fields = {k: v for k, v in fields.items() if k != "sentiment"}
        elif type_ == "approval.requested":
            fields = dict(fields)
            fields["expires_ts"] = round(ts + fields.pop("_expires_in"), 3)
        for key, value in fields.items():
            # Nested values are shared with the plan: give every event its own.
            event[key] = dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value
        append(event)
    return out
