"""Terminal charts as strings (plotext), for the report and the console's metrics screen.

Every function returns the finished figure as text: with ANSI colours when
``color`` is true (a terminal; the TUI wraps it in ``Text.from_ansi``),
plain otherwise (Markdown, files, ``NO_COLOR``). Callers never touch
plotext, whose figure is global state: a module lock keeps two threads (a
TUI worker and a report) from drawing into the same figure.

Labels are topic names and times, never customer text; they still go
through :func:`hitl_console.text.one_line` because a feed chooses its topics.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence

import plotext as plt

from hitl_console.analysis.metrics import HistogramBin, TimeBucket, TopicContainment
from hitl_console.analysis.timewin import format_ts
from hitl_console.text import one_line

_LOCK = threading.Lock()
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    """``text`` without ANSI colour sequences, and without plotext's trailing blanks."""
    return "\n".join(line.rstrip() for line in _ANSI.sub("", text).splitlines())


def _draw(width: int, height: int, color: bool, body: Callable[[], None]) -> str:
    with _LOCK:
        plt.clear_figure()
        plt.theme("clear")
        plt.plotsize(max(20, width), max(6, height))
        body()
        out = plt.build()
        plt.clear_figure()
    return out if color else strip_ansi(out)


def _time_labels(trend: Sequence[TimeBucket], max_labels: int = 6) -> tuple[list[int], list[str]]:
    if not trend:
        return [], []
    span = trend[-1].end - trend[0].start
    with_date = span > 86400
    step = max(1, len(trend) // max_labels)
    idx = list(range(0, len(trend), step))
    return [i + 1 for i in idx], [format_ts(trend[i].start, with_date) for i in idx]


def _runs(trend: Sequence[TimeBucket], scale: float = 1.0) -> list[tuple[list[int], list[float]]]:
    """The buckets that have a value, as runs of consecutive ones (x from 1).

    A line is drawn within a run and never across an empty bucket: an hour
    without conversations is no data, not a straight trend between its
    neighbours."""
    runs: list[tuple[list[int], list[float]]] = []
    xs: list[int] = []
    ys: list[float] = []
    for i, bucket in enumerate(trend):
        if bucket.value is None:
            if xs:
                runs.append((xs, ys))
                xs, ys = [], []
            continue
        xs.append(i + 1)
        ys.append(bucket.value * scale)
    if xs:
        runs.append((xs, ys))
    return runs


def escalation_rate_chart(
    trend: Sequence[TimeBucket],
    band: tuple[float, float] = (0.03, 0.30),
    typical: tuple[float, float] | None = (0.10, 0.20),
    *,
    width: int = 72,
    height: int = 16,
    color: bool = True,
) -> str:
    """Escalation rate (%) per time bucket against the healthy band (dashed lines)."""
    runs = _runs(trend, 100.0)
    values = [y for _, ys in runs for y in ys]

    def body() -> None:
        n = max(2, len(trend))
        plt.title("Escalation rate % (--- healthy band, ... typical)" if typical else "Escalation rate % (--- healthy band)")
        for y in band:
            plt.plot([1, n], [y * 100, y * 100], color="red" if color else None, marker="-")
        for y in typical or ():
            plt.plot([1, n], [y * 100, y * 100], color="green" if color else None, marker=".")
        for xs, ys in runs:
            plt.plot(xs, ys, marker="braille", color="cyan" if color else None)
        top = max([band[1] * 100 + 5, *values])
        plt.ylim(0, min(100, top + 2))
        ticks, labels = _time_labels(trend)
        if ticks:
            plt.xticks(ticks, labels)

    return _draw(width, height, color, body)


def containment_chart(
    rows: Sequence[TopicContainment],
    overall: float | None = None,
    *,
    max_topics: int = 12,
    width: int = 72,
    height: int | None = None,
    color: bool = True,
) -> str:
    """Containment (%) by topic, horizontal bars, worst at the top; called-out topics marked ``!``."""
    shown = [r for r in rows if r.rate is not None][:max_topics]
    labels = [("! " if r.called_out else "") + one_line(r.topic, 18) + f" ({r.conversations})" for r in shown]
    values = [r.rate * 100 for r in shown]  # type: ignore[operator]
    height = height or max(8, 2 * len(shown) + 5)

    def body() -> None:
        title = "Containment by topic (%)"
        if overall is not None:
            title += f"; overall {overall:.0%}"
        plt.title(title)
        if shown:
            # plotext draws the first bar at the bottom: reverse so the worst is on top.
            plt.bar(labels[::-1], values[::-1], orientation="horizontal", width=0.4, color="orange" if color else None)
        plt.xlim(0, 100)

    return _draw(width, height, color, body)


def confidence_chart(bins: Sequence[HistogramBin], *, width: int = 72, height: int = 14, color: bool = True) -> str:
    """Histogram of AI-turn confidence."""

    def body() -> None:
        plt.title("AI confidence (turns per bin)")
        labels = [f"{b.lo:.1f}" for b in bins]
        plt.bar(labels, [b.count for b in bins], width=0.6, color="blue" if color else None)

    return _draw(width, height, color, body)


def sentiment_chart(trend: Sequence[TimeBucket], *, width: int = 72, height: int = 14, color: bool = True) -> str:
    """Mean customer sentiment per time bucket (-1..1), with the zero line."""
    runs = _runs(trend)

    def body() -> None:
        n = max(2, len(trend))
        plt.title("Customer sentiment over time (mean)")
        plt.plot([1, n], [0, 0], marker=".", color="gray" if color else None)
        for xs, ys in runs:
            plt.plot(xs, ys, marker="braille", color="magenta" if color else None)
        plt.ylim(-1, 1)
        ticks, labels = _time_labels(trend)
        if ticks:
            plt.xticks(ticks, labels)

    return _draw(width, height, color, body)


def csat_chart(distribution: dict[int, int], *, width: int = 48, height: int = 12, color: bool = True) -> str:
    """CSAT answers 1..5."""

    def body() -> None:
        plt.title("CSAT")
        plt.bar([str(k) for k in range(1, 6)], [distribution.get(k, 0) for k in range(1, 6)], width=0.6, color="green" if color else None)

    return _draw(width, height, color, body)


def calibration_chart(
    curve: Sequence[tuple[float, float]],
    band: tuple[float, float],
    recommended: tuple[float, float] | None = None,
    current: tuple[float, float] | None = None,
    *,
    width: int = 72,
    height: int = 18,
    color: bool = True,
) -> str:
    """Catch rate (recall of bad conversations) against escalation rate, both %.

    ``curve`` holds the best catch rate reachable at each escalation rate (the
    frontier); the band is shaded by two vertical lines; ``recommended`` and
    ``current`` (escalation rate, catch rate) are marked.
    """
    pts = sorted(curve)

    def body() -> None:
        plt.title("caught % vs escalated %: | band, o current, * recommended")
        for x in band:
            plt.plot([x * 100, x * 100], [0, 100], marker="|", color="green" if color else None)
        if pts:
            plt.plot([p[0] * 100 for p in pts], [p[1] * 100 for p in pts], marker="braille", color="cyan" if color else None)
        if current is not None:
            plt.scatter([current[0] * 100], [current[1] * 100], marker="o", color="yellow" if color else None)
        if recommended is not None:
            plt.scatter([recommended[0] * 100], [recommended[1] * 100], marker="*", color="red" if color else None)
        plt.xlim(0, 100)
        plt.ylim(0, 100)

    return _draw(width, height, color, body)
