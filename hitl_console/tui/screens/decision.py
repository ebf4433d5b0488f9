"""Approving or denying one request of the AI: the only way either command leaves.

Opened from the approvals queue only. The dialog shows what the decision is
about (conversation, customer, action, amount, rationale, time left) and
sends nothing until the supervisor presses :data:`CONFIRM_KEY`; ``enter``
in the note field only says so. A request that closed while the dialog was
open (expired, or decided by someone else) cannot be confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from hitl_console.engine.state import Approval, ConversationState
from hitl_console.text import one_line
from hitl_console.tui import formatting
from hitl_console.tui.screens.dialogs import CONFIRM_KEY_DISPLAY, confirm_binding, deliberate_keys, enter_does_not_confirm

Verb = Literal["approve", "deny"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What the supervisor confirmed."""

    verb: Verb
    note: str | None


def describe(approval: Approval, state: ConversationState | None, now: float) -> Content:
    """The facts a decision rests on, one per line; feed text is never markup."""
    rows: list[tuple[str, Content | str]] = []
    where = one_line(approval.conversation_id, 40)
    if state is not None:
        where += f"  ·  {one_line(state.channel, 12)} · {one_line(state.queue or 'no queue', 24)}"
    rows.append(("Conversation", where))
    if state is not None:
        c = state.customer
        who = one_line(c.name or c.id or "unknown", 40)
        extra = [one_line(x, 24) for x in (c.id if c.name else None, c.tier) if x]
        rows.append(("Customer", who + (f"  ({', '.join(extra)})" if extra else "")))
    rows.append(("Action", Content.styled(one_line(approval.action, 60), "bold")))
    amount = formatting.money(approval.amount, approval.currency)
    rows.append(("Amount", Content.styled(amount, "bold $text-accent") if amount else Content.styled("none given", "dim")))
    rows.append(("Rationale", one_line(approval.rationale or "none given", 400)))
    left = approval.time_left(now)
    if not approval.is_open(now):
        rows.append(("Status", Content.styled("closed: " + ("expired" if approval.status == "pending" else approval.status), "bold $text-error")))
    elif left is not None:
        rows.append(("Time left", Content.styled(formatting.time_left(left), "bold $text-error" if left < 30 else "bold")))
    lines = [Content.assemble((f"{label:<13}", "dim"), value) for label, value in rows]
    return Content("\n").join(lines)


def _terms(approval: Approval) -> tuple[object, ...]:
    """What an approval asks for: a change in any of these is another decision."""
    return (approval.seq, approval.action, approval.amount, approval.currency, approval.rationale, approval.expires_ts)


class DecisionDialog(ModalScreen[Decision | None]):
    """Confirm one approve or deny, with an optional note."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), confirm_binding()]

    def __init__(
        self,
        approval: Approval,
        verb: Verb,
        *,
        state: Callable[[], ConversationState | None],
        clock: Callable[[], float],
    ) -> None:
        super().__init__(classes="dialog", id="decision")
        self.approval = approval
        self.verb: Verb = verb
        self._state = state
        self._clock = clock
        self._shown = _terms(approval)
        """The terms on screen: a request the feed changed since (same id, another
        amount or action) is not what the supervisor is confirming."""
        self._changed = False
        """The terms changed while the dialog was open: the next confirm only says so."""

    def compose(self) -> ComposeResult:
        title = f"{self.verb.capitalize()} this request?"
        with Vertical(classes="dialog-box decision-box"):
            yield Label(Content(title), classes="dialog-title")
            yield Static(self._facts(), id="decision-facts", classes="dialog-text")
            noun = "approval" if self.verb == "approve" else "denial"
            yield Input(placeholder=f"note with the {noun} (optional)", id="note", max_length=2000)
            yield Label(deliberate_keys(self.verb), id="dialog-keys", classes="dialog-keys")

    def _current(self) -> tuple[Approval, ConversationState | None]:
        """The request as the engine knows it now (it may have closed meanwhile)."""
        state = self._state()
        approval = state.approvals.get(self.approval.approval_id, self.approval) if state is not None else self.approval
        return approval, state

    def _facts(self) -> Content:
        approval, state = self._current()
        terms = _terms(approval)
        if terms != self._shown:
            self._changed = True
        self._shown = terms
        return describe(approval, state, self._clock())

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        self.query_one("#decision-facts", Static).update(self._facts())
        if self._changed:
            self.query_one("#dialog-keys", Label).update(self._changed_notice())

    def _changed_notice(self) -> Content:
        return Content.assemble(
            ("The request changed while it was open; nothing was sent. ", "$text-error bold"),
            "Read it again, then ", (CONFIRM_KEY_DISPLAY, "bold"), f" to {self.verb}, ", ("escape", "bold"), " to cancel",
        )

    @on(Input.Submitted, "#note")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#dialog-keys", Label).update(enter_does_not_confirm(self.verb))

    def action_confirm(self) -> None:
        approval, state = self._current()
        if not approval.is_open(self._clock()) or (state is not None and state.ended):
            self._tick()
            self.query_one("#dialog-keys", Label).update(
                Content.assemble(("This request is closed; nothing was sent. ", "$text-error bold"), ("escape", "bold"), " close")
            )
            return
        if _terms(approval) != self._shown or self._changed:
            # Found by a hostile feed: the same approval_id sent again with a
            # larger amount while the dialog showed the old one (it refreshes
            # once a second) was approved on ctrl+y. The new terms are shown and
            # the supervisor confirms again, after this notice.
            self._tick()
            self._changed = False
            self.query_one("#dialog-keys", Label).update(self._changed_notice())
            return
        self.dismiss(Decision(self.verb, self.query_one("#note", Input).value.strip() or None))

    def action_cancel(self) -> None:
        self.dismiss(None)
