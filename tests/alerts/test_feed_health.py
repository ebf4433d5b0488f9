"""Feed health rules: every way a feed fails is a condition within seconds, with its reason."""

from __future__ import annotations

import time

from hitl_console.alerts.feed_health import FeedHealth
from hitl_console.config import AlertConfig
from hitl_console.feeds.base import ConnectionState, FeedStatus

CFG = AlertConfig(feed_down_s=5.0, silent_feed_s=30.0)


def status(state: ConnectionState, **kwargs) -> FeedStatus:
    return FeedStatus(name="prod", url="ws://127.0.0.1:1/feed", state=state, **kwargs)


def keys(health: FeedHealth, feed: FeedStatus, at: float) -> list[str]:
    return [c.key for c in health.check([feed], at)]


def test_a_feed_unreachable_from_the_start_alerts_after_feed_down_s_with_the_reason() -> None:
    health = FeedHealth(CFG)
    feed = status(ConnectionState.RECONNECTING, detail="connection refused", reconnects=3)
    assert keys(health, feed, 100.0) == [] and health.stale_feeds == frozenset()
    assert keys(health, feed, 104.0) == []
    conditions = health.check([feed], 105.5)
    assert [(c.key, c.level, c.kind) for c in conditions] == [("feed_down:prod", "critical", "feed")]
    assert "unreachable for 6s" in conditions[0].text and "connection refused" in conditions[0].text
    assert conditions[0].figures == {"feed": "prod", "down_s": 5.5, "never_connected": True}
    assert health.stale_feeds == {"prod"}


def test_a_lost_feed_says_lost_and_recovers_once_it_delivers() -> None:
    health = FeedHealth(CFG)
    feed = status(ConnectionState.LIVE, events=10, last_frame_at=time.time())
    assert keys(health, feed, 0.0) == []
    feed.state, feed.detail = ConnectionState.RECONNECTING, "connection closed abruptly"
    assert keys(health, feed, 1.0) == []
    (down,) = health.check([feed], 7.0)
    assert down.key == "feed_down:prod" and "lost for 6s" in down.text
    feed.state = ConnectionState.LIVE  # back, but nothing delivered yet and only just up
    assert keys(health, feed, 8.0) == ["feed_down:prod"]
    feed.events = 11  # an event: healthy again
    assert keys(health, feed, 8.5) == [] and health.stale_feeds == frozenset()


def test_a_feed_that_connects_and_is_dropped_again_and_again_stays_down() -> None:
    health = FeedHealth(CFG)
    feed = status(ConnectionState.CONNECTING)
    for second in range(12):
        feed.state = ConnectionState.LIVE if second % 3 == 0 else ConnectionState.RECONNECTING
        found = keys(health, feed, float(second))
    assert found == ["feed_down:prod"]


def test_a_feed_sending_only_rejected_frames_alerts_and_an_accepted_event_clears_it() -> None:
    health = FeedHealth(CFG)
    feed = status(ConnectionState.LIVE, last_frame_at=time.time())
    for second in range(7):
        feed.rejected += 4
        feed.last_frame_at = time.time()
        found = health.check([feed], float(second))
    assert [c.key for c in found] == ["feed_rejecting:prod"]
    assert "only rejected frames" in found[0].text and "check-feed" in found[0].text
    feed.events = 1
    assert keys(health, feed, 7.0) == []


def test_a_feed_whose_every_frame_was_rejected_stays_suspect_after_it_goes_quiet() -> None:
    health = FeedHealth(CFG)
    feed = status(ConnectionState.LIVE, last_frame_at=time.time())
    keys(health, feed, 0.0)
    feed.rejected = 20  # a burst at connect, nothing readable, then heartbeats only
    for second in range(1, 20):
        feed.last_frame_at = time.time()
        found = keys(health, feed, float(second))
    assert found == ["feed_rejecting:prod"]


def test_one_old_rejected_frame_on_a_good_quiet_feed_is_not_an_alarm() -> None:
    health = FeedHealth(CFG)
    feed = status(ConnectionState.LIVE, events=30, last_frame_at=time.time())
    keys(health, feed, 0.0)
    feed.rejected = 1
    assert keys(health, feed, 1.0) == []
    for second in range(2, 20):  # heartbeats only from now on
        feed.last_frame_at = time.time()
        assert keys(health, feed, float(second)) == []


def test_silent_failed_and_quiet_on_purpose() -> None:
    health = FeedHealth(CFG)
    silent = status(ConnectionState.LIVE, last_frame_at=time.time() - 45)
    assert [(c.key, c.level) for c in health.check([silent], 0.0)] == [("feed_silent:prod", "warning")]
    failed = FeedStatus(name="b", url="ws://y", state=ConnectionState.FAILED, detail="401 Unauthorized")
    (condition,) = health.check([failed], 1.0)
    assert condition.key == "feed_failed:b" and condition.level == "critical" and "401" in condition.text
    assert health.stale_feeds == {"b"}
    for state in (ConnectionState.PAUSED, ConnectionState.FINISHED, ConnectionState.REPLAYING, ConnectionState.STOPPED):
        quiet = FeedStatus(name="replay", url="f.jsonl", state=state, last_frame_at=time.time() - 999)
        assert health.check([quiet], 2.0) == [] and health.stale_feeds == frozenset()
