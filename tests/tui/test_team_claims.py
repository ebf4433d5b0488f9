"""The console on a team's NATS: a supervisor in the app (Pilot) and another
console race for one chat through the ``hitl-claims`` bucket, and a
reviewer's claim is refused with the other console's reviewer named.
Real nats-server; the platform stand-in acknowledges every takeover."""

from __future__ import annotations

import asyncio

import pytest

from hitl_console.store.reviews import NewItem
from hitl_console.tui.app import HitlApp
from hitl_console.tui.screens.conversation import ConversationScreen
from hitl_console.tui.screens.review_queue import ReviewScreen
from natsserver import floor_stream, lenient_platform, team_console as console

from .fixtures import screen_text
from .test_simulator_e2e import wait_until

pytestmark = pytest.mark.slow


async def test_the_app_and_another_console_race_for_one_chat(nats_server, tmp_path) -> None:
    target = await floor_stream(nats_server.url)
    async with lenient_platform(nats_server.url) as seen:
        bob = console(target, "bob", tmp_path)
        await bob.start()
        try:
            ann = console(target, "ann", tmp_path)
            app = HitlApp(ann, watch_terminal=False, key_guard=False)
            async with app.run_test(size=(80, 24)) as pilot:
                await wait_until(pilot, lambda: "c-1" in ann.engine.conversations and "c-1" in bob.engine.conversations, "the floor on both")
                app.open_conversation("c-1", takeover=True)
                await wait_until(pilot, lambda: type(app.screen).__name__ == "HandoffScreen", "the handoff summary")
                bobs = asyncio.ensure_future(bob.takeover("c-1"))
                await pilot.press("ctrl+y")
                def joined() -> bool:  # the screen says so (no toast: it would cover the message box)
                    return isinstance(app.screen, ConversationScreen) and app.screen._joined

                await wait_until(pilot, lambda: bobs.done() and (joined() or any(n.title == "Not joined" for n in app._notifications)), "both answers")
                bob_result = bobs.result()
                ann_joined = joined()
                assert ann_joined != bob_result.ok  # exactly one holds it
                winner = "ann" if ann_joined else "bob"
                assert [(c["op"], c["agent"]) for c in seen] == [("takeover", winner)]  # the loser sent nothing
                assert await ann.chat_holder("c-1") == winner == await bob.chat_holder("c-1")
                if ann_joined:
                    assert bob_result.error == "held by ann (team claim)"
                else:
                    refusal = next(n for n in app._notifications if n.title == "Not joined")
                    assert refusal.message.startswith("Takeover of c-1 not sent: held by bob (team claim).")
                    assert isinstance(app.screen, ConversationScreen)
                    await wait_until(pilot, lambda: "held by bob" in screen_text(app), "the holder on screen (from the feed)")
        finally:
            await bob.stop()


async def test_a_reviewer_in_the_app_is_told_who_on_another_console_has_the_item(nats_server, tmp_path) -> None:
    target = await floor_stream(nats_server.url)
    bob = console(target, "bob", tmp_path)
    await bob.start()
    try:
        ann = console(target, "ann", tmp_path)
        app = HitlApp(ann, watch_terminal=False, key_guard=False)
        async with app.run_test(size=(100, 30)) as pilot:
            for session in (ann, bob):  # each console's own journal queues the same conversation
                session.reviews.add_items([NewItem("c-1", "qa", "qa", "sampled", 0.4, feed="floor")])
            (item,) = ann.reviews.items()
            assert (await bob.claim_review(item.item_id)).ok
            app.push_screen(ReviewScreen())
            await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.is_mounted and bool(app.screen._items), "the queue")
            await pilot.press("c")
            await wait_until(pilot, lambda: any(n.title == "Not claimed" for n in app._notifications), "the refusal")
            refusal = next(n for n in app._notifications if n.title == "Not claimed")
            assert refusal.message == "bob is reviewing c-1 (team claim)."
            assert ann.reviews.item(item.item_id).claimed_by is None
            await bob.release_review(item.item_id)
            await pilot.press("c")
            await wait_until(pilot, lambda: ann.reviews.item(item.item_id).claimed_by == "ann", "ann's claim")
            assert await bob.claims.holder_of("review", item.item_id) == "ann"
            assert not (await bob.claim_review(item.item_id)).ok
    finally:
        await bob.stop()


async def test_the_metrics_screen_counts_a_verdict_given_on_another_console(nats_server, tmp_path) -> None:
    from textual.widgets import Static

    from hitl_console.tui.screens.metrics import MetricsScreen

    target = await floor_stream(nats_server.url)
    async with lenient_platform(nats_server.url):
        bob = console(target, "bob", tmp_path)
        await bob.start()
        try:
            ann = console(target, "ann", tmp_path)
            app = HitlApp(ann, watch_terminal=False, key_guard=False)
            async with app.run_test(size=(100, 30)) as pilot:
                await wait_until(pilot, lambda: "c-1" in ann.engine.conversations and "c-1" in bob.engine.conversations, "the floor on both")
                assert (await bob.takeover("c-1")).ok
                await wait_until(pilot, lambda: ann.engine.conversations["c-1"].escalated, "c-1 escalated on ann's console")
                await pilot.press("M")
                await wait_until(pilot, lambda: isinstance(app.screen, MetricsScreen) and app.screen.is_mounted, "the metrics screen")
                accuracy = app.screen.query_one("#fig-accuracy", Static)
                assert "no verdicts" in str(accuracy.render())
                bob.record_takeover_verdict("c-1", True)  # on bob's console only
                await wait_until(pilot, lambda: "1 verdict" in str(accuracy.render()), "bob's verdict on ann's metrics", timeout=15)
                assert ann.reviews.takeover_verdicts()[0].agent == "bob"
        finally:
            await bob.stop()
