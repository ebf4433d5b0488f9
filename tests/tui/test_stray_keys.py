"""No stream of typed text, ``enter`` and ``escape`` approves, denies, hands
back, ends or takes over anything, whatever screen or dialog it starts on.

The defect this guards (issue 9): after ``escape`` in a held chat, an
ordinary sentence and ``enter`` approved a refund on another conversation.
Here a seeded stream of sentences, random printable characters, ``enter``
and ``escape`` is typed into every screen and dialog of the app, with a
conversation held by this supervisor and requests pending; the only
commands allowed to leave are messages to the customer (which is what
typing into the message box is for) and the confirmed ones nobody sent.
"""

from __future__ import annotations

import random
import string
from collections.abc import Awaitable, Callable

import pytest

from .fixtures import FakeSession, add_approval, floor_states, make_app, settle

pytestmark = pytest.mark.slow

MOVES_MONEY_OR_OWNERSHIP = {"approve", "deny", "release", "end", "takeover"}

SENTENCES = [
    "yes approve the refund please",
    "ok, deny that one and end the chat",
    "I will hand you back to the assistant now",
    "thanks! anything else? y/n",
    "Release it. End it. Resolved.",
    "Type to the customer: enter sends",
    "ADD NOTE: approved by policy",
    "a d r e t y n o i q",
]


def keystrokes(seed: int, count: int) -> list[str]:
    """A reproducible mix of sentences, random printable characters, enter and escape."""
    rng = random.Random(seed)
    printable = string.ascii_letters + string.digits + string.punctuation + " "
    keys: list[str] = []
    while len(keys) < count:
        roll = rng.random()
        if roll < 0.35:
            keys += list(rng.choice(SENTENCES))
        elif roll < 0.75:
            keys += [rng.choice(printable) for _ in range(rng.randint(1, 12))]
        elif roll < 0.9:
            keys.append("enter")
        else:
            keys.append("escape")
    return [("space" if k == " " else k) for k in keys[:count]]


def states_with_work():
    states = floor_states()  # c-4100 is held by "tester" (me); c-1042 has ap-1 pending
    by_id = {s.conversation_id: s for s in states}
    add_approval(by_id["c-2077"], "ap-2", action="refund_order", amount=2538.95, rationale="customer asked twice", expires_in=600)
    add_approval(by_id["c-4100"], "ap-3", action="close_account", amount=None, expires_in=600)
    return states


async def open_floor(app, pilot) -> None:
    pass


async def open_held_chat_in_box(app, pilot) -> None:
    app.open_conversation("c-4100")
    await pilot.pause()
    await pilot.press("i")


async def open_held_chat_box_left(app, pilot) -> None:
    await open_held_chat_in_box(app, pilot)
    await pilot.press("escape")


async def open_ai_chat_with_request(app, pilot) -> None:
    app.open_conversation("c-1042")


async def open_handoff(app, pilot) -> None:
    app.open_conversation("c-1042", takeover=True)


async def open_approvals(app, pilot) -> None:
    await pilot.press("A")


async def open_decision(app, pilot) -> None:
    await pilot.press("A")
    await pilot.pause()
    await pilot.press("a")


async def open_hand_back(app, pilot) -> None:
    await open_held_chat_box_left(app, pilot)
    await pilot.press("r")


async def open_end(app, pilot) -> None:
    await open_held_chat_box_left(app, pilot)
    await pilot.press("e")


async def open_quit(app, pilot) -> None:
    await pilot.press("q")


async def open_alerts(app, pilot) -> None:
    await pilot.press("L")


async def open_metrics(app, pilot) -> None:
    await pilot.press("M")


async def open_review(app, pilot) -> None:
    await pilot.press("R")


async def open_help(app, pilot) -> None:
    await pilot.press("question_mark")


async def open_verdict(app, pilot) -> None:
    from hitl_console.tui.screens.verdict import EscalationVerdictDialog

    app.push_screen(EscalationVerdictDialog("c-4100", "release"))


START: dict[str, tuple[Callable[..., Awaitable[None]], str]] = {
    "floor": (open_floor, "FloorScreen"),
    "held chat, typing": (open_held_chat_in_box, "ConversationScreen"),
    "held chat, box left": (open_held_chat_box_left, "ConversationScreen"),
    "AI chat with a request": (open_ai_chat_with_request, "ConversationScreen"),
    "handoff summary": (open_handoff, "HandoffScreen"),
    "approvals queue": (open_approvals, "ApprovalsScreen"),
    "decision dialog": (open_decision, "DecisionDialog"),
    "hand-back dialog": (open_hand_back, "NoteDialog"),
    "end dialog": (open_end, "ChoiceDialog"),
    "quit question": (open_quit, "ConfirmDialog"),
    "alerts": (open_alerts, "AlertsScreen"),
    "metrics": (open_metrics, "MetricsScreen"),
    "review": (open_review, "ReviewScreen"),
    "help": (open_help, "HelpScreen"),
    "verdict": (open_verdict, "EscalationVerdictDialog"),
}


@pytest.mark.parametrize("start", list(START))
async def test_typing_never_moves_money_or_ownership(start: str) -> None:
    session = FakeSession(states_with_work())
    app = make_app(session)
    keys = keystrokes(seed=sum(map(ord, start)), count=160)
    screens_seen: set[str] = set()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        opener, expected = START[start]
        await opener(app, pilot)
        await pilot.pause()
        await pilot.pause()
        assert type(app.screen).__name__ == expected  # the stream starts where it claims to
        for i in range(0, len(keys), 20):
            if not app.is_running:
                break
            await pilot.press(*keys[i : i + 20])
            screens_seen.add(type(app.screen).__name__)
        await app.workers.wait_for_complete()
    sent = [c for c in session.commands if c[0] in MOVES_MONEY_OR_OWNERSHIP]
    assert sent == [], f"started on {start}, went through {sorted(screens_seen)}"
    assert {c[0] for c in session.commands} <= {"send"}
