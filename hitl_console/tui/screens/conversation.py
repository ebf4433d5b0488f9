"""One conversation: the live transcript, the customer, the trends, the approvals,
and the supervisor's own voice once they take over.

Keys follow the life of a takeover: ``t`` (summary, then ``ctrl+y`` joins),
type and ``enter`` to send, ``escape`` to leave the message box (it then
looks inactive and says ``i`` brings you back), ``r`` to hand back to the
AI with a note, ``e`` to end; both of those wait for ``ctrl+y`` too.
Approving and denying live in the approvals queue only (``a`` opens it on
this conversation's request), so no sentence typed here can decide one.
Actions that do not apply right now (``r`` when you do not hold the chat)
are hidden from the footer rather than failing when pressed, so the footer
is also the list of what you can do.
"""

from __future__ import annotations

import logging
from typing import Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import DescendantBlur, DescendantFocus, Resize
from textual.widgets import Footer, Input

from hitl_console.engine.state import Approval, ConversationState
from hitl_console.feeds.base import CommandResult
from hitl_console.text import one_line
from hitl_console.tui.screens.base import LiveScreen
from hitl_console.tui.screens.dialogs import NoteDialog, outcome_dialog
from hitl_console.tui.screens.handoff import HandoffScreen
from hitl_console.tui.screens.verdict import EscalationVerdictDialog, verdict_recorder
from hitl_console.tui.widgets.approval_strip import ApprovalStrip
from hitl_console.tui.widgets.conversation_header import ConversationHeader
from hitl_console.tui.widgets.customer_card import CustomerCard
from hitl_console.tui.widgets.transcript import Transcript
from hitl_console.tui.widgets.trend_chart import TrendChart

log = logging.getLogger(__name__)

WAIT_REFRESH_S = 5.0
"""How often the header's "WAITING for a human for 2m" is brought up to date
(to the minute; the line repaints only when the text changed)."""

SIDE_PANEL_MIN_WIDTH = 110
"""Below this width the side panel starts collapsed (``p`` shows it)."""


class ConversationScreen(LiveScreen):
    CSS_PATH = "conversation.tcss"

    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Leave the message box, or go back to the floor"),
        Binding("t", "take_over", "Take over", tooltip="Read the handoff summary and join", id="conversation.take_over"),
        Binding("i", "focus_input", "Reply", tooltip="Type to the customer", id="conversation.focus_input"),
        Binding("r", "release", "Hand back", tooltip="Hand the conversation back to the AI, with an optional note", id="conversation.release"),
        Binding("e", "end", "End", tooltip="End the conversation and record the outcome", id="conversation.end"),
        Binding("a", "approvals", "Approvals", tooltip="Decide this conversation's pending request in the approvals queue", id="conversation.approvals"),
        Binding("h", "summary", "Summary", tooltip="Show the handoff summary without joining", id="conversation.summary"),
        Binding("p", "toggle_panel", "Panel", tooltip="Show or hide the customer and trends panel", id="conversation.toggle_panel"),
    ]

    def __init__(self, conversation_id: str, *, takeover: bool = False) -> None:
        super().__init__(classes="conversation")
        self.conversation_id = conversation_id
        self._open_takeover = takeover
        self._joined = False
        """The takeover was acknowledged and the feed's ``human.joined`` may not be here yet."""
        self._panel_user_choice: bool | None = None
        self._pending: list[Approval] = []
        self._countdown = None
        self._busy = False

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        low = self.hitl.config.thresholds.low_confidence
        yield ConversationHeader(id="conversation-header")
        with Horizontal(id="conversation-body"):
            with Vertical(id="conversation-main"):
                yield Transcript(id="transcript", low_confidence=low)
                yield ApprovalStrip(id="approval-strip")
                yield Input(placeholder="", id="message", max_length=4000)
            with VerticalScroll(id="side-panel"):
                yield CustomerCard(id="customer")
                yield TrendChart("Customer sentiment", y_range=(-1.0, 1.0), id="sentiment-chart")
                yield TrendChart("AI confidence", y_range=(0.0, 1.0), id="confidence-chart")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._follow_theme()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._follow_theme())
        self._countdown = self.set_interval(1.0, self._tick_countdown, pause=True)
        self.set_interval(WAIT_REFRESH_S, self._tick_wait)
        self.flush()
        self.query_one("#transcript").focus()
        if self._open_takeover:
            self._open_takeover = False
            self.call_after_refresh(self.action_take_over)

    def _follow_theme(self) -> None:
        """``-ansi`` under a theme of the terminal's 16 colours: a tinted background
        (``$accent 10%``) cannot be blended there, it becomes the full colour and
        hid the approval's amount and time left (accent text on accent)."""
        self.set_class(bool(getattr(self.app.current_theme, "ansi", False)), "-ansi")

    def on_resize(self, event: Resize) -> None:
        if self._panel_user_choice is None:
            self.query_one("#side-panel").display = self.size.width >= SIDE_PANEL_MIN_WIDTH

    # ------------------------------------------------------------ state

    @property
    def state(self) -> ConversationState | None:
        return self.hitl.session.engine.conversations.get(self.conversation_id)

    def held_by_me(self, state: ConversationState | None = None) -> bool:
        state = state or self.state
        if state is None or state.ended:
            return False
        if state.holder == "human":
            return state.agent == self.hitl.session.agent
        return self._joined

    def mark_dirty(self, changed=(), *, figures: bool = False, approvals: bool = False) -> None:  # type: ignore[override]
        if self.conversation_id in changed:
            self.dirty_ids.add(self.conversation_id)
        self.dirty_approvals |= approvals

    def flush(self) -> None:
        state = self.state
        if state is None:
            self.clean()
            return
        now = self.hitl.clock()
        me = self.hitl.session.agent
        if state.holder == "human" and state.agent == me:
            self._joined = False  # the feed has confirmed; from now on the state says it
        elif state.holder == "human" or state.ended:
            self._joined = False
        with self.app.batch_update():
            self.query_one(ConversationHeader).show_state(state, me, now, self.hitl.quiet_alert_chip())
            self.query_one(Transcript).sync(state, now)
            self._pending = [a for a in self.query_one(ApprovalStrip).show_state(state, now) if a.is_open(now)]
            self.query_one(CustomerCard).show_state(state)
            estimated = any(t.sentiment_estimated for t in state.turns if t.role == "customer" and t.sentiment is not None)
            self.query_one("#sentiment-chart", TrendChart).show_series(state.sentiments(), note="estimated" if estimated else "")
            self.query_one("#confidence-chart", TrendChart).show_series(state.confidences())
            self._sync_input(state)
        if self._countdown is not None:
            if self._pending:
                self._countdown.resume()
            else:
                self._countdown.pause()
        self.refresh_bindings()
        self.clean()

    def show_alert_counter(self) -> None:
        state = self.state
        if state is not None and self.ready:
            self.query_one(ConversationHeader).show_state(state, self.hitl.session.agent, self.hitl.clock(), self.hitl.quiet_alert_chip())

    def _tick_wait(self) -> None:
        state = self.state
        if state is not None and state.holder == "waiting":
            self.show_alert_counter()

    def _tick_countdown(self) -> None:
        """1 Hz while approvals are pending: the time left is the point."""
        state = self.state
        if state is None:
            return
        now = self.hitl.clock()
        self._pending = [a for a in self.query_one(ApprovalStrip).show_state(state, now) if a.is_open(now)]
        self.query_one(Transcript).sync(state, now)
        if not self._pending and self._countdown is not None:
            self._countdown.pause()
            self.refresh_bindings()

    def _sync_input(self, state: ConversationState) -> None:
        box = self.query_one("#message", Input)
        mine = self.held_by_me(state)
        box.disabled = not mine
        focused = self.focused is box
        if mine and focused:
            placeholder = "Type to the customer · enter sends · escape leaves the box"
            subtitle = "enter sends · escape leaves"
        elif mine:
            placeholder = "Message box inactive · press i to reply"
            subtitle = "inactive · i to reply"
        elif state.ended:
            placeholder = f"Conversation ended ({state.outcome or 'no outcome'})"
            subtitle = ""
        elif state.holder == "human":
            placeholder = f"Held by {one_line(state.agent or 'another agent', 32)}"
            subtitle = ""
        else:
            placeholder = "Press t to take over and reply"
            subtitle = ""
        if box.placeholder != placeholder:
            box.placeholder = placeholder
        if box.border_subtitle != subtitle:
            box.border_subtitle = subtitle
        box.set_class(mine and not focused, "-inactive")

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        self._resync_input()

    def on_descendant_blur(self, event: DescendantBlur) -> None:
        self._resync_input()

    def _resync_input(self) -> None:
        """The message box shows whether typing goes to the customer; focus changes that."""
        state = self.state
        if state is not None and self.is_mounted:
            self._sync_input(state)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        state = self.state
        if action in ("release", "end", "focus_input"):
            return self.held_by_me(state)
        if action == "take_over":
            return state is not None and not state.ended and not self.held_by_me(state)
        if action == "approvals":
            return bool(self._pending)
        return True

    # ------------------------------------------------------------ actions

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#transcript").focus()
            return
        self.dismiss()

    def action_toggle_panel(self) -> None:
        panel = self.query_one("#side-panel")
        panel.display = not panel.display
        self._panel_user_choice = bool(panel.display)

    def action_focus_input(self) -> None:
        box = self.query_one("#message", Input)
        if not box.disabled:
            box.focus()

    def action_summary(self) -> None:
        state = self.state
        if state is not None:
            self.app.push_screen(HandoffScreen(state, self.hitl.session.agent, self.hitl.clock(), join=False))

    def action_take_over(self) -> None:
        state = self.state
        if state is None:
            self.notify(f"{one_line(self.conversation_id, 40)} is gone.", severity="warning", markup=False)
            return
        if self.held_by_me(state):
            self.action_focus_input()
            return
        self.app.push_screen(HandoffScreen(state, self.hitl.session.agent, self.hitl.clock()), self._after_handoff)

    def _after_handoff(self, join: bool | None) -> None:
        if join:
            self._take_over()

    @work(exclusive=True, group="conversation-command")
    async def _take_over(self) -> None:
        cid = self.conversation_id
        result = await self.hitl.session.takeover(cid)
        if result.ok:
            self._joined = True
            # No toast: at 80x24 it covered the message box; the header says
            # "held by YOU", the transcript "joined", the box has the focus.
            self.flush()
            self.action_focus_input()
            return
        state = self.state
        holder = state.agent if state is not None and state.holder == "human" and state.agent != self.hitl.session.agent else None
        who = f" It is held by {one_line(holder, 32)}." if holder and holder not in (result.error or "") else ""
        self.notify(
            f"Takeover of {one_line(cid, 40)} {result.describe()}.{who}",
            title="Not joined",
            severity="error",
            timeout=10,
            markup=False,
        )

    @on(Input.Submitted, "#message")
    def _send(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text and not self._busy:
            self._send_text(text)

    @work(exclusive=True, group="conversation-send")
    async def _send_text(self, text: str) -> None:
        self._busy = True
        try:
            result = await self.hitl.session.send(self.conversation_id, text)
        finally:
            self._busy = False
        box = self.query_one("#message", Input)
        if result.ok:
            if box.value.strip() == text:
                box.value = ""
        else:
            # The text stays in the box so nothing the supervisor wrote is lost.
            self.notify(f"Message not sent: {result.describe()}", severity="error", timeout=10, markup=False)

    def action_release(self) -> None:
        self.app.push_screen(
            NoteDialog(
                "Hand back to the AI",
                f"{one_line(self.conversation_id, 40)} goes back to the AI. A note tells it what you did or what to watch for.",
                placeholder="note for the AI (optional)",
                confirm="hand back",
                deliberate=True,
            ),
            self._after_release_note,
        )

    def _after_release_note(self, note: str | None) -> None:
        if note is not None:
            self._release(note or None)

    @work(exclusive=True, group="conversation-command")
    async def _release(self, note: str | None) -> None:
        result = await self.hitl.session.release(self.conversation_id, note)
        self._after_leaving(result, "Hand back", "release")

    def action_end(self) -> None:
        self.app.push_screen(outcome_dialog(self.conversation_id), self._after_outcome)

    def _after_outcome(self, outcome: str | None) -> None:
        if outcome:
            self._end(outcome)

    @work(exclusive=True, group="conversation-command")
    async def _end(self, outcome: str) -> None:
        result = await self.hitl.session.end(self.conversation_id, outcome)
        self._after_leaving(result, "End", "end")

    def _after_leaving(self, result: CommandResult, verb: str, how: Literal["release", "end"]) -> None:
        """What handing back and ending share: say if it failed and, once the
        supervisor is out, ask whether the escalation was needed; the answers
        are what escalation accuracy is computed from (``MetricsScreen``).
        No toast on success: the question starts "You handed c-1000 back to
        the AI" and the header says who has it now (a toast said it twice)."""
        if not result.ok:
            self.notify(f"{verb} {result.describe()}", severity="error", timeout=10, markup=False)
            return
        self._joined = False
        self.query_one("#transcript").focus()
        self.flush()
        self.app.push_screen(
            EscalationVerdictDialog(self.conversation_id, how), verdict_recorder(self.app, self.conversation_id)
        )

    def action_approvals(self) -> None:
        """Open the approvals queue on this conversation's soonest pending request."""
        now = self.hitl.clock()
        pending = [a for a in self._pending if a.is_open(now)]
        self.hitl.open_approvals(pending[0].approval_id if pending else None)
