"""The engine's time-based rules run from a heap of deadlines: ``tick`` closes,
expires and stalls exactly the conversations whose time came, at that time."""

from __future__ import annotations

from hitl_console.config import Config, Thresholds
from hitl_console.engine.engine import SignalEngine
from tests.test_triggers import Feed


def engine_with(**thresholds) -> SignalEngine:
    return SignalEngine(Config(thresholds=Thresholds(**thresholds)))


def test_silent_conversations_are_closed_as_abandoned_when_their_time_comes():
    engine = engine_with(abandoned_after_seconds=100, no_progress_seconds=10_000)
    feeds = {cid: Feed(engine, cid, ts=ts) for cid, ts in (("a", 0.0), ("b", 50.0), ("c", 80.0))}
    for f in feeds.values():
        f.start()  # last events at 1, 51, 81
    assert engine.tick(100.0) == []
    assert all(not s.ended for s in engine.conversations.values())
    closed = engine.tick(101.0)
    assert [u.conversation_id for u in closed] == ["a"] and closed[0].ended
    a = engine.conversations["a"]
    assert (a.ended, a.timed_out, a.outcome, a.holder) == (True, True, "abandoned", "ended")
    assert a.timeline[-1].text == "closed as abandoned: no event for 2 min"
    # b talks at 120: its deadline moves to 220; c's stays at 181
    feeds["b"].customer("are you still there?", dt=69.0)
    assert engine.tick(180.0) == []
    assert [u.conversation_id for u in engine.tick(181.0)] == ["c"]
    assert engine.tick(219.0) == []
    assert [u.conversation_id for u in engine.tick(220.0)] == ["b"]
    assert engine.active() == []
    assert engine.tick(10_000.0) == []  # each closes once


def test_an_event_after_the_close_reopens_the_conversation():
    engine = engine_with(abandoned_after_seconds=100)
    f = Feed(engine, "a", ts=0.0)
    f.start()
    engine.tick(500.0)
    assert f.state.timed_out and f.state.holder == "ended"
    f.customer("sorry, I was away", dt=600.0)
    s = f.state
    assert (s.ended, s.timed_out, s.outcome, s.holder) == (False, False, None, "ai")
    assert [c.conversation_id for c in engine.active()] == ["a"]
    assert engine.tick(f.ts + 99) == [] and engine.tick(f.ts + 100)[0].ended  # its new deadline counts from the new event
    # the feed's own end wins over the console's
    f.send("conversation.ended", outcome="resolved", resolved_by="ai")
    assert (f.state.outcome, f.state.timed_out, f.state.ended) == ("resolved", False, True)


def test_false_switches_the_close_off():
    assert Thresholds.model_validate({"abandoned_after_seconds": False}).abandoned_after_seconds is None
    engine = engine_with(abandoned_after_seconds=None, no_progress_seconds=10_000)
    Feed(engine, "a", ts=0.0).start()
    engine.tick(1e9)
    assert not engine.conversations["a"].ended and [s.conversation_id for s in engine.active()] == ["a"]


def test_approval_expiry_and_no_progress_come_due_from_the_heap():
    engine = engine_with(no_progress_seconds=60, abandoned_after_seconds=1000)
    f = Feed(engine, "a", ts=0.0)
    f.start()  # ts 1: progress at 1, stall due at 61
    f.send("approval.requested", approval_id="ap-1", action="refund", amount=20.0, expires_ts=31.0)
    g = Feed(engine, "b", ts=0.0)
    g.start()
    g.send("ai.action", dt=40.0, name="lookup", status="ok")  # progress at 41: stall due at 101
    assert engine.tick(30.9) == []
    expired = engine.tick(31.0)
    assert [(u.conversation_id, u.approval.status) for u in expired] == [("a", "expired")]
    assert engine.tick(60.9) == []
    stalled = engine.tick(61.0)
    assert [u.conversation_id for u in stalled] == ["a"] and "loop" in f.state.active
    assert f.state.loop_warning.startswith("waiting 60 s with no progress (since ")
    assert engine.tick(100.9) == []
    assert [u.conversation_id for u in engine.tick(101.0)] == ["b"]
    assert engine.tick(500.0) == []  # a stall is listed once


def test_an_earlier_deadline_after_a_later_one_is_kept():
    """An approval that expires before the conversation's next check still expires on time."""
    engine = engine_with(no_progress_seconds=600, abandoned_after_seconds=3600)
    f = Feed(engine, "a", ts=0.0)
    f.start()
    assert engine.tick(100.0) == []
    f.send("approval.requested", dt=100.0, approval_id="ap-1", action="refund", expires_ts=250.0)
    assert engine.tick(249.0) == []
    assert [u.approval.approval_id for u in engine.tick(250.0)] == ["ap-1"]


def test_the_open_set_stays_bounded_on_a_floor_where_chats_never_end():
    """Weeks of a floor where every chat is left open: the open set holds the
    last ``abandoned_after_seconds`` worth of chats, not all of them."""
    engine = engine_with(abandoned_after_seconds=600)
    ts = 0.0
    most_open = 0
    for n in range(3_000):
        ts += 10.0  # a new chat every 10 s, each says one thing and goes away
        f = Feed(engine, f"c-{n}", ts=ts)
        f.start()
        f.customer("hello, my order did not arrive", dt=0.5)
        engine.tick(f.ts)
        engine.forget_ended(keep=100)
        most_open = max(most_open, len(engine.active()))
    assert most_open <= 61  # 600 s of chats, one every 10 s (plus the one just closing)
    assert len(engine.conversations) <= 100 + most_open
    assert len(engine._heap) <= 2 * (100 + most_open)  # stale entries go as their time passes
