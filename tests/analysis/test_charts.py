"""The metrics charts say what their lines are and leave out what cannot be judged."""

from __future__ import annotations

from hitl_console.analysis import charts
from hitl_console.analysis.metrics import TimeBucket, TopicContainment, compute_metrics
from hitl_console.analysis.timewin import TimeWindow

from .helpers import DATA


def test_band_lines_are_labelled_at_their_right_end() -> None:
    trend = [TimeBucket(1_796_400_000 + i * 3600, 1_796_400_000 + (i + 1) * 3600, v, 10) for i, v in enumerate((0.12, 0.15, None, 0.2, 0.35))]
    text = charts.escalation_rate_chart(trend, (0.03, 0.30), (0.10, 0.20), width=78, color=False)
    for label in ("min 3%", "max 30%", "typical 10%", "typical 20%"):
        assert label in text, text


def test_topics_too_small_to_judge_get_no_bar_and_are_counted() -> None:
    topics = [TopicContainment("billing", 40, 30, 0.75, 0.0)] + [TopicContainment(f"tiny-{i}", 3, 1, 1 / 3, 0.4) for i in range(16)]
    data = charts.containment_data(topics, 0.7)
    assert [row[0] for row in data.rows] == ["billing"] and data.hidden == 16 and data.min_count == 5
    text = charts.containment_chart(topics, 0.7, width=90, color=False)
    assert "16 topics with under 5 ended not shown" in text and "tiny-0" not in text


def test_a_window_longer_than_the_data_starts_the_trend_where_the_data_does() -> None:
    """A console two minutes old drew its 1 h window as one dot at the right edge."""
    from hitl_console.analysis.report import load_recordings

    states = list(load_recordings([DATA / "metrics.jsonl"]).values())
    first = min(s.started_ts for s in states)
    last = max(s.last_ts for s in states)
    m = compute_metrics(states, window=TimeWindow(first - 30 * 86400, None))  # a month-long window over minutes of data
    assert m.escalation_trend[0].start <= first < m.escalation_trend[0].end
    assert len([b for b in m.escalation_trend if b.value is not None]) >= 2
    assert m.escalation_trend[-1].end >= last


def test_the_confidence_threshold_label_always_shows() -> None:
    """0.5 next to a 0.55 threshold collided, and plotext kept one or the other
    depending on what it drew before (the metrics snapshot changed with the
    order of the tests): the threshold's label is kept, at every width."""
    from hitl_console.analysis.metrics import HistogramBin

    bins = [HistogramBin(i / 10, (i + 1) / 10, n) for i, n in enumerate([0, 0, 1, 2, 3, 5, 8, 13, 21, 34])]
    for width in (36, 48, 60, 72, 90):
        charts.containment_chart([TopicContainment("refund", 9, 2, 0.22, 0.58, True)], 0.8, width=width, color=False)
        axis = charts.confidence_chart(bins, 0.55, width=width, color=False).splitlines()[-1]
        assert "0.55" in axis and " 0.5 " not in axis, (width, axis)


def test_a_chart_is_as_wide_as_asked_whatever_the_terminal(monkeypatch) -> None:
    """plotext clips a figure to the terminal: a 110-column report written to a
    file from an 80-column shell lost its right side (and the metrics screen,
    whose widget may be wider than the shell, drew what the report did not)."""
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("LINES", "10")
    trend = [TimeBucket(i * 60, (i + 1) * 60, v, 3) for i, v in enumerate((0.1, 0.2, None, 0.15))]
    text = charts.escalation_rate_chart(trend, width=110, height=16, color=False)
    lines = text.splitlines()
    assert max(len(line) for line in lines) == 110 and len(lines) == 16
