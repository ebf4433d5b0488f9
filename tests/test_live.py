"""LiveSession: journal-first input, coalesced listeners, alerts, commands, restore.

The first half drives a session through a stand-in hub (only the hub is
faked: the engine and the journal are real), which makes timing-sensitive
behaviour (coalescing, conditions) deterministic. The second half, marked
slow, runs the whole chain on the simulator over a real WebSocket on
127.0.0.1.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from live_support import (  # noqa: E402
    NOW,
    FakeHub,
    ended,
    quiet_conversation,
    say,
    session_on,
    started,
    wait_until,
)

from hitl_console.session import lifecycle as live_module
from hitl_console.config import AlertConfig, Config
from hitl_console.alerts.model import Alert, Condition
from hitl_console.feeds.base import CommandResult, ConnectionState
from hitl_console.feeds.hub import FeedSpec
from hitl_console.session import FloorFigures, LiveSession, SessionChange
from hitl_console.session.figures import RATE_WINDOW
from hitl_console.protocol.decode import RejectedFrame
from hitl_console.protocol.events import (
    ApprovalRequested,
    ConversationEnded,
    HumanJoined,
)
from hitl_console.store.journal import Journal


async def test_events_are_journaled_applied_and_coalesced(fake_hub: type[FakeHub], tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    session = session_on(journal)
    changes: list[SessionChange] = []
    session.add_listener(changes.append)
    await session.start()
    try:
        hub = fake_hub.instances[-1]
        assert hub.specs[0].name == "prod" and hub.specs[0].since is None  # nothing to resume from
        for i in range(40):  # forty frames in a burst...
            hub.emit("prod", quiet_conversation(f"c-{i}", i * 3 + 1))
        await wait_until(lambda: sum(len(c.changed) for c in changes) >= 40, 3, "the burst to reach listeners")
        # ...reach listeners in one or two calls, not forty
        assert 1 <= len(changes) <= 2
        assert set().union(*(c.changed for c in changes)) == {f"c-{i}" for i in range(40)}
        assert sum(1 for c in changes for u in c.updates if u.started) == 40
        assert journal.last_seq("prod") == 120
        assert session.engine.conversations["c-7"].feed == "prod"
        figures = session.figures()
        assert isinstance(figures, FloorFigures)
        assert (figures.active, figures.total_seen, figures.ended) == (40, 40, 0)
        assert figures.events_per_s == pytest.approx(120 / RATE_WINDOW)
        assert figures.avg_sentiment is not None
    finally:
        await session.stop()
        journal.close()


async def test_triggers_become_alerts_and_are_journaled(fake_hub: type[FakeHub], tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    session = session_on(journal)
    new_alerts: list[Alert] = []
    session.add_listener(lambda change: new_alerts.extend(change.new_alerts))
    await session.start()
    try:
        hub = fake_hub.instances[-1]
        hub.emit(
            "prod",
            [
                started("c-1", 1),
                say("c-1", 2, "customer", "I want to speak to a human right now, this is useless!", NOW + 1),
                say("c-1", 3, "ai", "I am not sure.", NOW + 2, confidence=0.2),
            ],
        )
        await wait_until(lambda: len(new_alerts) >= 2, 3, "trigger alerts")
        kinds = {a.key.split(":")[2] for a in new_alerts if a.kind == "trigger"}
        assert {"human_request", "low_confidence"} <= kinds
        by_kind = {a.key.split(":")[2]: a for a in new_alerts}
        assert by_kind["human_request"].level == "critical"
        assert by_kind["low_confidence"].level == "info"
        assert all(a.conversation_id == "c-1" for a in new_alerts)
        assert list(session.alerts)[-len(new_alerts) :] == new_alerts
        assert {a.key for a in journal.alerts()} >= {a.key for a in new_alerts}
        assert session.figures().open_alerts == len(session.alerts)
        assert session.acknowledge(new_alerts[0].id)
        assert session.figures().open_alerts == len(session.alerts) - 1
    finally:
        stopping = time.perf_counter()
        await session.stop()
        journal.close()
    # stop() right after a flush must not hang on the timer task (a cancellation
    # swallowed by asyncio.wait_for on 3.11 once made this take 5 s)
    assert time.perf_counter() - stopping < 2.0
    assert session._pump_task is not None and session._pump_task.done()
    assert session._hub_task is not None and session._hub_task.done()


async def test_commands_are_built_routed_and_journaled(fake_hub: type[FakeHub], tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    session = session_on(journal, agent="ana")
    await session.start()
    try:
        hub = fake_hub.instances[-1]
        hub.emit(
            "prod",
            [
                started("c-1", 1),
                ApprovalRequested(
                    type="approval.requested", seq=2, ts=NOW, conversation_id="c-1", approval_id="ap-1", action="refund", amount=30.0
                ),
            ],
        )
        assert (await session.takeover("c-1")).ok
        assert (await session.send("c-1", "Hello, Ana here")).ok
        assert (await session.approve("c-1", "ap-1", note="fine")).ok
        hub.answer = lambda c: CommandResult(c.request_id, ok=False, error="held by bob")
        refused = await session.release("c-1")
        assert not refused.ok and refused.error == "held by bob"
        hub.answer = lambda c: CommandResult(c.request_id, ok=False, error="no ack within 5s", timed_out=True)
        assert (await session.end("c-1", "resolved")).timed_out

        ops = [(feed, c.op, c.agent, c.conversation_id) for feed, c in hub.sent]
        assert ops == [("prod", op, "ana", "c-1") for op in ("takeover", "send", "approve", "release", "end")]
        ids = [c.request_id for _, c in hub.sent]
        assert len(set(ids)) == 5 and all(len(i) == 32 for i in ids)  # uuid4 hex

        records = journal.commands("c-1")
        assert [r.op for r in records] == ["takeover", "send", "approve", "release", "end"]
        assert [r.ok for r in records] == [True, True, True, False, False]
        assert records[1].payload["text"] == "Hello, Ana here"
        assert records[2].payload["approval_id"] == "ap-1" and records[2].payload["note"] == "fine"
        assert records[3].error == "held by bob" and records[4].timed_out
        assert all(r.ack_ts is not None and r.feed == "prod" for r in records)

        # refused before sending: nothing goes out, nothing is journaled
        empty = await session.send("c-1", "")
        assert not empty.ok and not empty.sent and "text" in (empty.error or "")
        assert len(hub.sent) == 5 and len(journal.commands()) == 5
    finally:
        await session.stop()
        journal.close()


async def test_unknown_conversation_with_several_feeds_is_not_sent(fake_hub: type[FakeHub]) -> None:
    journal = Journal(":memory:")
    specs = [FeedSpec("ws://127.0.0.1:1/a", name="a"), FeedSpec("ws://127.0.0.1:1/b", name="b")]
    session = LiveSession(Config(), specs, agent="ana", journal=journal)
    await session.start()
    try:
        fake_hub.instances[-1].emit("b", [started("c-b", 1)])
        result = await session.takeover("nope")
        assert not result.ok and not result.sent and "unknown conversation" in (result.error or "")
        assert (await session.takeover("c-b")).ok
        assert [feed for feed, _ in fake_hub.instances[-1].sent] == ["b"]  # routed to its own feed
    finally:
        await session.stop()


async def test_listener_errors_are_logged_and_do_not_stop_the_session(
    fake_hub: type[FakeHub], caplog: pytest.LogCaptureFixture
) -> None:
    session = session_on(Journal(":memory:"))
    seen: list[SessionChange] = []

    def broken(change: SessionChange) -> None:
        raise RuntimeError("widget exploded")

    session.add_listener(broken)
    session.add_listener(seen.append)
    await session.start()
    try:
        hub = fake_hub.instances[-1]
        hub.emit("prod", quiet_conversation("c-1", 1))
        await wait_until(lambda: any("c-1" in c.changed for c in seen), 3, "first change")
        hub.emit("prod", quiet_conversation("c-2", 4))
        await wait_until(lambda: any("c-2" in c.changed for c in seen), 3, "second change after a failing listener")
        assert "widget exploded" in caplog.text
    finally:
        await session.stop()


async def test_conditions_alert_once_until_they_clear(fake_hub: type[FakeHub], tmp_path: Path) -> None:
    config = Config(alerts=AlertConfig(silent_feed_s=5.0))
    journal = Journal(tmp_path / "j.sqlite3")
    session = LiveSession(config, [FeedSpec("ws://127.0.0.1:1/feed", name="prod")], agent="ana", journal=journal)
    await session.start()
    try:
        hub = fake_hub.instances[-1]
        status = hub.by_name["prod"]
        status.last_frame_at = time.time() - 60  # silent for a minute
        session._check_watchers(time.time())
        session._check_watchers(time.time())
        silent = [a for a in session.alerts if a.key == "feed_silent:prod"]
        assert len(silent) == 1 and silent[0].kind == "feed" and silent[0].level == "warning"
        assert "feed_silent:prod" in session.conditions
        status.last_frame_at = time.time()  # it speaks again: the condition clears...
        session._check_watchers(time.time())
        assert "feed_silent:prod" not in session.conditions
        status.last_frame_at = time.time() - 60  # ...and a new silence alerts again
        session._check_watchers(time.time())
        assert len([a for a in session.alerts if a.key == "feed_silent:prod"]) == 2

        status.state = ConnectionState.FAILED
        status.detail = "401 Unauthorized"
        session._check_watchers(time.time())
        failed = [a for a in session.alerts if a.key == "feed_failed:prod"]
        assert len(failed) == 1 and failed[0].level == "critical" and "401" in failed[0].text
        assert {a.key for a in journal.alerts()} >= {"feed_silent:prod", "feed_failed:prod"}
    finally:
        await session.stop()
        journal.close()


async def test_escalation_rate_out_of_band_alerts_and_extra_watchers_plug_in(fake_hub: type[FakeHub]) -> None:
    config = Config(alerts=AlertConfig(min_conversations=10))
    session = LiveSession(config, [FeedSpec("ws://127.0.0.1:1/feed", name="prod")], agent="ana", journal=Journal(":memory:"))
    calls: list[float] = []

    def trend_watcher(s: LiveSession, now: float) -> list[Condition]:
        calls.append(now)
        return [Condition("trend:sentiment", "warning", "trend", "sentiment falling")]

    session.add_watcher(trend_watcher)
    await session.start()
    try:
        hub = fake_hub.instances[-1]
        now = time.time()
        for i in range(10):  # ten quiet ones that ended a minute ago: but the data covers too little of the window
            hub.emit("prod", quiet_conversation(f"q-{i}", i * 4 + 1, ts=now - 60) + [ended(f"q-{i}", i * 4 + 4, now - 50)])
        session._check_watchers(now)
        assert "escalation_rate_low" not in [a.key for a in session.alerts]
        for i in range(10, 20):  # and ten from ten minutes ago: 0% escalated, under the 3% floor
            hub.emit("prod", quiet_conversation(f"q-{i}", i * 4 + 1, ts=now - 600) + [ended(f"q-{i}", i * 4 + 4, now - 590)])
        session._check_watchers(now)
        keys = [a.key for a in session.alerts]
        assert "escalation_rate_low" in keys and keys.count("trend:sentiment") == 1
        low = next(a for a in session.alerts if a.key == "escalation_rate_low")
        assert low.kind == "aggregate" and "misses cases" in low.text
        assert session.figures(now).escalation_rate == 0.0

        seq = 100
        for i in range(21):  # twenty that asked for a human and ended: 50%, over the 30% ceiling; one still waits
            asked = [started(f"h-{i}", seq, now - 30), say(f"h-{i}", seq + 1, "customer", "Let me talk to a human agent please", now - 29)]
            hub.emit("prod", asked + ([ended(f"h-{i}", seq + 2, now - 20)] if i < 20 else []))
            seq += 3
        session._check_watchers(now)
        assert "escalation_rate_high" in session.conditions and "escalation_rate_low" not in session.conditions
        figures = session.figures(now)
        assert figures.escalation_rate == pytest.approx(0.5)
        assert figures.waiting + figures.held >= 1
        await wait_until(lambda: len(calls) >= 3, 5, "the once-a-second tick to run watchers")
    finally:
        await session.stop()


async def test_restore_rebuilds_state_and_skips_what_it_already_has(fake_hub: type[FakeHub], tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    events = quiet_conversation("c-1", 1) + [
        HumanJoined(type="human.joined", seq=4, ts=NOW + 3, conversation_id="c-1", agent="ana"),
        say("c-1", 5, "human", "Ana here, let me look.", NOW + 4, author="ana"),
    ] + quiet_conversation("c-2", 6) + [
        ConversationEnded(type="conversation.ended", seq=9, ts=NOW + 5, conversation_id="c-2", outcome="resolved", resolved_by="ai"),
    ]
    with Journal(path) as journal:
        first = session_on(journal)
        await first.start()
        fake_hub.instances[-1].emit("prod", events)
        await first.stop()
        before = {cid: (s.holder, s.agent, [t.seq for t in s.turns], s.ended, s.outcome) for cid, s in first.engine.conversations.items()}
    assert before["c-1"][0] == "human" and before["c-2"][3]

    with Journal(path) as journal:
        second = session_on(journal)
        assert second.specs[0].since == 9  # resume where the journal ends
        changes: list[SessionChange] = []
        second.add_listener(changes.append)
        await second.start()
        try:
            after = {cid: (s.holder, s.agent, [t.seq for t in s.turns], s.ended, s.outcome) for cid, s in second.engine.conversations.items()}
            assert after == before
            hub = fake_hub.instances[-1]
            # a feed that ignores since= and resends: nothing is applied twice
            hub.emit("prod", events[-3:] + [say("c-1", 10, "customer", "Thanks!", NOW + 6)])
            await wait_until(lambda: any("c-1" in c.changed for c in changes), 3, "restored conversations announced")
            assert [t.seq for t in second.engine.conversations["c-1"].turns] == [2, 3, 5, 10]
            assert journal.counts()["events"] == 10
            figures = second.figures(NOW + 10)
            assert (figures.total_seen, figures.ended, figures.containment) == (2, 1, 1.0)
        finally:
            await second.stop()

    with Journal(path) as journal:  # restore=False: a fresh floor, no resume
        fresh = session_on(journal, restore=False)
        assert fresh.specs[0].since is None and fresh.engine.conversations == {}


async def test_rejected_frames_are_kept_and_journaled(fake_hub: type[FakeHub], tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        session = session_on(journal)
        await session.start()
        try:
            fake_hub.instances[-1].emit("prod", [], [RejectedFrame("malformed JSON", "{oops", "prod")])
            assert [r.reason for r in session.rejected] == ["malformed JSON"]
            assert [r.excerpt for r in journal.rejected()] == ["{oops"]
        finally:
            await session.stop()


async def test_a_failing_journal_raises_one_alert_and_supervision_goes_on(fake_hub: type[FakeHub], tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    session = session_on(journal)
    await session.start()
    try:
        journal.close()  # every write now fails
        hub = fake_hub.instances[-1]
        hub.emit("prod", quiet_conversation("c-1", 1))
        hub.emit("prod", quiet_conversation("c-2", 4))
        assert set(session.engine.conversations) == {"c-1", "c-2"}
        assert (await session.takeover("c-1")).ok  # commands still go out
        # one alert for the failing disk, naming the feed whose events are not saved
        assert [a.key for a in session.alerts if a.key.startswith("journal_failed")] == ["journal_failed:prod"]
        assert [a.level for a in session.alerts if a.key.startswith("journal_failed")] == ["critical"]
    finally:
        await session.stop()


def test_replay_controls_only_in_replay_mode(fake_hub: type[FakeHub]) -> None:
    session = session_on(Journal(":memory:"))
    assert session.replay() is None
    assert session.restore is True
    replay = LiveSession(Config(), [FeedSpec("rec.jsonl", name="rec")], agent="ana", journal=Journal(":memory:"), mode="replay")
    assert replay.restore is False  # a replay always starts from the top
    controls = replay.replay()
    assert controls is not None and controls.progress == 0.0 and not controls.paused


# ------------------------------------------------------------------ end to end on the simulator


def _snapshot(session: LiveSession) -> dict[str, tuple[Any, ...]]:
    return {
        cid: (s.feed, s.holder, s.agent, tuple((t.seq, t.role, t.text) for t in s.turns), s.ended, s.outcome)
        for cid, s in session.engine.conversations.items()
    }


def _human_then_customer(session: LiveSession, cid: str, text: str) -> bool:
    turns = session.engine.conversations[cid].turns
    for i, turn in enumerate(turns):
        if turn.role == "human" and turn.text == text:
            return any(t.role == "customer" for t in turns[i + 1 :])
    return False


@pytest.mark.slow
async def test_end_to_end_on_the_simulator(tmp_path: Path) -> None:
    from hitl_console.sim.server import SimulatorServer

    path = tmp_path / "journal.sqlite3"
    server = SimulatorServer("127.0.0.1", 0, None, rate=1.0, seed=11, pace=0.1, initial_conversations=8)
    await server.start()
    try:
        journal = Journal(path)
        session = LiveSession(Config(), [FeedSpec(server.ws_url, name="sim")], agent="ana", journal=journal)
        changes: list[SessionChange] = []
        session.add_listener(changes.append)
        await asyncio.wait_for(session.start(), 5)

        def open_ai_conversation() -> str | None:
            for cid, state in session.engine.conversations.items():
                sim = server.platform.conversations.get(cid)
                if state.saw_start and not state.ended and state.holder == "ai" and sim is not None and not sim.ended:
                    return cid
            return None

        await wait_until(lambda: open_ai_conversation() is not None, 10, "an open AI conversation")
        await wait_until(lambda: bool(changes), 2, "listeners to hear about the new conversations")
        figures = session.figures()
        assert figures.total_seen >= 1 and figures.feeds[0].name == "sim"

        cid = None
        for _ in range(5):  # a conversation may end between seeing it and taking it over
            cid = open_ai_conversation()
            assert cid is not None
            taken = await session.takeover(cid)
            if taken.ok:
                break
            assert "ended" in (taken.error or ""), taken.error
        assert cid is not None and taken.ok, taken.describe()
        state = session.engine.conversations[cid]
        await wait_until(lambda: state.holder == "human" and state.agent == "ana", 5, "human.joined from the feed")

        text = "Hello, this is Ana from the support team."
        sent = await session.send(cid, text)
        assert sent.ok, sent.describe()
        await wait_until(lambda: _human_then_customer(session, cid, text), 15, "the human message and a customer reply")

        # a second supervisor cannot take it: the feed arbitrates and names the holder
        # (since=0: the feed replays its retained history, so bob sees the held conversation)
        other = LiveSession(Config(), [FeedSpec(server.ws_url, name="sim", since=0)], agent="bob", journal=Journal(":memory:"))
        await other.start()
        try:
            await wait_until(lambda: cid in other.engine.conversations, 5, "the second session to see the conversation")
            refused = await other.takeover(cid)
            assert not refused.ok and refused.sent and "ana" in (refused.error or "")
        finally:
            await other.stop()

        released = await session.release(cid, note="sorted the billing question")
        assert released.ok, released.describe()
        await wait_until(lambda: state.holder != "human", 5, "human.left")

        records = journal.commands(cid)
        assert [(r.op, r.ok) for r in records] == [("takeover", True), ("send", True), ("release", True)]
        by_op = {r.op: r for r in records}
        assert all(r.agent == "ana" and r.feed == "sim" and r.ack_ts is not None for r in by_op.values())
        assert by_op["send"].payload["text"] == text
        assert by_op["release"].payload["note"] == "sorted the billing question"

        await asyncio.wait_for(session.stop(), 10)
        before = _snapshot(session)
        cursor = journal.last_seq("sim")
        journal.close()
        assert cursor is not None and cid in before

        # restart: the same floor comes back from the journal and the feed resumes after it
        journal = Journal(path)
        restored = LiveSession(Config(), [FeedSpec(server.ws_url, name="sim")], agent="ana", journal=journal)
        assert restored.specs[0].since == cursor
        await restored.start()
        try:
            assert _snapshot(restored) == before
            client = restored.hub.clients["sim"]
            await wait_until(lambda: (journal.last_seq("sim") or 0) > cursor, 10, "new events after the restart")
            status = client.status
            assert status.duplicates == 0 and status.out_of_order == 0  # the feed honoured since=
            for state in restored.engine.conversations.values():
                seqs = [t.seq for t in state.turns]
                assert len(seqs) == len(set(seqs)), f"{state.conversation_id} has a turn twice"
        finally:
            await asyncio.wait_for(restored.stop(), 10)
            journal.close()
    finally:
        await server.stop()


@pytest.mark.slow
async def test_demo_session_runs_its_own_simulator() -> None:
    journal = Journal(":memory:")
    session = await LiveSession.demo(Config(), agent="ana", journal=journal, speed=5.0, seed=3)
    assert session.mode == "demo" and not session.restore and session.server is not None
    assert session.specs[0].name.startswith("demo-")
    await session.start()
    try:
        await wait_until(lambda: len(session.engine.conversations) >= 5, 10, "the demo's initial conversations")
        assert session.figures().active >= 1
        assert journal.counts()["events"] > 0
    finally:
        await asyncio.wait_for(session.stop(), 10)
    journal.close()


async def test_old_ended_conversations_are_forgotten_and_announced(
    fake_hub: type[FakeHub], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(live_module, "MAX_ENDED_KEPT", 2)
    with Journal(tmp_path / "j.sqlite3") as journal:
        session = session_on(journal)
        changes: list[SessionChange] = []
        session.add_listener(changes.append)
        await session.start()
        try:
            hub = fake_hub.instances[-1]
            for i in range(4):
                cid = f"c-{i}"
                hub.emit("prod", [started(cid, i * 2 + 1), ConversationEnded(type="conversation.ended", seq=i * 2 + 2, ts=NOW, conversation_id=cid, outcome="resolved")])
            hub.emit("prod", [started("open", 100)])
            session._forget_ended()
            assert set(session.engine.conversations) == {"c-2", "c-3", "open"}
            await wait_until(lambda: any(c.removed for c in changes), 3, "the removal to reach listeners")
            assert set().union(*(c.removed for c in changes)) == {"c-0", "c-1"}
            assert journal.conversation_ids() == ["c-0", "c-1", "c-2", "c-3", "open"]  # still on disk
        finally:
            await session.stop()


async def test_the_same_id_from_two_feeds_is_two_conversations_and_commands_carry_the_feeds_id(
    fake_hub: type[FakeHub],
) -> None:
    journal = Journal(":memory:")
    specs = [FeedSpec("ws://127.0.0.1:1/a", name="a"), FeedSpec("ws://127.0.0.1:1/b", name="b")]
    session = LiveSession(Config(), specs, agent="ana", journal=journal)
    await session.start()
    try:
        hub = fake_hub.instances[-1]
        hub.emit("a", [started("c-1", 1), say("c-1", 2, "customer", "Where is my parcel?")])
        hub.emit("b", [started("c-1", 1), say("c-1", 2, "customer", "My card was stolen")])
        await wait_until(lambda: session.conversation("c-1@b") is not None)
        mine, theirs = session.conversation("c-1"), session.conversation("c-1@b")
        assert mine is not None and theirs is not None
        assert [t.text for t in mine.turns] == ["Where is my parcel?"] and mine.feed == "a"
        assert [t.text for t in theirs.turns] == ["My card was stolen"] and theirs.feed == "b"
        assert theirs.feed_id == "c-1" and mine.feed_id == "c-1"
        assert (await session.takeover("c-1@b")).ok
        feed, command = hub.sent[-1]
        assert feed == "b" and command.conversation_id == "c-1"  # the id feed b knows
        assert session.engine.id_collisions == 1
        collision = [a for a in session.alerts if a.key == "id-collision:c-1@b"]
        assert len(collision) == 1 and "also used by feed a" in collision[0].text and "shown as c-1@b" in collision[0].text
    finally:
        await session.stop()


async def test_a_restart_keeps_two_feeds_same_id_apart(fake_hub: type[FakeHub], tmp_path: Path) -> None:
    specs = [FeedSpec("ws://127.0.0.1:1/a", name="a"), FeedSpec("ws://127.0.0.1:1/b", name="b")]
    path = tmp_path / "j.sqlite3"
    with Journal(path) as journal:
        first = LiveSession(Config(), specs, agent="ana", journal=journal)
        await first.start()
        hub = fake_hub.instances[-1]
        hub.emit("a", [started("c-1", 1), say("c-1", 2, "customer", "Where is my parcel?")])
        hub.emit("b", [started("c-1", 1), say("c-1", 2, "customer", "My card was stolen")])
        await wait_until(lambda: first.conversation("c-1@b") is not None)
        await first.stop()
    with Journal(path) as journal:
        second = LiveSession(Config(), specs, agent="ana", journal=journal)
        await second.start()
        try:
            mine, theirs = second.conversation("c-1"), second.conversation("c-1@b")
            assert mine is not None and [t.text for t in mine.turns] == ["Where is my parcel?"]
            assert theirs is not None and [t.text for t in theirs.turns] == ["My card was stolen"]
            assert not [a for a in second.alerts if a.key.startswith("id-collision")]  # a rebuild is not news
        finally:
            await second.stop()
