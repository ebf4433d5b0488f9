"""The floor's figures and rules are not worked out again when nothing changed:
the numbers stay those of a full recomputation, and the rules judge the same.

A real session (engine, in-memory journal; the hub is never started) takes
random chunks of simulated traffic; after each chunk its figures, at several
later times (windows sliding past conversations, approvals expiring), must
equal :func:`floor_figures` over every conversation.
"""

from __future__ import annotations

import random

from hitl_console.alerts.rules import TREND_RULES, boundary_within, trend_boundaries
from hitl_console.config import AlertConfig, Config
from hitl_console.feeds.hub import FeedSpec
from hitl_console.protocol.events import event_adapter
from hitl_console.session import LiveSession
from hitl_console.session.figures import floor_figures
from hitl_console.sim.timeline import generate_events
from hitl_console.store.journal import Journal

START = 1_700_000_000.0


def full_figures(session: LiveSession, now: float):  # type: ignore[no-untyped-def]
    return floor_figures(
        list(session.engine.conversations.values()),
        session.statuses(),
        now=now,
        window_s=session.config.alerts.window_s,
        open_alerts=session.latch.open_count,
        stale_feeds=session.feed_health.stale_feeds,
        events_per_s=session._rate.per_second(),
    )


def test_kept_figures_equal_a_full_recomputation_over_random_updates() -> None:
    rng = random.Random(5)
    config = Config(alerts=AlertConfig(window_s=300.0, baseline_s=600.0))
    session = LiveSession(config, [FeedSpec("ws://127.0.0.1:1/feed", name="prod")], agent="ana", journal=Journal(":memory:"))
    events = [event_adapter.validate_python(e) for e in generate_events(3, 160, start_ts=START, concurrency=25)]
    events.sort(key=lambda e: e.ts)
    checked = recounts = 0
    i = 0
    while i < len(events):
        chunk = events[i : i + rng.choice((1, 3, 20, 150))]
        i += len(chunk)
        for event in chunk:
            session.engine.apply(event, feed="prod")
        now = chunk[-1].ts
        if rng.random() < 0.2:
            session.engine.tick(now + rng.uniform(0, 200))  # the time rules (expiry, abandoned)
        if rng.random() < 0.05:
            session.engine.forget_ended(keep=rng.randint(5, 60))
        for _ in range(4):
            now += rng.choice((0.0, 0.5, 7.0, 60.0, 290.0, 900.0))
            before = session._counts
            assert session.figures(now) == full_figures(session, now), (i, now)
            recounts += session._counts is not before
            checked += 1
    assert checked > 100
    assert recounts < checked  # some calls were answered without counting again


def test_trend_rules_judge_the_same_between_boundaries() -> None:
    """Where the session skips the trend rules (no boundary passed, nothing
    changed), running them gives what they gave at the last run."""
    rng = random.Random(9)
    config = AlertConfig(window_s=300.0, baseline_s=600.0, min_conversations=3)
    session = LiveSession(Config(alerts=config), [], agent="ana", journal=Journal(":memory:"))
    for e in generate_events(4, 120, start_ts=START, concurrency=20):
        session.engine.apply(event_adapter.validate_python(e), feed="sim")
    states = list(session.engine.conversations.values())
    bounds = trend_boundaries(states, config)
    last = START + 600.0
    skipped = 0
    for _ in range(400):
        now = last + rng.choice((0.01, 0.5, 3.0, 20.0))
        if not boundary_within(bounds, last, now):
            skipped += 1
            for rule in TREND_RULES:
                assert rule(states, now, config) == rule(states, last, config), (rule, last, now)
        last = now
    assert skipped > 50
