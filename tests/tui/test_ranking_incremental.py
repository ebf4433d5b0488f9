"""ranking.Ranking kept change by change gives the order a full sort gives."""

from __future__ import annotations

import random

from hitl_console.engine import attention
from hitl_console.tui import ranking

from .fixtures import NOW, make_state


def _floor(n: int, rng: random.Random) -> list:
    states = []
    for i in range(n):
        holder = rng.choice(["ai", "ai", "waiting", "human"])
        state = make_state(f"c-{i:04d}", risk=round(rng.random(), 2), holder=holder)
        state.started_ts = NOW - rng.randint(0, 3000)
        if holder == "waiting":
            state.waiting_since = NOW - rng.randint(0, 900)
        states.append(state)
    return states


def test_floor_rank_orders_as_floor_key_at_any_moment() -> None:
    states = _floor(200, random.Random(3))
    by_rank = sorted(states, key=attention.floor_rank)
    for now in (NOW, NOW + 60, NOW + 3600):
        assert [s.conversation_id for s in sorted(states, key=lambda s: attention.floor_key(s, now))] == [
            s.conversation_id for s in by_rank
        ]


def test_updates_one_at_a_time_match_a_full_sort() -> None:
    rng = random.Random(11)
    states = {s.conversation_id: s for s in _floor(300, rng)}
    for order in ranking.SORT_ORDERS:
        kept = ranking.Ranking(order.rank, admit=lambda s: s.queue != "skip")
        kept.rebuild(states.values())
        for step in range(400):
            cid = rng.choice(list(states))
            state = states[cid]
            change = rng.random()
            if change < 0.1:
                state.ended = not state.ended  # ends (or comes back)
            elif change < 0.2:
                state.queue = "skip" if state.queue != "skip" else "billing"  # leaves the filter (or comes back)
            elif change < 0.5:
                state.holder, state.waiting_since = "waiting", NOW - rng.randint(0, 900)
            else:
                state.risk = round(rng.random(), 2)
            kept.update(cid, state)
            expected = ranking.select(
                [s for s in states.values() if s.queue != "skip"], order=order.name, now=NOW + step
            )
            assert kept.ids == [s.conversation_id for s in expected], (order.name, step)
        assert len(kept) == len(kept.ids)
