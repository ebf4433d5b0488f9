"""Feed health: the rules that say a feed needs a person (the one alert rule with memory).

A feed in trouble looks exactly like a quiet floor: no new events, figures
that stop moving, a header that still says what it said. So every way a feed
can fail is a condition the supervisor sees within seconds, with the reason
(connection refused, TLS, 401, only rejected frames, ...):

* ``feed_failed:NAME`` (critical): the client gave up (bad token, bad URL).
* ``feed_down:NAME`` (critical): not connected for ``alerts.feed_down_s``:
  unreachable since the start, or lost and still reconnecting.
* ``feed_rejecting:NAME`` (critical): connected, frames arrive, but for
  ``alerts.feed_down_s`` every one of them was rejected (or every frame it
  ever sent was).
* ``feed_silent:NAME`` (warning): connected but nothing at all, not even a
  heartbeat, for ``alerts.silent_feed_s``.

* ``feed_clock:NAME`` (warning): a live feed whose newest ``ts`` was more than
  ``alerts.clock_skew_s`` from the console's clock when it arrived (a platform
  clock near 1970, or days ahead). Its conversations are not stale, they are
  current, but every wait and abandonment is measured wrongly, so it is said in
  words ("feed clock 51 years behind").

While any of these but ``feed_clock`` holds, the feed is *stale*: its conversations are frozen
at what was last heard, so the floor marks them and leaves them out of the
live figures. Durations are measured on the monotonic clock, since a replay's
session clock jumps.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from hitl_console.config import AlertConfig
from hitl_console.alerts.model import Condition
from hitl_console.durations import span_in_words
from hitl_console.feeds.base import ConnectionState, FeedStatus

NOT_CONNECTED = frozenset({ConnectionState.CONNECTING, ConnectionState.RECONNECTING})
"""States in which a feed is trying and failing to reach its source."""


@dataclass(slots=True)
class _Memory:
    """What one feed's rules remember between two checks (monotonic times)."""

    down_since: float | None = None
    """Since when the feed has not been healthily connected (None: it is)."""
    live_since: float | None = None
    """Since when it has been LIVE without a break, as far as the checks saw."""
    events: int = 0
    rejected: int = 0
    rejecting_since: float | None = None
    """Since when frames were rejected and no event was accepted."""
    last_reject: float = 0.0


class FeedHealth:
    """Rates every feed on each check; remembers just enough to time a failure."""

    def __init__(self, config: AlertConfig) -> None:
        self.config = config
        self._memory: dict[str, _Memory] = {}
        self._stale: frozenset[str] = frozenset()

    def check(self, statuses: Iterable[FeedStatus], mono_now: float | None = None) -> list[Condition]:
        """The feed conditions true now (the session latches and alerts them)."""
        mono_now = time.monotonic() if mono_now is None else mono_now
        conditions: list[Condition] = []
        stale: set[str] = set()
        for status in statuses:
            condition = self._rate(status, self._memory.setdefault(status.name, _Memory()), mono_now)
            if condition is not None:
                conditions.append(condition)
                stale.add(status.name)
            skew = self._clock(status)
            if skew is not None:
                conditions.append(skew)  # a wrong clock does not freeze the floor: not stale
        self._stale = frozenset(stale)
        return conditions

    def _clock(self, status: FeedStatus) -> Condition | None:
        offset = status.clock_offset_s
        if offset is None or abs(offset) <= self.config.clock_skew_s:
            return None
        side = "ahead of" if offset > 0 else "behind"
        return Condition(
            f"feed_clock:{status.name}",
            "warning",
            "feed",
            f"feed {status.name} clock {span_in_words(offset)} {side} this console's: waits and abandonment "
            "are measured wrongly (check the platform's clock)",
            figures={"feed": status.name, "clock_offset_s": round(offset, 1)},
        )

    @property
    def stale_feeds(self) -> frozenset[str]:
        """Feeds that failed, are down, reject everything or fell silent, as of the last check."""
        return self._stale

    def _rate(self, status: FeedStatus, memory: _Memory, now: float) -> Condition | None:
        name = status.name
        limit = self.config.feed_down_s
        figures: dict[str, float | int | str | bool] = {"feed": name}
        why = f": {status.detail}" if status.detail else ""
        accepted = status.events > memory.events
        if accepted:
            memory.rejecting_since = None
        elif status.rejected > memory.rejected:
            memory.last_reject = now
            if memory.rejecting_since is None:
                memory.rejecting_since = now
        if memory.rejecting_since is not None and status.events and now - memory.last_reject >= limit:
            memory.rejecting_since = None  # a good feed's bad frames stopped; one that never sent a good one stays suspect
        memory.events, memory.rejected = status.events, status.rejected

        if status.state is ConnectionState.FAILED:
            return Condition(f"feed_failed:{name}", "critical", "feed", f"feed {name} failed{why}", figures=figures)

        # A feed that connects, is dropped, reconnects... is down until it stays
        # up for a while or delivers an event: a check that happens to catch it
        # LIVE between two drops does not make it healthy.
        if status.state is ConnectionState.LIVE:
            if memory.live_since is None:
                memory.live_since = now
            if accepted or now - memory.live_since >= limit:
                memory.down_since = None
        else:
            memory.live_since = None
            if status.state in NOT_CONNECTED and memory.down_since is None:
                memory.down_since = now
        if memory.down_since is not None and status.state in NOT_CONNECTED | {ConnectionState.LIVE}:
            down = now - memory.down_since
            if down >= limit:
                never = status.last_frame_at is None
                what = "unreachable" if never else "lost"
                retries = f", {status.reconnects} reconnect attempts" if status.reconnects else ""
                return Condition(
                    f"feed_down:{name}",
                    "critical",
                    "feed",
                    f"feed {name} {what} for {down:.0f}s{retries}{why or ' (no reason given)'}",
                    figures={**figures, "down_s": round(down, 1), "never_connected": never},
                )

        if memory.rejecting_since is not None and now - memory.rejecting_since >= limit:
            return Condition(
                f"feed_rejecting:{name}",
                "critical",
                "feed",
                f"feed {name} sends only rejected frames ({status.rejected} rejected in all, none accepted "
                f"for {now - memory.rejecting_since:.0f}s): see hitl-console check-feed",
                figures={**figures, "rejected": status.rejected},
            )

        if status.state is ConnectionState.LIVE:
            silent = status.silent_for
            if silent is not None and silent > self.config.silent_feed_s:
                return Condition(
                    f"feed_silent:{name}",
                    "warning",
                    "feed",
                    f"feed {name} silent for {silent:.0f}s (no events or heartbeats)",
                    figures={**figures, "silent_s": round(silent, 1)},
                )
        return None
