"""The handoff summary as a person reads it: the why first, in plain words, and
the whole summary of a typical escalation on one 80x24 screen.

The conversations are built by the real signal engine from events like the
demo's (a legal threat on a complaint, an angry customer the AI cannot help),
so the words are the engine's own, not a fixture's."""

from __future__ import annotations

import re

import pytest
from textual.containers import VerticalScroll

from hitl_console.config import Config
from hitl_console.engine.engine import SignalEngine
from tests.test_triggers import Feed

from .fixtures import NOW, FakeSession, make_app, screen_text, settle, show_conversation

pytestmark = pytest.mark.slow


def legal_threat() -> Feed:
    """The demo's "legal" pattern: a complaint (human first by the routing rules),
    a lawyer mentioned, the AI asks for a human."""
    f = Feed(SignalEngine(Config()), cid="c-1041", ts=NOW - 120)
    f.start(customer={"id": "u-41", "name": "Grace Larsen", "tier": "platinum", "open_complaints": 1},
            contact_reason="complaint", queue="billing")
    f.customer("This is the third time I'm writing. If this isn't fixed today I'm contacting my lawyer.",
               sentiment=-0.6, topics=["complaint"], intent="request_human")
    f.ai("I understand how frustrating this has been. I'm escalating your case to a senior member of the team right now.", 0.7)
    f.customer("Please hurry.", sentiment=-0.8)
    f.send("ai.escalation_requested", reason="legal threat")
    return f


def angry_customer() -> Feed:
    """The demo's "angry" pattern: three turns, each angrier, three answers that do not help."""
    f = Feed(SignalEngine(Config()), cid="c-1031", ts=NOW - 200)
    f.start(customer={"id": "u-31", "name": "Marco Rossi", "tier": "standard"}, contact_reason="late delivery", queue="orders")
    f.customer("My order 88123 is late again.", sentiment=-0.3, intent="where_is_my_order", topics=["late_delivery"])
    f.ai("I'm sorry for the delay. I can see order 88123 is still in transit.", 0.7)
    f.customer("That's what you said last week. This is ridiculous.", sentiment=-0.6)
    f.ai("I understand. Deliveries can take up to 10 business days.", 0.62)
    f.customer("This is the WORST service I have ever had. Absolutely useless!! Get me a human.", sentiment=-0.9)
    f.ai("I apologise for the inconvenience. I've noted your feedback.", 0.58)
    f.send("ai.escalation_requested", reason="customer frustration rising")
    return f


async def _summary(feed: Feed, size: tuple[int, int]) -> tuple[str, object]:
    app = make_app(FakeSession([feed.state]))
    async with app.run_test(size=size) as pilot:
        await show_conversation(pilot, feed.cid)
        await pilot.press("t")
        await settle(pilot)
        assert type(app.screen).__name__ == "HandoffScreen"
        body = app.screen.query_one("#handoff-body", VerticalScroll)
        return screen_text(app), body.max_scroll_y


@pytest.mark.parametrize("build", [legal_threat, angry_customer], ids=["legal", "angry"])
async def test_typical_escalation_fits_80x24_with_the_why_first(build) -> None:
    feed = build()
    text, scroll = await _summary(feed, (80, 24))
    lines = text.splitlines()
    assert scroll == 0, "the summary must fit without scrolling"
    why = next(i for i, line in enumerate(lines) if "Why it needs a person" in line)
    wants = next(i for i, line in enumerate(lines) if "What the customer wants" in line)
    assert why < wants and why <= 2  # the why comes first, right under the title
    assert "WAITING for a human for" in lines[why - 1]
    assert "ctrl+y join and reply" in text  # the join hint is on screen
    assert "Customer " in text and "Mood " in text  # the last lines too
    # plain words: no intent ids, no two-letter badges, no doubled words
    assert "request_human" not in text and "where_is_my_order" not in text and "intent " not in text
    assert not re.search(r"\b(\w+) \1\b", text.replace("│", " "))
    assert not re.search(r"•\s+(LC|HS|SE|LP|HR|AI) ", text)


async def test_legal_threat_why_reads_as_sentences() -> None:
    text, _ = await _summary(legal_threat(), (80, 24))
    assert "• Legal threat: “…today I'm contacting my lawyer.”" in text
    assert "• The AI asked for a human." in text  # its reason was the legal threat: not said twice
    assert "• Routing rules want a human first: platinum, complaint." in text
    assert "escalated after 1 turn," in text
    assert "AI AI" not in text and "asked for a human: customer asked" not in text


async def test_wrapped_bullets_are_indented_under_their_text() -> None:
    text, _ = await _summary(legal_threat(), (80, 24))
    lines = [line.strip("│ ") and line for line in text.splitlines()]
    need = next(i for i, line in enumerate(lines) if "“This is the third time" in line)
    bullet_col = lines[need].index("•")
    text_col = lines[need].index("“")
    follow = lines[need + 1]
    assert follow[: text_col].strip("│ ") == ""  # the wrapped line starts under the text, not under the bullet
    assert follow[text_col] != " " and text_col > bullet_col


async def test_the_summary_at_200x50_has_the_same_order() -> None:
    text, scroll = await _summary(angry_customer(), (200, 50))
    assert scroll == 0
    assert text.index("Why it needs a person") < text.index("What the customer wants") < text.index("What the AI tried")
    assert "The customer is upset" in text and "ctrl+y join and reply" in text


async def test_nothing_known_says_nothing() -> None:
    """A new customer with no complaints and one message: no "0 open
    complaints", no "lifetime value 0", no "lowest" equal to the only reading."""
    f = Feed(SignalEngine(Config()), cid="c-1050", ts=NOW - 30)
    f.start(customer={"id": "u-50", "name": "Bo Chen", "lifetime_value": 0.0, "open_complaints": 0})
    f.customer("I need a person to sort out my invoice", sentiment=-0.2)
    text, _ = await _summary(f, (80, 24))
    assert "0 open complaint" not in text and "lifetime value" not in text
    assert "lowest" not in text and "now -0.20" in text
    assert "The AI has not answered or acted yet" in text
    assert not re.search(r"^\s*Customer\s*$", text, re.MULTILINE)  # no line that names nothing
