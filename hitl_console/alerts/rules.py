"""The aggregate rules: pure functions of (conversations, now, config) that judge the floor.

A trigger tells a supervisor about one conversation; these tell them the
floor as a whole is changing: escalations out of band, a topic's
containment dropping, customers getting angrier, one trigger kind spiking
(often a broken tool or a new kind of question). Feed health, which needs
to remember how long a feed has been down, is
:mod:`hitl_console.alerts.feed_health`.

Each rule returns a :class:`Judgement`: the conditions true now, and the
keys it could judge at all. The latch (:class:`~hitl_console.alerts.latch.AlertLatch`)
raises a true condition once and re-arms a key judged false; a key that
could not be judged (too little data) neither alerts nor re-arms, so a quiet
minute does not make a persisting problem alert again.

Windows: *recent* is ``[now - window_s, now)``; *baseline* is the
``baseline_s`` before it, ``[now - window_s - baseline_s, now - window_s)``,
so the two never overlap and a change cannot dilute its own baseline.
Conversations count in the window where they started; sentiment by the time
of each customer turn; triggers by the time they fired.

Noise: nothing alerts on fewer than ``AlertConfig.min_conversations``
conversations (or customer turns) in a window; a topic needs
``min_topic_count`` ended conversations in each window; a trigger spike
needs ``min_trigger_count`` firings.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hitl_console.alerts.model import Condition
from hitl_console.analysis.metrics import escalation_sample, is_contained, judge_escalation, ratio, topics_of, window_covered
from hitl_console.config import AlertConfig
from hitl_console.engine.state import TRIGGER_KINDS, ConversationState
from hitl_console.text import number

MIN_TOPIC_COUNT = 5
MIN_TRIGGER_COUNT = 5

ESCALATION_BAND_KEYS = frozenset({"escalation_rate_high", "escalation_rate_low"})


@dataclass(frozen=True, slots=True)
class Judgement:
    """What one rule found: the conditions true now, and the keys it judged.

    ``judged`` None: the rule judges every key it owns on every check (what it
    does not report is false). Otherwise only those keys were judged; the
    others of the rule stay as they were.
    """

    true: tuple[Condition, ...] = ()
    judged: frozenset[str] | None = None


Rule = Callable[[Sequence[ConversationState], float, AlertConfig], Judgement]
"""``rule(conversations, now, config) -> Judgement``."""


def _windows(now: float, config: AlertConfig) -> tuple[tuple[float, float], tuple[float, float]]:
    recent = (now - config.window_s, now)
    baseline = (recent[0] - config.baseline_s, recent[0])
    return recent, baseline


def escalation_band(states: Sequence[ConversationState], now: float, config: AlertConfig) -> Judgement:
    """The escalation rate of the window out of ``alerts.escalation_band``.

    Needs ``alerts.min_conversations`` ended in the window and data reaching
    back over it (:func:`~hitl_console.analysis.metrics.judge_escalation`, the
    floor's own reading): a rate of 1 in 3 says nothing, and an alert on it
    would be noise. Judged on every check: too few, warming up or inside the
    band all re-arm it, as the floor shows the same reading.
    """
    window_start = now - config.window_s
    recent = escalation_sample(states, window_start)
    rate = ratio(sum(1 for c in recent if c.escalated), len(recent))
    assessment = judge_escalation(rate, len(recent), window_covered(states, window_start, now), config)
    if rate is None or assessment.status not in ("too_high", "too_low"):
        return Judgement(judged=ESCALATION_BAND_KEYS)
    figures = {
        "rate": round(rate, 4),
        "conversations": len(recent),
        "band_low": config.escalation_band[0],
        "band_high": config.escalation_band[1],
        "window_s": config.window_s,
    }
    text = f"escalation rate (last {config.window_s / 60:.0f} min): {assessment.message}"
    key = "escalation_rate_high" if assessment.status == "too_high" else "escalation_rate_low"
    return Judgement((Condition(key, "warning", "aggregate", text, figures=figures),), ESCALATION_BAND_KEYS)


def containment_drop(
    states: Sequence[ConversationState], now: float, config: AlertConfig, *, min_topic_count: int = MIN_TOPIC_COUNT
) -> Judgement:
    """A topic whose containment fell by ``alerts.containment_drop`` from its baseline."""
    recent, baseline = _windows(now, config)
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
    true: list[Condition] = []
    judged: set[str] = set()
    for topic, (rc, bc) in counts.items():
        if rc["n"] < min_topic_count or bc["n"] < min_topic_count:
            continue
        key = f"containment_drop:{topic}"
        judged.add(key)
        r_rate = rc["ok"] / rc["n"]
        b_rate = bc["ok"] / bc["n"]
        if b_rate - r_rate >= config.containment_drop - 1e-9:
            true.append(
                Condition(
                    key,
                    "warning",
                    "trend",
                    f"Containment of topic {topic} fell to {r_rate:.0%} from {b_rate:.0%} (last {config.window_s / 60:.0f} min)",
                    figures={"topic": topic, "rate": round(r_rate, 4), "baseline_rate": round(b_rate, 4), "conversations": rc["n"]},
                )
            )
    return Judgement(tuple(true), frozenset(judged))


def sentiment_down(states: Sequence[ConversationState], now: float, config: AlertConfig) -> Judgement:
    """Customers' mean sentiment fell by ``alerts.sentiment_drop`` from its baseline."""
    recent, baseline = _windows(now, config)
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
    need = config.min_conversations
    if len(r) < need or len(b) < need:
        return Judgement(judged=frozenset())
    rm, bm = statistics.fmean(r), statistics.fmean(b)
    true: tuple[Condition, ...] = ()
    if bm - rm >= config.sentiment_drop - 1e-9:
        true = (
            Condition(
                "sentiment_down",
                "warning",
                "trend",
                f"Customer sentiment is trending down: mean {number(rm, '+.2f')} in the last {config.window_s / 60:.0f} min against {number(bm, '+.2f')} before",
                figures={"mean": round(rm, 4), "baseline_mean": round(bm, 4), "turns": len(r)},
            ),
        )
    return Judgement(true, frozenset({"sentiment_down"}))


def trigger_spike(
    states: Sequence[ConversationState], now: float, config: AlertConfig, *, min_trigger_count: int = MIN_TRIGGER_COUNT
) -> Judgement:
    """One trigger kind firing ``alerts.trigger_spike`` times more than its baseline predicts."""
    recent, baseline = _windows(now, config)
    r: Counter[str] = Counter()
    b: Counter[str] = Counter()
    for c in states:
        for h in c.triggers:
            if recent[0] <= h.ts < recent[1]:
                r[h.kind] += 1
            elif baseline[0] <= h.ts < baseline[1]:
                b[h.kind] += 1
    active_baseline = sum(1 for c in states if baseline[0] <= c.last_ts and c.started_ts < baseline[1])
    scale = config.window_s / config.baseline_s
    true: list[Condition] = []
    judged: set[str] = set()
    for kind in TRIGGER_KINDS:
        key = f"trigger_spike:{kind}"
        if r[kind] < min_trigger_count:
            if active_baseline >= config.min_conversations:
                judged.add(key)  # quiet, with a baseline to compare: clear
            continue
        if active_baseline < config.min_conversations:
            continue  # no baseline to speak of (console just started)
        judged.add(key)
        # +1: a kind never seen in the baseline is not an infinite spike.
        expected = (b[kind] + 1) * scale
        if r[kind] >= config.trigger_spike * expected:
            true.append(
                Condition(
                    key,
                    "warning",
                    "trend",
                    f"Spike in {kind} triggers: {r[kind]} in the last {config.window_s / 60:.0f} min, "
                    f"{expected:.1f} expected from the baseline",
                    figures={"trigger": kind, "count": r[kind], "expected": round(expected, 2), "baseline_count": b[kind]},
                )
            )
    return Judgement(tuple(true), frozenset(judged))


TREND_RULES: tuple[Rule, ...] = (containment_drop, sentiment_down, trigger_spike)
"""The rules that scan every turn of every conversation: the session runs them
every few seconds, not on every tick (their windows are minutes long)."""


BOUNDARY_MARGIN_S = 1e-3
"""How near a window's edge counts as crossing it (far above float error on epoch seconds)."""


def trend_boundaries(states: Sequence[ConversationState], config: AlertConfig) -> list[float]:
    """The clock times, ascending, at which a :data:`TREND_RULES` window's edge
    meets a time those rules compare (a start, a last event, a customer turn,
    a trigger): between two of them, on the same conversations, every rule
    judges the same, so the session need not run them again."""
    offsets = (0.0, config.window_s, config.window_s + config.baseline_s)
    times: set[float] = set()
    for c in states:
        times.add(c.started_ts)
        times.add(c.last_ts)
        times.update(t.ts for t in c.turns if t.role == "customer" and t.sentiment is not None)
        times.update(h.ts for h in c.triggers)
    return sorted({t + o for t in times for o in offsets})


def boundary_within(bounds: Sequence[float], start: float, end: float) -> bool:
    """Whether one of ``bounds`` (ascending) lies in ``[start, end]``, widened by :data:`BOUNDARY_MARGIN_S`."""
    i = bisect_left(bounds, start - BOUNDARY_MARGIN_S)
    return i < len(bounds) and bounds[i] <= end + BOUNDARY_MARGIN_S
