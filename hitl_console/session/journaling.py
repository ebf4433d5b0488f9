"""Journaling for the session: journal first, and a failing disk never stops supervision.

Every accepted event is written before the engine sees it, so a restart
rebuilds the floor. When the journal cannot write (a full disk) the first
failure raises one critical alert, nothing newer of that feed is written
(the journal's resume cursor never passes a gap), and each tick a probe
write is tried; once it works each suspended feed is fetched again from the
last seq the journal holds (``FeedHub.rewind``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hitl_console.alerts.model import Alert, Condition
from hitl_console.store.journal import Journal, JournalError

if TYPE_CHECKING:
    from hitl_console.alerts.latch import AlertLatch
    from hitl_console.feeds.hub import FeedHub

log = logging.getLogger(__name__)


class JournalWrites:
    """The journal-writing half of :class:`~hitl_console.session.LiveSession`."""

    journal: Journal
    hub: FeedHub
    latch: AlertLatch
    _journaled: dict[str, int | None]
    _unjournaled: dict[str, int | None]
    _journal_failing: bool
    _journal_failing_alerted: bool

    def _journal_events(self, feed: str, events: list[Any]) -> None:
        """Journal a batch unless this feed's journaling is suspended (see
        ``_unjournaled``); a failure suspends it and raises the alert."""
        if feed in self._unjournaled:
            return
        try:
            self.journal.append_events(feed, events)
        except JournalError as error:
            last = self._journaled.get(feed)
            self._unjournaled[feed] = last
            log.error("journal write failed for feed %s after seq %s: %s", feed, last, error)
            self._journal_failing_alerted = True
            self.latch.raise_condition(
                Condition(
                    f"journal_failed:{feed}",
                    "critical",
                    "feed",
                    f"journal write failed, events of feed {feed} after seq {last if last is not None else '(start)'} "
                    f"are not being saved (the floor stays live; they are re-fetched once writes work): {error}",
                    figures={"feed": feed, "last_journaled_seq": last if last is not None else -1},
                ),
                journal=False,
            )
            return
        top = max(e.seq for e in events)
        prev = self._journaled.get(feed)
        self._journaled[feed] = top if prev is None else max(prev, top)

    def _retry_journal(self) -> None:
        """While journaling is suspended: one probe write a tick; once it works,
        re-fetch each suspended feed from the last seq the journal holds."""
        if not self._unjournaled:
            return
        try:
            self.journal.probe()
        except JournalError:
            return
        for feed, last in list(self._unjournaled.items()):
            del self._unjournaled[feed]
            self.latch.clear(f"journal_failed:{feed}")
            self._journal_failing_alerted = False
            self.hub.rewind(feed, last)
            log.info("journal writes work again: re-fetching feed %s after seq %s", feed, last)
            self.latch.add(
                Alert(
                    ts=time.time(),
                    level="info",
                    kind="feed",
                    text=f"journal writes work again: re-fetching feed {feed} after seq "
                    f"{last if last is not None else '(start)'} to save what was missed",
                    key=f"journal_recovered:{feed}",
                )
            )

    def _journal_call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Write to the journal; a failing disk is alerted once but never stops supervision."""
        try:
            result = fn(*args)
        except JournalError as error:
            log.error("journal write failed: %s", error)
            if not self._journal_failing:
                self._journal_failing = True
            if not self._journal_failing_alerted:
                self._journal_failing_alerted = True
                self.latch.add(
                    Alert(
                        ts=time.time(),
                        level="critical",
                        kind="feed",
                        text=f"journal write failed, events are not being saved: {error}",
                        key="journal_failed",
                    ),
                    journal=False,
                )
            return None
        if self._journal_failing:
            self._journal_failing = False
            if not self._unjournaled:
                self._journal_failing_alerted = False
            log.info("journal writes work again")
        return result
