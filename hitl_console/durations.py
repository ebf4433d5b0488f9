"""Durations as people write them (``45s``, ``3m05s``, ``1h05m``), for the
console and the engine's own sentences alike (the engine may not import the UI)."""

from __future__ import annotations

import time

from hitl_console.protocol.events import TS_MAX, TS_MIN

DASH = "\N{EN DASH}"


def duration(seconds: float | None) -> str:
    """A compact, human duration: ``45s``, ``3m05s``, ``1h05m``, ``2d03h``."""
    if seconds is None:
        return DASH
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


_SPANS = ((365.25 * 86400, "year"), (86400, "day"), (3600, "hour"), (60, "minute"), (1, "second"))


def span_in_words(seconds: float) -> str:
    """A long span in its largest whole unit, as a sentence says it: ``51 years``,
    ``3 days``, ``1 hour``, ``7 minutes`` (for a feed clock that is far off)."""
    s = abs(seconds)
    for size, unit in _SPANS:
        if s >= size or size == 1:
            n = int(s // size)
            return f"{n} {unit}{'' if n == 1 else 's'}"
    raise AssertionError("unreachable")


def clock_time(ts: float | None) -> str:
    """Local wall-clock time of an event, to the second; ``??:??:??`` for a value
    no calendar holds (an old journal row with ``ts`` 1e300), never an exception."""
    if ts is None:
        return DASH
    try:
        if not TS_MIN <= ts < TS_MAX:  # the protocol's range: outside it a clock time would mislead
            return "??:??:??"
        return time.strftime("%H:%M:%S", time.localtime(ts))
    except (OverflowError, OSError, ValueError, TypeError):
        return "??:??:??"
