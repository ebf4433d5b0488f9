"""A feed that changes an approval while the supervisor is deciding it (issue 9,
hostile tester): the same ``approval_id`` sent again with another amount must
not be approved on the strength of what the dialog showed before."""

from __future__ import annotations

import pytest

from .fixtures import FakeSession, add_approval, floor_states, make_app, screen_text, settle

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("already_redrawn", [False, True])
async def test_an_approval_changed_under_the_dialog_needs_a_fresh_confirmation(already_redrawn: bool) -> None:
    """Found: the dialog re-reads the request once a second, and ``ctrl+y`` sent
    ``approve`` for whatever the id named by then: an amount swapped from 250 to
    250,000 just before the keypress was approved unseen. Now the first ``ctrl+y``
    after a change only shows the new terms and says so; the next one confirms."""
    states = floor_states()  # c-1042 holds ap-1: refund_order 250 USD
    session = FakeSession(states)
    app = make_app(session)
    async with app.run_test(size=(110, 34)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert type(app.screen).__name__ == "DecisionDialog"
        assert "250.00 USD" in screen_text(app)
        state = next(s for s in states if s.conversation_id == "c-1042")
        add_approval(state, "ap-1", amount=250_000.0)  # the feed's second approval.requested for ap-1
        if already_redrawn:
            await pilot.pause(1.3)  # the dialog's 1 Hz refresh shows it first
        await pilot.press("ctrl+y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert session.commands == []
        text = screen_text(app)
        assert "250,000.00 USD" in text and "request changed" in text
        await pilot.press("ctrl+y")  # deliberate, on the terms now shown
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert session.commands == [("approve", "c-1042", {"approval_id": "ap-1", "note": None})]
