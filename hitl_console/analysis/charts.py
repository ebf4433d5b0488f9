"""The metrics charts: one drawing body per chart, for the report and the console.

Each chart is a small frozen value (``EscalationData``, ``TrendData``, ...)
and a ``draw_*`` body that plots it on a plotext-like target: the plotext
module for ``hitl-console report`` (through the ``*_chart`` functions here)
or a textual-plotext ``Plot`` on the metrics screen. So the two agree on
what a chart shows (an empty time bucket breaks a line, it is not bridged).

The ``*_chart`` functions return the finished figure as text: with ANSI colours when
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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import plotext as plt

from hitl_console.analysis.metrics import HistogramBin, MetricsOptions, TimeBucket, TopicContainment, percentile
from hitl_console.analysis.timewin import format_ts
from hitl_console.engine.state import ConversationState
from hitl_console.text import one_line

MIN_TOPIC_SHOWN = MetricsOptions().min_topic_count
"""A topic needs this many ended conversations to get a bar (as to be called out)."""
TTE_MAX_TURNS = 20
"""Escalations after more turns than this share the last bar of the time-to-escalation chart."""

_LOCK = threading.Lock()
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    """``text`` without ANSI colour sequences, and without plotext's trailing blanks."""
    return "\n".join(line.rstrip() for line in _ANSI.sub("", text).splitlines())


def _draw(width: int, height: int, color: bool, body: Callable[[], None]) -> str:
    with _LOCK:
        plt.clear_figure()
        plt.theme("clear")
        plt.limit_size(False, False)  # the size asked for, not clipped to the terminal's (a file, a pipe, a wide report)
        plt.plotsize(max(20, width), max(6, height))
        body()
        out = plt.build()
        plt.clear_figure()
    return out if color else strip_ansi(out)


# ---------------------------------------------------------------- chart data (plain, hashable)


@dataclass(frozen=True, slots=True)
class TrendData:
    """A time series: one value (or None) per bucket, with the bucket start times."""

    starts: tuple[float, ...]
    values: tuple[float | None, ...]

    @classmethod
    def of(cls, trend: Sequence[TimeBucket], scale: float = 1.0) -> TrendData:
        return cls(
            tuple(b.start for b in trend),
            tuple(None if b.value is None else round(b.value * scale, 4) for b in trend),
        )


@dataclass(frozen=True, slots=True)
class EscalationData:
    trend: TrendData
    """Percent of the conversations started in each bucket that escalated."""
    band: tuple[float, float]
    typical: tuple[float, float]

    @classmethod
    def of(cls, trend: Sequence[TimeBucket], band: tuple[float, float], typical: tuple[float, float]) -> EscalationData:
        """The chart of an escalation trend (rates 0..1) against its band."""
        return cls(TrendData.of(trend, 100.0), band, typical)


@dataclass(frozen=True, slots=True)
class ContainmentData:
    overall: float | None
    rows: tuple[tuple[str, float, int, bool], ...]
    """(topic, rate 0..1, ended conversations, called out), worst first."""
    hidden: int = 0
    """Topics left out because they have too few ended conversations to judge."""
    min_count: int = 0


@dataclass(frozen=True, slots=True)
class ConfidenceData:
    bins: tuple[tuple[float, float, int], ...]
    threshold: float | None = None
    """The low-confidence threshold, marked when known."""

    @classmethod
    def of(cls, bins: Iterable[HistogramBin], threshold: float | None = None) -> ConfidenceData:
        return cls(tuple((b.lo, b.hi, b.count) for b in bins), threshold)


@dataclass(frozen=True, slots=True)
class TteData:
    counts: tuple[int, ...]
    """Escalations after 1, 2, ... TTE_MAX_TURNS (and more) turns."""
    median: float | None
    p90: float | None


def containment_data(topics: Iterable[TopicContainment], overall: float | None, min_count: int = MIN_TOPIC_SHOWN) -> ContainmentData:
    """The containment chart of ``topics``: topics with fewer than ``min_count``
    ended conversations are left out and counted (three conversations say
    nothing about a topic; sixteen such bars hid the ones that do)."""
    judged = [r for r in topics if r.rate is not None]
    shown = [r for r in judged if r.conversations >= min_count]
    return ContainmentData(overall, containment_rows(shown), len(judged) - len(shown), min_count)


def containment_rows(topics: Iterable[TopicContainment]) -> tuple[tuple[str, float, int, bool], ...]:
    """Topics for the containment chart: the called-out ones first (worst first),
    then the rest by volume, so the few bars that fit show what matters: the
    problems, then the topics most customers come with."""
    rows = [r for r in topics if r.rate is not None]
    called = [r for r in rows if r.called_out]
    rest = sorted((r for r in rows if not r.called_out), key=lambda r: (-r.conversations, r.topic))
    return tuple((r.topic, float(r.rate or 0.0), r.conversations, r.called_out) for r in called + rest)


def tte_turns(conversations: Iterable[ConversationState], start: float | None) -> list[int]:
    """Turns before escalation of the escalated conversations that started at or after ``start``."""
    return [
        c.escalation_turns
        for c in conversations
        if c.escalated and c.escalation_turns is not None and (start is None or c.started_ts >= start)
    ]


def tte_data(turns: Sequence[int], max_turns: int = TTE_MAX_TURNS) -> TteData:
    """A histogram of turns-to-escalation (the last bin holds ``max_turns`` and more)."""
    counts = [0] * max_turns
    for n in turns:
        counts[min(max_turns, max(1, n)) - 1] += 1
    values = [float(n) for n in turns]
    return TteData(tuple(counts), percentile(values, 50), percentile(values, 90))


# ---------------------------------------------------------------- drawing

Target = Any
"""What a body draws on: the plotext module, or textual-plotext's ``Plot``
(the same calls: title, plot, scatter, bar, hline, vline, xlim, ylim, ...)."""


def _runs(values: Sequence[float | None]) -> list[tuple[list[int], list[float]]]:
    """The buckets that have a value, as runs of consecutive ones (x from 1).

    A line is drawn within a run and never across an empty bucket: an hour
    without conversations is no data, not a straight trend between its
    neighbours."""
    runs: list[tuple[list[int], list[float]]] = []
    xs: list[int] = []
    ys: list[float] = []
    for i, value in enumerate(values):
        if value is None:
            if xs:
                runs.append((xs, ys))
                xs, ys = [], []
            continue
        xs.append(i + 1)
        ys.append(value)
    if xs:
        runs.append((xs, ys))
    return runs


def _trend_line(plt: Target, values: Sequence[float | None], color: str) -> list[float]:
    """Plot a trend run by run (a lone point as a dot); return the values drawn."""
    drawn: list[float] = []
    for xs, ys in _runs(values):
        if len(xs) == 1:
            plt.scatter(xs, ys, marker="●", color=color)
        else:
            plt.plot(xs, ys, marker="braille", color=color)
        drawn += ys
    return drawn


def _time_ticks(starts: Sequence[float], width: int) -> tuple[list[int], list[str]]:
    """A few x ticks labelled with bucket start times (dates when the span passes a day)."""
    if not starts:
        return [], []
    with_date = starts[-1] - starts[0] > 86400
    room = max(2, width // (18 if with_date else 9))
    step = max(1, -(-len(starts) // room))
    idx = list(range(0, len(starts), step))
    return [i + 1 for i in idx], [format_ts(starts[i], with_date) for i in idx]


def draw_escalation(plt: Target, data: EscalationData, width: int, height: int) -> None:
    lo, hi = (x * 100 for x in data.band)
    plt.title("Escalation rate % of conversations started, per period")
    right = max(2, len(data.trend.values)) + 0.5
    # Each line says what it is at its right end (colour alone vanishes under NO_COLOR).
    for y, label, color in (
        (lo, f"min {lo:.0f}%", "red"),
        (hi, f"max {hi:.0f}%", "red"),
        (data.typical[0] * 100, f"typical {data.typical[0]:.0%}", "green"),
        (data.typical[1] * 100, f"typical {data.typical[1]:.0%}", "green"),
    ):
        plt.hline(y, color)
        plt.text(label, right, y, color=color, alignment="right")
    values = _trend_line(plt, data.trend.values, "cyan")
    top = max([hi + 5, *values])
    plt.ylim(0, min(100.0, top + 2))
    plt.xlim(0.5, right)
    ticks, labels = _time_ticks(data.trend.starts, width)
    if ticks:
        plt.xticks(ticks, labels)
    plt.yfrequency(max(2, min(5, height // 4)))


def draw_containment(plt: Target, data: ContainmentData, width: int, height: int) -> None:
    title = "Containment % by topic"
    if data.overall is not None:
        title += f", overall {data.overall:.0%} (│)"
    plt.title(title)
    if data.hidden:
        plt.xlabel(f"{data.hidden} topic{'s' if data.hidden != 1 else ''} with under {data.min_count} ended not shown")
    room = max(1, (height - 4) // 2)
    rows = data.rows[:room]
    label_room = max(14, min(32, width // 3))
    if rows:
        labels = [
            ("! " if called else "") + one_line(topic, label_room - 11) + f" {rate:.0%} ({n})"
            for topic, rate, n, called in rows
        ]
        values = [rate * 100 for _, rate, _, _ in rows]
        # plotext draws the first bar at the bottom: reversed, the first row is on top.
        # Called-out topics are marked "!" in their label (colour alone would vanish under NO_COLOR).
        plt.bar(labels[::-1], values[::-1], orientation="horizontal", width=0.5, color="orange")
        if data.overall is not None:
            plt.vline(data.overall * 100, "green")
    plt.xlim(0, 100)


def draw_confidence(plt: Target, data: ConfidenceData, width: int, height: int) -> None:
    t = data.threshold
    plt.title("AI confidence, turns per bin" + (f" (▒ under the {t:.2f} threshold)" if t is not None else ""))
    cut = -1.0 if t is None else t
    below = [((lo + hi) / 2, n) for lo, hi, n in data.bins if (lo + hi) / 2 < cut]
    above = [((lo + hi) / 2, n) for lo, hi, n in data.bins if (lo + hi) / 2 >= cut]
    if below:
        plt.bar([x for x, _ in below], [n for _, n in below], width=0.7, marker="▒", color="red")
    if above:
        plt.bar([x for x, _ in above], [n for _, n in above], width=0.7, color="blue")
    if t is not None:
        plt.vline(t, "red")
    plt.xlim(0, 1)
    ticks_set = {0.0, 0.5, 1.0} | ({0.25, 0.75} if width >= 60 else set())
    if t is not None:
        # a tick next to the threshold's collides with it, and plotext kept one or the
        # other depending on what it drew before (0.5 beside 0.55): keep the threshold
        ticks_set = {x for x in ticks_set if x in (0.0, 1.0) or abs(x - t) >= 0.1} | {round(t, 2)}
    ticks = sorted(ticks_set)
    plt.xticks(ticks, [f"{x:g}" for x in ticks])
    plt.yfrequency(max(2, min(5, height // 4)))


def draw_sentiment(plt: Target, data: TrendData, width: int, height: int) -> None:
    plt.title("Customer sentiment, mean per bucket (-1..1)")
    plt.hline(0.0, "gray")
    _trend_line(plt, data.values, "magenta")
    plt.ylim(-1, 1)
    plt.xlim(0.5, max(2, len(data.values)) + 0.5)
    ticks, labels = _time_ticks(data.starts, width)
    if ticks:
        plt.xticks(ticks, labels)
    plt.yfrequency(5 if height >= 14 else 3)


def draw_tte(plt: Target, data: TteData, width: int, height: int) -> None:
    parts = ["Turns before escalating"]
    if data.median is not None:
        parts.append(f"median {data.median:g}")
    if data.p90 is not None:
        parts.append(f"p90 {data.p90:g} (│)")
    plt.title(" · ".join(parts))
    last = max((i for i, n in enumerate(data.counts) if n), default=4) + 1
    shown = max(5, last)
    xs = list(range(1, shown + 1))
    plt.bar(xs, list(data.counts[:shown]), width=0.7, color="yellow")
    for value in (data.median, data.p90):
        if value is not None:
            plt.vline(min(value, shown), "red")
    step = max(1, -(-shown // max(2, width // 6)))
    ticks = xs[::step]
    labels = [f"{x}+" if x == len(data.counts) else str(x) for x in ticks]
    plt.xticks(ticks, labels)
    plt.yfrequency(max(2, min(5, height // 4)))

# ---------------------------------------------------------------- as text, for the report


def escalation_rate_chart(
    trend: Sequence[TimeBucket],
    band: tuple[float, float] = (0.03, 0.30),
    typical: tuple[float, float] | None = (0.10, 0.20),
    *,
    width: int = 72,
    height: int = 16,
    color: bool = True,
) -> str:
    """Escalation rate (%) per time bucket against the healthy band."""
    data = EscalationData.of(trend, band, typical or ())  # type: ignore[arg-type]
    return _draw(width, height, color, lambda: draw_escalation(plt, data, width, height))


def containment_chart(
    rows: Sequence[TopicContainment],
    overall: float | None = None,
    *,
    max_topics: int = 12,
    width: int = 72,
    height: int | None = None,
    color: bool = True,
) -> str:
    """Containment (%) by topic, horizontal bars: called-out topics (marked ``!``) first."""
    data = containment_data(rows, overall)
    data = ContainmentData(data.overall, data.rows[:max_topics], data.hidden, data.min_count)
    height = height or max(8, 2 * len(data.rows) + 5)
    return _draw(width, height, color, lambda: draw_containment(plt, data, width, height))


def confidence_chart(
    bins: Sequence[HistogramBin], threshold: float | None = None, *, width: int = 72, height: int = 14, color: bool = True
) -> str:
    """Histogram of AI-turn confidence."""
    data = ConfidenceData.of(bins, threshold)
    return _draw(width, height, color, lambda: draw_confidence(plt, data, width, height))


def sentiment_chart(trend: Sequence[TimeBucket], *, width: int = 72, height: int = 14, color: bool = True) -> str:
    """Mean customer sentiment per time bucket (-1..1), with the zero line."""
    data = TrendData.of(trend)
    return _draw(width, height, color, lambda: draw_sentiment(plt, data, width, height))


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
