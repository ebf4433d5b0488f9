"""Trend alerts: an aggregate figure leaves its band or moves away from its baseline.

A trigger tells a supervisor about one conversation; these tell them the
floor as a whole is changing: escalations out of band, a topic's
containment dropping, customers getting angrier, one trigger kind spiking
(often a broken tool or a new kind of question). Feed health has its own
home, :mod:`hitl_console.analysis.feed_health`.

Windows: *recent* is ``[now - window_s, now)``; *baseline* is the
``baseline_s`` before it, ``[now - window_s - baseline_s, now - window_s)``,
so the two never overlap and a change cannot dilute its own baseline.
Conversations count in the window where they started; sentiment by the time
of each customer turn; triggers by the time they fired.

Noise: nothing alerts on fewer than ``AlertConfig.min_conversations``
conversations (or customer turns) in a window; a topic needs
``min_topic_count`` ended conversations in each window; a trigger spike
needs ``min_trigger_count`` firings.

Once only: each condition has a key (``escalation_rate_high``,
``containment_drop:billing``, ...). A key that is
true raises one alert; it re-arms when the condition is checked and found
false. A condition that cannot be judged (too little data) neither alerts
nor re-arms, so a quiet minute does not make a persisting problem alert again.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hitl_console.analysis.metrics import (
    assess_escalation_rate,
    escalation_sample,
    is_contained,
    topics_of,
    window_covered,
)
from hitl_console.config import AlertConfig
from hitl_console.engine.alerts import Alert, Level
from hitl_console.engine.state import TRIGGER_KINDS, ConversationState

@dataclass(slots=True)
class _Finding:
    key: str
    level: Level
    kind: str
    text: str
    figures: dict[str, float | str]


class TrendWatcher:
    """Checks aggregates against their band and baseline; call :meth:`check` periodically
    (the live session does every few seconds) with everything the engine holds."""

    def __init__(
        self,
        config: AlertConfig | None = None,
        *,
        min_topic_count: int = 5,
        min_trigger_count: int = 5,
    ) -> None:
        self.config = config or AlertConfig()
        self.min_topic_count = min_topic_count
        self.min_trigger_count = min_trigger_count
        self._active: set[str] = set()
        self.figures: dict[str, dict[str, float | str]] = {}
        """Figures behind the latest alert of each key (for the webhook and the alert detail)."""

    @property
    def active(self) -> frozenset[str]:
        """Keys of conditions that alerted and have not cleared."""
        return frozenset(self._active)

    def reset(self) -> None:
        """Forget every latched condition (e.g. after a config change)."""
        self._active.clear()
        self.figures.clear()

    def check(
        self,
        conversations: Iterable[ConversationState],
        now: float,
    ) -> list[Alert]:
        """New alerts for conditions that became true since the last check."""
        states = list(conversations)
        findings: list[_Finding] = []
        judged: set[str] = set()
        for rule in (self._escalation, self._containment, self._sentiment, self._triggers):
            rule(states, now, findings, judged)

        true_keys = {f.key for f in findings}
        # Re-arm what was judged and found false.
        self._active -= judged - true_keys
        alerts: list[Alert] = []
        for f in findings:
            if f.key in self._active:
                continue
            self._active.add(f.key)
            self.figures[f.key] = f.figures
            alerts.append(Alert(ts=now, level=f.level, kind=f.kind, text=f.text, key=f.key))  # type: ignore[arg-type]
        return alerts

    # ------------------------------------------------------------ windows

    def _windows(self, now: float) -> tuple[tuple[float, float], tuple[float, float]]:
        recent = (now - self.config.window_s, now)
        baseline = (recent[0] - self.config.baseline_s, recent[0])
        return recent, baseline

    @staticmethod
    def _started_in(states: Sequence[ConversationState], span: tuple[float, float]) -> list[ConversationState]:
        lo, hi = span
        return [c for c in states if lo <= c.started_ts < hi]

    # ------------------------------------------------------------ rules

    def _escalation(self, states: Sequence[ConversationState], now: float, out: list[_Finding], judged: set[str]) -> None:
        recent, baseline = self._windows(now)
        r = escalation_sample(states, *recent)
        if len(r) < self.config.min_conversations or not window_covered(states, recent[0], now):
            return
        judged.update({"escalation_rate_high", "escalation_rate_low"})
        rate = sum(c.escalated for c in r) / len(r)
        b = escalation_sample(states, *baseline)
        base = sum(c.escalated for c in b) / len(b) if len(b) >= self.config.min_conversations else None
        lo, hi = self.config.escalation_band
        vs = f" (baseline {base:.0%})" if base is not None else ""
        minutes = self.config.window_s / 60
        figures: dict[str, float | str] = {"rate": round(rate, 4), "conversations": len(r), "band_low": lo, "band_high": hi}
        if base is not None:
            figures["baseline_rate"] = round(base, 4)
        status = assess_escalation_rate(rate, self.config).status  # the one judgement of the band
        said = f"Escalation rate {rate:.0%} over the last {minutes:.0f} min"
        if status == "too_high":
            text = f"{said} is above {hi:.0%}{vs}: humans are being swamped"
            out.append(_Finding("escalation_rate_high", "warning", "aggregate", text, figures))
        elif status == "too_low":
            text = f"{said} is below {lo:.0%}{vs}: the AI may be missing cases"
            out.append(_Finding("escalation_rate_low", "warning", "aggregate", text, figures))

    def _containment(self, states: Sequence[ConversationState], now: float, out: list[_Finding], judged: set[str]) -> None:
        recent, baseline = self._windows(now)
        counts: dict[str, list[Counter[str]]] = {}
        for c in states:
            if not c.ended:
                continue
            which = 0 if recent[0] <= c.started_ts < recent[1] else 1 if baseline[0] <= c.started_ts < baseline[1] else None
            if which is None:
                continue
            ok = is_contained(c)
            for topic in topics_of(c):
                pair = counts.setdefault(topic, [Counter(), Counter()])
                pair[which]["n"] += 1
                pair[which]["ok"] += ok
        for topic, (rc, bc) in counts.items():
            if rc["n"] < self.min_topic_count or bc["n"] < self.min_topic_count:
                continue
            key = f"containment_drop:{topic}"
            judged.add(key)
            r_rate = rc["ok"] / rc["n"]
            b_rate = bc["ok"] / bc["n"]
            if b_rate - r_rate >= self.config.containment_drop - 1e-9:
                out.append(
                    _Finding(
                        key,
                        "warning",
                        "trend",
                        f"Containment of topic {topic} fell to {r_rate:.0%} from {b_rate:.0%} (last {self.config.window_s / 60:.0f} min)",
                        {"topic": topic, "rate": round(r_rate, 4), "baseline_rate": round(b_rate, 4), "conversations": rc["n"]},
                    )
                )

    def _sentiment(self, states: Sequence[ConversationState], now: float, out: list[_Finding], judged: set[str]) -> None:
        recent, baseline = self._windows(now)
        r: list[float] = []
        b: list[float] = []
        for c in states:
            for t in c.turns:
                if t.role != "customer" or t.sentiment is None:
                    continue
                if recent[0] <= t.ts < recent[1]:
                    r.append(t.sentiment)
                elif baseline[0] <= t.ts < baseline[1]:
                    b.append(t.sentiment)
        need = self.config.min_conversations
        if len(r) < need or len(b) < need:
            return
        judged.add("sentiment_down")
        rm, bm = statistics.fmean(r), statistics.fmean(b)
        if bm - rm >= self.config.sentiment_drop - 1e-9:
            out.append(
                _Finding(
                    "sentiment_down",
                    "warning",
                    "trend",
                    f"Customer sentiment is trending down: mean {rm:+.2f} in the last {self.config.window_s / 60:.0f} min against {bm:+.2f} before",
                    {"mean": round(rm, 4), "baseline_mean": round(bm, 4), "turns": len(r)},
                )
            )

    def _triggers(self, states: Sequence[ConversationState], now: float, out: list[_Finding], judged: set[str]) -> None:
        recent, baseline = self._windows(now)
        r: Counter[str] = Counter()
        b: Counter[str] = Counter()
        for c in states:
            for h in c.triggers:
                if recent[0] <= h.ts < recent[1]:
                    r[h.kind] += 1
                elif baseline[0] <= h.ts < baseline[1]:
                    b[h.kind] += 1
        active_baseline = sum(1 for c in states if baseline[0] <= c.last_ts and c.started_ts < baseline[1])
        scale = self.config.window_s / self.config.baseline_s
        for kind in TRIGGER_KINDS:
            key = f"trigger_spike:{kind}"
            if r[kind] < self.min_trigger_count:
                if active_baseline >= self.config.min_conversations:
                    judged.add(key)  # quiet, with a baseline to compare: clear
                continue
            if active_baseline < self.config.min_conversations:
                continue  # no baseline to speak of (console just started)
            judged.add(key)
            # +1: a kind never seen in the baseline is not an infinite spike.
            expected = (b[kind] + 1) * scale
            if r[kind] >= self.config.trigger_spike * expected:
                out.append(
                    _Finding(
                        key,
                        "warning",
                        "trend",
                        f"Spike in {kind} triggers: {r[kind]} in the last {self.config.window_s / 60:.0f} min, "
                        f"{expected:.1f} expected from the baseline",
                        {"trigger": kind, "count": r[kind], "expected": round(expected, 2), "baseline_count": b[kind]},
                    )
                )

