"""Rebuilding a session from its journal: resume cursors, feed names and the engine's state.

A live console that restarts must show the floor it showed before and ask
each feed only for what it missed. This module holds the three pieces of
that: the final feed names (the journal keys events by them), each feed's
resume cursor (``since=``), and the replay of the journaled events into a
fresh engine. Restored triggers raise no alerts: they are history.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

from hitl_console.config import Config
from hitl_console.engine.engine import SignalEngine
from hitl_console.feeds.hub import FeedSpec, default_name
from hitl_console.protocol.events import Fingerprint
from hitl_console.store.journal import Journal, JournalError

log = logging.getLogger(__name__)

RESTORE_KEEP_S = 86400.0
"""A restart rebuilds the conversations of the last day (the metrics screen's
longest rolling window) and the open ones; older history stays in the journal."""


class JournalHistory:
    """A feed client's :class:`~hitl_console.feeds.client.SeqHistory` from the
    journal (the current numbering of one feed); journal trouble is "unknown"."""

    def __init__(self, journal: Journal, feed: str) -> None:
        self.journal = journal
        self.feed = feed

    def fingerprint(self, seq: int) -> Fingerprint | None:
        try:
            return self.journal.fingerprint(self.feed, seq)
        except JournalError:
            return None

    def is_open(self, conversation_id: str) -> bool | None:
        try:
            return self.journal.is_open(self.feed, conversation_id)
        except JournalError:
            return None


def named(specs: list[FeedSpec]) -> list[FeedSpec]:
    """The specs with their final, unique names (the hub's own rule: a default
    name from the URL, ``#2`` for a repeat). The session needs the names
    before the hub exists, to look up each feed's resume cursor."""
    names: set[str] = set()
    out = []
    for spec in specs:
        base = spec.name or default_name(spec.url)
        name, n = base, 2
        while name in names:
            name, n = f"{base}#{n}", n + 1
        names.add(name)
        out.append(replace(spec, name=name))
    return out


def resume_specs(journal: Journal, specs: list[FeedSpec]) -> tuple[list[FeedSpec], dict[str, int]]:
    """Each named spec resumed after the last seq the journal holds of its feed
    (unless it names its own ``since``), and those cursors by feed."""
    cursors: dict[str, int] = {}
    resumed = []
    for spec in specs:
        cursor = journal.last_seq(spec.name)
        if cursor is not None:
            cursors[spec.name] = cursor
            if spec.since is None:
                spec = replace(spec, since=cursor, epoch=journal.epoch(spec.name))
        resumed.append(spec)
    return resumed, cursors


@dataclass(slots=True)
class Rebuilt:
    """What :func:`rebuild` applied: how many events, the newest event time, the conversations touched."""

    events: int = 0
    latest_ts: float = 0.0
    changed: set[str] = field(default_factory=set)


def rebuild(engine: SignalEngine, journal: Journal, feeds: list[str], config: Config) -> Rebuilt:
    """Apply the journaled events of ``feeds`` to ``engine``.

    Only what the floor and its figures need is rebuilt (:data:`RESTORE_KEEP_S`,
    ``Journal.restore_events``); ``report --journal`` reads the rest. An event
    the engine fails on is logged and skipped: one bad row must not cost the floor.
    """
    started = time.perf_counter()
    alerts = config.alerts
    keep_s = max(RESTORE_KEEP_S, alerts.window_s + alerts.baseline_s)
    events = journal.restore_events(feeds, keep_s=keep_s, open_for_s=config.thresholds.abandoned_after_seconds)
    out = Rebuilt()
    for feed, event in events:
        try:
            update = engine.apply(event, feed=feed)
        except Exception:
            log.exception("restore: the engine failed on %s seq %s", feed, event.seq)
            continue
        out.events += 1
        out.latest_ts = max(out.latest_ts, event.ts)
        out.changed.add(update.conversation_id)
    log.info(
        "restored %d events, %d conversations from the journal in %.2fs",
        out.events,
        len(engine.conversations),
        time.perf_counter() - started,
    )
    return out
