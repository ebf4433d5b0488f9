"""Every feed failure a supervisor must know about is an alert on screen, with
its reason, and the feed's conversations are marked stale (issue 9 item 4).
Real LiveSession, real WebSocket server or a closed port on 127.0.0.1."""

from __future__ import annotations

import socket
import time

import pytest

from feedserver import WsFeedServer, make_events
from hitl_console.config import AlertConfig, Config
from hitl_console.feeds.hub import FeedSpec
from hitl_console.session import LiveSession
from hitl_console.store.journal import Journal
from live_support import wait_until

pytestmark = pytest.mark.slow

FAST = Config(alerts=AlertConfig(feed_down_s=1.0))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def alert_keys(session: LiveSession) -> list[str]:
    return [a.key for a in session.alerts]


async def test_a_feed_unreachable_at_start_is_a_critical_alert_naming_the_reason() -> None:
    journal = Journal(":memory:")
    session = LiveSession(FAST, [FeedSpec(f"ws://127.0.0.1:{closed_port()}/feed", name="prod")], agent="ana", journal=journal)
    started = time.monotonic()
    await session.start()
    try:
        await wait_until(lambda: "feed_down:prod" in alert_keys(session), 10, "the feed_down alert")
        assert time.monotonic() - started < 10
        (alert,) = [a for a in session.alerts if a.key == "feed_down:prod"]
        assert alert.level == "critical" and "unreachable" in alert.text
        assert "refused" in alert.text.lower(), alert.text  # the reason, not only "down"
        assert "feed_down:prod" in {a.key for a in journal.alerts()}
        assert session.figures().stale_feeds == {"prod"}
    finally:
        await session.stop()
        journal.close()


async def test_a_lost_feed_alerts_and_its_conversations_leave_the_live_figures() -> None:
    events = make_events(5, start_ts=time.time() - 5)
    journal = Journal(":memory:")
    server = WsFeedServer(events)
    await server.__aenter__()
    session = LiveSession(FAST, [FeedSpec(server.url, name="prod")], agent="ana", journal=journal)
    await session.start()
    try:
        await wait_until(lambda: "c-1" in session.engine.conversations, 10, "the conversation")
        await wait_until(lambda: session.figures().active == 1, 5, "one active conversation")
        await server.__aexit__(None, None, None)  # the platform goes away
        await wait_until(lambda: "feed_down:prod" in alert_keys(session), 10, "the feed_down alert")
        (alert,) = [a for a in session.alerts if a.key == "feed_down:prod"]
        assert "lost" in alert.text
        figures = session.figures()
        assert figures.active == 0 and figures.stale == 1 and figures.stale_feeds == {"prod"}
        assert not session.engine.conversations["c-1"].ended  # frozen, not made up
    finally:
        await session.stop()
        journal.close()


async def test_a_feed_sending_only_rejected_frames_is_an_alert() -> None:
    journal = Journal(":memory:")
    async with WsFeedServer([]) as server:
        server.raw_frames = ['{"v": 9, "type": "message"}', "{not json", '{"v": 1, "type": "message", "seq": "x"}'] * 5
        session = LiveSession(FAST, [FeedSpec(server.url, name="prod")], agent="ana", journal=journal)
        await session.start()
        try:
            await wait_until(lambda: "feed_rejecting:prod" in alert_keys(session), 10, "the feed_rejecting alert")
            (alert,) = [a for a in session.alerts if a.key == "feed_rejecting:prod"]
            assert alert.level == "critical" and "15 rejected" in alert.text
        finally:
            await session.stop()
            journal.close()


def test_network_reasons_are_plain_words() -> None:
    import errno
    import ssl

    import httpx

    from hitl_console.feeds.base import network_reason

    assert network_reason(ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed")).startswith("connection refused")
    assert network_reason(socket.gaierror(-2, "Name or service not known")) == "host not found (DNS)"
    wrapped = httpx.ConnectError("boom")
    wrapped.__cause__ = OSError(errno.EHOSTUNREACH, "No route to host")
    assert network_reason(wrapped) == "host unreachable"
    tls = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    tls.reason = "CERTIFICATE_VERIFY_FAILED"
    assert network_reason(tls) == "TLS: CERTIFICATE_VERIFY_FAILED"
    assert network_reason(RuntimeError("odd")) == "odd"


@pytest.mark.parametrize(
    ("offset", "words"), [(-51.5 * 365.25 * 86400, "clock 51 years behind"), (3 * 86400 + 600, "clock 3 days ahead of")], ids=["1970", "days-ahead"]
)
async def test_a_feed_whose_clock_is_far_off_is_a_warning_in_words_and_not_stale(offset: float, words: str) -> None:
    """Found: a platform clock near 1970 (or days ahead), still inside the protocol's
    ts range, got its conversations closed as abandoned at once, and the only sign
    was "waiting 499005 h". Now a warning says how far off the clock is; the feed
    stays live (not stale): its events are current, only their times are wrong."""
    journal = Journal(":memory:")
    async with WsFeedServer(make_events(5, start_ts=time.time() + offset)) as server:
        session = LiveSession(FAST, [FeedSpec(server.url, name="prod")], agent="ana", journal=journal)
        await session.start()
        try:
            await wait_until(lambda: "feed_clock:prod" in alert_keys(session), 10, "the feed_clock alert")
            (alert,) = [a for a in session.alerts if a.key == "feed_clock:prod"]
            assert alert.level == "warning" and f"feed prod {words}" in alert.text, alert.text
            assert "feed_clock:prod" in {a.key for a in journal.alerts()}
            assert session.figures().stale_feeds == frozenset() and not session.stale_feeds
        finally:
            await session.stop()
            journal.close()


async def test_a_feed_whose_clock_is_right_raises_no_clock_alert() -> None:
    journal = Journal(":memory:")
    events = make_events(5, start_ts=time.time() - 4)
    async with WsFeedServer(events) as server:
        session = LiveSession(FAST, [FeedSpec(server.url, name="prod")], agent="ana", journal=journal)
        await session.start()
        try:
            await wait_until(lambda: session.statuses()[0].events == len(events), 10, "every event")
            (status,) = session.statuses()
            assert status.clock_offset_s is not None and abs(status.clock_offset_s) < FAST.alerts.clock_skew_s
            assert session.feed_health.check(session.statuses()) == []
        finally:
            await session.stop()
            journal.close()
