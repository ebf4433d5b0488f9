"""What every screen that shows live state has in common.

The app collects the session's coalesced changes and, on its refresh timer,
hands them to each live screen on the stack with :meth:`LiveScreen.mark_dirty`
(cheap: it only remembers them). Only screens that can be seen are asked to
:meth:`LiveScreen.flush`, so a floor hidden behind a conversation does not
redraw 2,000 rows nobody is looking at; it catches up when it is shown again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol, TypeVar, cast

from textual import on
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from hitl_console.config import Config
from hitl_console.engine.state import Approval
from hitl_console.tui.palette import Palette
from hitl_console.tui.session import ConsoleSession

T = TypeVar("T")


class ConsoleApp(Protocol):
    """What a screen may ask of the app (``HitlApp`` is the one implementation;
    tests host screens in a smaller app with the same surface). Written down
    here so that no screen imports the app, which imports every screen."""

    session: ConsoleSession
    config: Config
    palette: Palette

    def clock(self) -> float:
        """"Now" for ages and countdowns (the recording's time in a replay)."""
        ...
    def batch_update(self) -> AbstractContextManager[None]: ...
    def request_refresh(self) -> None: ...
    def quiet_alert_chip(self) -> list[tuple[str, str]]: ...
    def open_conversation(self, conversation_id: str, *, takeover: bool = False) -> None: ...
    def open_approvals(self, approval_id: str | None = None) -> None: ...
    def decide_approval(self, approval: Approval, verb: Literal["approve", "deny"]) -> None: ...


def visible_screens(stack: Sequence[Screen[Any]]) -> list[Screen[Any]]:
    """The screens a person can see, top first: the top one and, under modal
    dialogs (which leave what is under them in view), the one they float over."""
    visible: list[Screen[Any]] = []
    for screen in reversed(stack):
        visible.append(screen)
        if not isinstance(screen, ModalScreen):
            break
    return visible


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
    def hitl(self) -> ConsoleApp:
        return cast(ConsoleApp, self.app)

    @property
    def is_visible(self) -> bool:
        """Whether this screen can be seen now (:func:`visible_screens`)."""
        return self in visible_screens(self.app.screen_stack)

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
        """The count of held-back alerts changed (:meth:`ConsoleApp.quiet_alert_chip`);
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
