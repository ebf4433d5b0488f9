"""The floor's figures: the numbers at the top of the floor view, from one place.

:func:`floor_figures` is a pure function of what the session holds, so the
definitions on :class:`FloorFigures` are the whole story; :class:`EventRate`
is the one piece of state behind them (events per second, monotonic).
"""

from __future__ import annotations

import statistics
import time
from bisect import bisect_left
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from hitl_console.analysis.metrics import (
    escalation_sample,
    is_contained,
    ratio,
    window_covered,
)
from hitl_console.engine.state import Approval, ConversationState
from hitl_console.feeds.base import FeedStatus

RATE_WINDOW = 10.0
"""Seconds over which ``events_per_s`` is averaged."""


@dataclass(slots=True)
class FloorFigures:
    """The numbers at the top of the floor view.

    Definitions (windows are ``config.alerts.window_s``, on the session clock):

    * ``active``: conversations not ended; ``waiting``: of those, waiting for a
      human; ``held``: held by a human.
    * ``escalation_rate``: of conversations that started in the window and
      ended, the share that escalated (``analysis.metrics.escalation_sample``);
      None when none ended yet.
    * ``containment``: of conversations that started in the window and ended,
      the share resolved without a human (:func:`~hitl_console.analysis.metrics.is_contained`).
    * ``avg_sentiment``: mean of the latest customer sentiment of active conversations.
    * ``open_alerts``: alerts not acknowledged; ``pending_approvals``: open approval requests.
    * ``lag_s``: the worst feed lag; ``events_per_s``: over the last ten seconds.
    * ``total_seen``: conversations the session knows (restored and live); ``ended``: of those, ended.
    * Conversations of a stale feed (``stale_feeds``) are left out of ``active``,
      ``waiting``, ``held``, ``avg_sentiment`` and ``pending_approvals``, and counted in ``stale``.
    """

    active: int
    waiting: int
    held: int
    escalation_rate: float | None
    containment: float | None
    avg_sentiment: float | None
    open_alerts: int
    pending_approvals: int
    feeds: list[FeedStatus]
    lag_s: float | None
    events_per_s: float
    total_seen: int
    ended: int
    escalation_sample: int = 0
    """How many conversations ``escalation_rate`` is taken over (see above)."""
    window_covered: bool = True
    """Whether the data reaches back over the window (``analysis.metrics.window_covered``);
    until it does the rate is shown but not judged, like the band alert."""
    stale: int = 0
    """Open conversations of stale feeds (down, failed, rejecting, silent): not in ``active``."""
    stale_feeds: frozenset[str] = frozenset()
    """Those feeds, by name (``alerts.feed_health``)."""


class EventRate:
    """Events counted per monotonic second over the last :data:`RATE_WINDOW` seconds."""

    def __init__(self) -> None:
        self._rate: deque[tuple[float, int]] = deque()

    def count(self, n: int) -> None:
        now = time.monotonic()
        second = float(int(now))
        if self._rate and self._rate[-1][0] == second:
            self._rate[-1] = (second, self._rate[-1][1] + n)
        else:
            self._rate.append((second, n))
        while self._rate and self._rate[0][0] <= now - RATE_WINDOW:
            self._rate.popleft()

    def per_second(self) -> float:
        cutoff = time.monotonic() - RATE_WINDOW
        return sum(n for second, n in self._rate if second > cutoff) / RATE_WINDOW


def floor_figures(
    conversations: Sequence[ConversationState],
    statuses: list[FeedStatus],
    *,
    now: float,
    window_s: float,
    open_alerts: int,
    stale_feeds: frozenset[str],
    events_per_s: float,
) -> FloorFigures:
    """The floor's headline numbers (definitions on :class:`FloorFigures`)."""
    window_start = now - window_s
    open_ = [c for c in conversations if not c.ended]
    # A stale feed's conversations are frozen at what was last heard: counting
    # them as active (or waiting) would show a floor that is not there.
    active = [c for c in open_ if c.feed not in stale_feeds] if stale_feeds else open_
    ended_recent = escalation_sample(conversations, window_start)
    sentiments = [s for c in active if (s := c.last_sentiment) is not None]
    lags = [s.lag_s for s in statuses if s.lag_s is not None]
    return FloorFigures(
        active=len(active),
        waiting=sum(1 for c in active if c.holder == "waiting"),
        held=sum(1 for c in active if c.holder == "human"),
        escalation_rate=ratio(sum(1 for c in ended_recent if c.escalated), len(ended_recent)),
        containment=ratio(sum(1 for c in ended_recent if is_contained(c)), len(ended_recent)),
        avg_sentiment=statistics.fmean(sentiments) if sentiments else None,
        open_alerts=open_alerts,
        pending_approvals=sum(len(c.pending_approvals(now)) for c in active),
        feeds=statuses,
        lag_s=max(lags) if lags else None,
        events_per_s=events_per_s,
        total_seen=len(conversations),
        ended=len(conversations) - len(active),
        escalation_sample=len(ended_recent),
        window_covered=window_covered(conversations, window_start, now),
        stale=len(open_) - len(active),
        stale_feeds=stale_feeds,
    )


@dataclass(slots=True)
class FloorCounts:
    """What :func:`floor_figures` takes from the conversations, counted once for
    one state of the floor (:func:`count_floor`) and read at any later ``now``
    (:meth:`figures`) until a conversation changes.

    An idle floor asked for its figures every second no longer walks every
    conversation: the parts that move with the clock (the escalation window,
    the coverage, approvals expiring) are kept in a form that is exact at any
    ``now`` at or after the one counted for.
    """

    built_now: float
    window_s: float
    stale_feeds: frozenset[str]
    active: int
    waiting: int
    held: int
    stale: int
    total_seen: int
    avg_sentiment: float | None
    oldest: float | None
    sample_starts: list[float]
    """``started_ts`` of the ended conversations that started at or after
    ``built_now - window_s``, ascending: the escalation sample of a later now is a tail."""
    escalated_from: list[int]
    """``escalated_from[i]``: escalated conversations among ``sample_starts[i:]``."""
    contained_from: list[int]
    approvals: list[Approval]
    """Approvals of active conversations still open at ``built_now``."""

    def band_reading(self, now: float) -> tuple[int, int, int, bool]:
        """(sample size, escalated, contained, window covered) at ``now``, as
        :func:`escalation_sample` and :func:`window_covered` would find them."""
        window_start = now - self.window_s
        i = bisect_left(self.sample_starts, window_start)
        oldest = self.oldest
        covered = oldest is not None and oldest <= window_start + (now - window_start) / 2
        return len(self.sample_starts) - i, self.escalated_from[i], self.contained_from[i], covered

    def figures(
        self, statuses: list[FeedStatus], *, now: float, open_alerts: int, events_per_s: float
    ) -> FloorFigures:
        """The figures at ``now`` (``now >= built_now``), equal to :func:`floor_figures`'s."""
        n, escalated, contained, covered = self.band_reading(now)
        lags = [s.lag_s for s in statuses if s.lag_s is not None]
        return FloorFigures(
            active=self.active,
            waiting=self.waiting,
            held=self.held,
            escalation_rate=ratio(escalated, n),
            containment=ratio(contained, n),
            avg_sentiment=self.avg_sentiment,
            open_alerts=open_alerts,
            pending_approvals=sum(1 for a in self.approvals if a.is_open(now)),
            feeds=statuses,
            lag_s=max(lags) if lags else None,
            events_per_s=events_per_s,
            total_seen=self.total_seen,
            ended=self.total_seen - self.active,
            escalation_sample=n,
            window_covered=covered,
            stale=self.stale,
            stale_feeds=self.stale_feeds,
        )


def count_floor(
    conversations: Sequence[ConversationState], *, now: float, window_s: float, stale_feeds: frozenset[str]
) -> FloorCounts:
    """One walk over the conversations for :class:`FloorCounts` (same definitions as :func:`floor_figures`)."""
    window_start = now - window_s
    open_ = [c for c in conversations if not c.ended]
    active = [c for c in open_ if c.feed not in stale_feeds] if stale_feeds else open_
    sentiments = [s for c in active if (s := c.last_sentiment) is not None]
    sample = sorted(escalation_sample(conversations, window_start), key=lambda c: c.started_ts)
    escalated_from = [0] * (len(sample) + 1)
    contained_from = [0] * (len(sample) + 1)
    for i in range(len(sample) - 1, -1, -1):
        c = sample[i]
        escalated_from[i] = escalated_from[i + 1] + bool(c.escalated)
        contained_from[i] = contained_from[i + 1] + is_contained(c)
    return FloorCounts(
        built_now=now,
        window_s=window_s,
        stale_feeds=stale_feeds,
        active=len(active),
        waiting=sum(1 for c in active if c.holder == "waiting"),
        held=sum(1 for c in active if c.holder == "human"),
        stale=len(open_) - len(active),
        total_seen=len(conversations),
        avg_sentiment=statistics.fmean(sentiments) if sentiments else None,
        oldest=min((c.started_ts for c in conversations), default=None),
        sample_starts=[c.started_ts for c in sample],
        escalated_from=escalated_from,
        contained_from=contained_from,
        approvals=[a for c in active for a in c.pending_approvals(now)],
    )
