from __future__ import annotations

import pytest

from hitl_console.analysis.timewin import TimeWindow, bucket_index, bucket_width, buckets, parse_duration, parse_since, parse_time

from .helpers import T0, make_state


def test_durations():
    assert parse_duration("90s") == 90
    assert parse_duration("15m") == 900
    assert parse_duration("24h") == 86400
    assert parse_duration("7d") == 7 * 86400
    assert parse_duration("1d12h") == 1.5 * 86400
    assert parse_duration("2w") == 14 * 86400
    for bad in ("", "h", "7", "-1d", "3y", "1d foo"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_times_are_utc_unless_zoned():
    assert parse_time("2025-11-23T21:00:00Z") == T0
    assert parse_time("2025-11-23T21:00") == T0  # no zone: UTC
    assert parse_time("2025-11-23T22:00:00+01:00") == T0
    assert parse_time("2025-11-23") == T0 - 21 * 3600
    assert parse_time(str(T0)) == T0
    with pytest.raises(ValueError):
        parse_time("yesterday")


def test_since_relative_and_absolute():
    assert parse_since("24h", now=T0) == T0 - 86400
    assert parse_since("2025-11-23T21:00Z", now=0) == T0
    with pytest.raises(ValueError, match="--since"):
        parse_since("soon", now=T0)


def test_window_selects_by_start():
    early = make_state("a", start=T0 - 10)
    inside = make_state("b", start=T0)
    late = make_state("c", start=T0 + 100)
    w = TimeWindow(T0, T0 + 100)
    assert [c.conversation_id for c in w.select([early, inside, late])] == ["b"]
    assert TimeWindow().describe() == "all time"
    assert "2025-11-23 21:00 UTC" in TimeWindow.since("2025-11-23T21:00Z").describe()


def test_buckets_are_round_and_cover():
    assert bucket_width(3600, 24) == 300
    edges = buckets(T0 + 7, T0 + 3600)
    assert edges[0][0] == T0 and all(hi - lo == 300 for lo, hi in edges)
    assert edges[-1][1] > T0 + 3600
    assert bucket_index(T0 + 299, edges) == 0
    assert bucket_index(T0 + 300, edges) == 1
    assert bucket_index(T0 - 1, edges) is None
