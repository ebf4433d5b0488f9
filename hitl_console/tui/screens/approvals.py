"""The approvals queue: every action the AI is waiting for a human to allow.

Strict human-in-the-loop: a refund over the limit or an account change
waits here until someone approves or denies it, or until it expires. This
is the only screen that binds approve (``a``) and deny (``d``); both open a
:class:`~hitl_console.tui.screens.decision.DecisionDialog` that sends
nothing until ``ctrl+y``. Under the table, the selected request's facts
(customer, amount, the whole rationale: the dialog's own ``describe``),
because at 80 columns the rationale column shows a dozen characters. The
time left counts down once a second, but only while something is pending;
an empty queue costs nothing.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Footer
from textual.widgets.data_table import RowDoesNotExist

from hitl_console.engine.state import Approval
from hitl_console.text import one_line
from hitl_console.tui import formatting
from hitl_console.tui.screens.base import TableScreen
from hitl_console.tui.screens.decision import describe
from hitl_console.tui.widgets.status_line import StatusLine

RECENT_S = 900.0
"""Resolved and expired requests stay listed (dimmed) for this long."""

COLUMNS = (
    ("left", "Left", 7),
    ("status", "Status", 8),
    ("conversation", "Conv.", 10),
    ("action", "Action", 20),
    ("amount", "Amount", 13),
    ("rationale", "Rationale", 60),
)


def collect(conversations, now: float) -> tuple[list[Approval], list[Approval]]:
    """Open requests (soonest deadline first) and recent closed ones (newest first)."""
    open_: list[Approval] = []
    closed: list[Approval] = []
    for state in conversations:
        for approval in state.approvals.values():
            if approval.is_open(now) and not state.ended:
                open_.append(approval)
            elif (approval.resolved_ts or approval.expires_ts or approval.ts) >= now - RECENT_S:
                closed.append(approval)
    open_.sort(key=lambda a: (a.expires_ts is None, a.expires_ts or 0.0, a.ts))
    closed.sort(key=lambda a: -(a.resolved_ts or a.expires_ts or a.ts))
    return open_, closed


def status_word(approval: Approval, now: float) -> str:
    if approval.is_open(now):
        return "pending"
    if approval.status == "pending":
        return "expired"  # the deadline passed; the feed has not said so yet
    return approval.status


class ApprovalsScreen(TableScreen):
    CSS_PATH = "approvals.tcss"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("a", "approve", "Approve", tooltip="Approve the selected request (optional note)", id="approvals.approve"),
        Binding("d", "deny", "Deny", tooltip="Deny the selected request (optional note)", id="approvals.deny"),
        Binding("enter", "open", "Open", tooltip="Open the conversation of the selected request", id="approvals.open"),
    ]

    def __init__(self, *, select: str | None = None) -> None:
        super().__init__(id="approvals")
        self._select = select
        self._rows: dict[str, Approval] = {}
        self._cells: dict[str, tuple[str, ...]] = {}
        self._status_cells: dict[str, Text] = {}
        self._open_count = 0
        self._countdown = None

    def compose(self) -> ComposeResult:
        yield StatusLine(id="approvals-status")
        table: DataTable[Text] = DataTable(id="approvals-table", cursor_type="row", zebra_stripes=False)
        yield table
        yield StatusLine(id="approvals-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        self._countdown = self.set_interval(1.0, self._tick, pause=True)
        self.flush()
        self.select(self._select)
        table.focus()

    def select(self, approval_id: str | None) -> None:
        """Put the cursor on ``approval_id`` (opened from a conversation)."""
        if approval_id is not None:
            self.keep_cursor_on(approval_id)

    def mark_dirty(self, changed=(), *, figures: bool = False, approvals: bool = False) -> None:  # type: ignore[override]
        self.dirty_approvals |= approvals or bool(changed)

    def _tick(self) -> None:
        self.dirty_approvals = True
        self.flush()

    def flush(self) -> None:
        now = self.hitl.clock()
        open_, closed = collect(self.hitl.session.engine.conversations.values(), now)
        table = self.query_one(DataTable)
        wanted = open_ + closed
        palette = self.hitl.palette
        keep = self.selected_id
        was_open = keep is not None and self._cells.get(keep, ())[1:2] == ("pending",)
        index = table.cursor_row
        with self.app.batch_update():
            wanted_ids = [a.approval_id for a in wanted]
            for approval_id in [k for k in self._rows if k not in set(wanted_ids)]:
                try:
                    table.remove_row(approval_id)
                except RowDoesNotExist:
                    pass
                self._rows.pop(approval_id, None)
                self._cells.pop(approval_id, None)
                self._status_cells.pop(approval_id, None)
            for approval in wanted:
                word = status_word(approval, now)
                is_open = word == "pending"
                left = approval.time_left(now)
                values = (
                    formatting.time_left(left) if is_open else "–",
                    word,
                    one_line(approval.conversation_id, 40),
                    one_line(approval.action, 60),
                    formatting.money(approval.amount, approval.currency),
                    one_line(approval.rationale or "", 300),
                )
                if is_open:
                    urgent = left is not None and left < 30
                    styles = [
                        palette.error + palette.strong if urgent else palette.accent + palette.strong,
                        palette.accent,
                        palette.strong,
                        palette.strong,
                        palette.accent,
                        palette.muted,
                    ]
                else:
                    done = {"approved": palette.success, "denied": palette.error, "expired": palette.warning}.get(word, palette.muted)
                    styles = [palette.muted, done, palette.muted, palette.muted, palette.muted, palette.muted]
                cells = [Text(v, style=s, no_wrap=True, end="") for v, s in zip(values, styles, strict=True)]
                previous = self._cells.get(approval.approval_id)
                if previous is None:
                    table.add_row(*cells, key=approval.approval_id, height=1)
                    self._status_cells[approval.approval_id] = cells[1]
                elif previous != values:
                    for (key, _, _), old, new, cell in zip(COLUMNS, previous, values, cells, strict=True):
                        if old != new:
                            table.update_cell(approval.approval_id, key, cell, update_width=False)
                            if key == "status":
                                self._status_cells[approval.approval_id] = cell
                self._rows[approval.approval_id] = approval
                self._cells[approval.approval_id] = values
            current = [str(row.key.value) for row in table.ordered_rows]
            if current != wanted_ids:
                # sort() hands the key function cells, not row keys; the status
                # cell objects are ours, so rank rows by their identity.
                order = {id(self._status_cells[k]): i for i, k in enumerate(wanted_ids)}
                table.sort("status", key=lambda cell: order.get(id(cell), len(order)))
            if was_open and keep not in {a.approval_id for a in open_} and open_:
                # decided (or expired) under the cursor: it moves down among the closed
                # ones; the cursor stays where the supervisor was, on the next request
                table.move_cursor(row=min(index, len(open_) - 1), scroll=True)
            else:
                self.keep_cursor_on(keep)
            self._open_count = len(open_)
            recent = f"  ·  {len(closed)} decided or expired in the last {RECENT_S / 60:.0f} min" if closed else ""
            self.query_one("#approvals-status", StatusLine).show(
                Content.assemble(
                    ("Approvals  ", "bold"),
                    (f"{len(open_)} pending" if open_ else "nothing waits for a decision", "$text-accent bold" if open_ else "dim"),
                    (recent, "dim"),
                )
            )
            self._show_detail(now)
        if self._countdown is not None:
            if open_:
                self._countdown.resume()
            else:
                self._countdown.pause()
        self.refresh_bindings()
        self.clean()

    def _selected(self) -> Approval | None:
        return self.selected_in(self._rows)

    def _show_detail(self, now: float | None = None) -> None:
        """The selected request's facts under the table (empty when none is selected)."""
        approval = self._selected()
        detail = self.query_one("#approvals-detail", StatusLine)
        if approval is None:
            detail.show(Content(""))
            detail.display = False
            return
        detail.display = True
        state = self.hitl.session.engine.conversations.get(approval.conversation_id)
        detail.show(describe(approval, state, self.hitl.clock() if now is None else now))  # the footer has the keys

    @on(DataTable.RowHighlighted, "#approvals-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("approve", "deny"):
            approval = self._selected()
            return approval is not None and approval.is_open(self.hitl.clock())
        if action == "open":
            return self._selected() is not None
        return True

    def action_open(self) -> None:
        approval = self._selected()
        if approval is not None:
            self.hitl.open_conversation(approval.conversation_id)

    def action_approve(self) -> None:
        approval = self._selected()
        if approval is not None:
            self.hitl.decide_approval(approval, "approve")

    def action_deny(self) -> None:
        approval = self._selected()
        if approval is not None:
            self.hitl.decide_approval(approval, "deny")
