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


def pressing(*keys: str) -> Callable[..., Awaitable[None]]:
    """An opener that reaches its screen from the floor by pressing ``keys``, as a person would."""

    async def opener(app, pilot) -> None:
        for key in keys:
            await pilot.press(key)
            await pilot.pause()

    return opener


async def open_held_chat(app, pilot) -> None:
    app.open_conversation("c-4100")
    await pilot.pause()


async def open_held_chat_box_left(app, pilot) -> None:
    await open_held_chat(app, pilot)
    await pressing("i", "escape")(app, pilot)


async def open_verdict(app, pilot) -> None:
    from hitl_console.tui.screens.verdict import EscalationVerdictDialog

    app.push_screen(EscalationVerdictDialog("c-4100", "release"))


def then(first: Callable[..., Awaitable[None]], *keys: str) -> Callable[..., Awaitable[None]]:
    """``first``, then ``keys``."""

    async def opener(app, pilot) -> None:
        await first(app, pilot)
        await pressing(*keys)(app, pilot)

    return opener


async def _conversation(app, pilot, cid: str, **kwargs) -> None:
    app.open_conversation(cid, **kwargs)


START: dict[str, tuple[Callable[..., Awaitable[None]], str]] = {
    "floor": (pressing(), "FloorScreen"),
    "held chat, typing": (then(open_held_chat, "i"), "ConversationScreen"),
    "held chat, box left": (open_held_chat_box_left, "ConversationScreen"),
    "AI chat with a request": (lambda app, pilot: _conversation(app, pilot, "c-1042"), "ConversationScreen"),
    "handoff summary": (lambda app, pilot: _conversation(app, pilot, "c-1042", takeover=True), "HandoffScreen"),
    "approvals queue": (pressing("A"), "ApprovalsScreen"),
    "decision dialog": (pressing("A", "a"), "DecisionDialog"),
    "hand-back dialog": (then(open_held_chat_box_left, "r"), "NoteDialog"),
    "end dialog": (then(open_held_chat_box_left, "e"), "ChoiceDialog"),
    "quit question": (pressing("q"), "ConfirmDialog"),
    "alerts": (pressing("L"), "AlertsScreen"),
    "metrics": (pressing("M"), "MetricsScreen"),
    "review": (pressing("R"), "ReviewScreen"),
    "help": (pressing("question_mark"), "HelpScreen"),
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
