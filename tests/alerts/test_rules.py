"""The aggregate rules (pure functions) and the latch that turns their judgements into alerts once."""

from __future__ import annotations

from hitl_console.alerts.latch import AlertLatch
from hitl_console.alerts.rules import containment_drop, escalation_band, sentiment_down, trigger_spike
from hitl_console.config import AlertConfig

from analysis.helpers import T0, make_state

CFG = AlertConfig(window_s=600, baseline_s=3600, min_conversations=10)
NOW = T0 + 3600 + 600  # recent window: [T0+3600, T0+4200); baseline: [T0, T0+3600)


def floor(n: int, start: float, span: float, escalated: int, prefix: str, **kw):
    """n conversations spread over [start, start+span), the first ``escalated`` of them escalated."""
    return [
        make_state(f"{prefix}{i}", start=start + i * span / n, escalation_turns=2 if i < escalated else None, **kw)
        for i in range(n)
    ]


def keys(judgement) -> list[str]:
    return [c.key for c in judgement.true]


def test_escalation_rate_alerts_once_and_rearms_through_the_latch():
    latch = AlertLatch()
    base = floor(20, T0, 3000, 3, "b")
    hot = floor(10, T0 + 3600, 500, 5, "r")  # 50% > 30%
    judged = escalation_band(base + hot, NOW, CFG)
    assert keys(judged) == ["escalation_rate_high"]
    (condition,) = judged.true
    assert condition.kind == "aggregate" and "50.0% is over 30%" in condition.text and condition.figures["rate"] == 0.5
    latch.judge("band", judged)
    assert [a.key for a in latch.alerts] == ["escalation_rate_high"]

    # Still true: no second alert.
    latch.judge("band", escalation_band(base + hot, NOW, CFG))
    assert len(latch.alerts) == 1
    # Clears (back to 20%), then rises again: alerts again.
    calm = floor(10, T0 + 3600, 500, 2, "r")
    latch.judge("band", escalation_band(base + calm, NOW, CFG))
    assert "escalation_rate_high" not in latch.latched
    latch.judge("band", escalation_band(base + hot, NOW, CFG))
    assert [a.key for a in latch.alerts] == ["escalation_rate_high", "escalation_rate_high"]


def test_escalation_rate_too_low():
    quiet = floor(40, T0 + 3600, 500, 0, "r")
    assert keys(escalation_band(quiet, NOW, CFG)) == ["escalation_rate_low"]


def test_no_alert_under_min_conversations():
    few = floor(9, T0 + 3600, 500, 9, "r")
    for rule in (escalation_band, containment_drop, sentiment_down, trigger_spike):
        assert rule(few, NOW, CFG).true == ()


def test_containment_drop_per_topic():
    base = floor(10, T0, 3000, 0, "b", topics=("billing",)) + floor(10, T0, 3000, 0, "s", topics=("shipping",))
    # recent billing: 3 of 6 contained (50% from 100%); shipping unchanged
    recent = floor(6, T0 + 3600, 500, 0, "rb", topics=("billing",))
    for c in recent[:3]:
        c.outcome = "unresolved"
    recent += floor(6, T0 + 3600, 500, 0, "rs", topics=("shipping",))
    judged = containment_drop(base + recent, NOW, CFG, min_topic_count=5)
    assert keys(judged) == ["containment_drop:billing"]
    assert judged.judged == {"containment_drop:billing", "containment_drop:shipping"}


def test_sentiment_trending_down_alerts_once():
    latch = AlertLatch()
    base = floor(20, T0, 3000, 3, "b", sentiments=(0.3,))
    recent = floor(20, T0 + 3600, 500, 3, "r", sentiments=(-0.1,))
    judged = sentiment_down(base + recent, NOW, CFG)
    assert keys(judged) == ["sentiment_down"]
    assert "+0.30" in judged.true[0].text and "-0.10" in judged.true[0].text
    latch.judge(sentiment_down, judged)
    latch.judge(sentiment_down, sentiment_down(base + recent, NOW, CFG))
    assert [a.key for a in latch.alerts] == ["sentiment_down"]


def test_too_little_data_neither_alerts_nor_rearms():
    latch = AlertLatch()
    base = floor(20, T0, 3000, 3, "b", sentiments=(0.3,))
    recent = floor(20, T0 + 3600, 500, 3, "r", sentiments=(-0.1,))
    latch.judge(sentiment_down, sentiment_down(base + recent, NOW, CFG))
    unjudged = sentiment_down(base + recent[:3], NOW, CFG)  # three customer turns: cannot judge
    assert unjudged.true == () and unjudged.judged == frozenset()
    latch.judge(sentiment_down, unjudged)
    assert "sentiment_down" in latch.latched
    latch.judge(sentiment_down, sentiment_down(base + recent, NOW, CFG))
    assert len(latch.alerts) == 1


def test_trigger_spike():
    base = floor(30, T0, 3000, 4, "b")
    for c in base[:6]:
        c.triggers = ()
    recent = floor(12, T0 + 3600, 500, 2, "r", triggers=(("loop", 2),))
    # baseline: 0 loops in 60 min -> expected (0+1) * 600/3600 = 0.17; 12 in 10 min is a spike
    judged = trigger_spike(base + recent, NOW, CFG, min_trigger_count=5)
    assert keys(judged) == ["trigger_spike:loop"]
    assert judged.true[0].figures["count"] == 12


def test_two_rules_never_clear_each_others_conditions():
    latch = AlertLatch()
    quiet = floor(40, T0 + 3600, 500, 0, "r")
    latch.judge("band", escalation_band(quiet, NOW, CFG))
    latch.judge("another rule", escalation_band([], NOW, CFG))  # judges the same keys false: not its own
    assert "escalation_rate_low" in latch.latched
