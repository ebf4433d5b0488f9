"""The approvals queue: pending ones with a countdown, approve/deny with a
note confirmed by ctrl+y in a dialog that shows what is decided, expired
shown; the conversation screen only points at the queue."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from hitl_console.tui.screens.approvals import ApprovalsScreen, collect, status_word

from .fixtures import NOW, FakeSession, add_approval, floor_states, make_app, screen_text, settle, show_conversation

pytestmark = pytest.mark.slow


def queue_states():
    states = floor_states()  # c-1042 has ap-1: refund_order 250 USD, 120 s left
    by_id = {s.conversation_id: s for s in states}
    add_approval(by_id["c-2077"], "ap-2", action="close_account", amount=None, rationale="customer asked twice", expires_in=20)
    add_approval(by_id["c-3001"], "ap-3", action="reship_order", amount=49.0, expires_in=-5)  # deadline passed
    done = add_approval(by_id["c-3555"], "ap-4", action="goodwill_credit", amount=10.0, expires_in=60)
    done.status, done.by, done.resolved_ts = "approved", "alice", NOW - 10
    return states


def test_collect_orders_open_by_deadline_and_shows_expired() -> None:
    open_, closed = collect(queue_states(), NOW)
    assert [a.approval_id for a in open_] == ["ap-2", "ap-1"]
    assert {a.approval_id for a in closed} == {"ap-3", "ap-4"}
    ap3 = next(a for a in closed if a.approval_id == "ap-3")
    assert status_word(ap3, NOW) == "expired"


async def test_queue_screen_lists_counts_down_and_sends_decisions() -> None:
    session = FakeSession(queue_states())
    clock_now = {"t": NOW}
    app = make_app(session, clock=lambda: clock_now["t"])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ApprovalsScreen)
        table = screen.query_one(DataTable)
        assert [str(r.key.value) for r in table.ordered_rows][:2] == ["ap-2", "ap-1"]
        text = screen_text(app)
        assert "close_account" in text and "250.00 USD" in text and "20s" in text
        assert "expired" in text and "approved" in text
        assert screen._countdown is not None and screen._countdown._active.is_set()

        clock_now["t"] = NOW + 5
        await pilot.pause(1.3)  # the 1 Hz countdown
        assert "15s" in screen_text(app)

        await pilot.press("a")  # ap-2 is under the cursor
        await pilot.pause()
        assert type(app.screen).__name__ == "DecisionDialog"
        facts = screen_text(app)
        for shown in ("c-2077", "close_account", "customer asked twice", "Customer", "Time left"):
            assert shown in facts, shown
        await pilot.press(*"ok by policy 4.2", "enter")  # enter alone confirms nothing
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert session.commands == []
        assert type(app.screen).__name__ == "DecisionDialog"
        assert "enter does not approve" in screen_text(app)
        await pilot.press("ctrl+y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert session.commands[-1] == ("approve", "c-2077", {"approval_id": "ap-2", "note": "ok by policy 4.2"})

        await pilot.press("down", "d")
        await pilot.pause()
        assert "250.00 USD" in screen_text(app)
        await pilot.press("ctrl+y")  # no note
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert session.commands[-1] == ("deny", "c-1042", {"approval_id": "ap-1", "note": None})

        count = len(session.commands)
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("escape")  # a cancelled note dialog sends nothing
        await pilot.pause()
        assert len(session.commands) == count


async def test_decisions_are_not_offered_on_closed_requests() -> None:
    session = FakeSession(queue_states())
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await pilot.pause()
        screen = app.screen
        await pilot.press("down", "down")  # ap-3 (expired) or ap-4 (approved)
        assert screen.check_action("approve", ()) is False
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ApprovalsScreen)
        assert session.commands == []


async def test_no_pending_means_no_countdown() -> None:
    states = floor_states()
    for state in states:
        state.approvals.clear()
    app = make_app(FakeSession(states))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await pilot.pause()
        screen = app.screen
        assert "nothing waits for a decision" in screen_text(app)  # not "0 pending"
        assert not screen._countdown._active.is_set()


async def test_the_conversation_screen_sends_to_the_queue_it_never_decides() -> None:
    session = FakeSession(queue_states())
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await show_conversation(pilot, "c-1042")
        assert "APPROVAL refund_order" in screen_text(app)
        assert not {"approve", "deny"} & {b.action for _, b in app.screen._bindings}
        await pilot.press("d", "enter")  # once "deny"; now nothing
        await pilot.pause()
        assert session.commands == []
        await pilot.press("a")  # opens the queue on this conversation's request
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ApprovalsScreen)
        assert screen.selected_id == "ap-1"
        await pilot.press("enter")  # enter in the queue opens the conversation, never decides
        await pilot.pause()
        assert session.commands == []
        assert type(app.screen).__name__ == "ConversationScreen"


async def test_a_request_that_closed_meanwhile_cannot_be_confirmed() -> None:
    states = queue_states()
    session = FakeSession(states)
    app = make_app(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await pilot.pause()
        await pilot.press("a")  # ap-2
        await pilot.pause()
        assert type(app.screen).__name__ == "DecisionDialog"
        approval = next(s for s in states if s.conversation_id == "c-2077").approvals["ap-2"]
        approval.status, approval.by = "approved", "bob"  # someone else decided first
        await pilot.press("ctrl+y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert session.commands == []
        assert "nothing was sent" in screen_text(app)


async def test_expired_request_is_shown_as_expired_in_the_conversation() -> None:
    session = FakeSession(queue_states())
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await show_conversation(pilot, "c-3001")
        text = screen_text(app)
        assert "EXPIRED" in text
        assert app.screen.check_action("approvals", ()) is False


async def test_the_selected_requests_facts_show_under_the_table_at_80_columns() -> None:
    """At 80 columns the rationale column shows a few characters; the facts of
    the selected request (the decision dialog's) show in full under the table."""
    app = make_app(FakeSession(floor_states()))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        text = screen_text(app)
        assert "Rationale    duplicate charge confirmed by the payment log" in text
        assert "Customer     Dana Li  (u-042, gold)" in text
        assert "closed in the last" not in text  # nothing closed: no "0 closed"


async def test_after_a_decision_the_cursor_stays_where_the_supervisor_was() -> None:
    """The decided request moves down among the closed ones; the cursor stays in
    its place, on the next request, and approve/deny stay in the footer."""
    states = queue_states()
    by_id = {s.conversation_id: s for s in states}
    session = FakeSession(states)

    def feed_echo(op: str, cid: str, fields: dict) -> None:  # the platform confirms the decision
        approval = by_id[cid].approvals[fields["approval_id"]]
        approval.status, approval.by, approval.resolved_ts = "approved" if op == "approve" else "denied", "tester", NOW
        by_id[cid].version += 1
        session.emit({cid}, approvals=True)

    session.on_command = feed_echo
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        screen = app.screen
        table = screen.query_one(DataTable)
        assert screen.selected_id == "ap-2"
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("ctrl+y")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert session.commands[-1][0] == "approve"
        assert [str(r.key.value) for r in table.ordered_rows][0] == "ap-1"
        assert screen.selected_id == "ap-1" and table.cursor_row == 0
        assert screen.check_action("approve", ()) is True
        assert "Approve" in screen_text(app).splitlines()[-1]  # the footer
