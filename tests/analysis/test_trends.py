from __future__ import annotations

from hitl_console.analysis.trends import TrendWatcher
from hitl_console.config import AlertConfig

from .helpers import T0, make_state

CFG = AlertConfig(window_s=600, baseline_s=3600, min_conversations=10)
NOW = T0 + 3600 + 600  # recent window: [T0+3600, T0+4200); baseline: [T0, T0+3600)


def floor(n: int, start: float, span: float, escalated: int, prefix: str, **kw):
    """n conversations spread over [start, start+span), the first ``escalated`` of them escalated."""
    return [
        make_state(f"{prefix}{i}", start=start + i * span / n, escalation_turns=2 if i < escalated else None, **kw)
        for i in range(n)
    ]


def esc(alerts):
    return [a for a in alerts if a.key.startswith("escalation_rate")]


def test_escalation_rate_alerts_once_and_rearms():
    watcher = TrendWatcher(CFG)
    base = floor(20, T0, 3000, 3, "b")
    hot = floor(10, T0 + 3600, 500, 5, "r")  # 50% > 30%
    alerts = esc(watcher.check(base + hot, NOW))
    assert [a.key for a in alerts] == ["escalation_rate_high"]
    assert alerts[0].kind == "aggregate" and "50%" in alerts[0].text and "baseline 15%" in alerts[0].text
    assert watcher.figures["escalation_rate_high"]["rate"] == 0.5

    # Still true: no second alert.
    assert esc(watcher.check(base + hot, NOW)) == []
    # Too little data to judge: neither alerts nor re-arms.
    assert esc(watcher.check(base + hot[:3], NOW)) == []
    assert "escalation_rate_high" in watcher.active
    # Clears (back to 20%), then rises again: alerts again.
    calm = floor(10, T0 + 3600, 500, 2, "r")
    assert esc(watcher.check(base + calm, NOW)) == []
    assert "escalation_rate_high" not in watcher.active
    assert [a.key for a in esc(watcher.check(base + hot, NOW))] == ["escalation_rate_high"]


def test_escalation_rate_too_low():
    watcher = TrendWatcher(CFG)
    quiet = floor(40, T0 + 3600, 500, 0, "r")
    assert [a.key for a in esc(watcher.check(quiet, NOW))] == ["escalation_rate_low"]


def test_no_alert_under_min_conversations():
    watcher = TrendWatcher(CFG)
    assert watcher.check(floor(9, T0 + 3600, 500, 9, "r"), NOW) == []


def test_containment_drop_per_topic():
    watcher = TrendWatcher(CFG, min_topic_count=5)
    base = floor(10, T0, 3000, 0, "b", topics=("billing",)) + floor(10, T0, 3000, 0, "s", topics=("shipping",))
    # recent billing: 3 of 6 contained (50% from 100%); shipping unchanged
    recent = floor(6, T0 + 3600, 500, 0, "rb", topics=("billing",))
    for c in recent[:3]:
        c.outcome = "unresolved"
    recent += floor(6, T0 + 3600, 500, 0, "rs", topics=("shipping",))
    keys = [a.key for a in watcher.check(base + recent, NOW)]
    assert "containment_drop:billing" in keys
    assert "containment_drop:shipping" not in keys


def test_sentiment_trending_down():
    watcher = TrendWatcher(CFG)
    base = floor(20, T0, 3000, 3, "b", sentiments=(0.3,))
    recent = floor(20, T0 + 3600, 500, 3, "r", sentiments=(-0.1,))
    alerts = [a for a in watcher.check(base + recent, NOW) if a.key == "sentiment_down"]
    assert len(alerts) == 1 and "+0.30" in alerts[0].text and "-0.10" in alerts[0].text
    assert watcher.check(base + recent, NOW) == []


def test_trigger_spike():
    watcher = TrendWatcher(CFG, min_trigger_count=5)
    base = floor(30, T0, 3000, 4, "b")
    for c in base[:6]:
        c.triggers = ()
    recent = floor(12, T0 + 3600, 500, 2, "r", triggers=(("loop", 2),))
    # baseline: 0 loops in 60 min -> expected (0+1) * 600/3600 = 0.17; 12 in 10 min is a spike
    alerts = [a for a in watcher.check(base + recent, NOW) if a.key.startswith("trigger_spike")]
    assert [a.key for a in alerts] == ["trigger_spike:loop"]
    assert watcher.figures["trigger_spike:loop"]["count"] == 12


