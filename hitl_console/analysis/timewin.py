"""Time windows for the after-the-fact commands: ``--since 24h``, ``--since 2025-11-23``.

Every analysis (metrics, report, review export, trend alerts) asks "over which
stretch of time?", so the parsing and the bucketing live here once. Times are
UNIX epoch seconds, UTC, as on the wire; a date or time written without a
zone is read as UTC, because recordings and journals from a contact centre in
another zone must give the same answer on every supervisor's machine.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hitl_console.engine.state import ConversationState

_UNITS: dict[str, float] = {
    "s": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 7 * 86400.0,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(min|s|m|h|d|w)", re.IGNORECASE)
_DURATION = re.compile(r"^(?:\s*\d+(?:\.\d+)?\s*(?:min|s|m|h|d|w)\s*)+$", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``90s``, ``15m``, ``24h``, ``7d``, ``2w`` or ``1d12h``.

    Raises ``ValueError`` with a message a person can act on.
    """
    if not text or not _DURATION.match(text):
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 24h, 7d, 1d12h)")
    total = sum(float(n) * _UNITS[u.lower()] for n, u in _DURATION_PART.findall(text))
    if total <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    return total


def parse_time(text: str) -> float:
    """Epoch seconds of an ISO date or date-time (``2025-11-23``, ``2025-11-23T10:00``,
    ``2025-11-23 10:00:00+01:00``, ``...Z``) or of a plain epoch number.

    A value without a zone is UTC (see the module docstring).
    """
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(value) and value > 10_000_000:  # an epoch, not a year or a count
            return value
        raise ValueError(f"not a time: {text!r}")
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError(f"not an ISO date or time: {text!r} (use e.g. 2025-11-23 or 2025-11-23T10:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def parse_since(text: str, now: float | None = None) -> float:
    """The start of the window ``--since`` names: a duration back from ``now``
    (``24h``, ``7d``) or an absolute ISO date/time or epoch."""
    now = time.time() if now is None else now
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        return parse_time(text)
    except ValueError:
        raise ValueError(f"--since {text!r}: use a duration such as 24h or 7d, or an ISO date such as 2025-11-23") from None


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A half-open stretch of time ``[start, end)``; a missing side is unbounded.

    A conversation belongs to the window when it *started* inside it: a
    conversation is counted once, in the window where it began, so that
    adding up consecutive windows never counts one twice.
    """

    start: float | None = None
    end: float | None = None

    @classmethod
    def since(cls, text: str | None, now: float | None = None) -> "TimeWindow":
        """The window ``--since TEXT`` asks for (unbounded when ``text`` is empty)."""
        return cls(parse_since(text, now) if text else None, None)

    @classmethod
    def last(cls, seconds: float, now: float) -> "TimeWindow":
        return cls(now - seconds, now)

    def contains(self, ts: float) -> bool:
        if self.start is not None and ts < self.start:
            return False
        if self.end is not None and ts >= self.end:
            return False
        return True

    def select(self, conversations: Iterable[ConversationState]) -> list[ConversationState]:
        """The conversations that started inside the window."""
        return [c for c in conversations if self.contains(c.started_ts or c.last_ts)]

    def describe(self) -> str:
        def fmt(ts: float) -> str:
            return f"{format_ts(ts)} UTC"

        if self.start is None and self.end is None:
            return "all time"
        if self.end is None:
            return f"since {fmt(self.start)}"  # type: ignore[arg-type]
        if self.start is None:
            return f"until {fmt(self.end)}"
        return f"{fmt(self.start)} to {fmt(self.end)}"


_NICE_WIDTHS: tuple[float, ...] = (
    60,
    300,
    900,
    1800,
    3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86400,
    7 * 86400,
)


def bucket_width(span: float, max_buckets: int = 24) -> float:
    """A round bucket width (1 min, 5 min, 15 min, ... 1 week) giving at most
    ``max_buckets`` buckets over ``span`` seconds: charts read better on round
    times than on ``span / n``."""
    for width in _NICE_WIDTHS:
        if span / width <= max_buckets:
            return width
    return math.ceil(span / max_buckets / 86400) * 86400.0


def buckets(start: float, end: float, width: float | None = None, max_buckets: int = 24) -> list[tuple[float, float]]:
    """Consecutive ``[lo, hi)`` buckets aligned on multiples of ``width`` that cover ``[start, end]``."""
    if end < start:
        start, end = end, start
    width = width or bucket_width(max(end - start, 1.0), max_buckets)
    lo = math.floor(start / width) * width
    out: list[tuple[float, float]] = []
    while lo <= end:
        out.append((lo, lo + width))
        lo += width
    return out


def bucket_index(ts: float, edges: list[tuple[float, float]]) -> int | None:
    """Which bucket of ``edges`` (from :func:`buckets`) holds ``ts``."""
    if not edges or ts < edges[0][0]:
        return None
    width = edges[0][1] - edges[0][0]
    i = int((ts - edges[0][0]) // width)
    return i if i < len(edges) else None


UNFORMATTABLE = "?"
"""What a time that cannot be shown prints as (a journal row written before ``ts``
was bounded may hold ``1e300``): a report or a screen never dies on a time."""


def format_ts(ts: float | None, with_date: bool = True) -> str:
    """A UTC time for tables and charts (``2025-11-23 10:04`` or ``10:04``);
    :data:`UNFORMATTABLE` for a value no calendar holds (``1e300``, NaN)."""
    if ts is None:
        return "-"
    try:
        moment = datetime.fromtimestamp(ts, timezone.utc)
    except (OverflowError, OSError, ValueError, TypeError):
        return UNFORMATTABLE
    return moment.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")
