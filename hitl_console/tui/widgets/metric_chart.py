"""A metrics chart: a textual-plotext plot drawn from a small frozen value.

Each chart is replotted only when its value or the widget's size changed, so
a resize follows the terminal and a quiet floor costs nothing. The drawing
bodies live in :mod:`hitl_console.analysis.charts` (shared with ``report``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from textual.app import RenderResult
from textual.content import Content
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

log = logging.getLogger(__name__)

T = TypeVar("T")


class MetricChart(PlotextPlot, Generic[T]):
    """A plotext chart drawn from a frozen value by ``draw(plt, value, width, height)``.

    PlotextPlot builds the figure at the widget's size on every render; this
    widget replots only when the value or the size changed, and draws an
    explicit "no data" figure instead of an empty frame.
    """

    DEFAULT_CSS = """
    MetricChart {
        height: 1fr;
        min-height: 8;
        min-width: 24;
    }
    """

    def __init__(self, draw: Callable[[Plot, T, int, int], None], *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._draw_fn = draw
        self._value: T | None = None
        self._empty: str | None = "no data yet"
        self._drawn: tuple[object, ...] | None = None

    @property
    def value(self) -> T | None:
        return self._value

    def show(self, value: T | None, *, empty: str | None = None) -> bool:
        """Plot ``value`` (or the ``empty`` message when it is None); return whether it changed."""
        if value == self._value and empty == self._empty:
            return False
        self._value = value
        self._empty = empty
        self.refresh()
        return True

    def render(self) -> RenderResult:
        if self._value is None:
            # No axes around nothing: an empty frame reads as "broken", a sentence does not.
            return Content.assemble((self._empty or "no data", "dim"))
        width, height = self.size.width, self.size.height
        key = (self._value, self._empty, width, height)
        if key != self._drawn and width > 0 and height > 0:
            self._drawn = key
            plt = self.plt
            plt.clear_data()
            plt.clear_figure()
            try:
                self._draw_fn(plt, self._value, width, height)
            except Exception:  # a plotting corner case must not take the screen down
                log.exception("drawing %s", self.id)
                plt.clear_data()
                plt.clear_figure()
                plt.title("chart unavailable (see the log)")
        return super().render()
