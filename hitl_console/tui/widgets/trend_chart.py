"""Sentiment or confidence over the turns of one conversation (plotext).

Uses textual-plotext's ``PlotextPlot``, which follows the app theme. The
chart is redrawn only when its series changed, never on a timer.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext import PlotextPlot


class TrendChart(PlotextPlot):
    DEFAULT_CSS = """
    TrendChart { height: 9; }
    """

    def __init__(self, title: str, *, y_range: tuple[float, float], id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = title
        self.y_range = y_range
        self._series: tuple[float, ...] | None = None
        self._note = ""

    def on_mount(self) -> None:
        self._draw(())

    def show_series(self, values: Sequence[float], *, note: str = "") -> bool:
        """Plot ``values`` (one per turn); ``note`` is added to the title (e.g. "est.")."""
        series = tuple(round(v, 3) for v in values)
        if series == self._series and note == self._note:
            return False
        self._note = note
        self._draw(series)
        return True

    def _draw(self, series: tuple[float, ...]) -> None:
        self._series = series
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        title = f"{self.title} ({self._note})" if self._note else self.title
        plt.title(title if series else f"{self.title}: no data yet")
        plt.ylim(*self.y_range)
        if series:
            xs = list(range(1, len(series) + 1))
            plt.plot(xs, list(series), marker="braille")
            plt.xticks(xs if len(xs) <= 6 else xs[:: max(1, len(xs) // 5)])
        plt.yfrequency(3)
        self.refresh()
