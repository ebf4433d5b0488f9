"""Every metric on tests/analysis/data/metrics.jsonl, whose answers were worked out by hand:

c01 billing  u-1  resolved by AI, CSAT 5        c06 shipping u-5 abandoned
c02 billing  u-2  abandoned                     c07 fraud    u-6 escalated after 2 turns (25 s), unresolved, CSAT 1
c03 billing  u-3  escalated after 4 turns (45 s), resolved by human, CSAT 4
c04 shipping u-4  resolved by AI, CSAT 5        c08 shipping u-7 resolved by AI, CSAT 4
c05 shipping u-1  (1 h after c01) resolved, CSAT 3   c09 billing u-8 unresolved (AI), CSAT 2
c10 shipping u-9  resolved by AI
"""

from __future__ import annotations

import json

import pytest

from hitl_console.analysis.metrics import MetricsOptions, assess_escalation_rate, compute_metrics, percentile
from hitl_console.analysis.report import load_recordings
from hitl_console.analysis.timewin import TimeWindow

from .helpers import DATA, T0


@pytest.fixture(scope="module")
def states():
    return list(load_recordings([DATA / "metrics.jsonl"]).values())


def test_escalation_rate_and_band(states):
    m = compute_metrics(states)
    assert (m.conversations, m.ended, m.escalated) == (10, 10, 2)
    assert m.escalation_rate == pytest.approx(0.2)
    # 10 ended conversations: shown, not judged (the floor and the band alert need 20 too)
    assert m.escalation_band.status == "too_few" and "too few to judge" in m.escalation_band.message
    from hitl_console.config import AlertConfig

    judged = compute_metrics(states, alerts=AlertConfig(min_conversations=10))
    assert judged.escalation_band.status == "typical" and judged.escalated_ended == 2


def test_the_rate_is_over_ended_conversations_and_warms_up_like_the_floor():
    """One definition everywhere: of the conversations that started in the
    window and ended, the share escalated; a running one may yet escalate."""
    from hitl_console.analysis.metrics import judge_escalation
    from hitl_console.config import AlertConfig

    assert judge_escalation(0.2, 5).status == "too_few"
    assert judge_escalation(0.2, 40, covered=False).status == "warming_up"
    assert judge_escalation(0.2, 40).status == "typical"
    assert judge_escalation(0.01, 40, alerts=AlertConfig(min_conversations=40)).status == "too_low"
    assert judge_escalation(None, 0).status == "unknown"


def test_band_wording():
    assert assess_escalation_rate(0.02).status == "too_low"
    assert "misses" in assess_escalation_rate(0.02).message
    assert assess_escalation_rate(0.31).status == "too_high"
    assert "swamp" in assess_escalation_rate(0.31).message
    assert assess_escalation_rate(0.05).status == "low"
    assert assess_escalation_rate(0.25).status == "high"
    assert assess_escalation_rate(None).status == "unknown"


def test_resolution_rates(states):
    m = compute_metrics(states)
    assert m.post_escalation_resolution_rate == pytest.approx(0.5)  # c03 yes, c07 no
    assert m.ai_only_resolution_rate == pytest.approx(5 / 8)
    assert m.outcomes == {"resolved": 6, "abandoned": 2, "unresolved": 2}


def test_containment_by_topic(states):
    m = compute_metrics(states)
    assert m.containment_rate == pytest.approx(0.5)
    rows = {r.topic: r for r in m.containment_by_topic}
    assert (rows["billing"].conversations, rows["billing"].contained) == (4, 1)
    assert (rows["shipping"].conversations, rows["shipping"].contained) == (5, 4)
    assert (rows["fraud"].conversations, rows["fraud"].contained) == (1, 0)
    assert rows["billing"].gap == pytest.approx(0.25)
    # Default: 5 conversations needed to call a topic out; billing has 4, fraud 1.
    assert m.topics_called_out == []
    m4 = compute_metrics(states, options=MetricsOptions(min_topic_count=4))
    assert m4.topics_called_out == ["billing"]
    # 'far' is 15 points: with 30 billing is no longer far enough below.
    assert compute_metrics(states, options=MetricsOptions(min_topic_count=4, far_below=0.30)).topics_called_out == []


def test_time_to_escalation(states):
    m = compute_metrics(states)
    t, s = m.time_to_escalation_turns, m.time_to_escalation_s
    assert (t.count, t.median, t.p90) == (2, 3.0, pytest.approx(3.8))
    assert (s.median, s.p90) == (35.0, pytest.approx(43.0))


def test_accuracy_needs_verdicts(states):
    assert compute_metrics(states).escalation_accuracy is None
    m = compute_metrics(states, verdicts={("", "c03"): True, ("", "c07"): False, ("", "c01"): True, ("other-feed", "c07"): True})
    assert m.escalation_accuracy == pytest.approx(0.5)
    assert m.accuracy_verdicts == 2
    assert m.missed_escalations == 1  # c01 was not escalated but needed a human


def test_csat_and_repeat_contact(states):
    m = compute_metrics(states)
    assert m.csat.count == 7
    assert m.csat.mean == pytest.approx(24 / 7)
    assert m.csat_distribution == {1: 1, 2: 1, 3: 1, 4: 2, 5: 2}
    assert (m.repeat_contacts, m.customers_with_id) == (1, 10)
    assert m.repeat_contact_rate == pytest.approx(0.1)
    # A repeat window shorter than the hour between c01 and c05: no repeat.
    assert compute_metrics(states, options=MetricsOptions(repeat_window_s=1800)).repeat_contacts == 0


def test_confidence_histogram(states):
    m = compute_metrics(states)
    counts = [b.count for b in m.confidence_histogram]
    assert counts == [0, 0, 0, 0, 0, 0, 0, 2, 5, 5]
    assert m.confidence.count == 12


def test_sentiment_and_escalation_trends(states):
    m = compute_metrics(states, options=MetricsOptions(bucket_s=3600))
    # Everything but c05 starts in the first hour; c05 alone in the second.
    assert [(b.count, b.value) for b in m.escalation_trend] == [(9, pytest.approx(2 / 9)), (1, 0.0)]
    first, second = m.sentiment_trend
    assert second.count == 2 and second.value == pytest.approx(0.05)  # c05: 0.0 and 0.1
    assert first.count == sum(len(c.sentiments()) for c in states) - 2


def test_window_and_triggers(states):
    m = compute_metrics(states, window=TimeWindow(T0 + 3000, None))
    assert m.conversations == 1  # c05 only
    # Repeat contact still sees c01 as a first contact outside the window; c05 is not followed by anything.
    assert m.repeat_contacts == 0
    full = compute_metrics(states)
    assert full.triggers == {"high_stakes": 1, "ai_request": 2}
    assert full.trigger_escalated == {"high_stakes": 1, "ai_request": 2}
    json.dumps(full.to_dict())  # JSON-ready


def test_percentile_interpolates():
    assert percentile([], 50) is None
    assert percentile([5], 90) == 5
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([2, 4], 90) == pytest.approx(3.8)
