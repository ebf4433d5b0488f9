"""The metrics screen: is the AI escalating the right amount, and where does it fail?

Figures and charts come from :meth:`LiveSession.metrics`, i.e. the same
:func:`~hitl_console.analysis.metrics.compute_metrics` definitions as
``hitl-console report``, so a number means one thing on every screen.

Charts are :class:`~hitl_console.tui.widgets.metric_chart.MetricChart`
widgets drawing the bodies of :mod:`hitl_console.analysis.charts`. The screen recomputes every :data:`REFRESH_S` seconds, and only while it is
the screen on top and what it shows could have changed (conversation
versions, verdicts, or, for a rolling window, the minute).

Topic names are chosen by the feed: they reach the screen through
:func:`~hitl_console.text.one_line` and ``Content``/plotext labels, never
markup.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.content import Content
from textual.widgets import Footer, Static

from hitl_console.analysis.charts import (
    ConfidenceData,
    EscalationData,
    TrendData,
    containment_data,
    draw_confidence,
    draw_containment,
    draw_escalation,
    draw_sentiment,
    draw_tte,
    tte_data,
    tte_turns,
)
from hitl_console.analysis.metrics import Distribution, Metrics
from hitl_console.text import one_line
from hitl_console.tui import formatting
from hitl_console.tui.screens.base import LiveScreen
from hitl_console.tui.session import ConsoleSession
from hitl_console.tui.widgets.metric_chart import MetricChart
from hitl_console.tui.widgets.status_line import StatusLine

log = logging.getLogger(__name__)

REFRESH_S = 3.0
"""How often a visible metrics screen checks whether its data changed."""

WINDOWS: tuple[tuple[str, str, float | None], ...] = (
    ("1", "15 min", 900.0),
    ("2", "1 h", 3600.0),
    ("3", "24 h", 86400.0),
    ("4", "all", None),
)
"""(key, label, seconds) of the window selector; None is everything in memory."""
DEFAULT_WINDOW = "2"

# ---------------------------------------------------------------- figures


def _figure(label: str, value: str, value_style: str, *detail: str | tuple[str, str]) -> Content:
    """Two lines: ``label  value`` and what the value is out of."""
    parts: list[str | tuple[str, str]] = [(label, "$text-muted"), "  ", (value, value_style)]
    if detail:
        parts += ["\n", *(d if isinstance(d, tuple) else (d, "dim") for d in detail)]
    return Content.assemble(*parts)


def _median(d: Distribution, unit: Callable[[float], str]) -> str:
    return formatting.DASH if d.count == 0 or d.median is None else f"median {unit(d.median)}"


def _p90(d: Distribution, unit: Callable[[float], str]) -> str:
    """The detail line of a distribution: its p90 and how many it is of (the
    median is the value; both on one line did not fit 37 columns at 80)."""
    p90 = unit(d.p90) if d.count and d.p90 is not None else formatting.DASH
    return f"p90 {p90} · {d.count} escalation{'' if d.count == 1 else 's'}"


def figure_contents(m: Metrics) -> dict[str, Content]:
    """The figure cards, by widget id (every one also says what it is out of)."""
    pct = formatting.percent
    band = m.escalation_band
    word, style = formatting.ESCALATION_READING.get(band.status, ("", "dim"))
    lo, hi = band.band
    tlo, thi = band.typical
    escalation_value = formatting.escalation_percent(m.escalation_rate) + (f"  {word}" if word else "")
    accuracy_detail = (
        f"{m.accuracy_verdicts} verdict{'s' if m.accuracy_verdicts != 1 else ''}"
        if m.accuracy_verdicts
        else "no verdicts (asked after a takeover)"
    )
    missed = f" · {m.missed_escalations} missed" if m.missed_escalations else ""
    called = len(m.topics_called_out)
    # Detail lines are kept under 37 characters: the width of a card at 80 columns.
    def turns_unit(v: float) -> str:
        return f"{v:g} turns"

    seconds_unit = formatting.duration
    csat = f"{m.csat.mean:.2f} / 5" if m.csat.mean is not None else formatting.DASH
    return {
        "fig-escalation": _figure(
            "Escalation rate",
            escalation_value,
            style if m.escalation_rate is not None else "dim",
            f"{m.escalated_ended} of {m.ended} · typical {tlo * 100:.0f}-{thi:.0%}, ok {lo * 100:.0f}-{hi:.0%}",
        ),
        "fig-accuracy": _figure(
            "Escalation accuracy",
            pct(m.escalation_accuracy),
            "bold" if m.escalation_accuracy is not None else "dim",
            accuracy_detail + missed,
        ),
        "fig-resolution": _figure(
            "Resolved",
            f"{pct(m.post_escalation_resolution_rate)} vs {pct(m.ai_only_resolution_rate)}",
            "bold",
            f"escalated vs AI-only, of {m.ended} ended",
        ),
        "fig-containment": _figure(
            "Containment",
            pct(m.containment_rate),
            "bold" if m.containment_rate is not None else "dim",
            (f"{called} topic{'s' if called != 1 else ''} far below", "$text-warning") if called else "no topic far below",
        ),
        "fig-tte-turns": _figure(
            "Turns to escalate",
            _median(m.time_to_escalation_turns, turns_unit),
            "bold" if m.time_to_escalation_turns.count else "dim",
            _p90(m.time_to_escalation_turns, turns_unit),
        ),
        "fig-tte-seconds": _figure(
            "Time to escalate",
            _median(m.time_to_escalation_s, seconds_unit),
            "bold" if m.time_to_escalation_s.count else "dim",
            _p90(m.time_to_escalation_s, seconds_unit),
        ),
        "fig-csat": _figure("CSAT", csat, "bold" if m.csat.count else "dim", f"{m.csat.count} answers"),
        "fig-repeat": _figure(
            "Repeat contact",
            pct(m.repeat_contact_rate),
            "bold" if m.repeat_contact_rate is not None else "dim",
            f"{m.repeat_contacts} of {m.customers_with_id} back within 7 days",
        ),
    }


def callouts(m: Metrics, limit: int = 6) -> Content:
    """One line naming the topics whose containment is far below the overall rate."""
    rows = [r for r in m.containment_by_topic if r.called_out]
    if not rows:
        return Content.assemble(("No topic is far below the overall containment.", "dim"))
    parts: list[str | tuple[str, str]] = [("Far below the overall containment ", "$text-warning bold")]
    parts.append((f"({formatting.percent(m.containment_rate)}): ", "$text-warning"))
    for i, r in enumerate(rows[:limit]):
        if i:
            parts.append(", ")
        parts += [(one_line(r.topic, 30), "bold"), f" {formatting.percent(r.rate)} ({r.conversations})"]
    if len(rows) > limit:
        parts.append((f" and {len(rows) - limit} more", "dim"))
    return Content.assemble(*parts)


# ---------------------------------------------------------------- the screen


class MetricsScreen(LiveScreen):
    """Figures and charts of one time window; ``1``-``4`` switch the window."""

    CSS_PATH = "metrics.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-medium"), (180, "-wide")]

    BINDINGS = [
        Binding("escape", "back", "Back"),
        *(
            Binding(key, f"window('{key}')", label, tooltip=f"Show the last {label}" if seconds else "Show everything in memory")
            for key, label, seconds in WINDOWS
        ),
        Binding("ctrl+r", "recompute", "Refresh", show=False, tooltip="Recompute the figures now", id="metrics.recompute"),
    ]

    def __init__(self, window: str = DEFAULT_WINDOW) -> None:
        super().__init__(id="metrics")
        self.window_key = window if window in {k for k, _, _ in WINDOWS} else DEFAULT_WINDOW
        self.metrics: Metrics | None = None
        self.recomputes = 0
        """How many times the figures were computed (tests check that idle screens do not)."""
        self._signature: tuple[Any, ...] | None = None

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield StatusLine(id="metrics-status")
        with VerticalScroll(id="metrics-body"):
            with Grid(id="metrics-figures"):
                for fid in (
                    "fig-escalation", "fig-accuracy", "fig-resolution", "fig-containment",
                    "fig-tte-turns", "fig-tte-seconds", "fig-csat", "fig-repeat",
                ):
                    yield Static("", id=fid, classes="figure", markup=False)
            yield Static("", id="metrics-callouts", markup=False)
            with Grid(id="metrics-charts"):
                yield MetricChart(draw_escalation, id="chart-escalation", classes="chart")
                yield MetricChart(draw_containment, id="chart-containment", classes="chart")
                yield MetricChart(draw_confidence, id="chart-confidence", classes="chart")
                yield MetricChart(draw_sentiment, id="chart-sentiment", classes="chart")
                yield MetricChart(draw_tte, id="chart-tte", classes="chart")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(REFRESH_S, self._poll, name="metrics-poll")
        self.recompute()
        self.query_one("#metrics-body").focus()

    # ------------------------------------------------------------ session access

    @property
    def session(self) -> ConsoleSession:
        return self.hitl.session

    @property
    def window_s(self) -> float | None:
        return next(seconds for key, _, seconds in WINDOWS if key == self.window_key)

    @property
    def window_label(self) -> str:
        return next(label for key, label, _ in WINDOWS if key == self.window_key)

    def _now(self) -> float:
        return float(self.session.clock())

    # ------------------------------------------------------------ refresh

    def mark_dirty(self, changed: Iterable[str] = (), *, figures: bool = False, approvals: bool = False) -> None:  # type: ignore[override]
        """Live changes are not redrawn one by one: :meth:`_poll` compares a cheap
        signature every few seconds instead, so nothing is remembered here."""

    def flush(self) -> None:
        self.clean()

    def on_screen_resume(self) -> None:
        self._poll()

    def current_signature(self) -> tuple[Any, ...]:
        """What the figures depend on: the window, every conversation's version,
        the verdicts and, for a rolling window, the minute (conversations age out)."""
        conversations = self.session.engine.conversations
        window_s = self.window_s
        now = self._now()
        verdicts = self.session.escalation_verdicts(None)  # all of them, as session.metrics reads them
        return (
            self.window_key,
            len(conversations),
            sum(state.version for state in conversations.values()),
            None if window_s is None else int(now // 60),
            hash(frozenset(verdicts.items())),
        )

    def _poll(self) -> None:
        if not self.is_visible:
            return  # hidden behind another screen: catch up when shown (on_screen_resume)
        try:
            signature = self.current_signature()
        except Exception:
            log.exception("metrics signature")
            return
        if signature != self._signature:
            self.recompute(signature)

    def recompute(self, signature: tuple[Any, ...] | None = None) -> None:
        """Compute the window's metrics and update what changed on screen."""
        started = time.perf_counter()
        try:
            self._signature = signature or self.current_signature()
            metrics: Metrics = self.session.metrics(self.window_s)
        except Exception as error:
            log.exception("computing metrics")
            self.query_one("#metrics-status", StatusLine).show(
                Content.assemble(("Metrics unavailable: ", "$text-error bold"), one_line(str(error), 200))
            )
            return
        self.metrics = metrics
        self.recomputes += 1
        window_s = self.window_s
        start = None if window_s is None else self._now() - window_s
        conversations = self.session.engine.conversations.values()
        low = float(self.session.config.thresholds.low_confidence)
        with self.hitl.batch_update():
            for fid, content in figure_contents(metrics).items():
                self.query_one(f"#{fid}", Static).update(content)
            self.query_one("#metrics-callouts", Static).update(callouts(metrics))
            self._show_charts(metrics, tte_turns(conversations, start), low)
            self._show_status(metrics, time.perf_counter() - started)

    def _show_charts(self, m: Metrics, turns: list[int], low_confidence: float) -> None:
        none = f"no conversations started in the last {self.window_label}" if self.window_s else "no conversations yet"
        has = m.conversations > 0
        self.query_one("#chart-escalation", MetricChart).show(
            EscalationData.of(m.escalation_trend, m.escalation_band.band, m.escalation_band.typical) if has else None,
            empty=f"Escalation rate: {none}",
        )
        containment = containment_data(m.containment_by_topic, m.containment_rate)
        self.query_one("#chart-containment", MetricChart).show(
            containment if containment.rows else None,
            empty=(
                f"Containment by topic: no topic has {containment.min_count} ended conversations yet"
                if containment.hidden
                else "Containment by topic: no ended conversations"
            ),
        )
        confidence = ConfidenceData.of(m.confidence_histogram, low_confidence)
        self.query_one("#chart-confidence", MetricChart).show(
            confidence if any(n for *_, n in confidence.bins) else None,
            empty="AI confidence: no AI turns with a confidence",
        )
        sentiment = TrendData.of(m.sentiment_trend)
        self.query_one("#chart-sentiment", MetricChart).show(
            sentiment if any(v is not None for v in sentiment.values) else None,
            empty="Customer sentiment: no customer turns",
        )
        self.query_one("#chart-tte", MetricChart).show(
            tte_data(turns) if turns else None,
            empty="Time to escalation: no escalations",
        )

    def _show_status(self, m: Metrics, seconds: float) -> None:
        parts: list[str | tuple[str, str]] = [("Metrics  ", "bold")]
        for key, label, _ in WINDOWS:
            chosen = key == self.window_key
            parts += [(key, "bold"), " ", (label, "reverse bold" if chosen else "dim"), "  "]
        parts += [
            ("· ", "dim"),
            f"{formatting.count(m.conversations)} conversations, {formatting.count(m.ended)} ended",
            (f"  · updated {formatting.clock_time(self._now())}", "dim"),
        ]
        self.query_one("#metrics-status", StatusLine).show(Content.assemble(*parts))
        log.debug("metrics for %s computed in %.3fs", self.window_label, seconds)

    # ------------------------------------------------------------ actions

    def action_window(self, key: str) -> None:
        if key != self.window_key and key in {k for k, _, _ in WINDOWS}:
            self.window_key = key
            self.recompute()

    def action_recompute(self) -> None:
        self.recompute()

    def action_back(self) -> None:
        self.dismiss()
