"""Small modal dialogs: a note, an outcome, a confirmation.

Each returns its answer through ``dismiss`` (``None`` when cancelled with
``escape``), so callers use ``push_screen(dialog, callback)`` or
``await push_screen_wait`` from a worker. Labels that may hold feed text are
``Content`` built from plain strings, never markup.

A dialog that moves money or ownership (approve, deny, hand back, end,
join) is *deliberate*: only :data:`CONFIRM_KEY` confirms it. ``enter``
alone, from a text field or a list, only says so; a sentence typed into
the wrong place, or a terminal echoing the console's own output back as
input, cannot produce that chord.
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

from hitl_console.text import one_line
from hitl_console.tui.session import OUTCOMES

CONFIRM_KEY = "ctrl+y"
"""The one chord that confirms what moves money or ownership.

Neither a printable character nor ``enter``, and a byte (0x19) that the
console never writes, so neither typing nor an echoed screen can send it."""
CONFIRM_KEY_DISPLAY = "ctrl+y"


def confirm_binding(description: str = "Confirm") -> Binding:
    """The :data:`CONFIRM_KEY` binding, with priority so it works while a note field has focus."""
    return Binding(CONFIRM_KEY, "confirm", description, key_display=CONFIRM_KEY_DISPLAY, priority=True)


def deliberate_keys(verb: str, *extra: tuple[str, str]) -> Content:
    """The key line of a deliberate dialog: ``ctrl+y <verb> · ... · escape cancel``."""
    parts: list[str | tuple[str, str]] = [(CONFIRM_KEY_DISPLAY, "bold $text-warning"), f" {verb} · "]
    for key, label in extra:
        parts += [(key, "bold"), f" {label} · "]
    parts += [("escape", "bold"), " cancel"]
    return Content.assemble(*parts)


def enter_does_not_confirm(verb: str) -> Content:
    """What ``enter`` says in a deliberate dialog instead of confirming."""
    return Content.assemble(
        ("enter does not ", "$text-warning"),
        (verb, "$text-warning bold"),
        (" here: press ", "$text-warning"),
        (CONFIRM_KEY_DISPLAY, "$text-warning bold"),
        (" to confirm, escape to cancel", "$text-warning"),
    )


class NoteDialog(ModalScreen[str | None]):
    """Ask for an optional note, then confirm (an empty note is fine) or
    cancel with ``escape`` (returns None).

    ``deliberate`` dialogs (handing back) confirm only with
    :data:`CONFIRM_KEY`; the others (review notes) with ``enter``.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel"), confirm_binding()]

    def __init__(
        self,
        title: str,
        prompt: str,
        *,
        placeholder: str = "optional note",
        confirm: str = "send",
        deliberate: bool = False,
    ) -> None:
        super().__init__(classes="dialog")
        self._title = title
        self._prompt = prompt
        self._placeholder = placeholder
        self._confirm = confirm
        self.deliberate = deliberate

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Content(self._title), classes="dialog-title")
            yield Static(Content(self._prompt), classes="dialog-text")
            yield Input(placeholder=self._placeholder, id="note", max_length=2000)
            yield Label(self._keys(), id="dialog-keys", classes="dialog-keys")

    def _keys(self) -> Content:
        if self.deliberate:
            return deliberate_keys(self._confirm)
        return Content.assemble(("enter", "bold"), f" {self._confirm} · ", ("escape", "bold"), " cancel")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            return self.deliberate
        return True

    @on(Input.Submitted, "#note")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.deliberate:
            self.query_one("#dialog-keys", Label).update(enter_does_not_confirm(self._confirm))
            return
        self.dismiss(event.value.strip())

    def action_confirm(self) -> None:
        if self.deliberate:
            self.dismiss(self.query_one("#note", Input).value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceDialog(ModalScreen[str | None]):
    """Pick one of a few options or cancel (``escape``).

    ``deliberate`` dialogs (ending a conversation) confirm the highlighted
    option only with :data:`CONFIRM_KEY`; the others with ``enter``.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel"), confirm_binding()]

    def __init__(
        self,
        title: str,
        prompt: str,
        options: Sequence[tuple[str, Content | str]],
        *,
        confirm: str = "confirm",
        deliberate: bool = False,
    ) -> None:
        super().__init__(classes="dialog")
        self._title = title
        self._prompt = prompt
        self._options = list(options)
        self._confirm = confirm
        self.deliberate = deliberate

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Content(self._title), classes="dialog-title")
            if self._prompt:
                yield Static(Content(self._prompt), classes="dialog-text")
            yield OptionList(
                *(Option(label if isinstance(label, Content) else Content(label), id=key) for key, label in self._options),
                id="choices",
            )
            yield Label(self._keys(), id="dialog-keys", classes="dialog-keys")

    def _keys(self) -> Content:
        if self.deliberate:
            return deliberate_keys(self._confirm, ("↑↓", "choose"))
        return Content.assemble(("↑↓", "bold"), " choose · ", ("enter", "bold"), f" {self._confirm} · ", ("escape", "bold"), " cancel")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            return self.deliberate
        return True

    @on(OptionList.OptionSelected, "#choices")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.deliberate:
            self.query_one("#dialog-keys", Label).update(enter_does_not_confirm(self._confirm))
            return
        self.dismiss(event.option.id)

    def action_confirm(self) -> None:
        options = self.query_one(OptionList)
        if self.deliberate and options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

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
        confirm="end with the highlighted outcome",
        deliberate=True,
    )


class ConfirmDialog(ModalScreen[str | None]):
    """A question with a few single-key answers; ``escape`` means no.

    An answer that sends a command (handing every chat back on quit) should
    use :data:`CONFIRM_KEY` as its key; ``displays`` names keys for the line."""

    BINDINGS = [Binding("escape", "answer('')", "Cancel")]

    def __init__(
        self, title: str, text: str, answers: Sequence[tuple[str, str]], *, displays: dict[str, str] | None = None
    ) -> None:
        super().__init__(classes="dialog")
        self._title = title
        self._text = text
        self._answers = list(answers)
        self._displays = dict(displays or {})
        for key, label in self._answers:
            self._bindings.bind(key, f"answer('{key}')", label, key_display=self._displays.get(key))

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Content(self._title), classes="dialog-title")
            yield Static(Content(self._text), classes="dialog-text")
            parts: list[str | tuple[str, str]] = []
            for key, label in self._answers:
                parts += [(self._displays.get(key, key), "bold"), f" {label} · "]
            parts += [("escape", "bold"), " cancel"]
            yield Label(Content.assemble(*parts), classes="dialog-keys")

    def action_answer(self, key: str) -> None:
        self.dismiss(key or None)
