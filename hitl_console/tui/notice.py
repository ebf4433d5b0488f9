"""A one-message app: why the console cannot start, where the supervisor looks.

In a terminal such a message goes to stderr after the screen is restored.
In a browser tab (``hitl-console serve``) stderr only reaches the server's
log, so the tab would sit on its loading screen with no word of why: the
console shows the message in the page instead, and leaves on ``q``.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.widgets import Footer, Static


class NoticeApp(App[int]):
    """Shows ``message`` (plain text, never markup: it may quote a URL or a file) until ``q``."""

    CSS = """
    #notice { width: auto; max-width: 76; border: round $error; padding: 1 2; }
    """
    BINDINGS = [Binding("q", "close", "close"), Binding("escape", "close", "close", show=False)]

    def __init__(self, message: str, title: str = "hitl-console cannot start") -> None:
        super().__init__()
        self.message = message
        self.title = title

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(Text(self.message), id="notice")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#notice", Static).border_title = self.title

    def action_close(self) -> None:
        self.exit(return_code=2)
