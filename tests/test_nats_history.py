"""Shared history on the ``hitl-history`` stream, against a real nats-server:
commands, takeover verdicts, review verdicts and alerts of every console
reach every other; metrics count the whole team; a new console catches up;
a restart resumes from the local cache with nothing twice; a server restart
loses nothing queued meanwhile."""

from __future__ import annotations

import asyncio

import nats
import pytest

from hitl_console.store.reviews import NewItem, Verdict
from live_support import wait_until
from natsserver import floor_stream, lenient_platform, team_console as console

pytestmark = pytest.mark.slow


async def history_messages(url: str) -> int:
    nc = await nats.connect(url)
    try:
        return (await nc.jetstream().stream_info("hitl-history")).state.messages
    finally:
        await nc.close()


async def test_verdicts_and_commands_of_one_console_count_on_another_and_a_new_console_catches_up(nats_server, tmp_path):
    target = await floor_stream(nats_server.url)
    async with lenient_platform(nats_server.url):
        ann, bob = console(target, "ann", tmp_path), console(target, "bob", tmp_path)
        await ann.start()
        await bob.start()
        try:
            await wait_until(lambda: "c-1" in ann.engine.conversations and "c-1" in bob.engine.conversations, 10, "the floor on both")
            assert (await ann.takeover("c-1")).ok
            await wait_until(lambda: bob.engine.conversations["c-1"].escalated, 10, "bob sees c-1 escalated")
            assert (await ann.release("c-1", "sorted")).ok
            ann.record_takeover_verdict("c-1", True, "customer asked twice")

            # bob's metrics count ann's verdict (his own store had none).
            await wait_until(lambda: bob.escalation_verdicts().get(("floor", "c-1")) is True, 10, "ann's verdict on bob's console")
            metrics = bob.metrics()
            assert metrics.accuracy_verdicts == 1 and metrics.escalation_accuracy == 1.0
            (tv,) = bob.reviews.takeover_verdicts()
            assert (tv.agent, tv.note, tv.feed) == ("ann", "customer asked twice", "floor")
            commands = [(r.agent, r.record["op"], r.record["ok"]) for r in bob.team_history("command")]
            assert commands == [("ann", "takeover", True), ("ann", "release", True)]

            # A reviewer's verdict on bob's console closes the item on ann's.
            for session in (ann, bob):
                session.reviews.add_items([NewItem("c-2", "qa", "qa", "sampled", 0.3, feed="floor")])
            (item,) = bob.reviews.items()
            assert (await bob.claim_review(item.item_id)).ok
            bob.record_review_verdict(item.item_id, Verdict.ESCALATION_NOT_NEEDED, "fine")
            await wait_until(lambda: ann.reviews.item(item.item_id).status == "done", 10, "bob's verdict on ann's console")
            (rv,) = ann.reviews.verdicts()
            assert (rv.reviewer, rv.verdict, rv.conversation_id) == ("bob", Verdict.ESCALATION_NOT_NEEDED, "c-2")
            assert ann.escalation_verdicts() == bob.escalation_verdicts() == {("floor", "c-1"): True, ("floor", "c-2"): False}
            assert await ann.history.flush() and await bob.history.flush()
        finally:
            await ann.stop()
            await bob.stop()

    # A new console, on a fresh journal, catches up from the stream.
    total = await history_messages(nats_server.url)
    carol = console(target, "carol", tmp_path)
    await carol.start()
    try:
        await wait_until(lambda: (carol.history.cursor or 0) >= total, 10, "carol caught up")
        assert carol.escalation_verdicts() == {("floor", "c-1"): True, ("floor", "c-2"): False}
        others = [r for r in carol.team_history() if r.agent != "carol"]
        assert [r.stream_seq for r in others] == list(range(1, total + 1))
        assert {"command", "takeover_verdict", "review_verdict"} <= {r.kind for r in others}
        assert await carol.history.flush()
    finally:
        await carol.stop()
    cached = len(carol.team_history())
    # Restarted on the same journal: resumes after its cursor, applies nothing twice.
    again = console(target, "carol", tmp_path)
    await again.start()
    try:
        assert again.history.cursor == carol.history.cursor
        await asyncio.sleep(0.3)
        assert len(again.reviews.takeover_verdicts()) == 1 and len(again.reviews.verdicts()) == 1
        assert len(again.team_history()) >= cached
        seqs = [r.stream_seq for r in again.team_history()]
        assert seqs == sorted(set(seqs))
    finally:
        await again.stop()


async def test_records_made_while_the_server_is_down_arrive_once_after_it_restarts(nats_server, tmp_path):
    target = await floor_stream(nats_server.url)
    ann, bob = console(target, "ann", tmp_path), console(target, "bob", tmp_path)
    await ann.start()
    await bob.start()
    try:
        await wait_until(lambda: "c-1" in ann.engine.conversations, 10, "the floor")
        ann.record_takeover_verdict("c-1", False)
        await wait_until(lambda: len(bob.reviews.takeover_verdicts()) == 1, 10, "the first verdict on bob's console")
        nats_server.stop(kill=True)
        ann.record_takeover_verdict("c-2", True)  # queued: nobody to publish to
        await asyncio.sleep(0.3)
        assert len(ann.history.outbox) == 1
        nats_server.start()
        await wait_until(lambda: len(bob.reviews.takeover_verdicts()) == 2, 20, "the queued verdict after the restart")
        await asyncio.sleep(0.5)
        assert [(v.conversation_id, v.escalation_needed) for v in bob.reviews.takeover_verdicts()] == [("c-1", False), ("c-2", True)]
        assert not ann.history.outbox
        stored = [r.record["conversation_id"] for r in bob.team_history("takeover_verdict")]
    finally:
        await ann.stop()
        await bob.stop()
    assert stored == ["c-1", "c-2"]  # the retried publish was stored once


async def test_a_floor_alert_raised_by_two_consoles_is_published_and_stored_once(nats_server, tmp_path):
    """Both consoles on one stream raise the same trigger alert (same conversation,
    same seq). The team's history holds it once (team-wide ``Nats-Msg-Id``), each
    console raises and journals only its own, and each cache keeps one row, even
    when another copy reaches the stream under an id of its own (an older console)."""
    import json
    import time

    from natsserver import publish

    target = await floor_stream(nats_server.url)
    ann, bob = console(target, "ann", tmp_path), console(target, "bob", tmp_path)
    await ann.start()
    await bob.start()
    try:
        await wait_until(lambda: "c-1" in ann.engine.conversations and "c-1" in bob.engine.conversations, 10, "the floor on both")
        ask = {"v": 1, "type": "message", "seq": 20, "ts": time.time(), "conversation_id": "c-1", "role": "customer", "text": "I want a human"}
        await publish(nats_server.url, [ask])

        def raised(session) -> list:
            return [a for a in session.alerts if a.kind == "trigger" and "human_request" in a.key]

        await wait_until(lambda: raised(ann) and raised(bob), 10, "the trigger alert on both consoles")
        (mine,), (his,) = raised(ann), raised(bob)
        assert mine.key == his.key
        assert await ann.history.flush() and await bob.history.flush()
        total = await history_messages(nats_server.url)
        await wait_until(lambda: ann.history.cursor == total and bob.history.cursor == total, 10, "both caught up")
        floor_keys = sorted(a.key for a in ann.alerts if a.kind == "trigger")
        assert floor_keys == sorted(a.key for a in bob.alerts if a.kind == "trigger") and len(floor_keys) >= 1
        assert total == len(floor_keys)  # one copy of each, not one per console

        # An older console publishes the same alert under an id of its own: cached once all the same.
        nc = await nats.connect(nats_server.url)
        try:
            record = {"kind": "alert", "origin": "old-console", "agent": "carl", "ts": mine.ts + 1, "level": mine.level,
                      "alert_kind": "trigger", "key": mine.key, "text": mine.text, "conversation_id": "c-1"}
            await nc.jetstream().publish("hitl.history.alert", json.dumps(record).encode(), headers={"Nats-Msg-Id": "old-console:1"})
        finally:
            await nc.close()
        await wait_until(lambda: ann.history.cursor == total + 1 and bob.history.cursor == total + 1, 10, "the old console's copy read")
        for session in (ann, bob):
            assert sorted(r.record["key"] for r in session.team_history("alert")) == floor_keys
            assert len(raised(session)) == 1  # nobody else's alert is raised here
            assert [a.key for a in session.journal.alerts() if a.key == mine.key] == [mine.key]
    finally:
        await ann.stop()
        await bob.stop()
