""""Was this escalation needed?": the question asked when a takeover ends.

The supervisor who just handled the conversation is the best-placed person
to say whether the AI was right to hand it over, and the answer is what
turns escalations into *escalation accuracy* on the metrics screen. It must
cost one key: ``y`` or ``n`` answers (with whatever note was typed),
``escape`` skips; nobody should be trained to dread ending a takeover.

The note field is not focused at first, so ``y``/``n`` are answers, not
letters; ``o`` (or a click) moves into it, and ``enter`` or ``escape`` there
comes back to the answer keys.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from hitl_console.store.journal import JournalError
from hitl_console.text import one_line

log = logging.getLogger(__name__)

EndedBy = Literal["release", "end"]


@dataclass(frozen=True, slots=True)
class EscalationAnswer:
    """The supervisor's answer; ``note`` is None when none was typed."""

    needed: bool
    note: str | None = None


class EscalationVerdictDialog(ModalScreen[EscalationAnswer | None]):
    """Ask whether the escalation was needed; dismisses with an
    :class:`EscalationAnswer`, or None when skipped."""

    AUTO_FOCUS = ""
    """Nothing focused at first (``None`` would mean "the app's default", which
    focuses the note field): ``y`` and ``n`` must reach the bindings, not the input."""

    BINDINGS = [
        Binding("y", "answer(True)", "Needed", tooltip="A human was needed here"),
        Binding("n", "answer(False)", "Not needed", tooltip="The AI could have handled it"),
        Binding("o", "note", "Note", tooltip="Type an optional note first", id="verdict.note"),
        Binding("escape", "skip", "Skip", tooltip="Do not answer this time"),
    ]

    def __init__(self, conversation_id: str, ended_by: EndedBy = "release") -> None:
        super().__init__(classes="dialog", id="escalation-verdict")
        self.conversation_id = conversation_id
        self.ended_by: EndedBy = ended_by
        self._warned = False

    def compose(self) -> ComposeResult:
        after = " back to the AI" if self.ended_by == "release" else ""
        with Vertical(classes="dialog-box"):
            yield Label(Content("Was this escalation needed?"), classes="dialog-title")
            yield Static(
                Content.assemble(
                    "You ",
                    "handed " if self.ended_by == "release" else "ended ",
                    (one_line(self.conversation_id, 40), "bold"),
                    after,
                    ". Did it really need a person, or could the AI have handled it? "
                    "Your answer feeds escalation accuracy on the metrics screen.",
                ),
                classes="dialog-text",
            )
            yield Input(placeholder="note (optional): why?", id="verdict-note", max_length=2000)
            yield Label(self._keys(editing=False), id="verdict-keys", classes="dialog-keys")

    @staticmethod
    def _keys(*, editing: bool) -> Content:
        if editing:
            return Content.assemble(("enter", "bold"), " done with the note · ", ("escape", "bold"), " done")
        return Content.assemble(
            ("y", "bold"), " needed · ", ("n", "bold"), " not needed · ",
            ("o", "bold"), " note · ", ("escape", "bold"), " skip",
        )

    @property
    def note(self) -> str | None:
        return self.query_one("#verdict-note", Input).value.strip() or None

    @on(Input.Submitted, "#verdict-note")
    def _note_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.set_focus(None)

    def on_descendant_focus(self) -> None:
        self.query_one("#verdict-keys", Label).update(self._keys(editing=True))

    def on_descendant_blur(self) -> None:
        self.query_one("#verdict-keys", Label).update(self._keys(editing=False))

    def action_note(self) -> None:
        self.query_one("#verdict-note", Input).focus()

    def action_answer(self, needed: bool) -> None:
        self.dismiss(EscalationAnswer(bool(needed), self.note))

    def action_skip(self) -> None:
        if isinstance(self.focused, Input):
            self.set_focus(None)  # escape in the note leaves the note, it does not skip
            return
        if self.note and not self._warned:
            # A note typed and then escape: the supervisor meant "done", not
            # "throw my answer away". Say so once; a second escape skips.
            self._warned = True
            self.query_one("#verdict-keys", Label).update(
                Content.assemble(
                    ("Your note is kept only with an answer: ", "$text-warning"),
                    ("y", "bold"), " needed · ", ("n", "bold"), " not needed · ",
                    ("escape", "bold"), " again discards it",
                )
            )
            return
        self.dismiss(None)


def verdict_recorder(app: App[Any], conversation_id: str) -> Callable[[EscalationAnswer | None], None]:
    """The ``push_screen`` callback that stores an answer with
    ``app.session.record_takeover_verdict`` and tells the supervisor whether
    it was kept (a full disk must not lose an answer silently)."""

    def record(answer: EscalationAnswer | None) -> None:
        if answer is None:
            return
        session = app.session  # type: ignore[attr-defined]
        try:
            session.record_takeover_verdict(conversation_id, answer.needed, answer.note)
        except (JournalError, ValueError) as error:
            log.error("takeover verdict for %s not stored: %s", conversation_id, error)
            app.notify(f"Your answer was not saved: {error}", severity="error", timeout=10, markup=False)
            return
        word = "needed" if answer.needed else "not needed"
        app.notify(f"Noted: escalation {word} on {one_line(conversation_id, 40)}.", timeout=3, markup=False)

    return record
