"""The floor: headline figures, every active conversation ranked, the alert log.

This is where a supervisor spends the shift. It must stay cheap with
thousands of rows (see :mod:`hitl_console.tui.widgets.conversation_table`)
and must never move the cursor off the conversation the supervisor is
looking at when the ranking changes underneath it.
"""

from __future__ import annotations

import dataclasses
import time

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.events import Resize
from textual.widgets import Footer, Input

from hitl_console.engine.state import ConversationState
from hitl_console.text import one_line
from hitl_console.tui import ranking
from hitl_console.tui.screens.base import LiveScreen
from hitl_console.tui.widgets.alert_log import AlertLog
from hitl_console.tui.widgets.conversation_table import CellContext, ConversationTable, column_widths, columns_for_width
from hitl_console.tui.widgets.figures import FiguresBar
from hitl_console.tui.widgets.replay_bar import ReplayBar
from hitl_console.tui.widgets.status_line import StatusLine

CLOCK_REFRESH_S = 1.0
"""How long a customer has waited for a person is shown to the second: the
rows on screen are checked against the clock once a second, and only cells
whose text changed (a wait, now and then an age) are redrawn. The order does
not move as time passes (every wait grows at the same pace, see
``attention.floor_rank``), so nothing is re-ranked."""
FIGURES_MIN_INTERVAL_S = 1.0
"""The header's figures walk every conversation; once a second is as fast as
anyone needs them (at 10,000 open conversations each walk costs tens of ms:
session-side counters would make it free, see docs/performance.md)."""
FIGURES_QUIET_INTERVAL_S = 5.0
"""When no conversation changed (only a feed's status did: a heartbeat, the
lag), the figures are worked out again at most this often: on a quiet floor
of 10,000 conversations a walk per heartbeat was most of the idle CPU."""
LAG_STEADY_S = 1.0
"""A lag that stays under this much and moves by less than it is shown as it
was: heartbeats once a second make a healthy feed's lag wander between 0.0
and 1.0 s, and a header that redraws for that writes to the terminal of a
floor where nothing happens."""


class FloorScreen(LiveScreen):
    """Default screen: figures, the ranked table, alerts."""

    CSS_PATH = "floor.tcss"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (40, "-tall")]

    BINDINGS = [
        Binding("t", "take_over", "Take over", tooltip="Read the handoff summary and join the selected conversation", id="floor.take_over"),
        Binding("slash", "filter", "Filter", key_display="/", tooltip="Filter by id, customer, queue, topic or text", id="floor.filter"),
        Binding("s", "cycle_sort", "Sort", show=False, tooltip="Sort by risk, age, sentiment or turns", id="floor.cycle_sort"),
        Binding("f", "cycle_queue", "Queue", show=False, tooltip="Show one queue at a time (cycles through the queues)", id="floor.cycle_queue"),
        Binding("o", "freeze", "Freeze order", show=False, tooltip="Hold the current order while you read (values still update)", id="floor.freeze"),
        Binding("l", "toggle_alerts", "Alert panel", show=False, tooltip="Show or hide the alert panel", id="floor.toggle_alerts"),
        Binding("escape", "clear_filter", "Clear filter", show=False, tooltip="Clear the text and queue filters", id="floor.clear_filter"),
    ]

    def __init__(self) -> None:
        super().__init__(id="floor")
        self.sort = "risk"
        self.needle = ""
        self.queue: str | None = None
        self.frozen = False
        self._match_cache: dict[str, tuple[int, str, bool]] = {}
        self._ranking: ranking.Ranking | None = None
        """The shown conversations in order, kept up to date change by change."""
        self._open: set[str] = set()
        self._shown = 0
        self._total = 0
        self._figures_at = 0.0
        self._figures_timer_pending = False
        self._lag_shown: float | None = None

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield FiguresBar(id="figures")
        yield StatusLine(id="floor-status")
        yield Input(placeholder="filter: id, customer, queue, topic or text · enter keeps · escape clears", id="filter")
        yield ConversationTable(id="conversations")
        yield AlertLog(id="alerts")
        if self.hitl.session.mode == "replay":
            yield ReplayBar(id="replay")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        table = self.table
        table.cell_context = self._cell_context()
        self.alert_log.palette = self.hitl.palette
        self.set_interval(CLOCK_REFRESH_S, self._refresh_waits)
        table.focus()

    @property
    def table(self) -> ConversationTable:
        return self.query_one("#conversations", ConversationTable)

    @property
    def alert_log(self) -> AlertLog:
        return self.query_one("#alerts", AlertLog)

    def _cell_context(self) -> CellContext:
        app = self.hitl
        return CellContext(
            now=app.clock(),
            me=app.session.agent,
            low_confidence=app.config.thresholds.low_confidence,
            palette=app.palette,
            stale_feeds=app.session.stale_feeds,
        )

    def on_resize(self, event: Resize) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        table = self.table
        width = table.size.width - 1  # the vertical scrollbar
        if width <= 0:
            return
        widths = column_widths(columns_for_width(width), width)
        if widths != table.widths:
            table.cell_context = self._cell_context()
            table.set_columns(widths, self._rows())

    def restyle(self) -> None:
        """The theme changed: every cell is rendered again with the new palette."""
        self.alert_log.restyle(self.hitl.palette)
        table = self.table
        table.cell_context = self._cell_context()
        table.restyle()
        table.rebuild(self._rows())

    # ------------------------------------------------------------ data

    def _matches(self, state: ConversationState, needle: str) -> bool:
        cached = self._match_cache.get(state.conversation_id)
        if cached is not None and cached[0] == state.version and cached[1] == needle:
            return cached[2]
        result = ranking.matches(state, needle)
        self._match_cache[state.conversation_id] = (state.version, needle, result)
        return result

    def _new_ranking(self) -> ranking.Ranking:
        needle = self.needle.strip().lower()
        queue = self.queue

        def admit(state: ConversationState) -> bool:
            return (queue is None or state.queue == queue) and (not needle or self._matches(state, needle))

        return ranking.Ranking(ranking.sort_order(self.sort).rank, admit)

    def _order(self, changed: set[str] | None = None) -> list[str]:
        """The ids to show, filtered and in order. ``changed``: the ids whose
        state changed since the last call (None: rank the floor afresh)."""
        conversations = self.hitl.session.engine.conversations
        if changed is None or self._ranking is None:
            active = [s for s in conversations.values() if not s.ended]
            self._open = {s.conversation_id for s in active}
            self._ranking = self._new_ranking()
            self._ranking.rebuild(active)
            if len(self._match_cache) > 4 * max(1, len(active)):
                self._match_cache = {k: v for k, v in self._match_cache.items() if k in self._open}
        else:
            for cid in changed:
                state = conversations.get(cid)
                if state is None or state.ended:
                    self._open.discard(cid)
                    self._match_cache.pop(cid, None)
                else:
                    self._open.add(cid)
                self._ranking.update(cid, state)
        order = list(self._ranking.ids)
        if self.frozen:
            # Keep the order on screen; newcomers go to the end in rank order.
            ranked = set(order)
            kept = [cid for cid in self.table.row_ids if cid in ranked]
            held = set(kept)
            order = kept + [cid for cid in order if cid not in held]
        self._total = len(self._open)
        self._shown = len(order)
        return order

    def _rows(self) -> list[ConversationState]:
        """The conversations to show, filtered and in order (ranked afresh)."""
        conversations = self.hitl.session.engine.conversations
        return [conversations[cid] for cid in self._order()]

    def flush(self) -> None:
        app = self.hitl
        table = self.table
        with app.batch_update():
            if self.dirty_all or self.dirty_ids:
                self._show_figures()
            elif self.dirty_figures:
                self._show_figures(FIGURES_QUIET_INTERVAL_S)
            if self.dirty_all or self.dirty_ids:
                if not table.shown_columns:
                    self._fit_columns()
                table.cell_context = self._cell_context()
                order = self._order(None if self.dirty_all else self.dirty_ids)
                table.show(order, app.session.engine.conversations.get, None if self.dirty_all else self.dirty_ids)
            self._show_status()
            self.show_replay()
        self.clean()

    def _show_figures(self, interval: float = FIGURES_MIN_INTERVAL_S) -> None:
        """Redraw the header, at most every ``interval`` seconds (a skipped
        update is caught by a timer, so the last change always shows)."""
        app = self.hitl
        wait = self._figures_at + interval - time.monotonic()
        if wait > 0:
            if not self._figures_timer_pending:
                self._figures_timer_pending = True
                self.set_timer(wait, self._figures_timer)
            return
        self._figures_at = time.monotonic()
        figures = app.session.figures(app.clock())
        lag = getattr(figures, "lag_s", None)
        shown = self._lag_shown
        steady = lag is not None and shown is not None and max(lag, shown) < LAG_STEADY_S
        if steady and dataclasses.is_dataclass(figures):
            figures = dataclasses.replace(figures, lag_s=shown)
        else:
            self._lag_shown = lag
        self.query_one(FiguresBar).show_figures(figures, app.session.mode, app.config.alerts)

    def _figures_timer(self) -> None:
        self._figures_timer_pending = False
        self._show_figures()

    def show_replay(self) -> None:
        controls = self.hitl.session.replay()
        if controls is not None and self.query("#replay"):
            self.query_one(ReplayBar).show(controls)

    def _refresh_waits(self) -> None:
        """The clock moved: the rows on screen show their waits (and ages) as of now."""
        if not self.is_current:
            return
        table = self.table
        table.cell_context = self._cell_context()
        with self.hitl.batch_update():
            table.refresh_visible()

    def _show_status(self) -> None:
        order = ranking.sort_order(self.sort)
        parts: list[str | tuple[str, str]] = [
            (f"{self._shown:,}", "bold"),
            (f" of {self._total:,} shown" if self._shown != self._total else " shown", "dim"),
            ("  sort ", "dim"),
            (order.name, "bold"),
            (f" ({order.description}; s)", "dim"),
        ]
        if self.frozen:
            parts += ["  ", ("ORDER FROZEN (o)", "$text-warning bold")]
        parts += [
            ("  queue ", "dim"),
            (one_line(self.queue, 24) if self.queue else "all", "bold $text-accent" if self.queue else ""),
            (" (f)", "dim"),
        ]
        if self.needle:
            parts += [("  filter ", "dim"), (one_line(self.needle, 30), "$text-accent bold")]
        parts += self.hitl.quiet_alert_chip()
        self.query_one("#floor-status", StatusLine).show(Content.assemble(*parts))

    def show_alert_counter(self) -> None:
        if self.ready:
            self._show_status()

    # ------------------------------------------------------------ actions

    def _selected(self) -> str | None:
        cid = self.table.current_id
        if cid is None:
            self.notify("No conversation selected.", severity="warning", markup=False)
        return cid

    @on(ConversationTable.RowSelected, "#conversations")
    def _row_selected(self, event: ConversationTable.RowSelected) -> None:
        event.stop()
        self.hitl.open_conversation(event.conversation_id)

    def action_take_over(self) -> None:
        cid = self._selected()
        if cid is not None:
            self.hitl.open_conversation(cid, takeover=True)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        self.query_one("#floor-status").display = False
        box.value = self.needle
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value != self.needle:
            self.needle = event.value
            self.dirty_all = True
            self.hitl.request_refresh()  # applied at the next redraw: typing stays smooth

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self._close_filter()

    def _close_filter(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one("#floor-status").display = True
        self.table.focus()
        self.dirty_all = True
        self.flush()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if not (box.display or self.needle or self.queue):
            return
        self.needle = ""
        self.queue = None
        box.value = ""
        self._close_filter()

    def action_cycle_sort(self) -> None:
        self.sort = ranking.next_sort(self.sort).name
        self.dirty_all = True
        self.flush()
        self.notify(f"Sorted by {self.sort} ({ranking.sort_order(self.sort).description})", timeout=2, markup=False)

    def action_cycle_queue(self) -> None:
        queues = ranking.queues_of(self.hitl.session.engine.active())
        if not queues:
            self.notify("No queues yet.", timeout=2, markup=False)
            return
        self.queue = ranking.next_queue(self.queue, queues)
        self.dirty_all = True
        self.flush()

    def action_freeze(self) -> None:
        self.frozen = not self.frozen
        self.dirty_all = True
        self.flush()

    def action_toggle_alerts(self) -> None:
        log = self.alert_log
        log.display = not log.display
