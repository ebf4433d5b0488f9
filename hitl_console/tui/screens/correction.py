"""The dialog in which a reviewer writes the answer the AI should have given."""

from __future__ import annotations


from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static, TextArea

from hitl_console.text import one_line, printable






class CorrectionDialog(ModalScreen[str | None]):
    """A better answer for one AI turn, in a multi-line editor that starts with
    the AI's text (most corrections are edits, not rewrites, and answers have
    paragraphs). ``enter`` is a new line; ``ctrl+s`` saves, ``escape``
    cancels, an empty answer is refused."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    MAX_LENGTH = 4000

    def __init__(self, conversation_id: str, turn_seq: int, original: str, turn_words: str | None = None) -> None:
        super().__init__(classes="dialog", id="correction-dialog")
        self.conversation_id = conversation_id
        self.turn_seq = turn_seq
        self.turn_words = turn_words or f"turn #{turn_seq}"
        """How the reviewer reads the turn ("turn 12 (21:38:38)"): the feed's seq means nothing to them."""
        self.original = original

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Content("Correct the AI's answer"), classes="dialog-title")
            yield Static(
                Content.assemble(
                    (f"{one_line(self.conversation_id, 40)} · {one_line(self.turn_words, 40)} · the AI said:", "dim"),
                    "\n",
                    printable(self.original).rstrip("\n") or " ",
                ),
                classes="dialog-text",
                markup=False,
            )
            yield TextArea(
                printable(self.original).rstrip("\n"),
                id="correction",
                soft_wrap=True,
                show_line_numbers=False,
                tab_behavior="focus",
            )
            yield Label(
                Content.assemble(
                    ("ctrl+s", "bold"), " save · ", ("enter", "bold"), " new line · ", ("escape", "bold"), " cancel"
                ),
                classes="dialog-keys",
            )

    def on_mount(self) -> None:
        editor = self.query_one(TextArea)
        editor.focus()
        editor.move_cursor(editor.document.end)

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    def action_save(self) -> None:
        text = self.text.strip()
        if not text:
            self.notify("A correction needs text (escape cancels).", severity="warning", markup=False)
            return
        if len(text) > self.MAX_LENGTH:
            self.notify(
                f"A correction holds at most {self.MAX_LENGTH} characters ({len(text)} now).", severity="warning", markup=False
            )
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
