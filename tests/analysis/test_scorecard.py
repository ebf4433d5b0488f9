from __future__ import annotations

import pytest

from hitl_console.analysis.scorecard import rubric_score, score_all, score_conversation, worst

from .helpers import make_state


def test_feed_scorecard_wins_and_shows_breakdown():
    s = make_state("a", scorecard={"overall": 0.4, "criteria": {"policy": 0.2, "tone": 0.9}, "notes": "missed refund policy"})
    score = score_conversation(s)
    assert score.source == "feed"
    assert score.overall == pytest.approx(0.4)
    assert score.criteria == {"policy": 0.2, "tone": 0.9}
    assert score.notes[0] == "missed refund policy"
    assert "policy 0.20" in score.notes[1]


def test_clean_conversation_scores_high():
    s = make_state("a", confidences=(0.9, 0.95), sentiments=(0.0, 0.6))
    score = score_conversation(s)
    assert score.source == "rubric"
    assert score.criteria["resolution"] == 1.0
    assert score.criteria["confidence"] == 1.0
    assert score.criteria["escalation"] == 1.0
    assert score.criteria["loops"] == 1.0
    # sentiment: level (0.6+1)/2 = 0.8, change 0.5 + 0.6/4 = 0.65 -> 0.725
    assert score.criteria["sentiment"] == pytest.approx(0.725)
    expected = (0.35 + 0.2 * 0.725 + 0.15 + 0.2 + 0.1) / 1.0
    assert score.overall == pytest.approx(expected)
    assert score.notes == []


def test_late_escalation_and_loop_are_explained():
    # sentiment fires at turn 2, the human comes at turn 8: 6 turns late, 4 beyond the 2 allowed.
    s = make_state(
        "b",
        confidences=(0.9, 0.9, 0.9, 0.9),
        sentiments=(0.0, -0.7, -0.6, -0.6),
        triggers=(("sentiment", 2), ("loop", 5)),
        escalation_turns=8,
        outcome="unresolved",
        resolved_by="human",
    )
    score = rubric_score(s)
    assert score.criteria["resolution"] == 0.25
    assert score.criteria["escalation"] == pytest.approx(1 - 4 / 6)
    assert score.criteria["loops"] == 0.5
    assert "ended unresolved" in score.notes
    assert "escalated 6 turns after sentiment" in score.notes
    assert "loop" in score.notes
    assert score.overall < 0.5


def test_trigger_without_human_scores_zero_on_escalation():
    s = make_state("c", triggers=(("human_request", 1),), outcome="abandoned", resolved_by=None)
    score = rubric_score(s)
    assert score.criteria["escalation"] == 0.0
    assert "human_request fired and no human joined" in score.notes


def test_single_low_confidence_is_not_serious():
    s = make_state("d", confidences=(0.3,), triggers=(("low_confidence", 2),))
    score = rubric_score(s)
    assert score.criteria["escalation"] == 1.0
    assert score.criteria["confidence"] == pytest.approx(0.3 / 0.55)
    assert "lowest AI confidence 0.30" in score.notes


def test_missing_signals_are_left_out():
    s = make_state("e", confidences=(), sentiments=())
    score = rubric_score(s)
    assert "sentiment" not in score.criteria and "confidence" not in score.criteria
    assert score.overall == pytest.approx(1.0)


def test_score_all_only_ended_and_worst_first():
    good = make_state("good")
    bad = make_state("bad", outcome="abandoned", resolved_by=None)
    live = make_state("live", outcome=None)
    scores = score_all([good, bad, live])
    assert set(scores) == {"good", "bad"}
    assert [c.conversation_id for c, _ in worst([good, bad, live], scores)] == ["bad", "good"]
