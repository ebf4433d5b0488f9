"""The live session: the one object the console's UI talks to.

:class:`LiveSession` joins the parts that make a live floor:

* the **feed hub** (``hitl_console.feeds.hub``) that keeps every feed
  connected, decoded and resumed;
* the **journal** (``hitl_console.store.journal``) that every accepted
  event, command, outcome and alert is written to *before* anything else
  sees it, so that a restart rebuilds the floor and nothing acknowledged is
  lost;
* the **signal engine** (``hitl_console.engine.engine``) that turns events
  into conversation state and trigger firings;
* **alerts**: one per trigger firing, plus *conditions* (aggregate figures
  out of band, silent or failed feeds, and the trend alerts of
  :class:`~hitl_console.analysis.trends.TrendWatcher`) raised once and
  re-armed when they clear. Extra watchers plug in with
  :meth:`LiveSession.add_watcher`. Every new alert is also POSTed to
  ``alerts.webhook_url`` when one is configured (ids and figures only, never
  customer text: :mod:`hitl_console.analysis.webhook`);
* **after the fact**: :attr:`LiveSession.reviews` (review queue, verdicts,
  corrections in the journal's file), :meth:`LiveSession.record_takeover_verdict`
  and :meth:`LiveSession.metrics`, so the metrics and review screens read the
  same definitions as ``hitl-console report``.

The UI never gets one callback per event: a busy floor sends hundreds a
second and a terminal redraw per event would fall behind. Instead the
session coalesces: listeners (:meth:`LiveSession.add_listener`) are called
at most every :data:`FLUSH_INTERVAL` seconds with a :class:`SessionChange`
that holds everything that changed since the previous call. The engine's
clock-driven checks (:meth:`SignalEngine.tick`) and the watchers run once a
second on the same timer task.

Nothing here imports Textual; the headless tests drive it directly.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from hitl_console.analysis.feed_health import FeedHealth
from hitl_console.analysis.metrics import (
    Metrics,
    compute_metrics,
    escalation_sample,
    is_contained,
    judge_escalation,
    ratio,
    window_covered,
)
from hitl_console.analysis.timewin import TimeWindow
from hitl_console.analysis.trends import TrendWatcher
from hitl_console.analysis.webhook import WebhookSender
from hitl_console.config import Config
from hitl_console.engine.alerts import Alert, Condition, Level
from hitl_console.engine.engine import SignalEngine, tune_gc
from hitl_console.engine.state import ConversationState, EngineUpdate, TriggerHit
from hitl_console.feeds.base import CommandResult, FeedOutput, FeedStatus
from hitl_console.feeds.claims import Claim, ClaimKeeper, ClaimStore
from hitl_console.feeds.history import TeamHistory, command_record
from hitl_console.feeds.hub import FeedHub, FeedSpec, default_name
from hitl_console.protocol.decode import RejectedFrame
from hitl_console.protocol.events import AnyCommand, Approve, Deny, End, Fingerprint, Outcome, Release, Send, Takeover
from hitl_console.store.history import HistoryCache
from hitl_console.store.journal import Journal, JournalError
from hitl_console.store.reviews import ClaimError, ConversationKey, ReviewStore, ReviewVerdict, TakeoverVerdict, Verdict

if TYPE_CHECKING:
    from hitl_console.sim.server import SimulatorServer

_LEVELS = {"info": 0, "warning": 1, "critical": 2}

log = logging.getLogger(__name__)

Mode = Literal["live", "demo", "replay"]

FLUSH_INTERVAL = 0.1
"""Listeners are called at most this often (seconds): fast enough to feel live, slow enough to batch."""
TICK_INTERVAL = 1.0
"""How often the engine's clock-driven checks and the watchers run."""
PRUNE_INTERVAL = 3600.0
"""How often old journal rows are pruned while the console runs (also at open)."""
RATE_WINDOW = 10.0
"""Seconds over which ``events_per_s`` is averaged."""
MAX_ALERTS = 500
MAX_ENDED_KEPT = 2000
"""Ended conversations kept in memory (older ones stay in the journal): bounds a
console that runs for weeks, while keeping far more than a window's worth."""
FORGET_INTERVAL = 60.0
RESTORE_KEEP_S = 86400.0
"""A restart rebuilds the conversations of the last day (the metrics screen's
longest rolling window) and the open ones; older history stays in the journal."""
MAX_REJECTED = 200
TREND_INTERVAL = 5.0
"""Seconds between two runs of the trend rules. They scan every turn of every
conversation in memory, and their windows are minutes long: once a second
would cost CPU for nothing."""
WEBHOOK_CLOSE_TIMEOUT = 5.0
"""How long :meth:`LiveSession.stop` waits for webhook posts still in flight."""

TRIGGER_LEVELS: dict[str, Level] = {
    "high_stakes": "critical",
    "human_request": "critical",
    "ai_request": "warning",
    "sentiment": "warning",
    "loop": "warning",
    "low_confidence": "info",
}
"""Alert level of a trigger firing: a customer asking for a person or money/legal
at stake needs eyes now; a low-confidence answer is worth a glance."""


Watcher = Callable[["LiveSession", float], Iterable[Condition]]
"""``watcher(session, now) -> conditions true now``; called once a second."""


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
    """Those feeds, by name (``analysis.feed_health``)."""


@dataclass(slots=True)
class SessionChange:
    """Everything that changed since listeners were last called."""

    updates: list[EngineUpdate] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    """Conversation ids whose state changed (redraw these rows)."""
    new_alerts: list[Alert] = field(default_factory=list)
    statuses_changed: bool = False
    removed: set[str] = field(default_factory=set)
    """Ended conversations dropped from memory (see MAX_ENDED_KEPT): remove their rows."""

    def __bool__(self) -> bool:
        return bool(self.updates or self.changed or self.new_alerts or self.statuses_changed or self.removed)


class ReplayControls:
    """Pause, step and speed of the recordings of a replay session.

    Works on the feed clients (``client.pause()`` etc. also refresh the feed
    status) and their file sources (``speed``, ``progress``). With several
    files they move together; ``progress`` is the mean of their progress
    (0..1), which is what a single bar can show.
    """

    def __init__(self, clients: list[Any]) -> None:
        self._clients = clients

    @property
    def _sources(self) -> list[Any]:
        return [client.source for client in self._clients]

    @property
    def paused(self) -> bool:
        return any(bool(getattr(source, "paused", False)) for source in self._sources)

    def pause(self) -> None:
        for client in self._clients:
            client.pause()

    def resume(self) -> None:
        for client in self._clients:
            client.resume()

    def toggle(self) -> bool:
        """Pause if running, resume if paused; return whether it is paused now."""
        if self.paused:
            self.resume()
        else:
            self.pause()
        return self.paused

    def step(self) -> None:
        """Release the next event of each recording (a running replay is paused first)."""
        for client in self._clients:
            client.step()

    @property
    def speed(self) -> float:
        sources = self._sources
        return float(getattr(sources[0], "speed", 1.0)) if sources else 1.0

    @speed.setter
    def speed(self, value: float) -> None:
        if value <= 0:
            raise ValueError("speed must be positive")
        for source in self._sources:
            source.speed = value

    @property
    def progress(self) -> float:
        values = [float(p) for s in self._sources if (p := getattr(s, "progress", None)) is not None]
        return statistics.fmean(values) if values else 0.0


class _JournalHistory:
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


class LiveSession:
    """Hub + engine + journal + alerts for one console. See the module docstring.

    ``restore`` (live mode only) rebuilds the engine from the journal's events
    of these feeds at :meth:`start` and resumes each feed with
    ``since=journal.last_seq(feed)``. Demo and replay sessions always start
    fresh: a new simulator or a replayed file restarts its seq numbers.
    """

    def __init__(
        self,
        config: Config,
        specs: list[FeedSpec],
        *,
        agent: str,
        journal: Journal,
        mode: Mode = "live",
        restore: bool = True,
    ) -> None:
        self.config = config
        self.agent = agent
        self.journal = journal
        self.mode: Mode = mode
        self.restore = restore and mode == "live"
        self.engine = SignalEngine(config)
        self.alerts: deque[Alert] = deque(maxlen=MAX_ALERTS)
        self.rejected: deque[RejectedFrame] = deque(maxlen=MAX_REJECTED)

        self._applied: dict[str, int] = {}
        """Per feed, the highest seq the engine has applied (rebuilt from the journal
        or live): an event at or below it is journaled if need be but not applied twice."""
        self._journaled: dict[str, int | None] = {}
        """Per feed, the highest seq the journal holds, written without a gap."""
        self._unjournaled: dict[str, int | None] = {}
        """Feeds whose events the journal could not take, with the last seq it
        holds: nothing newer is written (so the journal's resume cursor never
        passes a gap) until a probe write succeeds and the feed is re-fetched."""
        named = _named(specs)
        if self.restore:
            resumed = []
            for spec in named:
                cursor = journal.last_seq(spec.name)
                if cursor is not None:
                    self._applied[spec.name] = cursor
                    self._journaled[spec.name] = cursor
                    if spec.since is None:
                        spec = replace(spec, since=cursor, epoch=journal.epoch(spec.name))
                resumed.append(spec)
            named = resumed
        self.specs: list[FeedSpec] = named
        self.hub = FeedHub(
            named,
            on_output=self._on_output,
            on_status=self._on_status,
            ack_timeout=config.ack_timeout_s,
            history=lambda feed: _JournalHistory(journal, feed),
        )

        self.claims: ClaimKeeper | None = None
        """Shared claims in the team's ``hitl-claims`` bucket (live sessions on a
        ``nats://`` feed, or with ``[team] nats``); None: the platform arbitrates alone."""
        self._chat_claimed_at: dict[str, float] = {}
        self.history: TeamHistory | None = None
        """The team's history stream (made at :meth:`start`, same bus as the claims); None: none."""
        self._history_cache: HistoryCache | None = None
        self._bus = team_bus(config, named) if self.mode == "live" else None
        if self._bus is not None and config.team.claims:
            url, token = self._bus
            store = ClaimStore(url, token, console=console_name(), ttl_s=config.team.claim_ttl_s)
            self.claims = ClaimKeeper(store, agent, on_lost=self._claim_lost, still_wanted=self._claim_wanted, adopt=self._chats_held)

        self._listeners: list[Callable[[SessionChange], None]] = []
        self.trends = TrendAlerts(TrendWatcher(config.alerts))
        """The trend rules, plugged in as a watcher (see :class:`TrendAlerts`)."""
        self.feed_health = FeedHealth(config.alerts)
        """The feed rules (``analysis.feed_health``): alerts, and which feeds are stale."""
        self._watchers: list[Watcher] = [_watch_escalation_rate, _watch_feed_health, self.trends]
        self._conditions: set[str] = set()
        self._pending = SessionChange()
        self._dirty = asyncio.Event()
        self._rate: deque[tuple[float, int]] = deque()
        self._latest_ts = 0.0
        self._journal_failing = False
        self._journal_failing_alerted = False
        """One alert for a failing journal (this one or ``journal_failed:FEED``) until it works again."""
        self._hub_task: asyncio.Task[None] | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self._server: SimulatorServer | None = None
        self._replay: ReplayControls | None = None
        self._started = False
        self._stopped = False

        self._reviews: ReviewStore | None = None
        self.webhook: WebhookSender | None = None
        """Posts every new alert to ``alerts.webhook_url``; None when none is configured.
        Tests may replace it before :meth:`start` (e.g. one on an ``httpx.MockTransport``)."""
        self._webhook_problem: str | None = None
        self._webhook_closed = False
        try:
            self.webhook = WebhookSender.from_config(config.alerts)
        except ValueError as error:  # not http(s): the message names the host only, never the secret path
            self._webhook_problem = str(error)
            log.error("alerts.webhook_url is not used: %s", error)

    # ------------------------------------------------------------ construction

    @classmethod
    async def demo(
        cls,
        config: Config,
        *,
        agent: str,
        journal: Journal,
        speed: float = 1.0,
        seed: int = 7,
    ) -> "LiveSession":
        """A session on an in-process simulator (127.0.0.1, a free port), over
        WebSocket like a real feed, so the demo exercises the real code path.
        :meth:`stop` stops the simulator too."""
        from hitl_console.sim.server import SimulatorServer

        if speed <= 0:
            raise ValueError("speed must be positive")
        server = SimulatorServer(
            host="127.0.0.1",
            port=0,
            http_port=None,  # the demo talks WebSocket only; no port it does not need
            rate=0.5,
            seed=seed,
            pace=1.0 / speed,
            initial_conversations=12,
        )
        await server.start()
        try:
            # A name per run: a fresh simulator restarts seq at 1, and the journal
            # is idempotent on (feed, seq), so reusing a name would hide new events.
            name = time.strftime("demo-%H%M%S")
            session = cls(config, [FeedSpec(server.ws_url, name=name)], agent=agent, journal=journal, mode="demo", restore=False)
        except BaseException:
            await server.stop()
            raise
        session._server = server
        return session

    # ------------------------------------------------------------ listeners and watchers

    def add_listener(self, fn: Callable[[SessionChange], None]) -> None:
        """Call ``fn(change)`` with coalesced changes (at most every FLUSH_INTERVAL)."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[SessionChange], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def add_watcher(self, watcher: Watcher) -> None:
        """Plug in a source of alerts (e.g. trend alerts from ``analysis.trends``).

        The watcher is called once a second with the session and the session
        clock and returns the :class:`Condition` s true now. Each new key
        becomes one :class:`Alert` (journaled and given to listeners); a key
        that is no longer reported is re-armed. Exceptions are logged and the
        watcher keeps being called.
        """
        self._watchers.append(watcher)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Restore from the journal (if asked), then run the hub and the timer task."""
        if self._started:
            raise RuntimeError("a LiveSession starts once")
        self._started = True
        if self._webhook_problem:
            self._add_alert(
                Alert(
                    ts=time.time(),
                    level="warning",
                    kind="feed",
                    text=f"alert webhook disabled: {self._webhook_problem}",
                    key="webhook_invalid",
                )
            )
        if self.restore:
            self._restore()
        tune_gc()  # after start-up and restore: see its docstring (the collector took about a tenth of ingest time)
        loop = asyncio.get_running_loop()
        if self.claims is not None:
            self.claims.start()
        if self._bus is not None and self.config.team.history:
            self._start_history(*self._bus)
        self._hub_task = loop.create_task(self._run_hub(), name="hitl-hub")
        self._pump_task = loop.create_task(self._pump(), name="hitl-session-pump")
        self._mark_dirty()

    def _restore(self) -> None:
        """Rebuild engine state from the journaled events of this session's feeds.

        Restored triggers do not raise alerts: they are history, and an alert
        storm at every restart would train supervisors to ignore alerts. Only
        what the floor and its figures need is rebuilt (:data:`RESTORE_KEEP_S`,
        ``Journal.restore_events``); ``report --journal`` reads the rest.
        """
        names = [spec.name for spec in self.specs]
        count = 0
        started = time.perf_counter()
        alerts = self.config.alerts
        keep_s = max(RESTORE_KEEP_S, alerts.window_s + alerts.baseline_s)
        events = self.journal.restore_events(
            names, keep_s=keep_s, open_for_s=self.config.thresholds.abandoned_after_seconds
        )
        for feed, event in events:
            try:
                update = self.engine.apply(event, feed=feed)
            except Exception:
                log.exception("restore: the engine failed on %s seq %s", feed, event.seq)
                continue
            count += 1
            self._latest_ts = max(self._latest_ts, event.ts)
            self._pending.changed.add(update.conversation_id)
        self._forget_ended()
        log.info(
            "restored %d events, %d conversations from the journal in %.2fs",
            count,
            len(self.engine.conversations),
            time.perf_counter() - started,
        )

    async def _run_hub(self) -> None:
        try:
            await self.hub.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the feed hub stopped with an error")
            self._raise(Condition("hub_failed", "critical", "feed", "feeds stopped: internal error (see the log)"))
            self._mark_dirty()

    async def stop(self) -> None:
        """Stop feeds, the timer and the simulator (demo); deliver the last changes."""
        if self._stopped:
            return
        self._stopped = True
        try:
            await self.hub.stop()
        except Exception:
            log.exception("stopping the feed hub")
        for task in (self._hub_task, self._pump_task):
            if task is not None and not task.done():
                task.cancel()
        for task in (self._hub_task, self._pump_task):
            if task is not None:
                try:
                    await asyncio.wait_for(task, timeout=5.0)
                except asyncio.CancelledError:
                    pass
                except asyncio.TimeoutError:
                    log.warning("session task %s did not stop within 5s", task.get_name())
                except Exception:
                    log.exception("session task %s ended with an error", task.get_name())
        if self.claims is not None:
            try:
                await self.claims.close()
            except Exception:
                log.exception("closing the claims bucket")
        if self.history is not None:
            try:
                await self.history.close()
            except Exception:
                log.exception("closing the team history")
        self._flush()
        if self._server is not None:
            try:
                await self._server.stop()
            except Exception:
                log.exception("stopping the simulator")
        if self.webhook is not None and not self._webhook_closed:
            self._webhook_closed = True
            try:
                await self.webhook.aclose(WEBHOOK_CLOSE_TIMEOUT)
            except Exception:
                log.exception("closing the alert webhook")

    async def __aenter__(self) -> "LiveSession":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def server(self) -> "SimulatorServer | None":
        """The in-process simulator of a demo session."""
        return self._server

    # ------------------------------------------------------------ feed input

    def _on_output(self, output: FeedOutput) -> None:
        """One decoded frame: journal first, then the engine, then queue for listeners."""
        feed = output.feed
        if output.rejected:
            self.rejected.extend(output.rejected)
            self._journal_call(self.journal.record_rejected, output.rejected)
            self._pending.statuses_changed = True
        if output.events:
            self._journal_events(feed, output.events)
        events = output.events
        applied = self._applied.get(feed)
        if applied is not None:
            # Applied already (rebuilt from the journal, or a re-fetch after a
            # journal failure); a feed that ignored since= must not double them.
            events = [e for e in events if e.seq > applied]
        if events:
            self._applied[feed] = events[-1].seq
            live = self._started and not self._stopped
            engine = self.engine
            for event in events:
                collisions = engine.id_collisions
                try:
                    update = engine.apply(event, feed=output.feed)
                except Exception:
                    log.exception("the engine failed on %s seq %s (%s)", output.feed, event.seq, event.type)
                    continue
                self._latest_ts = max(self._latest_ts, event.ts)
                if engine.id_collisions != collisions and live:
                    self._add_alert(self._collision_alert(update.conversation_id, event.ts))
                self._note_update(update, alert=live)
            self._count(len(events))
        if output.restart is not None:
            self._feed_restarted(feed, output)
        self._mark_dirty()

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
            self._raise(
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
            self._conditions.discard(f"journal_failed:{feed}")
            self._journal_failing_alerted = False
            self.hub.rewind(feed, last)
            log.info("journal writes work again: re-fetching feed %s after seq %s", feed, last)
            self._add_alert(
                Alert(
                    ts=time.time(),
                    level="info",
                    kind="feed",
                    text=f"journal writes work again: re-fetching feed {feed} after seq "
                    f"{last if last is not None else '(start)'} to save what was missed",
                    key=f"journal_recovered:{feed}",
                )
            )

    def _feed_restarted(self, feed: str, output: FeedOutput) -> None:
        """The feed numbers its seqs again (see :class:`FeedRestart`): the new
        numbering is journaled apart and applied from its start; the client is
        already reconnecting without ``since``."""
        restart = output.restart
        assert restart is not None
        self._applied.pop(feed, None)
        self._journaled.pop(feed, None)
        self._unjournaled.pop(feed, None)
        try:
            generation = self.journal.new_generation(feed)
        except JournalError as error:
            generation = self.journal.generation(feed)
            log.error("journal: recording the new numbering of feed %s: %s", feed, error)
        self._add_alert(
            Alert(
                ts=time.time(),
                level="critical",
                kind="feed",
                text=f"feed {feed} restarted its event numbering ({restart.reason}; the console was at seq "
                f"{restart.last_seq}): resynchronising from the feed's start; what it lost cannot be shown",
                key=f"feed_restarted:{feed}:{generation}",
            ),
            figures={"feed": feed, "last_seq": restart.last_seq if restart.last_seq is not None else -1},
        )

    def _on_status(self, status: FeedStatus) -> None:
        self._pending.statuses_changed = True
        self._mark_dirty()

    def _note_update(self, update: EngineUpdate, *, alert: bool = True) -> None:
        self._pending.updates.append(update)
        self._pending.changed.add(update.conversation_id)
        if alert:
            for hit in update.fired:
                self._add_alert(
                    self._trigger_alert(update.conversation_id, hit),
                    figures={"trigger": hit.kind, "turn_seq": hit.seq},
                )

    def _collision_alert(self, conversation_id: str, ts: float) -> Alert:
        """Two feeds send the same conversation id: they are kept apart, and the
        supervisor should know why one of them is shown as ``id@feed``."""
        state = self.engine.conversations.get(conversation_id)
        wire = state.feed_id if state is not None else conversation_id
        owner = self.engine.conversations.get(wire)
        first = f" (also used by feed {owner.feed})" if owner is not None and owner.feed else ""
        return Alert(
            ts=ts,
            level="warning",
            kind="feed",
            text=f"conversation id {wire} arrives from two feeds{first}: the one from "
            f"{state.feed if state is not None else '?'} is shown as {conversation_id}",
            conversation_id=conversation_id,
            key=f"id-collision:{conversation_id}",
        )

    def _trigger_alert(self, conversation_id: str, hit: TriggerHit) -> Alert:
        state = self.engine.conversations.get(conversation_id)
        queue = f" [{state.queue}]" if state is not None and state.queue else ""
        return Alert(
            ts=hit.ts,
            level=TRIGGER_LEVELS.get(hit.kind, "warning"),
            kind="trigger",
            text=f"{conversation_id}{queue} {hit.kind.replace('_', ' ')}: {hit.reason}",
            conversation_id=conversation_id,
            key=f"trigger:{conversation_id}:{hit.kind}:{hit.seq}",
        )

    def _count(self, n: int) -> None:
        now = time.monotonic()
        second = float(int(now))
        if self._rate and self._rate[-1][0] == second:
            self._rate[-1] = (second, self._rate[-1][1] + n)
        else:
            self._rate.append((second, n))
        while self._rate and self._rate[0][0] <= now - RATE_WINDOW:
            self._rate.popleft()

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
                self._add_alert(
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

    # ------------------------------------------------------------ alerts

    def _add_alert(
        self,
        alert: Alert,
        *,
        journal: bool = True,
        figures: Mapping[str, Any] | None = None,
    ) -> None:
        """The one way an alert enters the session: memory, listeners, journal, webhook."""
        self.alerts.append(alert)
        self._pending.new_alerts.append(alert)
        if journal:
            self._journal_call(self.journal.record_alert, alert)
        if self.history is not None:
            self.history.publish_alert(self.agent, alert)
        self._post_webhook(alert, figures)
        self._mark_dirty()

    def _post_webhook(self, alert: Alert, figures: Mapping[str, Any] | None) -> None:
        """Fire and forget: a slow or broken webhook must never delay or drop an
        alert on the supervisor's screen (the sender retries and logs on its own)."""
        if self.webhook is None or self._webhook_closed:
            return
        if _LEVELS[alert.level] < _LEVELS[self.config.alerts.webhook_min_level]:
            return
        try:
            self.webhook.spawn(alert, figures)
        except RuntimeError:  # no running event loop (a session driven without start())
            log.debug("alert %s not posted: no running event loop", alert.key)

    def _raise(self, condition: Condition, *, journal: bool = True) -> None:
        if condition.key in self._conditions:
            return
        self._conditions.add(condition.key)
        self._add_alert(
            Alert(
                ts=time.time(),
                level=condition.level,
                kind=condition.kind,
                text=condition.text,
                conversation_id=condition.conversation_id,
                key=condition.key,
            ),
            journal=journal,
            figures=condition.figures,
        )

    @property
    def conditions(self) -> frozenset[str]:
        """Keys of the conditions alerted and not yet cleared."""
        return frozenset(self._conditions)

    def _check_watchers(self, now: float) -> None:
        """The one place alert watchers run (see :meth:`add_watcher`)."""
        stale_before = self.feed_health.stale_feeds
        reported: set[str] = set()
        for watcher in list(self._watchers):
            try:
                conditions = list(watcher(self, now))
            except Exception:
                log.exception("alert watcher %r failed", watcher)
                continue
            for condition in conditions:
                reported.add(condition.key)
                self._raise(condition)
        # hub_failed is raised outside the watchers and stays until restart;
        # journal_failed:* until the journal works again (_retry_journal)
        self._conditions &= reported | {"hub_failed"} | {k for k in self._conditions if k.startswith("journal_failed:")}
        turned = stale_before ^ self.feed_health.stale_feeds
        if turned:  # their rows say "stale" (or stop saying it): redraw them
            self._pending.changed.update(c.conversation_id for c in self.engine.conversations.values() if c.feed in turned)
            self._pending.statuses_changed = True
            self._mark_dirty()

    @property
    def stale_feeds(self) -> frozenset[str]:
        """Feeds that are down, failed, reject everything or fell silent (``analysis.feed_health``):
        their conversations are frozen at what was last heard."""
        return self.feed_health.stale_feeds

    def acknowledge(self, alert_id: int) -> bool:
        """Mark an alert seen (it no longer counts in ``open_alerts``)."""
        for alert in self.alerts:
            if alert.id == alert_id:
                alert.acknowledged = True
                self._pending.statuses_changed = True
                self._mark_dirty()
                return True
        return False

    # ------------------------------------------------------------ the timer

    def _mark_dirty(self) -> None:
        self._dirty.set()

    async def _pump(self) -> None:
        """One task for all periodic work: coalesced flushes, ticks, pruning."""
        loop = asyncio.get_running_loop()
        next_tick = loop.time() + TICK_INTERVAL
        next_prune = loop.time() + PRUNE_INTERVAL
        next_forget = loop.time() + FORGET_INTERVAL
        last_flush = 0.0
        while not self._stopped:
            await self._wait_dirty(max(0.0, next_tick - loop.time()))
            wait = last_flush + FLUSH_INTERVAL - loop.time()
            if self._dirty.is_set() and wait > 0:
                await asyncio.sleep(wait)  # let more changes pile up into this flush
            if loop.time() >= next_tick:
                next_tick = loop.time() + TICK_INTERVAL
                self._tick()
            if loop.time() >= next_forget:
                next_forget = loop.time() + FORGET_INTERVAL
                self._forget_ended()
            if loop.time() >= next_prune:
                next_prune = loop.time() + PRUNE_INTERVAL
                self._journal_call(self.journal.prune)
            self._dirty.clear()
            self._flush()
            last_flush = loop.time()

    async def _wait_dirty(self, timeout: float) -> None:
        """Wait until something changed or ``timeout`` passed.

        Not ``asyncio.wait_for``: on Python 3.11 it can swallow a cancellation
        that arrives as the event is set, which would leave this task running
        after :meth:`stop`.
        """
        waiter = asyncio.ensure_future(self._dirty.wait())
        try:
            await asyncio.wait({waiter}, timeout=timeout)
        finally:
            waiter.cancel()

    def _forget_ended(self) -> None:
        """Drop the oldest ended conversations beyond MAX_ENDED_KEPT from memory."""
        if len(self.engine.conversations) <= MAX_ENDED_KEPT:
            return
        before = set(self.engine.conversations)
        if self.engine.forget_ended(keep=MAX_ENDED_KEPT):
            gone = before - set(self.engine.conversations)
            self._pending.removed |= gone
            self._pending.changed -= gone
            self._mark_dirty()

    def _tick(self) -> None:
        now = self.clock()
        try:
            updates = self.engine.tick(now)
        except Exception:
            log.exception("engine tick failed")
            updates = []
        for update in updates:
            self._note_update(update)
        self._retry_journal()
        self._check_watchers(now)

    def _flush(self) -> None:
        change, self._pending = self._pending, SessionChange()
        if not change:
            return
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:
                log.exception("session listener %r failed", listener)

    def clock(self) -> float:
        """The session's notion of now: wall time, except in a replay, where it
        is the time of the newest event (windows and expiries follow the recording)."""
        if self.mode == "replay" and self._latest_ts:
            return self._latest_ts
        return time.time()

    # ------------------------------------------------------------ commands

    async def takeover(self, conversation_id: str) -> CommandResult:
        """Take the conversation over; refused (with the holder named) if another agent has it.

        With shared claims the chat is claimed in the team's bucket first: a
        claim held by another supervisor refuses the takeover before any
        command is sent (``sent=False``, the holder in ``error``). A takeover
        the platform refuses gives a fresh claim back at once."""
        claims = self.claims
        wire = self._chat_claim_id(conversation_id)
        fresh = False
        if claims is not None:
            fresh = not claims.holds("chat", wire)
            claim = await claims.acquire("chat", wire)
            if not claim.ok:
                error = f"held by {claim.holder} (team claim)" if claim.holder else f"not claimed: {claim.error}"
                log.info("takeover %s by %s: %s", conversation_id, self.agent, error)
                return CommandResult(uuid.uuid4().hex, ok=False, error=error, sent=False)
            self._chat_claimed_at[wire] = time.monotonic()
        result = await self._command(Takeover, conversation_id)
        if claims is not None and fresh and not result.ok and not result.timed_out:
            await claims.release("chat", wire)  # refused or never sent: nobody holds it through us
        return result

    async def send(self, conversation_id: str, text: str) -> CommandResult:
        """Send ``text`` to the customer as this agent."""
        return await self._command(Send, conversation_id, text=text)

    async def release(self, conversation_id: str, note: str | None = None) -> CommandResult:
        """Hand the conversation back to the AI (and its team claim, once acknowledged)."""
        result = await self._command(Release, conversation_id, note=note)
        if result.ok:
            await self._release_chat(conversation_id)
        return result

    async def approve(self, conversation_id: str, approval_id: str, note: str | None = None) -> CommandResult:
        return await self._command(Approve, conversation_id, approval_id=approval_id, note=note)

    async def deny(self, conversation_id: str, approval_id: str, note: str | None = None) -> CommandResult:
        return await self._command(Deny, conversation_id, approval_id=approval_id, note=note)

    async def end(self, conversation_id: str, outcome: Outcome) -> CommandResult:
        result = await self._command(End, conversation_id, outcome=outcome)
        if result.ok:
            await self._release_chat(conversation_id)
        return result

    # ------------------------------------------------------------ shared claims

    def _chat_claim_id(self, conversation_id: str) -> str:
        """A chat's name in the bucket: its id on the wire (what every console of the stream sees)."""
        state = self.engine.conversations.get(conversation_id)
        return state.feed_id if state is not None else conversation_id

    async def _release_chat(self, conversation_id: str) -> None:
        if self.claims is not None:
            wire = self._chat_claim_id(conversation_id)
            self._chat_claimed_at.pop(wire, None)
            await self.claims.release("chat", wire)

    async def chat_holder(self, conversation_id: str) -> str | None:
        """Who holds the chat's team claim now (None: nobody, no shared claims, or the bucket is unreachable)."""
        if self.claims is None:
            return None
        return await self.claims.holder_of("chat", self._chat_claim_id(conversation_id))

    def _claim_wanted(self, kind: str, item: str) -> bool:
        """Whether a held claim is still needed; asked before each renewal.

        A chat: until it ends, or until it is plainly not ours (another agent
        holds it, or no human does) once the platform has had time to say so.
        A review item: while this reviewer holds it, open, in the local store."""
        if kind == "chat":
            state = next((c for c in self.engine.conversations.values() if c.feed_id == item), None)
            if state is not None and state.ended:
                return False
            if state is not None and state.holder == "human" and state.agent == self.agent:
                return True
            claimed = self._chat_claimed_at.get(item)
            grace = max(CLAIM_GRACE_S, 2 * self.config.ack_timeout_s)
            return claimed is not None and time.monotonic() - claimed < grace
        try:
            reviewed = self.reviews.item(item)
        except JournalError:
            return True  # cannot tell: keep it, it expires if this console goes
        return reviewed is not None and reviewed.status == "open" and reviewed.claimed_by == self.agent and reviewed.claimed()

    def _chats_held(self) -> list[tuple[str, str]]:
        """Chats the feed shows this agent holding (claimed again after a console restart)."""
        return [("chat", c.feed_id) for c in self.engine.conversations.values()
                if not c.ended and c.holder == "human" and c.agent == self.agent]

    def _claim_lost(self, kind: str, item: str, holder: str | None) -> None:
        """A held claim could not be renewed: the supervisor must know someone else may act on it."""
        what = "chat" if kind == "chat" else "review item"
        who = f"; {holder} holds it now" if holder else ""
        self._add_alert(
            Alert(
                ts=time.time(),
                level="warning",
                kind="feed",
                text=f"your team claim on {what} {item} lapsed{who}",
                conversation_id=item if kind == "chat" else None,
                key=f"claim_lost:{kind}:{item}:{time.monotonic():.0f}",
            ),
            figures={"kind": kind},
        )

    async def claim_review(self, item_id: str) -> Claim:
        """Take a review item for this reviewer: in the team's bucket first (when
        there is one; refused with the holder named), then in the local store.
        Raises :class:`~hitl_console.store.journal.JournalError` like the store."""
        claims = self.claims
        fresh = False
        if claims is not None:
            fresh = not claims.holds("review", item_id)
            shared = await claims.acquire("review", item_id)
            if not shared.ok:
                return shared
        try:
            ok = self.reviews.claim(item_id, self.agent)
        except BaseException:
            if claims is not None and fresh:
                await claims.release("review", item_id)
            raise
        if ok:
            return Claim(True, self.agent)
        if claims is not None and fresh:
            await claims.release("review", item_id)
        item = self.reviews.item(item_id)
        holder = item.claimed_by if item is not None and item.claimed() else None
        return Claim(False, holder, error=f"held by {holder}" if holder else "not open")

    async def release_review(self, item_id: str) -> bool:
        """Give a review item back to the queue (local store and team claim)."""
        released = self.reviews.release(item_id, self.agent)
        if self.claims is not None:
            await self.claims.release("review", item_id)
        return released

    async def review_done(self, item_id: str) -> None:
        """After a verdict: the team claim becomes a *done* marker, so no other console's reviewer takes it up."""
        if self.claims is not None:
            await self.claims.finish("review", item_id)

    def feed_of(self, conversation_id: str) -> str | None:
        """The feed a conversation came from (the one its commands go to)."""
        state = self.engine.conversations.get(conversation_id)
        if state is not None and state.feed:
            return state.feed
        if len(self.specs) == 1:
            return self.specs[0].name
        return None

    async def _command(self, cls: type[AnyCommand], conversation_id: str, **fields: Any) -> CommandResult:
        """Build, journal, send and journal the outcome of one command.

        Journaled before sending so that a crash mid-send still shows what the
        supervisor asked; every failure comes back as a CommandResult (never an
        exception) because the UI shows it to the person who pressed the key.
        """
        request_id = uuid.uuid4().hex
        state = self.engine.conversations.get(conversation_id)
        wire_id = state.feed_id if state is not None else conversation_id  # "c-1@b" is "c-1" to feed b
        try:
            command = cls(request_id=request_id, agent=self.agent, conversation_id=wire_id, **fields)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors(include_url=False))
            return CommandResult(request_id, ok=False, error=problems, sent=False)
        feed = self.feed_of(conversation_id)
        if feed is None:
            return CommandResult(request_id, ok=False, error=f"unknown conversation {conversation_id}", sent=False)
        self._journal_call(self.journal.record_command, feed, command)
        try:
            result = await self.hub.send(feed, command)
        except Exception as error:  # the hub should answer with a result; be safe anyway
            log.exception("sending %s to %s", command.op, feed)
            result = CommandResult(request_id, ok=False, error=f"{type(error).__name__}: {error}", sent=False)
        self._journal_call(self.journal.record_result, result)
        if self.history is not None:
            self.history.publish("command", self.agent, time.time(), **command_record(result, command, feed))
        if not result.ok:
            log.info("%s %s by %s: %s", command.op, conversation_id, self.agent, result.describe())
        return result

    # ------------------------------------------------------------ figures

    def statuses(self) -> list[FeedStatus]:
        """One status per feed, in the order of the specs."""
        return list(self.hub.statuses)

    def figures(self, now: float | None = None) -> FloorFigures:
        """The floor's headline numbers (definitions on :class:`FloorFigures`)."""
        now = self.clock() if now is None else now
        window_start = now - self.config.alerts.window_s
        conversations = list(self.engine.conversations.values())
        stale_feeds = self.feed_health.stale_feeds
        open_ = [c for c in conversations if not c.ended]
        # A stale feed's conversations are frozen at what was last heard: counting
        # them as active (or waiting) would show a floor that is not there.
        active = [c for c in open_ if c.feed not in stale_feeds] if stale_feeds else open_
        ended_recent = escalation_sample(conversations, window_start)
        sentiments = [s for c in active if (s := c.last_sentiment) is not None]
        statuses = self.statuses()
        lags = [s.lag_s for s in statuses if s.lag_s is not None]
        return FloorFigures(
            active=len(active),
            waiting=sum(1 for c in active if c.holder == "waiting"),
            held=sum(1 for c in active if c.holder == "human"),
            escalation_rate=ratio(sum(1 for c in ended_recent if c.escalated), len(ended_recent)),
            containment=ratio(sum(1 for c in ended_recent if is_contained(c)), len(ended_recent)),
            avg_sentiment=statistics.fmean(sentiments) if sentiments else None,
            open_alerts=sum(1 for a in self.alerts if not a.acknowledged),
            pending_approvals=sum(len(c.pending_approvals(now)) for c in active),
            feeds=statuses,
            lag_s=max(lags) if lags else None,
            events_per_s=self._events_per_s(),
            total_seen=len(conversations),
            ended=len(conversations) - len(active),
            escalation_sample=len(ended_recent),
            window_covered=window_covered(conversations, window_start, now),
            stale=len(open_) - len(active),
            stale_feeds=stale_feeds,
        )

    def _events_per_s(self) -> float:
        cutoff = time.monotonic() - RATE_WINDOW
        return sum(n for second, n in self._rate if second > cutoff) / RATE_WINDOW

    def conversation(self, conversation_id: str) -> ConversationState | None:
        return self.engine.conversations.get(conversation_id)

    # ------------------------------------------------------------ after the fact

    @property
    def reviews(self) -> ReviewStore:
        """The review store (queue, claims, verdicts, corrections, tags) in this
        session's journal file, created on first use.

        Lazy because most sessions never open the review screen, and creating
        it registers its tables in the journal. Same thread as the journal (the
        event loop's). Raises :class:`~hitl_console.store.journal.JournalError`
        when the tables cannot be created.
        """
        if self._reviews is None:
            self._reviews = ReviewStore(self.journal, claim_ttl_s=self.config.review.claim_ttl_s)
        return self._reviews

    def record_takeover_verdict(
        self,
        conversation_id: str,
        escalation_needed: bool,
        note: str | None = None,
    ) -> TakeoverVerdict:
        """Store this agent's answer to "was this escalation needed?" when a takeover ends.

        It is what turns escalations into *escalation accuracy*
        (:meth:`metrics`). Unlike event journaling, a failure is not swallowed:
        raises :class:`~hitl_console.store.journal.JournalError` so the screen
        that asked can tell the supervisor their answer was not kept.

        Stored under the conversation's feed and the feed's own id, so that it
        can never count for a same-numbered conversation of another feed.
        """
        note = (note or "").strip() or None
        state = self.conversation(conversation_id)
        if state is not None:
            feed, wire_id = state.feed, state.feed_id
        else:  # forgotten already: only a one-feed session can still tell whose it was
            feed = self.specs[0].name if len(self.specs) == 1 else ""
            wire_id = conversation_id
            log.warning("takeover verdict for %r, which is no longer in memory: stored under feed %r", conversation_id, feed)
        verdict = self.reviews.record_takeover_verdict(wire_id, self.agent, bool(escalation_needed), note, feed=feed)
        if self.history is not None:
            self.history.publish("takeover_verdict", self.agent, verdict.ts, conversation_id=wire_id, feed=feed,
                                 escalation_needed=verdict.escalation_needed, note=note)
        return verdict

    def record_review_verdict(self, item_id: str, verdict: Verdict | str, note: str | None = None) -> ReviewVerdict:
        """A reviewer's verdict on an item this reviewer holds (``ReviewStore.record_verdict``:
        :class:`~hitl_console.store.reviews.ClaimError` when they do not), published to the team."""
        if self.claims is not None and not self.claims.holds("review", item_id):
            raise ClaimError(f"{self.agent} does not hold {item_id} in the team's claims (claim it first)")
        stored = self.reviews.record_verdict(item_id, self.agent, verdict, note)
        if self.history is not None:
            self.history.publish("review_verdict", self.agent, stored.ts, item_id=item_id, conversation_id=stored.conversation_id,
                                 queue=stored.queue, feed=stored.feed, verdict=stored.verdict.value, note=stored.note)
        return stored

    def _start_history(self, url: str, token: str | None) -> None:
        """Read the team's history after this journal's cursor and publish ours; a
        journal that cannot hold the cache leaves the console without team history."""
        try:
            cache = HistoryCache(self.journal)
            origin, cursor = cache.origin, cache.cursor()
        except JournalError as error:
            log.error("team history disabled: %s", error)
            return
        self._history_cache = cache
        self.history = TeamHistory(url, token, origin=origin)
        self.history.start(cursor, self._on_history)

    def _on_history(self, stream_seq: int, record: dict[str, Any]) -> None:
        """One record of the team's history: into the local cache (other consoles' verdicts into the review store)."""
        cache = self._history_cache
        if cache is None:
            return
        applied = self._journal_call(cache.apply, stream_seq, record, self.reviews)
        if applied and record.get("origin") != cache.origin and record.get("kind") in ("takeover_verdict", "review_verdict"):
            self._pending.statuses_changed = True  # the figures changed
            self._mark_dirty()

    def team_history(self, kind: str | None = None) -> list[Any]:
        """The team's records this console has cached (empty without team history)."""
        if self._history_cache is None:
            return []
        return self._history_cache.records(kind)

    def escalation_verdicts(self, since: float | None = None) -> dict[ConversationKey, bool]:
        """(feed, conversation id) -> "a human was needed" (takeover and reviewer verdicts);
        empty when the review store cannot be read, because metrics without
        accuracy beat no metrics."""
        try:
            return self.reviews.escalation_verdicts(since)
        except JournalError as error:
            log.error("reading escalation verdicts: %s", error)
            return {}

    def metrics(self, window_s: float | None = None) -> Metrics:
        """:func:`~hitl_console.analysis.metrics.compute_metrics` over the
        conversations in memory that started in the last ``window_s`` seconds of
        the session clock (all of them when None), with the verdicts of the
        review store for escalation accuracy.

        Every verdict is read: they are keyed by conversation and only the
        window's conversations count, so this is exact whatever clock a
        verdict was stamped with (a replay's or the demo's clock is not the
        wall clock; filtering by time made "all" say "no verdicts yet" while
        "1 h" counted two).
        """
        conversations = list(self.engine.conversations.values())
        if window_s is not None:
            if window_s <= 0:
                raise ValueError("window_s must be positive")
            window = TimeWindow(self.clock() - window_s, None)
        else:
            window = TimeWindow()
        return compute_metrics(
            conversations,
            window=window,
            verdicts=self.escalation_verdicts(None),
            alerts=self.config.alerts,
        )

    # ------------------------------------------------------------ replay

    def replay(self) -> ReplayControls | None:
        """Pause/step/speed of the recordings; None unless this is a replay session."""
        if self.mode != "replay":
            return None
        if self._replay is None:
            clients = [c for c in self.hub.clients.values() if getattr(c.source, "replay", False)]
            self._replay = ReplayControls(clients)
        return self._replay


# ---------------------------------------------------------------- built-in watchers


def _watch_escalation_rate(session: LiveSession, now: float) -> list[Condition]:
    """The escalation rate of the window out of ``alerts.escalation_band``.

    Needs ``alerts.min_conversations`` started in the window: a rate of 1 in 3
    says nothing, and an alert on it would be noise.
    """
    alerts = session.config.alerts
    window_start = now - alerts.window_s
    conversations = session.engine.conversations.values()
    recent = escalation_sample(conversations, window_start)
    rate = ratio(sum(1 for c in recent if c.escalated), len(recent))
    assessment = judge_escalation(rate, len(recent), window_covered(conversations, window_start, now), alerts)
    if rate is None or assessment.status not in ("too_high", "too_low"):
        return []  # too few, warming up, or inside the band: the floor shows the same reading
    minutes = alerts.window_s / 60
    figures = {
        "rate": round(rate, 4),
        "conversations": len(recent),
        "band_low": alerts.escalation_band[0],
        "band_high": alerts.escalation_band[1],
        "window_s": alerts.window_s,
    }
    text = f"escalation rate (last {minutes:.0f} min): {assessment.message}"
    if assessment.status == "too_high":
        return [Condition("escalation_rate_high", "warning", "aggregate", text, figures=figures)]
    if assessment.status == "too_low":
        return [Condition("escalation_rate_low", "warning", "aggregate", text, figures=figures)]
    return []


def _watch_feed_health(session: LiveSession, now: float) -> list[Condition]:
    """Every feed failure a supervisor must know about (``analysis.feed_health``)."""
    return session.feed_health.check(session.statuses())


ESCALATION_BAND_KEYS = frozenset({"escalation_rate_high", "escalation_rate_low"})
"""Trend-rule keys that :func:`_watch_escalation_rate` already alerts on."""


class TrendAlerts:
    """The trend rules of :class:`~hitl_console.analysis.trends.TrendWatcher` as a session watcher.

    The two speak different languages: ``TrendWatcher.check`` returns each
    *new* alert once and latches its key until it judges the condition false
    (too little data neither alerts nor re-arms), while a session watcher
    reports the conditions true *now* and the session alerts on new keys.
    This adapter reports every latched key, with the text and figures of the
    alert that opened it, so a trend condition reaches ``session.alerts``,
    the journal, the listeners and the webhook exactly once, and again only
    after the rules have cleared it.

    The rules run every ``interval_s`` seconds (monotonic: a replay's clock
    jumps); in between the latched set is reported unchanged. Feed health is
    left to :mod:`~hitl_console.analysis.feed_health` and the
    escalation band to :func:`_watch_escalation_rate` (``skip``): the same
    condition from two watchers would be one key with two owners, each able
    to re-arm it behind the other's back.
    """

    def __init__(
        self,
        watcher: TrendWatcher,
        *,
        interval_s: float = TREND_INTERVAL,
        skip: Iterable[str] = ESCALATION_BAND_KEYS,
    ) -> None:
        self.watcher = watcher
        self.interval_s = interval_s
        self._skip = frozenset(skip)
        self._opened: dict[str, Alert] = {}
        self._last_run: float | None = None

    def __call__(self, session: LiveSession, now: float) -> list[Condition]:
        mono = time.monotonic()
        if self._last_run is None or mono - self._last_run >= self.interval_s:
            self._last_run = mono
            for alert in self.watcher.check(session.engine.conversations.values(), now):
                if alert.key not in self._skip:
                    self._opened[alert.key] = alert
        active = self.watcher.active
        for key in [k for k in self._opened if k not in active]:
            del self._opened[key]
        return [
            Condition(
                alert.key,
                alert.level,
                alert.kind,
                alert.text,
                alert.conversation_id,
                figures=dict(self.watcher.figures.get(alert.key, {})),
            )
            for alert in self._opened.values()
        ]

    def reset(self) -> None:
        """Forget every latched trend condition (after a configuration change)."""
        self.watcher.reset()
        self._opened.clear()
        self._last_run = None

    def __repr__(self) -> str:
        return f"TrendAlerts(latched={sorted(self._opened)})"


CLAIM_GRACE_S = 15.0
"""How long a fresh chat claim is kept before the feed shows this agent holding
the chat (``human.joined`` may lag the ack, or the takeover's ack timed out)."""


def team_bus(config: Config, specs: list[FeedSpec]) -> tuple[str, str | None] | None:
    """Where the team's claims live: ``[team] nats`` (token from ``[team] token_env``),
    else the first ``nats://`` feed (its token); None for a console on its own."""
    if config.team.nats:
        return config.team.nats, config.team.resolve_token()
    for spec in specs:
        if spec.url.lower().startswith("nats://"):
            return spec.url, spec.token
    return None


def console_name() -> str:
    """This console in a claim's value (``host:pid``): for people reading the bucket."""
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


def _named(specs: list[FeedSpec]) -> list[FeedSpec]:
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
