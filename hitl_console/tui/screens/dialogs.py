"""Small modal dialogs: a note, an outcome, a choice among approvals, a confirmation.

Each returns its answer through ``dismiss`` (``None`` when cancelled with
``escape``), so callers use ``push_screen(dialog, callback)`` or
``await push_screen_wait`` from a worker. Labels that may hold feed text are
``Content`` built from plain strings, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from hitl_console.engine.state import Approval
from hitl_console.text import one_line
from hitl_console.tui import formatting
from hitl_console.tui.session import OUTCOMES


class NoteDialog(ModalScreen[str | None]):
    """Ask for an optional note. ``enter`` confirms (an empty note is fine),
    ``escape`` cancels (returns None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, prompt: str, *, placeholder: str = "optional note", confirm: str = "send") -> None:
        super().__init__(classes="dialog")
        self._title = title
        self._prompt = prompt
        self._placeholder = placeholder
        self._confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Content(self._title), classes="dialog-title")
            yield Static(Content(self._prompt), classes="dialog-text")
            yield Input(placeholder=self._placeholder, id="note", max_length=2000)
            yield Label(
                Content.assemble(("enter", "bold"), f" {self._confirm} · ", ("escape", "bold"), " cancel"),
                classes="dialog-keys",
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted, "#note")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceDialog(ModalScreen[str | None]):
    """Pick one of a few options (``enter``) or cancel (``escape``)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, prompt: str, options: Sequence[tuple[str, Content | str]]) -> None:
        super().__init__(classes="dialog")
        self._title = title
        self._prompt = prompt
        self._options = list(options)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Content(self._title), classes="dialog-title")
            if self._prompt:
                yield Static(Content(self._prompt), classes="dialog-text")
            yield OptionList(
                *(Option(label if isinstance(label, Content) else Content(label), id=key) for key, label in self._options),
                id="choices",
            )
            yield Label(
                Content.assemble(("↑↓", "bold"), " choose · ", ("enter", "bold"), " confirm · ", ("escape", "bold"), " cancel"),
                classes="dialog-keys",
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected, "#choices")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


def outcome_dialog(conversation_id: str) -> ChoiceDialog:
    descriptions = {
        "resolved": "the customer's issue is solved",
        "unresolved": "closed without a solution",
        "abandoned": "the customer left",
        "transferred": "handed to another team or channel",
    }
    return ChoiceDialog(
        "End the conversation",
        f"How did {one_line(conversation_id, 40)} end?",
        [(o, Content.assemble((o, "bold"), (f"  {descriptions[o]}", "dim"))) for o in OUTCOMES],
    )


def approval_label(approval: Approval, now: float) -> Content:
    amount = formatting.money(approval.amount, approval.currency)
    left = formatting.time_left(approval.time_left(now))
    return Content.assemble(
        (one_line(approval.action, 40), "bold"),
        ("  " + amount if amount else "", "$text-accent"),
        (f"  {left}", "dim"),
    )


def approval_picker(approvals: Sequence[Approval], now: float, verb: str) -> ChoiceDialog:
    return ChoiceDialog(
        f"{verb.capitalize()} which request?",
        "",
        [(a.approval_id, approval_label(a, now)) for a in approvals],
    )


class ConfirmDialog(ModalScreen[str | None]):
    """A question with a few single-key answers; ``escape`` means no."""

    BINDINGS = [Binding("escape", "answer('')", "Cancel")]

    def __init__(self, title: str, text: str, answers: Sequence[tuple[str, str]]) -> None:
        super().__init__(classes="dialog")
        self._title = title
        self._text = text
        self._answers = list(answers)
        for key, label in self._answers:
            self._bindings.bind(key, f"answer('{key}')", label)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Content(self._title), classes="dialog-title")
            yield Static(Content(self._text), classes="dialog-text")
            parts: list[str | tuple[str, str]] = []
            for key, label in self._answers:
                parts += [(key, "bold"), f" {label} · "]
            parts += [("escape", "bold"), " cancel"]
            yield Label(Content.assemble(*parts), classes="dialog-keys")

    def action_answer(self, key: str) -> None:
        self.dismiss(key or None)
