"""``L``: every alert the session holds, newest first.

The floor's panel shows the last few; this is where a supervisor reads back
through a busy quarter of an hour, opens the conversation an alert is about
(``enter``) and acknowledges alerts so the header's count means "not yet
looked at" (``x`` one, ``X`` all).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Footer

from hitl_console.alerts.model import Alert
from hitl_console.text import one_line
from hitl_console.tui import formatting
from hitl_console.tui.screens.base import TableScreen
from hitl_console.tui.widgets.alert_log import LEVEL_LABEL
from hitl_console.tui.widgets.status_line import StatusLine


class AlertsScreen(TableScreen):
    CSS_PATH = "alerts.tcss"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open", "Open", tooltip="Open the conversation the alert is about", id="alerts.open"),
        Binding("x", "acknowledge", "Ack", tooltip="Acknowledge the selected alert (it stops counting in the header)", id="alerts.acknowledge"),
        Binding("X", "acknowledge_all", "Ack all", key_display="X", tooltip="Acknowledge every alert", id="alerts.acknowledge_all"),
    ]

    def __init__(self) -> None:
        super().__init__(id="alerts-screen")
        self._shown: tuple[int, int, int] | None = None
        self._by_id: dict[str, Alert] = {}

    def compose(self) -> ComposeResult:
        yield StatusLine(id="alerts-status")
        yield DataTable(id="alerts-table", cursor_type="row", zebra_stripes=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Time", key="time", width=8)
        table.add_column("Level", key="level", width=5)
        table.add_column("Kind", key="kind", width=10)  # "escalation"
        table.add_column("Conversation", key="conversation", width=12)
        table.add_column("Alert", key="text", width=200)
        self.flush()
        table.focus()

    def flush(self) -> None:
        alerts = list(self.hitl.session.alerts)
        unacked = sum(1 for a in alerts if not a.acknowledged)
        key = (len(alerts), alerts[-1].id if alerts else 0, unacked)
        if key != self._shown:
            self._shown = key
            self._fill(alerts)
            self.query_one(StatusLine).show(
                Content.assemble(
                    ("Alerts  ", "bold"),
                    (f"{len(alerts)} held", "dim"),
                    ("  ·  ", "dim"),
                    (f"{unacked} not acknowledged", "$text-warning bold" if unacked else "dim"),
                    ("  ·  enter open · x ack · X ack all", "dim"),
                )
            )
        self.clean()

    def _fill(self, alerts: list[Alert]) -> None:
        table = self.query_one(DataTable)
        palette = self.hitl.palette
        keep = self.selected_id
        table.clear()
        self._by_id.clear()
        for alert in reversed(alerts):
            style = {"critical": palette.error + palette.strong, "warning": palette.warning}.get(alert.level, palette.muted)
            dim = palette.muted if alert.acknowledged else None
            key = str(alert.id)
            self._by_id[key] = alert
            table.add_row(
                Text(formatting.clock_time(alert.ts), style=palette.muted, end=""),
                Text(LEVEL_LABEL.get(alert.level, alert.level), style=dim or style, end=""),
                Text(alert.kind, style=palette.muted, end=""),
                Text(one_line(alert.conversation_id or "–", 40), end=""),
                Text(one_line(alert.text_without_id(), 400), style=dim or "", end=""),
                key=key,
            )
        self.keep_cursor_on(keep)

    def _selected(self) -> Alert | None:
        return self.selected_in(self._by_id)

    def action_open(self) -> None:
        alert = self._selected()
        if alert is None or not alert.conversation_id:
            self.notify("This alert is about the whole floor, not one conversation.", timeout=3, markup=False)
            return
        self.hitl.open_conversation(alert.conversation_id)

    def _acknowledge(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            if not alert.acknowledged:
                self.hitl.session.acknowledge(alert.id)
        self._shown = None
        self.flush()
        self.hitl.request_refresh()

    def action_acknowledge(self) -> None:
        alert = self._selected()
        if alert is not None:
            self._acknowledge([alert])

    def action_acknowledge_all(self) -> None:
        self._acknowledge(list(self.hitl.session.alerts))
