"""What every screen that shows live state has in common.

The app collects the session's coalesced changes and, on its refresh timer,
hands them to each live screen on the stack with :meth:`LiveScreen.mark_dirty`
(cheap: it only remembers them). Only screens that can be seen are asked to
:meth:`LiveScreen.flush`, so a floor hidden behind a conversation does not
redraw 2,000 rows nobody is looking at; it catches up when it is shown again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, TypeVar, cast

from textual import on
from textual.screen import Screen
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

if TYPE_CHECKING:
    from hitl_console.tui.app import HitlApp

T = TypeVar("T")


class LiveScreen(Screen[None]):
    """A screen redrawn from session state when something it shows changed."""

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.dirty_ids: set[str] = set()
        self.dirty_all = True
        """Everything may have changed (first show, theme, filter)."""
        self.dirty_figures = True
        self.dirty_approvals = True
        self.ready = False
        """Set once composed and mounted: before that there is nothing to redraw."""

    @property
    def hitl(self) -> HitlApp:
        return cast("HitlApp", self.app)

    def mark_dirty(self, changed: Iterable[str] = (), *, figures: bool = False, approvals: bool = False) -> None:
        self.dirty_ids.update(changed)
        self.dirty_figures |= figures
        self.dirty_approvals |= approvals

    @property
    def is_dirty(self) -> bool:
        return bool(self.dirty_all or self.dirty_ids or self.dirty_figures or self.dirty_approvals)

    def flush(self) -> None:
        """Redraw what changed. Subclasses redraw, then call :meth:`clean`."""
        self.clean()

    def show_alert_counter(self) -> None:
        """The count of held-back alerts changed (:meth:`HitlApp.quiet_alert_chip`);
        screens with a status line that shows it redraw that line."""

    def clean(self) -> None:
        self.dirty_ids.clear()
        self.dirty_all = self.dirty_figures = self.dirty_approvals = False

    def on_mount(self) -> None:
        # Textual calls on_mount of every class in the MRO, the subclass's
        # first, so by now the screen is composed and has drawn itself once.
        self.ready = True

    def flush_if_ready(self) -> None:
        if self.ready and self.is_dirty:
            self.flush()

    def on_screen_resume(self) -> None:
        # Catch up on what changed while hidden, at once rather than at the next tick.
        if self.ready and self.is_dirty:
            self.call_after_refresh(self.flush_if_ready)


class TableScreen(LiveScreen):
    """A live screen around one row-cursor :class:`DataTable` whose rows are
    keyed by the id of what they show: ``enter`` (or a click) on a row runs
    :meth:`action_open`, ``escape`` (``action_back``) closes the screen, and a
    cursor move refreshes the footer, so keys that :meth:`check_action` hides
    for the row under the cursor come and go with it."""

    @property
    def selected_id(self) -> str | None:
        """The key of the row under the cursor (None on an empty table)."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        try:
            return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        except RowDoesNotExist:
            return None

    def selected_in(self, rows: Mapping[str, T]) -> T | None:
        """What ``rows`` holds under the key of the selected row."""
        key = self.selected_id
        return rows.get(key) if key else None

    def keep_cursor_on(self, key: str | None) -> None:
        """After a redraw, put the cursor back on row ``key`` if it is still shown."""
        if key is None:
            return
        table = self.query_one(DataTable)
        try:
            table.move_cursor(row=table.get_row_index(key), scroll=True)
        except RowDoesNotExist:
            pass

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_back(self) -> None:
        self.dismiss()

    def action_open(self) -> None:
        """Open what the selected row is about (subclasses)."""
