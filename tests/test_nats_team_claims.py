"""Shared claims wired into the console: takeovers and review items claimed in
the team's ``hitl-claims`` bucket, against a real nats-server.

The platform stand-in here acknowledges *every* takeover (it does not
arbitrate), so only the bucket keeps two supervisors off one chat.
"""

from __future__ import annotations

import asyncio

import pytest

from hitl_console.config import Config, TeamConfig
from hitl_console.feeds.hub import FeedSpec
from hitl_console.session import LiveSession, team_bus
from hitl_console.store.journal import Journal
from live_support import wait_until
from natsserver import floor_stream, lenient_platform, team_console as console

pytestmark = pytest.mark.slow


def test_the_team_bus_is_the_config_or_the_first_nats_feed():
    ws, js = FeedSpec("ws://127.0.0.1:1/feed"), FeedSpec("nats://127.0.0.1:4222/HITL", token="t0k")
    assert team_bus(Config(), [ws]) is None
    assert team_bus(Config(), [ws, js]) == ("nats://127.0.0.1:4222/HITL", "t0k")
    team = Config(team=TeamConfig(nats="nats://10.0.0.5:4222"))
    assert team_bus(team, [ws]) == ("nats://10.0.0.5:4222", None)
    assert LiveSession(Config(), [ws], agent="ann", journal=Journal(":memory:")).claims is None
    assert LiveSession(Config(team=TeamConfig(claims=False)), [js], agent="ann", journal=Journal(":memory:")).claims is None
    with pytest.raises(ValueError):
        TeamConfig(nats="ws://platform/feed")


async def test_two_consoles_race_for_one_chat_exactly_one_holds_it_and_the_other_reads_who(nats_server, tmp_path):
    target = await floor_stream(nats_server.url)
    async with lenient_platform(nats_server.url) as seen:
        ann, bob = console(target, "ann", tmp_path), console(target, "bob", tmp_path)
        await ann.start()
        await bob.start()
        try:
            await wait_until(lambda: "c-1" in ann.engine.conversations and "c-1" in bob.engine.conversations, 10, "the floor on both")
            first, second = await asyncio.gather(ann.takeover("c-1"), bob.takeover("c-1"))
            assert first.ok != second.ok, (first.describe(), second.describe())
            (winner, won), (loser, lost) = ((ann, first), (bob, second)) if first.ok else ((bob, second), (ann, first))
            assert won.ok and not lost.ok and not lost.sent
            assert lost.describe() == f"not sent: held by {winner.agent} (team claim)"
            assert await loser.chat_holder("c-1") == winner.agent == await winner.chat_holder("c-1")
            assert [(c["op"], c["agent"]) for c in seen] == [("takeover", winner.agent)]  # the loser sent nothing
            await wait_until(lambda: loser.engine.conversations["c-1"].agent == winner.agent, 10, "the loser sees the holder on the feed")

            # The other chat is free for the loser; the winner's hand-back frees c-1.
            assert (await loser.takeover("c-2")).ok
            assert not (await winner.takeover("c-2")).ok
            assert (await winner.release("c-1", "done")).ok
            assert await loser.chat_holder("c-1") is None
            again = await loser.takeover("c-1")
            assert again.ok, again.describe()
            # Ending a chat frees it too.
            assert (await loser.end("c-2", "resolved")).ok
            assert await winner.chat_holder("c-2") is None
        finally:
            await ann.stop()
            await bob.stop()


async def test_a_claim_is_renewed_while_held(nats_server, tmp_path):
    target = await floor_stream(nats_server.url)
    async with lenient_platform(nats_server.url):
        ann, bob = console(target, "ann", tmp_path, ttl=2), console(target, "bob", tmp_path, ttl=2)
        await ann.start()
        await bob.start()
        try:
            await wait_until(lambda: "c-1" in ann.engine.conversations and "c-1" in bob.engine.conversations, 10, "the floor on both")
            assert (await ann.takeover("c-1")).ok
            await asyncio.sleep(2.6)  # longer than the TTL: only renewals keep it
            refused = await bob.takeover("c-1")
            assert refused.error == "held by ann (team claim)"
            assert ann.claims is not None and ann.claims.holds("chat", "c-1")
        finally:
            await ann.stop()
            await bob.stop()


HOLDER_SCRIPT = """
import asyncio, sys
sys.path.insert(0, sys.argv[3])
from natsserver import team_console
from pathlib import Path

async def main():
    ann = team_console(sys.argv[1], "ann", Path(sys.argv[2]), ttl=2)
    await ann.start()
    while "c-1" not in ann.engine.conversations:
        await asyncio.sleep(0.02)
    result = await ann.takeover("c-1")
    print("held" if result.ok else result.describe(), flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_a_console_process_killed_while_holding_a_chat_frees_it_after_the_ttl(nats_server, tmp_path):
    import os
    import signal
    import sys
    from pathlib import Path

    target = await floor_stream(nats_server.url)
    async with lenient_platform(nats_server.url):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", HOLDER_SCRIPT, target, str(tmp_path), str(Path(__file__).parent),
            stdout=asyncio.subprocess.PIPE, env={**os.environ, "HITL_CONSOLE_DATA_DIR": str(tmp_path / "ann-data")},
        )
        bob = console(target, "bob", tmp_path, ttl=2)
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), 20)
            assert line.strip() == b"held", line
            await bob.start()
            await wait_until(lambda: "c-1" in bob.engine.conversations, 10, "the floor on bob's console")
            assert (await bob.takeover("c-1")).error == "held by ann (team claim)"
            proc.send_signal(signal.SIGKILL)  # no goodbye: nothing released
            await asyncio.wait_for(proc.wait(), 5)
            assert (await bob.takeover("c-1")).error == "held by ann (team claim)"
            for _ in range(80):  # bounded: the TTL is 2 s
                result = await bob.takeover("c-1")
                if result.ok:
                    break
                await asyncio.sleep(0.1)
            assert result.ok, result.describe()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            await bob.stop()


async def test_a_restarted_console_claims_again_the_chats_the_feed_shows_it_holding(nats_server, tmp_path):
    target = await floor_stream(nats_server.url)
    async with lenient_platform(nats_server.url):
        ann = console(target, "ann", tmp_path, ttl=2)
        await ann.start()
        try:
            await wait_until(lambda: "c-1" in ann.engine.conversations, 10, "the floor")
            assert (await ann.takeover("c-1")).ok
            await wait_until(lambda: ann.engine.conversations["c-1"].agent == "ann", 10, "human.joined on the feed")
        finally:
            await ann.stop()
        ann2, bob = console(target, "ann", tmp_path, ttl=2), console(target, "bob", tmp_path, ttl=2)
        await ann2.start()
        await bob.start()
        try:
            await wait_until(lambda: "c-1" in bob.engine.conversations, 10, "the floor on bob's console")
            await asyncio.sleep(3.0)  # past the old claim's TTL: only ann2's adoption holds it now
            refused = await bob.takeover("c-1")
            assert refused.error == "held by ann (team claim)"
            assert ann2.claims is not None and ann2.claims.holds("chat", "c-1")
        finally:
            await ann2.stop()
            await bob.stop()


async def test_review_items_are_claimed_across_consoles_and_a_reviewed_one_stays_taken(nats_server, tmp_path):
    from hitl_console.store.reviews import ClaimError, NewItem

    target = await floor_stream(nats_server.url)
    ann, bob = console(target, "ann", tmp_path), console(target, "bob", tmp_path)
    await ann.start()
    await bob.start()
    try:
        for session in (ann, bob):  # each console queues the same ended conversation in its own journal
            session.reviews.add_items([NewItem("c-1", "qa", "qa", "sampled", 0.4, feed="floor")])
        (item,) = ann.reviews.items()
        first, second = await asyncio.gather(ann.claim_review(item.item_id), bob.claim_review(item.item_id))
        assert first.ok != second.ok
        winner, loser, lost = (ann, bob, second) if first.ok else (bob, ann, first)
        assert lost.holder == winner.agent and lost.error == f"held by {winner.agent}"
        assert winner.reviews.item(item.item_id).claimed_by == winner.agent
        assert loser.reviews.item(item.item_id).claimed_by is None  # refused before its own store was touched
        # Holding it in one's own file is not enough: the team's claim decides.
        assert loser.reviews.claim(item.item_id, loser.agent)
        with pytest.raises(ClaimError, match="team's claims"):
            loser.record_review_verdict(item.item_id, "ai_wrong")
        assert loser.reviews.release(item.item_id, loser.agent)
        winner.record_review_verdict(item.item_id, "ai_right")
        await winner.review_done(item.item_id)
        done = await loser.claim_review(item.item_id)
        assert not done.ok and done.done and done.holder == winner.agent
        # Giving an item back frees it for the other console.
        for session in (ann, bob):
            session.reviews.add_items([NewItem("c-2", "qa", "qa", "sampled", 0.3, feed="floor")])
        other = next(i for i in ann.reviews.items() if i.conversation_id == "c-2")
        assert (await winner.claim_review(other.item_id)).ok
        assert not (await loser.claim_review(other.item_id)).ok
        assert await winner.release_review(other.item_id)
        assert (await loser.claim_review(other.item_id)).ok
    finally:
        await ann.stop()
        await bob.stop()


async def test_an_unreachable_bucket_refuses_the_takeover_and_sends_nothing(tmp_path, monkeypatch):
    import hitl_console.feeds.claims as claims_module
    from natsserver import free_port

    monkeypatch.setattr(claims_module, "CONNECT_WAIT_S", 0.3)
    port = free_port()  # nobody listens there
    config = Config(team=TeamConfig(nats=f"nats://127.0.0.1:{port}"))
    session = LiveSession(config, [FeedSpec(str(tmp_path / "none.jsonl"), name="f")], agent="ann", journal=Journal(":memory:"))
    await session.start()
    try:
        result = await session.takeover("c-1")
    finally:
        await session.stop()
    assert not result.ok and not result.sent
    assert result.error is not None and result.error.startswith(f"not claimed: the team's claims bucket at 127.0.0.1:{port} is not reachable")
