"""Calibration on tests/analysis/data/calibrate.jsonl: the right threshold is known.

Ten conversations. The two bad ones (b1, b2: unresolved, CSAT 1) each have
an AI turn at 0.30 / 0.35; the eight good ones never go below 0.62. Any
low_confidence in (0.35, 0.62] catches both bad ones and nothing else: a 20%
escalation rate, inside a 10-20% band. The tie-break picks the middle of the
grid points 0.40..0.60: 0.50. Sentiment does not separate them: the bad
ones go down to -0.2, every good one has a turn at -0.4, so any floor that
catches a bad conversation also flags all eight good ones.
"""

from __future__ import annotations

import json

import pytest

from hitl_console.analysis.calibrate import calibrate, parse_band, render_calibration, went_wrong
from hitl_console.analysis.report import load_recordings
from hitl_console.cli import main

from .helpers import DATA, make_state

REC = DATA / "calibrate.jsonl"


@pytest.fixture(scope="module")
def states():
    return list(load_recordings([REC]).values())


def test_recommends_between_bad_and_good(states):
    cal = calibrate(states, band=(0.10, 0.20))
    assert (cal.conversations, cal.bad) == (10, 2)
    assert cal.bad_reasons == {"outcome": 2, "csat": 2}
    rec = cal.recommended
    assert rec is not None and cal.in_band
    assert 0.35 < rec.low_confidence <= 0.62
    assert rec.low_confidence == pytest.approx(0.50)
    assert rec.sentiment_floor is None or rec.sentiment_floor < -0.4
    assert (rec.escalation_rate, rec.recall, rec.precision) == (pytest.approx(0.2), 1.0, 1.0)
    # Flagged at turn 4 of 5: one turn before the end; the last turn is 10 s later.
    assert rec.median_turns_before_end == 1.0
    assert rec.median_seconds_before_end == 20.0  # turn 5 at +50, end at +60
    assert cal.signals.bad_min_confidence.median == pytest.approx(0.325)
    assert cal.signals.good_min_confidence.median == pytest.approx(0.725)  # (0.70 + 0.75) / 2
    snippet = cal.toml_snippet()
    assert "[thresholds]" in snippet and "low_confidence = 0.50" in snippet


def test_sweep_figures(states):
    cal = calibrate(states, band=(0.10, 0.20))
    by = {(c.low_confidence, c.sentiment_floor): c for c in cal.candidates}
    off = by[(0.0, None)]
    assert (off.escalation_rate, off.recall, off.precision) == (0.0, 0.0, None)
    half = by[(0.35, None)]  # 0.30 < 0.35 but 0.35 is not
    assert (half.escalation_rate, half.recall) == (pytest.approx(0.1), 0.5)
    greedy = by[(0.7, None)]  # good ones at 0.62, 0.64, 0.66 fire too
    assert greedy.flagged == 5 and greedy.precision == pytest.approx(0.4)
    # A floor of -0.4 flags the eight good ones and no bad one.
    s = by[(0.0, -0.4)]
    assert (s.flagged, s.caught, s.escalation_rate) == (8, 0, pytest.approx(0.8))
    assert by[(0.0, 0.0)].escalation_rate == 1.0
    # Current defaults (0.55, -0.5) happen to be right here too.
    assert (cal.current.recall, cal.current.escalation_rate) == (1.0, pytest.approx(0.2))
    rates = [c.escalation_rate for c in cal.frontier]
    assert rates == sorted(rates)


def test_out_of_band_says_so(states):
    cal = calibrate(states, band=(0.40, 0.60))
    assert cal.recommended is not None
    assert cal.in_band == (0.40 <= cal.recommended.escalation_rate <= 0.60)
    cal2 = calibrate(states, band=(0.01, 0.05))
    assert not cal2.in_band and any("no threshold pair" in n for n in cal2.notes)


def test_went_wrong_definition():
    assert went_wrong(make_state("a")) == []
    assert went_wrong(make_state("a", outcome="abandoned")) == ["outcome abandoned"]
    assert went_wrong(make_state("a", csat=2)) == ["csat 2"]
    assert went_wrong(make_state("a", csat=3)) == []
    assert went_wrong(make_state("a", scorecard={"overall": 0.3})) == ["scorecard 0.30"]
    assert went_wrong(make_state("a"), True) == ["verdict: human needed"]
    assert went_wrong(make_state("a"), "ai_wrong") == ["verdict: AI wrong"]
    assert went_wrong(make_state("a"), "ai_right") == []


def test_parse_band():
    assert parse_band("0.10-0.20") == (0.10, 0.20)
    assert parse_band("10-20") == (0.10, 0.20)
    assert parse_band("5%-15%") == (0.05, 0.15)
    for bad in ("0.2-0.1", "x", "10", "-"):
        with pytest.raises(ValueError):
            parse_band(bad)


def test_render_has_table_curve_and_snippet(states):
    text = render_calibration(calibrate(states), color=False)
    assert "<- recommended" in text and "<- current config" in text
    assert "caught % vs escalated %" in text
    assert "low_confidence = 0.50" in text
    assert "\x1b[" not in text


def test_cli_text_and_json(capsys):
    assert main(["calibrate", str(REC), "--band", "10-20"]) == 0
    out = capsys.readouterr().out
    assert "[thresholds]" in out and "low_confidence = 0.50" in out
    assert main(["calibrate", str(REC), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["recommended"]["low_confidence"] == 0.5 and data["bad"] == 2
    assert main(["calibrate", str(REC), "--band", "nonsense"]) == 2
