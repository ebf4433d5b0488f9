"""The conversation screen and the takeover flow, on the session double."""

from __future__ import annotations

import re

import pytest
from textual.widgets import Input

from hitl_console.engine.state import Notice, Turn
from hitl_console.feeds.base import CommandResult
from hitl_console.tui.screens.conversation import ConversationScreen
from hitl_console.tui.screens.floor import FloorScreen
from hitl_console.tui.widgets.transcript import TimelineEntry, Transcript, sentiment_label

from .fixtures import NOW, FakeSession, floor_states, make_app, screen_text, settle, show_conversation

pytestmark = pytest.mark.slow


def joined(session: FakeSession, cid: str) -> None:
    """Play the feed: the platform confirms the takeover with human.joined."""
    state = session.engine.conversations[cid]
    state.holder = "human"
    state.agent = session.agent
    state.timeline.append(Notice(seq=99, ts=NOW, text=f"{session.agent} joined", kind="joined"))
    state.version += 1
    session.emit({cid})


async def open_conversation(pilot, cid: str, **kwargs) -> ConversationScreen:
    app = pilot.app
    await show_conversation(pilot, cid, **kwargs)
    assert isinstance(app.screen, ConversationScreen) or kwargs.get("takeover")
    return app.screen_stack[-1] if isinstance(app.screen_stack[-1], ConversationScreen) else app.screen_stack[-2]


def test_sentiment_label_marks_estimates() -> None:
    assert sentiment_label(-0.42, True) == "~-0.42 est."
    assert sentiment_label(-0.42, False) == "-0.42"
    assert sentiment_label(None, True) == ""
    assert sentiment_label(-0.001, False) == "+0.00"  # never "-0.00"


async def test_transcript_shows_roles_confidence_sentiment_triggers_and_actions() -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_conversation(pilot, "c-1042")
        entries = list(screen.query(TimelineEntry))
        classes = [set(e.classes) for e in entries]
        assert {"turn", "-customer"} in classes and {"turn", "-ai"} in classes
        assert any("trigger" in c for c in classes) and any("action" in c for c in classes)
        assert any("approval" in c for c in classes) and any("notice" in c for c in classes)
        text = "\n".join(str(e.visual) for e in entries)
        assert "confidence ▰▰▱▱ 0.41" in text
        # The fixture marks every second customer turn as estimated by the console.
        assert "sentiment -0.50" in text and "~-0.50" not in text
        assert "sentiment ~-0.20 est." in text and "sentiment ~-0.70 est." in text
        assert "LOW CONFIDENCE" in text and "CUSTOMER ASKED FOR A HUMAN" in text
        assert "lookup_order" in text and "PENDING" in text
        side = screen_text(app)
        assert "Customer" in side and "Dana Li" in side and "lifetime value" in side
        assert "WAITING for a human" in side


@pytest.mark.parametrize("width", [80, 160])
async def test_header_says_why_in_the_floors_words_on_one_line(width: int) -> None:
    """The reasons are the floor's Why column (``attention.reasons``), not
    two-letter badges; at 80 columns the weaker ones give way to ``+N``."""
    app = make_app()
    async with app.run_test(size=(width, 24)) as pilot:
        await open_conversation(pilot, "c-1042")
        lines = screen_text(app).splitlines()
        second = lines[1]
        assert "WAITING for a human" in second and "risk 0.86" in second
        assert "asked for a person" in second  # the strongest reason always shows
        assert not re.search(r"\b(LC|SE|HR)\b", "\n".join(lines[:3]))
        assert "low confidence, sentiment" not in second  # the old trigger list in brackets
        assert "WAITING for a human for 2m " in second  # the wait, to the minute
        if width == 80:
            assert second.rstrip().endswith("+2") and "AI unsure" not in second
            assert lines[2].strip() == ""  # it did not wrap onto a third line
        else:
            assert "asked for a person · customer upset · AI unsure (0.41)" in second


async def test_header_wait_follows_the_clock() -> None:
    now = {"t": NOW}
    app = make_app(clock=lambda: now["t"])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(pilot, "c-1042")
        assert "WAITING for a human for 2m " in screen_text(app)
        now["t"] = NOW + 60
        screen._tick_wait()  # what the 5 s timer calls
        await pilot.pause()
        assert "WAITING for a human for 3m " in screen_text(app)


async def test_side_panel_collapses_at_80_columns_and_toggles() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(pilot, "c-1042")
        panel = screen.query_one("#side-panel")
        assert not panel.display
        await pilot.press("p")
        assert panel.display
        await pilot.press("p")
        assert not panel.display


async def test_live_turns_are_appended() -> None:
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(pilot, "c-3555")
        transcript = screen.query_one(Transcript)
        before = transcript.item_count
        state = session.engine.conversations["c-3555"]
        turn = Turn(seq=50, ts=NOW, role="customer", text="Are you still there?", sentiment=-0.1, sentiment_estimated=True)
        state.turns.append(turn)
        state.timeline.append(turn)
        state.version += 1
        session.emit({"c-3555"})
        await settle(pilot)
        assert transcript.item_count == before + 1
        assert "Are you still there?" in screen_text(app)


async def test_takeover_flow_join_send_release() -> None:
    session = FakeSession(floor_states())
    session.on_command = lambda op, cid, fields: joined(session, cid) if op == "takeover" else None
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")  # on the floor: c-1042, the riskiest
        await pilot.pause()
        await pilot.pause()
        assert type(app.screen).__name__ == "HandoffScreen"
        summary = screen_text(app)
        assert "Handoff" in summary and "Why it needs a person" in summary and "What the customer wants" in summary
        assert "I was charged twice for order 5531" in summary
        await pilot.press("enter")  # enter does not join: ownership needs ctrl+y
        await pilot.pause()
        assert type(app.screen).__name__ == "HandoffScreen" and session.commands == []
        assert "enter does not join" in screen_text(app)
        await pilot.press("ctrl+y")
        await app.workers.wait_for_complete()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        assert session.commands[0][:2] == ("takeover", "c-1042")
        box = screen.query_one("#message", Input)
        assert app.focused is box and not box.disabled
        assert not app._notifications  # no toast over the message box: the header says it
        assert "held by YOU" in screen_text(app)

        await pilot.press(*"Sorry about that, refunding now")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert session.commands[-1] == ("send", "c-1042", {"text": "Sorry about that, refunding now"})
        assert box.value == ""

        session.answers["send"] = CommandResult("x", ok=False, error="feed unavailable", timed_out=True)
        await pilot.press(*"second try")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert box.value == "second try"  # kept: nothing the supervisor wrote is lost
        assert any("Message not sent" in n.message for n in app._notifications)

        await pilot.press("escape")  # leaves the input, stays on the screen
        await pilot.pause()
        assert app.focused is not box and isinstance(app.screen, ConversationScreen)
        assert box.has_class("-inactive") and "i to reply" in str(box.border_subtitle)
        await pilot.press("i")  # and back
        await pilot.pause()
        assert app.focused is box and not box.has_class("-inactive")
        await pilot.press("escape")
        await pilot.press("r")
        await pilot.pause()
        assert type(app.screen).__name__ == "NoteDialog"
        await pilot.press(*"customer refunded", "enter")
        await pilot.pause()
        assert session.commands[-1][0] == "send"  # enter alone does not hand back
        await pilot.press("ctrl+y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert session.commands[-1] == ("release", "c-1042", {"note": "customer refunded"})
        # once out, the supervisor is asked whether the escalation was needed
        assert type(app.screen).__name__ == "EscalationVerdictDialog"
        assert "You handed c-1042 back to the AI" in screen_text(app)
        assert not any("back with the AI" in n.message for n in app._notifications)  # said once, not toast + dialog
        await pilot.press("y")
        await pilot.pause()
        assert session.verdicts == [("c-1042", True, None)]
        assert isinstance(app.screen, ConversationScreen)


async def test_refused_takeover_names_the_holder() -> None:
    session = FakeSession(floor_states())
    session.answers["takeover"] = CommandResult("x", ok=False, error="held by alice")
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(pilot, "c-2077")
        assert "held by alice" in screen_text(app)
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("ctrl+y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        message = list(app._notifications)[-1].message
        assert "refused: held by alice" in message
        box = screen.query_one("#message", Input)
        assert box.disabled and "alice" in box.placeholder


async def test_escape_on_handoff_cancels() -> None:
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_conversation(pilot, "c-3001")
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen)
        assert session.commands == []


async def test_end_picks_an_outcome() -> None:
    session = FakeSession(floor_states())
    app = make_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(pilot, "c-4100")  # held by "tester" = me
        assert screen.check_action("end", ()) is True
        assert screen.check_action("take_over", ()) is False
        await pilot.press("e")
        await pilot.pause()
        assert type(app.screen).__name__ == "ChoiceDialog"
        await pilot.press("down", "enter")  # unresolved, but enter alone ends nothing
        await pilot.pause()
        assert session.commands == [] and type(app.screen).__name__ == "ChoiceDialog"
        await pilot.press("ctrl+y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert session.commands[-1] == ("end", "c-4100", {"outcome": "unresolved"})
        assert type(app.screen).__name__ == "EscalationVerdictDialog"
        await pilot.press("escape")  # skipping is fine: nothing is recorded
        await pilot.pause()
        assert session.verdicts == [] and isinstance(app.screen, ConversationScreen)


async def test_actions_that_do_not_apply_are_hidden() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(pilot, "c-3555")  # AI handling, no approvals
        assert screen.check_action("release", ()) is False
        assert screen.check_action("approvals", ()) is False
        assert screen.check_action("take_over", ()) is True
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FloorScreen)


async def test_the_ansi_theme_does_not_paint_entries_in_full_colour() -> None:
    """The terminal's 16 colours cannot tint: ``$accent 10%`` became full magenta
    and hid the approval's amount and time left (accent text on accent)."""
    app = make_app(theme="hitl-ansi")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(pilot, "c-1042")
        assert screen.has_class("-ansi")
        tinted = [e for e in screen.query(TimelineEntry) if e.has_class("approval") or e.has_class("-ai")]
        assert tinted and all(e.styles.background.a == 0 for e in tinted)
        app.theme = "hitl-dark"
        await settle(pilot)
        assert not screen.has_class("-ansi")
