"""Untrusted text: markup and escape sequences from the feed are shown, never obeyed."""

from __future__ import annotations

import pytest

from hitl_console.alerts.model import Alert
from hitl_console.engine.state import Turn
from hitl_console.tui.screens.conversation import ConversationScreen
from hitl_console.tui.widgets.alert_log import AlertLog

from .fixtures import HOSTILE, NOW, FakeSession, add_approval, add_trigger, make_app, make_state, screen_text, settle, show_conversation

pytestmark = pytest.mark.slow


def hostile_states():
    evil = make_state(
        "c-[b]9[/b]",
        name="[@click=app.quit]Eve[/]",
        tier="[red]vip",
        queue="bill[/]ing",
        risk=0.95,
        holder="waiting",
        active={"human_request"},
        topics=("[URGENT]",),
        customer_text=HOSTILE,
    )
    add_trigger(evil, "human_request", "customer asked: [URGENT] [/]", HOSTILE)
    add_approval(evil, "ap-[/]", action="[@click=app.quit]refund", currency="[b]USD", rationale=HOSTILE)
    turn = Turn(seq=90, ts=NOW, role="ai", text="Sure! [link=https://evil.example]click[/link] \x1b]8;;http://x\x07y\x1b]8;;\x07", confidence=0.3)
    evil.turns.append(turn)
    evil.timeline.append(turn)
    evil.version += 1
    return [evil, make_state("c-2", risk=0.1)]


async def test_floor_shows_markup_literally_and_survives_click_links() -> None:
    session = FakeSession(hostile_states())
    app = make_app(session)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        alert = Alert(ts=NOW, level="critical", kind="trigger", text="c-9 [@click=app.quit]q[/] [URGENT] \x1b[2J", conversation_id="c-9")
        session.emit({"c-[b]9[/b]"}, alerts=[alert])
        await settle(pilot)
        text = screen_text(app)
        assert "c-[b]9[/b]" in text
        assert "[@click=app.qu" in text  # the customer column is 14 cells wide
        assert "bill[/]ing" in text and "[URGENT]" in text
        log_text = "\n".join(app.screen.query_one(AlertLog).lines)
        assert "[@click=app.quit]q[/] [URGENT]" in log_text and "\x1b" not in log_text
        await pilot.click(offset=(20, 3))  # wherever a link would be: nothing quits
        await pilot.pause()
        assert app.is_running


async def test_conversation_and_handoff_render_hostile_text_literally() -> None:
    session = FakeSession(hostile_states())
    app = make_app(session)
    async with app.run_test(size=(160, 48)) as pilot:
        await show_conversation(pilot, "c-[b]9[/b]")
        assert isinstance(app.screen, ConversationScreen)
        screen = app.screen
        screen.query_one("#transcript").scroll_end(animate=False)
        await pilot.pause()
        entries = "\n".join(str(e.visual) for e in screen.query("TimelineEntry"))
        assert "[URGENT] refund now [/] [@click=app.quit]x[/]" in entries
        assert "[link=https://evil.example]click[/link]" in entries
        assert "\x1b" not in entries and "\x07" not in entries
        text = screen_text(app)
        assert "[URGENT]" in text and "[/]" in text
        await pilot.press("t")
        await pilot.pause()
        summary = screen_text(app)
        assert "[URGENT]" in summary and "[@click=app.quit]" in summary
        await pilot.press("escape")
        await pilot.press("h")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running


async def test_hostile_approval_in_queue_and_picker() -> None:
    session = FakeSession(hostile_states())
    app = make_app(session)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await pilot.pause()
        text = screen_text(app)
        assert "[@click=app.quit]ref" in text and "[b]USD" in text  # the action column is 20 wide
        await pilot.press("a")
        await pilot.pause()
        assert "[@click=app.quit]refund" in screen_text(app)
        await pilot.press("escape")
        assert app.is_running
