"""Snapshots of every screen at 80x24 and 160x48, and of each theme once.

Built from hand-made state (``fixtures.floor_states``) or a simulated
recording with a fixed seed, on a frozen clock, with no cursor blink, so they
change only when the rendering does. Refresh with ``--snapshot-update`` and
look at the report (or the SVGs) before committing.

Each screen is reached the way a supervisor reaches it: a key on the floor
(``A``, ``L``, ``M``, ``R``, ``?``, ``t``), then the screen's own keys. The
steps wait for the screen they expect, so a change elsewhere that moves a
key fails here with the screen's name, not with a mystery picture.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.widgets import Input, TextArea

from hitl_console.analysis.metrics import Metrics, compute_metrics
from hitl_console.analysis.timewin import TimeWindow
from hitl_console.config import Config
from hitl_console.alerts import Alert
from hitl_console.session.review_queue import QueueFeeder
from hitl_console.engine.engine import SignalEngine
from hitl_console.protocol.events import event_adapter
from hitl_console.sim.timeline import generate_events

from .fixtures import NOW, FakeSession, floor_states, make_app, settle

pytestmark = pytest.mark.slow

SIZES = [(80, 24), (160, 48)]
THEMES = ["hitl-light", "hitl-high-contrast", "hitl-ansi"]
"""The shipped themes other than the default ``hitl-dark`` (every other snapshot)."""

RECORDED = 40
"""Conversations of the simulated recording behind metrics and review: enough
for every chart and a review queue, few enough to build in well under a second."""

Steps = Callable[[Any], Awaitable[None]]


# ------------------------------------------------------------------ sessions


class RecordedSession(FakeSession):
    """The session double over a simulated hour, with what metrics need of
    ``LiveSession`` (the figures are the real ``compute_metrics``)."""

    def escalation_verdicts(self, since: float | None = None) -> dict:
        return self.reviews.escalation_verdicts(since)

    def metrics(self, window_s: float | None = None) -> Metrics:
        window = TimeWindow() if window_s is None else TimeWindow(self.clock() - window_s, None)
        return compute_metrics(
            list(self.engine.conversations.values()), window=window, verdicts=self.escalation_verdicts(None), alerts=self.config.alerts
        )


def recorded_session() -> RecordedSession:
    config = Config()
    engine = SignalEngine(config)
    for event in generate_events(11, RECORDED, start_ts=NOW - 3600, concurrency=6):
        if event["ts"] <= NOW:  # nothing from after the frozen "now"
            engine.apply(event_adapter.validate_python(event), feed="sim")
    session = RecordedSession(list(engine.conversations.values()), config=config)
    QueueFeeder().feed(session.reviews, engine.conversations, config)  # as the live session does when they end
    return session


def floor_session() -> FakeSession:
    session = FakeSession(floor_states())
    for seconds_ago, level, kind, text, cid in (
        (300, "info", "trigger", "c-3001 loop: the AI gave the same answer 3 times", "c-3001"),
        (134, "critical", "escalation", "c-1042 waiting for a human: the customer asked for a person", "c-1042"),
        (60, "warning", "approval", "c-1042 refund_order 250.00 USD waits for a decision (2m left)", "c-1042"),
    ):
        session.alerts.append(Alert(ts=NOW - seconds_ago, level=level, kind=kind, text=text, conversation_id=cid, key=f"k{seconds_ago}"))  # type: ignore[arg-type]
    return session


# ------------------------------------------------------------------ steps


async def steady(pilot) -> None:
    """Let everything draw, with no blinking cursor."""
    await settle(pilot)
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False
    await settle(pilot)


def keys(*pressed: str, expect: str) -> Steps:
    """Press ``pressed`` on the floor, then check the screen is ``expect``."""

    async def run(pilot) -> None:
        await steady(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)
        await steady(pilot)
        assert type(pilot.app.screen).__name__ == expect, f"{pressed} opened {type(pilot.app.screen).__name__}, not {expect}"

    return run


def conversation(cid: str, *pressed: str) -> Steps:
    async def run(pilot) -> None:
        await steady(pilot)
        pilot.app.open_conversation(cid)
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)
        await steady(pilot)
        assert type(pilot.app.screen).__name__ == "ConversationScreen"

    return run


async def held_by_me_with_a_draft(pilot) -> None:
    await conversation("c-4100", "i")(pilot)
    await pilot.press(*"Let me check that label for you")
    await steady(pilot)


SCREENS: dict[str, tuple[Callable[[], FakeSession], Steps]] = {
    "floor": (floor_session, keys(expect="FloorScreen")),
    "conversation-ai": (floor_session, conversation("c-3001")),
    "conversation-waiting": (floor_session, conversation("c-1042")),
    "conversation-mine": (floor_session, held_by_me_with_a_draft),
    "handoff": (floor_session, keys("t", expect="HandoffScreen")),
    "approvals": (floor_session, keys("A", expect="ApprovalsScreen")),
    "decision": (floor_session, keys("A", "a", expect="DecisionDialog")),
    "alerts": (floor_session, keys("L", expect="AlertsScreen")),
    "help": (floor_session, keys("question_mark", expect="HelpScreen")),
    "metrics": (recorded_session, keys("M", expect="MetricsScreen")),
    "review": (recorded_session, keys("R", expect="ReviewScreen")),
    "review-item": (recorded_session, keys("R", "enter", expect="ReviewItemScreen")),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, screen: str, size: tuple[int, int]) -> None:
    make_session, steps = SCREENS[screen]
    assert snap_compare(make_app(make_session()), terminal_size=size, run_before=steps)


@pytest.mark.parametrize("theme", THEMES)
def test_theme(snap_compare, theme: str) -> None:
    """Each other theme once, on the conversation a supervisor is taking over
    (the screen with the most kinds of colour: roles, triggers, an approval)."""
    assert snap_compare(make_app(floor_session(), theme=theme), terminal_size=(80, 24), run_before=conversation("c-1042"))
