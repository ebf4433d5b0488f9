"""The floor's headline figures, one glance wide.

Rendered as ``Content`` so the colours are the theme's (``$error`` ...).
Each figure is a *chip*; chips are laid out in lines by the bar itself
(Textual wraps at any space, even a no-break one), so a narrow terminal
wraps between chips and never inside one. Every state that colour
shows is also written out (``HIGH``, ``low?``, ``FAILED``) for ``NO_COLOR``
and colour-blind readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.content import Content

from hitl_console.analysis.metrics import judge_escalation
from hitl_console.config import AlertConfig
from hitl_console.feeds.base import ConnectionState, FeedStatus
from hitl_console.text import one_line
from hitl_console.tui import formatting
from hitl_console.tui.widgets.status_line import StatusLine

FEED_STYLE = {
    ConnectionState.LIVE: "$text-success",
    ConnectionState.REPLAYING: "$text-success",
    ConnectionState.CONNECTING: "$text-warning",
    ConnectionState.RECONNECTING: "$text-warning bold",
    ConnectionState.PAUSED: "$text-warning",
    ConnectionState.FINISHED: "dim",
    ConnectionState.FAILED: "$text-error bold",
    ConnectionState.STOPPED: "dim",
}

_STATE_RANK = [
    ConnectionState.FAILED,
    ConnectionState.RECONNECTING,
    ConnectionState.CONNECTING,
    ConnectionState.PAUSED,
    ConnectionState.STOPPED,
    ConnectionState.FINISHED,
    ConnectionState.REPLAYING,
    ConnectionState.LIVE,
]


def _chip(*parts: str | tuple[str, str]) -> Content:
    return Content.assemble(*parts)


def lay_out(chips: Sequence[Content], width: int) -> Content:
    """Chips in lines no wider than ``width``, one space apart."""
    lines: list[Content] = []
    line: list[Content] = []
    used = 0
    for chip in chips:
        need = chip.cell_length + (1 if line else 0)
        if line and used + need > width:
            lines.append(Content(" ").join(line))
            line, used = [], 0
            need = chip.cell_length
        line.append(chip)
        used += need
    if line:
        lines.append(Content(" ").join(line))
    return Content("\n").join(lines)


def worst_feed(feeds: Sequence[FeedStatus]) -> FeedStatus | None:
    """The feed that most needs attention (the one the header names)."""
    if not feeds:
        return None
    return min(feeds, key=lambda f: _STATE_RANK.index(f.state) if f.state in _STATE_RANK else 0)


def feed_chip(feeds: Sequence[FeedStatus], lag_s: float | None) -> Content:
    worst = worst_feed(feeds)
    if worst is None:
        return _chip(("feed", "dim"), " ", ("none", "$text-warning"))
    state = worst.state.value
    style = FEED_STYLE.get(worst.state, "")
    label = "feed" if len(feeds) == 1 else f"{len(feeds)} feeds"
    parts: list[str | tuple[str, str]] = [(label, "dim"), " ", (state.upper() if style.endswith("bold") else state, style)]
    if len(feeds) > 1 and worst.state not in (ConnectionState.LIVE, ConnectionState.REPLAYING):
        parts += [" ", (one_line(worst.name, 16), "dim")]
    if lag_s is not None:
        lag_style = "$text-error" if lag_s > 10 else "$text-warning" if lag_s > 2 else "dim"
        parts += [" ", ("lag", "dim"), " ", (f"{lag_s:.1f}s", lag_style)]
    return _chip(*parts)


def figure_chips(figures: Any, mode: str, alerts: AlertConfig | None = None) -> list[Content]:
    """The header's chips, from a ``FloorFigures``-like object."""
    alerts = alerts or AlertConfig()
    chips: list[Content] = []
    if mode == "demo":
        chips.append(_chip((" DEMO ", "reverse $text-accent bold")))
    elif mode == "replay":
        chips.append(_chip((" REPLAY ", "reverse $text-warning bold")))

    chips.append(_chip(("Active", "dim"), " ", (formatting.count(figures.active), "bold")))
    waiting_style = "$text-error bold" if figures.waiting else "dim"
    chips.append(_chip(("Waiting", "dim"), " ", (str(figures.waiting), waiting_style)))
    chips.append(_chip(("Held", "dim"), " ", (str(figures.held), "bold" if figures.held else "dim")))
    stale = figures.stale
    if stale:
        # Conversations of a feed that is down: not in Active, and not to be trusted.
        chips.append(_chip(("Stale", "$text-error"), " ", (str(stale), "$text-error bold"), " ", ("(feed down)", "$text-error")))

    reading = judge_escalation(figures.escalation_rate, figures.escalation_sample, figures.window_covered, alerts)
    word, style = formatting.ESCALATION_READING.get(reading.status, ("", "dim"))
    lo, hi = alerts.escalation_band
    tlo, thi = alerts.typical_band
    rate = formatting.escalation_percent(figures.escalation_rate).rjust(4)
    # The word's room is kept whatever it says: the header never grows a line
    # because "warming up" appeared.
    chip = [("Escal.", "dim"), " ", (rate, style or "bold"), " ",
            (word.ljust(formatting.ESCALATION_WORD_WIDTH), style)]
    chip += [" ", (f"[typ {tlo:.0%}-{thi:.0%}, ok {lo:.0%}-{hi:.0%}]", "dim")]
    chips.append(_chip(*chip))

    chips.append(_chip(("Contained", "dim"), " ", (formatting.percent(figures.containment), "bold")))
    sentiment = figures.avg_sentiment
    sentiment_style = "dim" if sentiment is None else "$text-error" if sentiment <= -0.3 else "$text-warning" if sentiment < 0 else "$text-success"
    chips.append(_chip(("Sent.", "dim"), " ", (formatting.signed(sentiment), sentiment_style)))
    chips.append(
        _chip(("Alerts", "dim"), " ", (str(figures.open_alerts), "$text-warning bold" if figures.open_alerts else "dim"))
    )
    chips.append(
        _chip(
            ("Approvals", "dim"),
            " ",
            (str(figures.pending_approvals), "$text-accent bold" if figures.pending_approvals else "dim"),
        )
    )
    chips.append(feed_chip(figures.feeds, figures.lag_s))
    chips.append(_chip((f"{figures.events_per_s:.0f} ev/s", "dim")))
    return chips


class FiguresBar(StatusLine):
    """Live figures at the top of the floor; redraws only when its text changes."""

    DEFAULT_CSS = """
    FiguresBar {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $panel;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._chips: list[Content] = []

    def show_figures(self, figures: Any, mode: str, alerts: AlertConfig | None = None) -> bool:
        self._chips = figure_chips(figures, mode, alerts)
        return self._lay_out()

    def _lay_out(self) -> bool:
        width = max(20, self.size.width - 2)  # minus the padding
        return self.show(lay_out(self._chips, width))

    def on_resize(self) -> None:
        if self._chips:
            self._lay_out()
