"""A hostile feed against the real console on a real terminal (issue 9, hostile tester).

A real WebSocket feed (``tests/feedserver.py`` on 127.0.0.1) sends every event
type with escape sequences, a bidi override, a zero-width space and an 8-bit
CSI in every string field; the real ``hitl-console`` on a pty is driven
through its screens, and every byte it wrote to the terminal is searched for
what got through.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from feedserver import WsFeedServer
from hostile_support import INJECTED, FeedThread, Terminal, hostile_events

pytestmark = pytest.mark.slow

SCREENS = ["A", "\r", "\x1b", "\x1b", "L", "\x1b", "M", "\x1b", "R", "\x1b", "\r", "h", "\x1b", "p", "?", "\x1b", "\x1b"]
"""Approvals (and the decision dialog), alerts, metrics, review, the conversation,
its handoff summary and panel, help: back to the floor between them."""


def test_escapes_in_every_field_never_reach_the_terminal(tmp_path: Path) -> None:
    """Found: the currency of an approval or an AI action went to the terminal raw
    (``money()`` formatted it as it came), so a feed could clear the supervisor's
    screen, set the window title or reverse the amount's text with U+202E."""
    server = WsFeedServer([])
    server.raw_frames = [json.dumps(event) for event in hostile_events()]
    with FeedThread(server) as feed:
        with Terminal(["--no-journal", "--agent", "ana", "--feed", feed.url], tmp_path / "data") as term:
            assert term.wait_for(b"Approvals", 40), term.raw[-400:]
            assert term.wait_for(b"<U+202E>", 20), "the hostile conversation was never drawn"
            for key in SCREENS:
                term.press(key)
            assert term.alive, term.raw[-600:]
            drawn = term.raw
    for needle in INJECTED:
        at = drawn.find(needle)
        assert at < 0, f"{needle!r} reached the terminal: {drawn[max(0, at - 120):at + 20]!r}"
    assert b"USD<U+202E>" in drawn, "the approval with the hostile currency was never drawn"  # shown, visibly escaped
