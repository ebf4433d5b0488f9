"""What every screen that shows live state has in common.

The app collects the session's coalesced changes and, on its refresh timer,
hands them to each live screen on the stack with :meth:`LiveScreen.mark_dirty`
(cheap: it only remembers them). Only screens that can be seen are asked to
:meth:`LiveScreen.flush`, so a floor hidden behind a conversation does not
redraw 2,000 rows nobody is looking at; it catches up when it is shown again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

from textual.screen import Screen

if TYPE_CHECKING:
    from hitl_console.tui.app import HitlApp


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
