"""The session's built-in alert watchers (escalation band, feed health, trend rules)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from hitl_console.analysis.metrics import escalation_sample, judge_escalation, ratio, window_covered
from hitl_console.analysis.trends import TrendWatcher
from hitl_console.engine.alerts import Alert, Condition

if TYPE_CHECKING:
    from hitl_console.session.lifecycle import LiveSession

TREND_INTERVAL = 5.0
"""Seconds between two runs of the trend rules. They scan every turn of every
conversation in memory, and their windows are minutes long: once a second
would cost CPU for nothing."""

Watcher = Callable[["LiveSession", float], Iterable[Condition]]
"""``watcher(session, now) -> conditions true now``; called once a second."""


def _watch_escalation_rate(session: LiveSession, now: float) -> list[Condition]:
    """The escalation rate of the window out of ``alerts.escalation_band``.

    Needs ``alerts.min_conversations`` started in the window: a rate of 1 in 3
    says nothing, and an alert on it would be noise.
    """
    alerts = session.config.alerts
    window_start = now - alerts.window_s
    conversations = session.engine.conversations.values()
    recent = escalation_sample(conversations, window_start)
    rate = ratio(sum(1 for c in recent if c.escalated), len(recent))
    assessment = judge_escalation(rate, len(recent), window_covered(conversations, window_start, now), alerts)
    if rate is None or assessment.status not in ("too_high", "too_low"):
        return []  # too few, warming up, or inside the band: the floor shows the same reading
    minutes = alerts.window_s / 60
    figures = {
        "rate": round(rate, 4),
        "conversations": len(recent),
        "band_low": alerts.escalation_band[0],
        "band_high": alerts.escalation_band[1],
        "window_s": alerts.window_s,
    }
    text = f"escalation rate (last {minutes:.0f} min): {assessment.message}"
    if assessment.status == "too_high":
        return [Condition("escalation_rate_high", "warning", "aggregate", text, figures=figures)]
    if assessment.status == "too_low":
        return [Condition("escalation_rate_low", "warning", "aggregate", text, figures=figures)]
    return []


def _watch_feed_health(session: LiveSession, now: float) -> list[Condition]:
    """Every feed failure a supervisor must know about (``analysis.feed_health``)."""
    return session.feed_health.check(session.statuses())


ESCALATION_BAND_KEYS = frozenset({"escalation_rate_high", "escalation_rate_low"})
"""Trend-rule keys that :func:`_watch_escalation_rate` already alerts on."""


class TrendAlerts:
    """The trend rules of :class:`~hitl_console.analysis.trends.TrendWatcher` as a session watcher.

    The two speak different languages: ``TrendWatcher.check`` returns each
    *new* alert once and latches its key until it judges the condition false
    (too little data neither alerts nor re-arms), while a session watcher
    reports the conditions true *now* and the session alerts on new keys.
    This adapter reports every latched key, with the text and figures of the
    alert that opened it, so a trend condition reaches ``session.alerts``,
    the journal, the listeners and the webhook exactly once, and again only
    after the rules have cleared it.

    The rules run every ``interval_s`` seconds (monotonic: a replay's clock
    jumps); in between the latched set is reported unchanged. Feed health is
    left to :mod:`~hitl_console.analysis.feed_health` and the
    escalation band to :func:`_watch_escalation_rate` (``skip``): the same
    condition from two watchers would be one key with two owners, each able
    to re-arm it behind the other's back.
    """

    def __init__(
        self,
        watcher: TrendWatcher,
        *,
        interval_s: float = TREND_INTERVAL,
        skip: Iterable[str] = ESCALATION_BAND_KEYS,
    ) -> None:
        self.watcher = watcher
        self.interval_s = interval_s
        self._skip = frozenset(skip)
        self._opened: dict[str, Alert] = {}
        self._last_run: float | None = None

    def __call__(self, session: LiveSession, now: float) -> list[Condition]:
        mono = time.monotonic()
        if self._last_run is None or mono - self._last_run >= self.interval_s:
            self._last_run = mono
            for alert in self.watcher.check(session.engine.conversations.values(), now):
                if alert.key not in self._skip:
                    self._opened[alert.key] = alert
        active = self.watcher.active
        for key in [k for k in self._opened if k not in active]:
            del self._opened[key]
        return [
            Condition(
                alert.key,
                alert.level,
                alert.kind,
                alert.text,
                alert.conversation_id,
                figures=dict(self.watcher.figures.get(alert.key, {})),
            )
            for alert in self._opened.values()
        ]

    def reset(self) -> None:
        """Forget every latched trend condition (after a configuration change)."""
        self.watcher.reset()
        self._opened.clear()
        self._last_run = None

    def __repr__(self) -> str:
        return f"TrendAlerts(latched={sorted(self._opened)})"
