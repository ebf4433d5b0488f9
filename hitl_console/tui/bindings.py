"""The keys that work on every screen (the app's own bindings), by id.

They live here, not on :class:`~hitl_console.tui.app.HitlApp`, so the help
screen and the keymap check (``tui.keymap``) can list them without importing
the app, which imports every screen: no screen module needs to know the app.
Each has an id for ``[ui.keymap]`` (``docs/configuration.md`` lists them).
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

APP_BINDINGS: list[BindingType] = [
    Binding("question_mark", "help", "Help", key_display="?", tooltip="Keys, badges and columns", id="app.help"),
    Binding("A", "approvals", "Approvals", key_display="A", tooltip="The queue of actions waiting for a human", id="app.approvals"),
    Binding("L", "alerts", "Alerts", key_display="L", tooltip="Every alert, newest first; open or acknowledge them", id="app.alerts"),
    Binding("M", "metrics", "Metrics", key_display="M", show=False, tooltip="Figures and charts over a time window", id="app.metrics"),
    Binding("R", "review", "Review", key_display="R", show=False, tooltip="Ended conversations to look at again", id="app.review"),
    Binding("q", "quit", "Quit", tooltip="Quit (asks first if you hold conversations)", id="app.quit"),
    Binding("space", "replay_toggle", "Pause", tooltip="Pause or resume the replay", id="app.replay_toggle"),
    Binding("n", "replay_step", "Step", tooltip="Release the next event of a paused replay", id="app.replay_step"),
    Binding("plus", "replay_faster", "Faster", key_display="+", tooltip="Replay faster", id="app.replay_faster"),
    Binding("minus", "replay_slower", "Slower", key_display="-", tooltip="Replay slower", id="app.replay_slower"),
]
"""The app's bindings (``HitlApp.BINDINGS``): actions of the app, on every screen."""
