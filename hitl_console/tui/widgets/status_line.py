"""A line (or a few) of text that repaints only when what it shows changed.

Live screens recompute their headers and status lines on every redraw; most
redraws change nothing visible, and over SSH a repaint that changes nothing
is still bytes on a slow link. ``Static.update`` also asks for a full layout
every time (the new text might need another height), and a layout repaints
the whole screen; here a layout is asked for only when the height changes.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine { height: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._content = Content("")
        self._shown: Content | None = None
        self._lines = 1

    def render(self) -> Content:
        return self._content

    def _height_of(self, content: Content) -> int:
        width = self.content_region.width or self.size.width
        if width <= 0:
            return content.plain.count("\n") + 1
        return sum(max(1, -(-Content(line).cell_length // width)) for line in content.plain.split("\n"))

    def show(self, content: Content) -> bool:
        """Display ``content``; return whether the screen needed a repaint."""
        if self._shown is not None and content.is_same(self._shown):
            return False
        self._shown = self._content = content
        lines = self._height_of(content)
        self.refresh(layout=lines != self._lines)
        self._lines = lines
        return True

    def on_resize(self) -> None:
        self._lines = self._height_of(self._content)

    @property
    def shown(self) -> Content | None:
        return self._shown
