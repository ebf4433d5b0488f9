"""The newest alerts, at the bottom of the floor: time, level and text.

A glance, not a history: it shows as many of the latest alerts as fit and
never scrolls, so a storm of alerts costs one small repaint per redraw and
never a layout (``L`` opens the full list, :mod:`hitl_console.tui.screens.alerts`).
Alert text is built by the engine from plain values but may quote customer
words, so it is rendered as ``rich.text.Text`` (never markup) after
:func:`hitl_console.text.one_line` has removed escape sequences.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from rich.segment import Segment
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from hitl_console.alerts.model import Alert
from hitl_console.text import one_line
from hitl_console.tui import formatting
from hitl_console.tui.palette import Palette

LEVEL_LABEL = {"info": "info", "warning": "WARN", "critical": "CRIT"}
KEEP = 50
"""Alerts kept for the panel: more than any terminal is tall."""


def alert_line(alert: Alert, palette: Palette) -> Text:
    style = {"critical": palette.error + palette.strong, "warning": palette.warning}.get(alert.level, palette.muted)
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append(formatting.clock_time(alert.ts), palette.muted)
    text.append(" ")
    text.append(LEVEL_LABEL.get(alert.level, alert.level[:4]).ljust(4), style)
    text.append(" ")
    text.append(one_line(alert.text, 400))
    return text


class AlertLog(Widget):
    """The latest alerts, newest last; repainted only when one arrives."""

    DEFAULT_CSS = """
    AlertLog {
        height: 5;
        border-top: solid $panel-lighten-2;
        border-title-color: $text-muted;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Alerts · L for all"
        self.palette = Palette.plain()
        self.written = 0
        self._alerts: deque[Alert] = deque(maxlen=KEEP)
        self._strips: dict[tuple[int, int], Strip] = {}

    @property
    def lines(self) -> list[str]:
        """The plain text of the alerts held (tests read it)."""
        return [alert_line(a, Palette.plain()).plain for a in self._alerts]

    def add_alerts(self, alerts: Sequence[Alert]) -> None:
        if not alerts:
            return
        self._alerts.extend(alerts)
        self.written += len(alerts)
        live = {a.id for a in self._alerts}
        self._strips = {k: v for k, v in self._strips.items() if k[0] in live}
        self.border_subtitle = f"{self.written:,} so far"
        self.refresh()

    def restyle(self, palette: Palette) -> None:
        self.palette = palette
        self._strips.clear()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        shown = list(self._alerts)[-height:] if height > 0 else []
        index = y - (height - len(shown))  # newest at the bottom, blank lines on top
        if not 0 <= index < len(shown):
            return Strip.blank(width, self.rich_style)
        alert = shown[index]
        key = (alert.id, width)
        strip = self._strips.get(key)
        if strip is None:
            text = alert_line(alert, self.palette)
            text.truncate(width, overflow="ellipsis")
            base = self.rich_style
            segments = [Segment(s.text, base + s.style if s.style else base) for s in text.render(self.app.console, end="")]
            strip = Strip(segments).adjust_cell_length(width, base)
            self._strips[key] = strip
        return strip
