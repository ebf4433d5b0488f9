"""Snapshots of the floor, a conversation and the handoff at 80x24 and 160x48.

Built from hand-made state with a frozen clock and no cursor blink, so they
change only when the rendering does. Refresh with ``--snapshot-update`` and
look at the report before committing.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from .fixtures import FakeSession, floor_states, make_app

pytestmark = pytest.mark.slow

SIZES = [(80, 24), (160, 48)]


async def _steady(pilot) -> None:
    for box in pilot.app.query(Input):
        box.cursor_blink = False
    await pilot.pause()
    pilot.app.refresh_now()
    await pilot.pause()


def _app():
    return make_app(FakeSession(floor_states()))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_floor(snap_compare, size) -> None:
    assert snap_compare(_app(), terminal_size=size, run_before=_steady)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_conversation(snap_compare, size) -> None:
    async def open_it(pilot) -> None:
        await _steady(pilot)
        pilot.app.open_conversation("c-1042")
        await pilot.pause()
        await _steady(pilot)
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=size, run_before=open_it)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_handoff(snap_compare, size) -> None:
    async def summary(pilot) -> None:
        await _steady(pilot)
        await pilot.press("t")
        await pilot.pause()
        await _steady(pilot)

    assert snap_compare(_app(), terminal_size=size, run_before=summary)
