"""Shared claims in a JetStream KV bucket: compare-and-set and TTL, real server."""

from __future__ import annotations

import asyncio
import re

import pytest

from hitl_console.feeds.claims import ClaimStore, claim_key

pytestmark = pytest.mark.slow


def test_keys_are_valid_nats_keys():
    assert claim_key("chat", "c-1042") == "chat.c-1042"
    odd = claim_key("review", "conv/1 ünï")
    assert odd.startswith("review.=") and re.fullmatch(r"[-/_=.a-zA-Z0-9]+", odd)  # what NATS allows in a key
    assert claim_key("review", "a b") != claim_key("review", "a_b")
    assert claim_key("review", "=YQ") != claim_key("review", "a")  # "a" encodes to "=YQ"
    with pytest.raises(ValueError):
        claim_key("lunch", "x")


async def test_two_consoles_racing_for_the_same_chats_each_chat_has_one_holder(nats_server):
    ann, bob = ClaimStore(nats_server.url, console="ann-laptop"), ClaimStore(nats_server.url, console="bob-desk")
    await ann.connect()
    await bob.connect()
    try:
        chats = [f"c-{i}" for i in range(40)]
        results = await asyncio.gather(*(store.claim("chat", c, who) for c in chats for store, who in ((ann, "ann"), (bob, "bob"))))
        pairs = [results[i : i + 2] for i in range(0, len(results), 2)]
        assert all(sum(r.ok for r in pair) == 1 for pair in pairs)
        for chat, (a, b) in zip(chats, pairs):
            winner = "ann" if a.ok else "bob"
            loser = b if a.ok else a
            assert loser.holder == winner and loser.error == f"held by {winner}"
            assert await ann.holder("chat", chat) == winner == await bob.holder("chat", chat)
        # Either console may win any number of the races; what matters is one holder each.
        chat, (a, _) = chats[0], pairs[0]
        (holder, holder_name), (other, other_name) = ((ann, "ann"), (bob, "bob")) if a.ok else ((bob, "bob"), (ann, "ann"))
        assert (await holder.renew("chat", chat, holder_name)).ok  # renewing one's own claim
        assert not await other.release("chat", chat, other_name)  # only the holder releases
        assert await holder.release("chat", chat, holder_name)
        assert (await other.claim("chat", chat, other_name)).ok
        # An id NATS would not take as a key (a review item id) works through its encoding.
        item = "qa:floor:c-1/ü"
        assert (await ann.claim("review", item, "ann")).ok and await bob.holder("review", item) == "ann"
        assert await ann.finish("review", item, "ann")
        again = await bob.claim("review", item, "bob")
        assert not again.ok and again.done and again.error == "already done by ann"
        assert not await ann.release("review", item, "ann")  # a done marker stays
    finally:
        await ann.close()
        await bob.close()


async def test_a_claim_of_a_console_that_died_expires(nats_server):
    dead, alive = ClaimStore(nats_server.url, ttl_s=1), ClaimStore(nats_server.url, ttl_s=1)
    await dead.connect()
    await alive.connect()
    try:
        assert (await dead.claim("review", "item-7", "ann")).ok
        await dead.close()  # ann's console is gone: nobody renews
        refused = await alive.claim("review", "item-7", "bob")
        assert not refused.ok and refused.holder == "ann"
        for _ in range(60):  # bounded: the TTL is 1 s
            await asyncio.sleep(0.1)
            if (await alive.claim("review", "item-7", "bob")).ok:
                break
        assert await alive.holder("review", "item-7") == "bob"
    finally:
        await alive.close()
