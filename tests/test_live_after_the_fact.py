"""LiveSession, after the fact: trend alerts, the alert webhook, takeover verdicts, metrics.

Same stand-in hub as ``test_live.py`` (only the hub is faked; the engine, the
journal, the trend rules and the review store are real). The webhook posts
to an ``httpx.MockTransport``, so what would leave the machine is inspected
without a server.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_support import FakeHub, ended, say, started, wait_until

from hitl_console.alerts.rules import TREND_RULES
from hitl_console.alerts.webhook import WebhookSender
from hitl_console.config import AlertConfig, Config
from hitl_console.feeds.hub import FeedSpec
from hitl_console.session import LiveSession, SessionChange
from hitl_console.protocol.events import ConversationEnded, Event
from hitl_console.store.journal import Journal
from hitl_console.store.reviews import NewItem, ReviewStore, Verdict

SECRET_CUSTOMER_TEXT = "my card 4111 is stolen, I want a human agent please"


def session_with(journal: Journal, config: Config) -> LiveSession:
    return LiveSession(config, [FeedSpec("ws://127.0.0.1:1/feed", name="prod")], agent="ana", journal=journal)


def mood_conversation(cid: str, seq: int, ts: float, sentiment: float) -> list[Event]:
    """A started conversation with two customer turns of the given (platform) sentiment."""
    return [
        started(cid, seq, ts),
        say(cid, seq + 1, "customer", "Hello, a question about my order", ts + 1, sentiment=sentiment),
        say(cid, seq + 2, "ai", "Sure, which order?", ts + 2, confidence=0.9),
        say(cid, seq + 3, "customer", "Order 5531, thanks", ts + 3, sentiment=sentiment),
    ]


def feed_sentiment_drop(hub: FakeHub, now: float, window_s: float) -> None:
    """Happy customers in the baseline hour, unhappy ones in the recent window."""
    seq = 1
    for i in range(6):
        hub.emit("prod", mood_conversation(f"b-{i}", seq, now - window_s - 1200 + i, 0.6))
        seq += 4
    for i in range(6):
        hub.emit("prod", mood_conversation(f"r-{i}", seq, now - 300 + i, -0.3))
        seq += 4


class RecordingWebhook:
    """An httpx transport that keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return httpx.Response(204)


async def test_trend_alert_reaches_listeners_journal_and_webhook_once(fake_hub: type[FakeHub], tmp_path: Path) -> None:
    config = Config(alerts=AlertConfig(min_conversations=5, window_s=900, baseline_s=3600))
    journal = Journal(tmp_path / "j.sqlite3")
    session = session_with(journal, config)
    recorder = RecordingWebhook()
    client = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    session.webhook = WebhookSender("https://hooks.example/T0/secret", client=client, retries=0)
    session.trend_interval_s = 0.0  # run the trend rules on every check, not every 5 s
    changes: list[SessionChange] = []
    session.add_listener(changes.append)
    await session.start()
    try:
        hub = fake_hub.instances[-1]
        now = time.time()
        feed_sentiment_drop(hub, now, config.alerts.window_s)
        for _ in range(3):  # the condition stays true: still one alert
            session._check_watchers(now)
        drops = [a for a in session.alerts if a.key == "sentiment_down"]
        assert len(drops) == 1
        assert drops[0].kind == "trend" and "trending down" in drops[0].text
        assert "sentiment_down" in session.conditions

        await wait_until(lambda: any(a.key == "sentiment_down" for c in changes for a in c.new_alerts), 5, "a flush")
        delivered = [a for c in changes for a in c.new_alerts if a.key == "sentiment_down"]
        assert len(delivered) == 1
        assert [a.key for a in journal.alerts()].count("sentiment_down") == 1

        await wait_until(lambda: any(b["key"] == "sentiment_down" for b in recorder.bodies), 5, "the webhook post")
        body = next(b for b in recorder.bodies if b["key"] == "sentiment_down")
        assert body["kind"] == "trend" and "text" not in body
        assert body["figures"]["mean"] < body["figures"]["baseline_mean"]
    finally:
        await session.stop()
        await client.aclose()
        journal.close()


async def test_a_cleared_trend_condition_alerts_again_when_it_returns(fake_hub: type[FakeHub]) -> None:
    config = Config(alerts=AlertConfig(min_conversations=5, window_s=900, baseline_s=3600))
    session = session_with(Journal(":memory:"), config)
    session.trend_interval_s = 0.0
    await session.start()
    try:
        hub = fake_hub.instances[-1]
        now = time.time()
        feed_sentiment_drop(hub, now, config.alerts.window_s)
        session._check_watchers(now)
        assert "sentiment_down" in session.conditions
        seq = 1000
        for i in range(30):  # many happy customers now: the recent mean recovers
            hub.emit("prod", mood_conversation(f"ok-{i}", seq, now - 200 + i, 0.9))
            seq += 4
        session._check_watchers(now)
        assert "sentiment_down" not in session.conditions
        assert len([a for a in session.alerts if a.key == "sentiment_down"]) == 1
    finally:
        await session.stop()


async def test_trend_rules_run_at_their_own_pace_and_keep_latched_conditions_between_runs(fake_hub: type[FakeHub]) -> None:
    config = Config(alerts=AlertConfig(min_conversations=5, window_s=900, baseline_s=3600))
    session = session_with(Journal(":memory:"), config)
    await session.start()
    try:
        hub = fake_hub.instances[-1]
        now = time.time()
        feed_sentiment_drop(hub, now, config.alerts.window_s)
        session._check_watchers(now)  # the first check runs the trend rules
        assert "sentiment_down" in session.conditions
        seq = 1000
        for i in range(30):  # the recent mean recovers...
            hub.emit("prod", mood_conversation(f"ok-{i}", seq, now - 200 + i, 0.9))
            seq += 4
        for _ in range(3):  # ...but TREND_INTERVAL has not passed: not judged again, still latched
            session._check_watchers(now)
        assert "sentiment_down" in session.conditions
        session.trend_interval_s = 0.0
        session._check_watchers(now)
        assert "sentiment_down" not in session.conditions
        assert len([a for a in session.alerts if a.key == "sentiment_down"]) == 1
    finally:
        await session.stop()


async def test_the_escalation_band_alerts_once_not_from_both_watchers(fake_hub: type[FakeHub]) -> None:
    config = Config(alerts=AlertConfig(min_conversations=5))
    session = session_with(Journal(":memory:"), config)
    session.trend_interval_s = 0.0
    await session.start()
    try:
        hub = fake_hub.instances[-1]
        now = time.time()
        for i in range(6):  # nobody escalated, all ended: under the 3% floor
            hub.emit("prod", mood_conversation(f"q-{i}", i * 5 + 1, now - 600, 0.2) + [ended(f"q-{i}", i * 5 + 5, now - 590)])
        session._check_watchers(now)
        session._check_watchers(now)
        lows = [a for a in session.alerts if a.key == "escalation_rate_low"]
        assert len(lows) == 1 and lows[0].kind == "aggregate"
        conversations = list(session.engine.conversations.values())  # the band has one rule, not two
        assert not any(c.key.startswith("escalation") for rule in TREND_RULES for c in rule(conversations, now, config.alerts).true)
    finally:
        await session.stop()


async def test_webhook_posts_trigger_alerts_without_customer_text_and_closes_on_stop(fake_hub: type[FakeHub]) -> None:
    session = session_with(Journal(":memory:"), Config())
    recorder = RecordingWebhook()
    client = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    session.webhook = WebhookSender("https://hooks.example/T0/secret", client=client, retries=0)
    await session.start()
    try:
        hub = fake_hub.instances[-1]
        now = time.time()
        hub.emit("prod", [started("c-9", 1, now), say("c-9", 2, "customer", SECRET_CUSTOMER_TEXT, now + 1)])
        assert any(a.kind == "trigger" for a in session.alerts)
    finally:
        await session.stop()  # waits for the posts in flight
        await client.aclose()
    assert recorder.bodies, "stop() should have let the pending posts finish"
    posted = json.dumps(recorder.bodies)
    assert "4111" not in posted and "human agent" not in posted
    kinds = {b["figures"].get("trigger") for b in recorder.bodies if b["kind"] == "trigger"}
    assert "human_request" in kinds or "high_stakes" in kinds
    assert session.webhook is not None and session.latch.closed


async def test_an_unusable_webhook_url_is_one_alert_that_does_not_leak_the_url(fake_hub: type[FakeHub]) -> None:
    config = Config(alerts=AlertConfig(webhook_url="ftp://hooks.example/services/T0-secret-token"))
    session = session_with(Journal(":memory:"), config)
    assert session.webhook is None
    await session.start()
    try:
        problems = [a for a in session.alerts if a.key == "webhook_invalid"]
        assert len(problems) == 1 and "T0-secret-token" not in problems[0].text
    finally:
        await session.stop()


async def test_takeover_verdicts_are_stored_and_counted_in_escalation_accuracy(fake_hub: type[FakeHub], tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    session = session_with(journal, Config())
    await session.start()
    try:
        hub = fake_hub.instances[-1]
        now = time.time()
        seq = 1
        for cid in ("h-1", "h-2", "h-3"):  # three that ask for a person: escalated
            hub.emit(
                "prod",
                [
                    started(cid, seq, now - 120),
                    say(cid, seq + 1, "customer", "Let me talk to a human agent please", now - 119),
                    ConversationEnded(type="conversation.ended", seq=seq + 2, ts=now - 100, conversation_id=cid, outcome="resolved", resolved_by="human"),
                ],
            )
            seq += 3
        hub.emit("prod", [started("q-1", seq, now - 60), say("q-1", seq + 1, "customer", "Where is my parcel?", now - 59)])
        assert all(session.conversation(c).escalated for c in ("h-1", "h-2", "h-3"))

        before = session.metrics(window_s=3600)
        assert before.escalation_accuracy is None and before.accuracy_verdicts == 0

        stored = session.record_takeover_verdict("h-1", True, note="  card was stolen  ")
        session.record_takeover_verdict("h-2", False)
        assert stored.agent == "ana" and stored.note == "card was stolen"
        verdicts = session.reviews.takeover_verdicts()
        assert [(v.feed, v.conversation_id, v.escalation_needed) for v in verdicts] == [("prod", "h-1", True), ("prod", "h-2", False)]

        m = session.metrics(window_s=3600)
        assert m.conversations == 4 and m.escalated == 3
        assert m.accuracy_verdicts == 2 and m.escalation_accuracy == pytest.approx(0.5)
        assert session.metrics().escalation_accuracy == pytest.approx(0.5)  # all time

        # A reviewer's verdict, given later with the whole conversation, wins over the takeover's.
        store = session.reviews
        store.add_items([NewItem("h-2", "qa", "qa", "escalated", 0.3, feed="prod")])
        assert store.claim("qa:prod:h-2", "rita")
        store.record_verdict("qa:prod:h-2", "rita", Verdict.ESCALATION_NEEDED)
        assert session.metrics(window_s=3600).escalation_accuracy == pytest.approx(1.0)

        # The store is the journal's file: another process sees the verdicts.
        other = Journal(tmp_path / "j.sqlite3")
        try:
            assert ReviewStore(other).escalation_verdicts() == {("prod", "h-1"): True, ("prod", "h-2"): True}
        finally:
            other.close()
        # A window that closed before the conversations started sees none of them.
        assert session.metrics(window_s=10).conversations == 0
        with pytest.raises(ValueError):
            session.metrics(window_s=0)
    finally:
        await session.stop()
        journal.close()


async def test_all_and_a_window_count_the_same_verdicts_whatever_the_feed_clock(fake_hub: type[FakeHub], tmp_path: Path) -> None:
    """The demo's and a replay's clock is not the wall clock a verdict is stamped
    with: "all" once said "no verdicts yet" while "1 h" said "2 verdicts"."""
    journal = Journal(tmp_path / "j.sqlite3")
    session = session_with(journal, Config())
    await session.start()
    try:
        hub = fake_hub.instances[-1]
        ahead = time.time() + 2 * 3600  # the feed's clock runs two hours ahead of this machine's
        for i, cid in enumerate(("h-1", "h-2")):
            seq = 1 + 3 * i
            hub.emit(
                "prod",
                [
                    started(cid, seq, ahead - 120),
                    say(cid, seq + 1, "customer", "Let me talk to a human agent please", ahead - 119),
                    ConversationEnded(type="conversation.ended", seq=seq + 2, ts=ahead - 100, conversation_id=cid, outcome="resolved", resolved_by="human"),
                ],
            )
        session.record_takeover_verdict("h-1", True)
        session.record_takeover_verdict("h-2", True)
        hour, everything = session.metrics(window_s=3600), session.metrics()
        assert hour.accuracy_verdicts == everything.accuracy_verdicts == 2
        assert hour.escalation_rate == everything.escalation_rate == 1.0
    finally:
        await session.stop()
        journal.close()


async def test_reviews_is_created_once_and_lazily(fake_hub: type[FakeHub]) -> None:
    session = session_with(Journal(":memory:"), Config())
    assert session._reviews is None
    assert session.reviews is session.reviews
    await asyncio.sleep(0)


async def test_webhook_skips_alerts_below_the_configured_level(fake_hub: type[FakeHub]) -> None:
    from hitl_console.alerts.model import Alert

    session = session_with(Journal(":memory:"), Config(alerts=AlertConfig(webhook_min_level="critical")))
    recorder = RecordingWebhook()
    client = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    session.webhook = WebhookSender("https://hooks.example/T0/secret", client=client, retries=0)
    await session.start()
    try:
        session.latch.add(Alert(time.time(), "warning", "trigger", "low confidence", key="a"))
        session.latch.add(Alert(time.time(), "critical", "trigger", "fraud", key="b"))
    finally:
        await session.stop()
        await client.aclose()
    assert [b["level"] for b in recorder.bodies] == ["critical"]


async def test_a_verdict_counts_only_for_its_own_feeds_conversation(fake_hub: type[FakeHub], tmp_path: Path) -> None:
    """Two feeds number a conversation c-1 (a second platform, or a demo run in the
    same file before issue 9): the verdict on one never lands on the other."""
    journal = Journal(tmp_path / "j.sqlite3")
    specs = [FeedSpec("ws://127.0.0.1:1/feed", name="prod"), FeedSpec("ws://127.0.0.1:2/feed", name="demo-101010")]
    session = LiveSession(Config(), specs, agent="ana", journal=journal)
    await session.start()
    try:
        hub = fake_hub.instances[-1]
        now = time.time()
        for feed in ("prod", "demo-101010"):
            hub.emit(
                feed,
                [
                    started("c-1", 1, now - 120),
                    say("c-1", 2, "customer", "Let me talk to a human agent please", now - 119),
                    ConversationEnded(type="conversation.ended", seq=3, ts=now - 100, conversation_id="c-1", outcome="resolved", resolved_by="human"),
                ],
            )
        assert sorted(session.engine.conversations) == ["c-1", "c-1@demo-101010"]
        stored = session.record_takeover_verdict("c-1@demo-101010", False)
        assert (stored.feed, stored.conversation_id) == ("demo-101010", "c-1")
        assert session.escalation_verdicts() == {("demo-101010", "c-1"): False}
        m = session.metrics()
        assert m.escalated == 2 and m.accuracy_verdicts == 1 and m.escalation_accuracy == 0.0
        session.record_takeover_verdict("c-1", True)
        assert session.escalation_verdicts() == {("demo-101010", "c-1"): False, ("prod", "c-1"): True}
        assert session.metrics().escalation_accuracy == pytest.approx(0.5)
    finally:
        await session.stop()
        journal.close()


def unsure_conversation(cid: str, seq: int) -> list[Event]:
    """A conversation the AI answered with low confidence, then ended: a review candidate."""
    return [
        started(cid, seq),
        say(cid, seq + 1, "customer", "Can I change the delivery address?", sentiment=0.0),
        say(cid, seq + 2, "ai", "Perhaps, I am not sure.", confidence=0.2),
        ended(cid, seq + 3),
    ]


async def test_ended_conversations_are_queued_for_review_though_no_screen_ever_opens(fake_hub: type[FakeHub], tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        session = session_with(journal, Config())
        await session.start()
        try:
            hub = fake_hub.instances[-1]
            hub.emit("prod", unsure_conversation("c-1", 1) + [started("c-open", 10)])
            await wait_until(lambda: session._reviews is not None and bool(session.reviews.items()), 5, "the session's timer to queue c-1")
            assert {(i.conversation_id, i.reason, i.feed) for i in session.reviews.items()} >= {("c-1", "low_confidence", "prod")}
            assert "c-open" not in {i.conversation_id for i in session.reviews.items()}  # not ended: not a candidate yet
        finally:
            await session.stop()
    # Another reviewer's console on the same file sees them: they are in the store, not in a screen.
    with ReviewStore.open(tmp_path / "j.sqlite3", readonly=True) as other:
        assert "c-1" in {i.conversation_id for i in other.items()}


async def test_conversations_forgotten_from_memory_were_queued_first(
    fake_hub: type[FakeHub], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hitl_console.session import lifecycle

    monkeypatch.setattr(lifecycle, "MAX_ENDED_KEPT", 2)
    session = session_with(Journal(":memory:"), Config())
    await session.start()
    try:
        hub = fake_hub.instances[-1]
        for i in range(4):
            hub.emit("prod", unsure_conversation(f"c-{i}", i * 10 + 1))
        session._forget_ended()  # the timer does this every minute; here, before any tick fed the queue
        assert set(session.engine.conversations) == {"c-2", "c-3"}
        assert {i.conversation_id for i in session.reviews.items()} == {"c-0", "c-1", "c-2", "c-3"}
    finally:
        await session.stop()


async def test_a_restart_offers_the_ended_conversations_it_rebuilt(fake_hub: type[FakeHub], tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as journal:  # journaled by a console that never queued them (an older version)
        journal.append_events("prod", unsure_conversation("c-old", 1))
    with Journal(path) as journal:
        session = session_with(journal, Config())
        await session.start()
        try:
            assert "c-old" in session.engine.conversations  # rebuilt from the journal
            await wait_until(lambda: session._reviews is not None and bool(session.reviews.items()), 5, "the first tick to queue c-old")
            assert [i.conversation_id for i in session.reviews.items()] == ["c-old"]
        finally:
            await session.stop()
