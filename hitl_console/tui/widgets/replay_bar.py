"""Progress, pause state and speed of a replay, on one line."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Label, ProgressBar

from hitl_console.tui.session import ReplayView


def replay_label(controls: ReplayView) -> Content:
    paused = controls.paused
    state = ("⏸ paused", "$text-warning bold") if paused else ("▶ playing", "$text-success")
    return Content.assemble(state, "  ", (f"{controls.speed:g}×", "bold"), ("  space n + -", "dim"))


class ReplayBar(Horizontal):
    """Shown only in replay mode; updated by the floor's refresh, never animated."""

    DEFAULT_CSS = """
    ReplayBar {
        height: 1;
        background: $panel;
        padding: 0 1;
    }
    ReplayBar Label { width: auto; margin-right: 2; }
    ReplayBar ProgressBar { width: 1fr; }
    ReplayBar ProgressBar Bar { width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[bool, float, int] | None = None

    def compose(self) -> ComposeResult:
        yield Label("", id="replay-state")
        yield ProgressBar(total=1000, show_eta=False, show_percentage=True, id="replay-progress")

    def show(self, controls: ReplayView) -> None:
        progress = controls.progress or 0.0
        key = (controls.paused, controls.speed, int(progress * 1000))
        if key == self._shown:
            return
        self._shown = key
        self.query_one("#replay-state", Label).update(replay_label(controls))
        self.query_one("#replay-progress", ProgressBar).update(progress=int(progress * 1000))
