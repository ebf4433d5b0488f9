"""The session's lifecycle and ingest: the :class:`LiveSession` object itself.

What the package's other modules hold is mixed in (commands, team glue,
verdicts and metrics) or called (figures, replay controls, restore); this
module owns the order in which a decoded frame is handled (journal first,
then the engine, then the alerts, then the coalesced listeners), the timer
task, and the alert latch. See :mod:`hitl_console.session` for the whole.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from hitl_console.alerts.feed_health import FeedHealth
from hitl_console.alerts.latch import AlertLatch
from hitl_console.alerts.model import Alert, Condition, trigger_alert
from hitl_console.alerts.rules import TREND_RULES, Judgement, boundary_within, escalation_band, trend_boundaries
from hitl_console.alerts.webhook import WebhookSender
from hitl_console.config import Config
from hitl_console.engine.engine import SignalEngine, tune_gc
from hitl_console.engine.state import ConversationState, EngineUpdate
from hitl_console.feeds.base import FeedOutput, FeedStatus
from hitl_console.feeds.claims import ClaimKeeper, ClaimStore
from hitl_console.feeds.history import TeamHistory
from hitl_console.feeds.hub import FeedHub, FeedSpec
from hitl_console.protocol.decode import RejectedFrame
from hitl_console.session.commands import SupervisorCommands
from hitl_console.session.figures import EventRate, FloorCounts, FloorFigures, count_floor
from hitl_console.session.journaling import JournalWrites
from hitl_console.session.replay import ReplayControls
from hitl_console.session.restore import JournalHistory, named, rebuild, resume_specs
from hitl_console.session.review_queue import QueueFeeder
from hitl_console.session.team import TeamGlue, console_name, team_bus
from hitl_console.session.verdicts import VerdictsAndMetrics
from hitl_console.store.history import HistoryCache
from hitl_console.store.journal import Journal, JournalError
from hitl_console.store.reviews import ReviewStore

if TYPE_CHECKING:
    from hitl_console.sim.server import SimulatorServer

log = logging.getLogger(__name__)

Mode = Literal["live", "demo", "replay"]

FLUSH_INTERVAL = 0.1
"""Listeners are called at most this often (seconds): fast enough to feel live, slow enough to batch."""
TICK_INTERVAL = 1.0
"""How often the engine's clock-driven checks and the watchers run."""
PRUNE_INTERVAL = 3600.0
"""How often old journal rows are pruned while the console runs (also at open)."""
MAX_ENDED_KEPT = 2000
"""Ended conversations kept in memory (older ones stay in the journal): bounds a
console that runs for weeks, while keeping far more than a window's worth."""
FORGET_INTERVAL = 60.0
MAX_REJECTED = 200
WEBHOOK_CLOSE_TIMEOUT = 5.0
"""How long :meth:`LiveSession.stop` waits for webhook posts still in flight."""

TREND_INTERVAL = 5.0
"""Seconds between two runs of the trend rules (``alerts.rules.TREND_RULES``).
They scan every turn of every conversation in memory, and their windows are
minutes long: once a second would cost CPU for nothing."""

Watcher = Callable[["LiveSession", float], Iterable[Condition]]
"""``watcher(session, now) -> conditions true now``; called once a second
(:meth:`LiveSession.add_watcher`): what it stops reporting is re-armed."""


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


class LiveSession(JournalWrites, SupervisorCommands, TeamGlue, VerdictsAndMetrics):
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
        self.latch = AlertLatch(
            record=lambda alert: self._journal_call(self.journal.record_alert, alert),
            webhook_min_level=config.alerts.webhook_min_level,
        )
        """Alerts in memory, latched conditions, journal and webhook (:mod:`hitl_console.alerts.latch`)."""
        self.latch.add_listener(self._on_alert)
        self.alerts: deque[Alert] = self.latch.alerts
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
        specs = named(specs)
        if self.restore:
            specs, cursors = resume_specs(journal, specs)
            self._applied.update(cursors)
            self._journaled.update(cursors)
        self.specs: list[FeedSpec] = specs
        self.hub = FeedHub(
            specs,
            on_output=self._on_output,
            on_status=self._on_status,
            ack_timeout=config.ack_timeout_s,
            history=lambda feed: JournalHistory(journal, feed),
        )

        self.claims: ClaimKeeper | None = None
        """Shared claims in the team's ``hitl-claims`` bucket (live sessions on a
        ``nats://`` feed, or with ``[team] nats``); None: the platform arbitrates alone."""
        self._chat_claimed_at: dict[str, float] = {}
        self.history: TeamHistory | None = None
        """The team's history stream (made at :meth:`start`, same bus as the claims); None: none."""
        self._history_cache: HistoryCache | None = None
        self._bus = team_bus(config, specs) if self.mode == "live" else None
        if self._bus is not None and config.team.claims:
            url, token = self._bus
            store = ClaimStore(url, token, console=console_name(), ttl_s=config.team.claim_ttl_s)
            self.claims = ClaimKeeper(store, agent, on_lost=self._claim_lost, still_wanted=self._claim_wanted, adopt=self._chats_held)

        self._listeners: list[Callable[[SessionChange], None]] = []
        self.feed_health = FeedHealth(config.alerts)
        """The feed rules (``alerts.feed_health``): alerts, and which feeds are stale."""
        self.trend_interval_s = TREND_INTERVAL
        self._trends_run: float | None = None
        """Monotonic time the trend rules last ran (a replay's session clock jumps)."""
        self._watchers: list[Watcher] = []
        self._version = 0
        """Bumped by every change the engine reports (and by forgetting): with the
        conversations' own versions, what tells the figures and rules nothing changed."""
        self._counts: FloorCounts | None = None
        self._counts_key: tuple | None = None
        self._band_read: tuple | None = None
        """What the escalation band was last judged on (its reading, the latched keys)."""
        self._trends_key: tuple | None = None
        self._trends_now: float | None = None
        self._trend_bounds: tuple[tuple | None, list[float]] = (None, [])
        self._pending = SessionChange()
        self._dirty = asyncio.Event()
        self._rate = EventRate()
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
        self._queue_feeder = QueueFeeder()
        self._review_due = False
        """A conversation ended since the review queue was last fed (see :meth:`_offer_for_review`)."""
        self._webhook_problem: str | None = None
        try:
            self.latch.webhook = WebhookSender.from_config(config.alerts)
        except ValueError as error:  # not http(s): the message names the host only, never the secret path
            self._webhook_problem = str(error)
            log.error("alerts.webhook_url is not used: %s", error)

    @property
    def webhook(self) -> WebhookSender | None:
        """Posts every new alert to ``alerts.webhook_url``; None when none is configured.
        Tests may replace it before :meth:`start` (e.g. one on an ``httpx.MockTransport``)."""
        return self.latch.webhook

    @webhook.setter
    def webhook(self, sender: WebhookSender | None) -> None:
        self.latch.webhook = sender

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
        """Plug in a source of alerts beside the built-in rules (``hitl_console.alerts``).

        The watcher is called once a second with the session and the session
        clock and returns the :class:`~hitl_console.alerts.model.Condition` s
        true now. Each new key becomes one alert (through the latch: journaled,
        given to listeners); a key that is no longer reported is re-armed.
        Exceptions are logged and the watcher keeps being called.
        """
        self._watchers.append(watcher)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Restore from the journal (if asked), then run the hub and the timer task."""
        if self._started:
            raise RuntimeError("a LiveSession starts once")
        self._started = True
        if self._webhook_problem:
            self.latch.add(
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
        """Rebuild engine state from the journaled events of this session's feeds
        (:func:`~hitl_console.session.restore.rebuild`: restored triggers raise no alerts)."""
        rebuilt = rebuild(self.engine, self.journal, [spec.name for spec in self.specs], self.config)
        self._latest_ts = max(self._latest_ts, rebuilt.latest_ts)
        self._pending.changed |= rebuilt.changed
        # What ended before the restart was offered by the run that saw it end;
        # forgetting the oldest first keeps start-up from scoring a whole day
        # again, and the first tick offers the ones still in memory (the store
        # ignores repeats), as far back as the review screen ever reached.
        self._forget_ended(offer=False)
        self._review_due = True

    async def _run_hub(self) -> None:
        try:
            await self.hub.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the feed hub stopped with an error")
            self.latch.raise_condition(Condition("hub_failed", "critical", "feed", "feeds stopped: internal error (see the log)"))
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
        self._offer_for_review()
        self._flush()
        if self._server is not None:
            try:
                await self._server.stop()
            except Exception:
                log.exception("stopping the simulator")
        try:
            await self.latch.aclose(WEBHOOK_CLOSE_TIMEOUT)
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
                    self.latch.add(self._collision_alert(update.conversation_id, event.ts))
                self._note_update(update, alert=live)
            self._count(len(events))
        if output.restart is not None:
            self._feed_restarted(feed, output)
        self._mark_dirty()

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
        self.latch.add(
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
        self._version += 1
        self._pending.updates.append(update)
        self._pending.changed.add(update.conversation_id)
        if update.ended:
            self._review_due = True
        if alert:
            for hit in update.fired:
                state = self.engine.conversations.get(update.conversation_id)
                self.latch.add(
                    trigger_alert(update.conversation_id, hit, state.queue if state is not None else None),
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

    def _count(self, n: int) -> None:
        self._rate.count(n)

    # ------------------------------------------------------------ alerts

    def _on_alert(self, alert: Alert, figures: Mapping[str, Any] | None) -> None:
        """Every new alert (the latch has kept and journaled it): to listeners and the team."""
        self._pending.new_alerts.append(alert)
        if self.history is not None:
            self.history.publish_alert(self.agent, alert)  # one message id per floor alert across the team
        self._mark_dirty()

    @property
    def conditions(self) -> frozenset[str]:
        """Keys of the conditions alerted and not yet cleared."""
        return self.latch.latched

    def _check_watchers(self, now: float) -> None:
        """The one place the alert rules run, each judged by the latch: the
        escalation band and feed health every tick, the trend rules every
        ``trend_interval_s`` (monotonic), then the plugged-in watchers.

        A rule is not run again while what it would judge is the same: the
        band while its reading (sample, escalated, coverage) and the latched
        keys are; the trend rules while no conversation changed and the clock
        passed none of the times where a window's edge meets one of theirs
        (:func:`~hitl_console.alerts.rules.trend_boundaries`). An idle floor
        of 10,000 then costs the rules nothing."""
        stale_before = self.feed_health.stale_feeds
        alerts = self.config.alerts
        everything: list[ConversationState] = []

        def conversations() -> list[ConversationState]:
            if not everything and self.engine.conversations:
                everything.extend(self.engine.conversations.values())
            return everything

        counts = self._floor_counts(now)
        n, escalated, _contained, covered = counts.band_reading(now)
        if self._band_read != (n, escalated, covered, alerts, self.latch.latched):
            self._judge(escalation_band, lambda: escalation_band(conversations(), now, alerts))
            self._band_read = (n, escalated, covered, alerts, self.latch.latched)
        self._judge(FeedHealth, lambda: Judgement(tuple(self.feed_health.check(self.statuses()))))
        mono = time.monotonic()
        if self._trends_run is None or mono - self._trends_run >= self.trend_interval_s:
            self._trends_run = mono
            key = (self._counts_key, alerts, self.latch.latched)
            if not self._trends_unchanged(key, now):
                for rule in TREND_RULES:
                    self._judge(rule, lambda rule=rule: rule(conversations(), now, alerts))
                self._trends_key = (self._counts_key, alerts, self.latch.latched)
                self._trends_now = now
        for watcher in list(self._watchers):
            self._judge(watcher, lambda watcher=watcher: Judgement(tuple(watcher(self, now))))
        turned = stale_before ^ self.feed_health.stale_feeds
        if turned:  # their rows say "stale" (or stop saying it): redraw them
            self._pending.changed.update(c.conversation_id for c in self.engine.conversations.values() if c.feed in turned)
            self._pending.statuses_changed = True
            self._mark_dirty()

    def _trends_unchanged(self, key: tuple, now: float) -> bool:
        """Whether the trend rules, last run at ``self._trends_now`` on this
        ``key``, would judge the same at ``now`` (no window edge crossed since)."""
        last = self._trends_now
        if key != self._trends_key or last is None or now < last:
            return False
        bounds_key, bounds = self._trend_bounds
        if bounds_key != key:
            bounds = trend_boundaries(list(self.engine.conversations.values()), self.config.alerts)
            self._trend_bounds = (key, bounds)
        return not boundary_within(bounds, last, now)

    def _judge(self, owner: Hashable, check: Callable[[], Judgement]) -> None:
        """One rule's judgement into the latch; a rule that fails is logged and skipped."""
        try:
            judgement = check()
        except Exception:
            log.exception("alert rule %r failed", owner)
            return
        self.latch.judge(owner, judgement)

    @property
    def stale_feeds(self) -> frozenset[str]:
        """Feeds that are down, failed, reject everything or fell silent (``alerts.feed_health``):
        their conversations are frozen at what was last heard."""
        return self.feed_health.stale_feeds

    def acknowledge(self, alert_id: int) -> bool:
        """Mark an alert seen (it no longer counts in ``open_alerts``)."""
        if not self.latch.acknowledge(alert_id):
            return False
        self._pending.statuses_changed = True
        self._mark_dirty()
        return True

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

    def _offer_for_review(self) -> None:
        """Feed the review queue when a conversation ended since the last time.

        On the timer (batched, once a second at most) and before ended
        conversations are forgotten or the session stops, so every ended
        conversation is offered while it is still in memory, whether or not
        anyone opens the review screen. A store that cannot take them is
        logged (a failing journal is alerted by the event writes) and tried
        again at the next end: the feeder only remembers what was stored.
        """
        if not self._review_due:
            return
        self._review_due = False
        try:
            self.queue_for_review()
        except JournalError as error:
            log.error("review queue not fed: %s", error)
        except Exception:
            log.exception("review queue not fed")

    def _forget_ended(self, *, offer: bool = True) -> None:
        """Drop the oldest ended conversations beyond MAX_ENDED_KEPT from memory
        (offered to the review queue first, unless ``offer`` is False)."""
        if len(self.engine.conversations) <= MAX_ENDED_KEPT:
            return
        counts = self._floor_counts(self.clock())
        if counts.total_seen - counts.active - counts.stale <= MAX_ENDED_KEPT:
            return  # a floor of many open conversations and few ended: nothing to forget
        if offer:
            self._offer_for_review()
        before = set(self.engine.conversations)
        if self.engine.forget_ended(keep=MAX_ENDED_KEPT):
            self._version += 1
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
        self._offer_for_review()
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

    # ------------------------------------------------------------ figures

    def statuses(self) -> list[FeedStatus]:
        """One status per feed, in the order of the specs."""
        return list(self.hub.statuses)

    def figures(self, now: float | None = None) -> FloorFigures:
        """The floor's headline numbers (definitions on :class:`FloorFigures`,
        equal to :func:`~hitl_console.session.figures.floor_figures`'s)."""
        now = self.clock() if now is None else now
        return self._floor_counts(now).figures(
            self.statuses(), now=now, open_alerts=self.latch.open_count, events_per_s=self._rate.per_second()
        )

    def _floor_counts(self, now: float) -> FloorCounts:
        """The conversations counted for the figures, again only when one changed
        (the session's and each conversation's version; the sum of those is one
        addition per conversation, far less than the counting), the stale feeds
        or the window did, or the clock went back."""
        conversations = self.engine.conversations
        window_s = self.config.alerts.window_s
        stale = self.feed_health.stale_feeds
        key = (self._version, len(conversations), sum(c.version for c in conversations.values()), stale, window_s)
        counts = self._counts
        if counts is None or key != self._counts_key or now < counts.built_now:
            counts = self._counts = count_floor(list(conversations.values()), now=now, window_s=window_s, stale_feeds=stale)
            self._counts_key = key
        return counts

    def conversation(self, conversation_id: str) -> ConversationState | None:
        return self.engine.conversations.get(conversation_id)

    # ------------------------------------------------------------ replay

    def replay(self) -> ReplayControls | None:
        """Pause/step/speed of the recordings; None unless this is a replay session."""
        if self.mode != "replay":
            return None
        if self._replay is None:
            clients = [c for c in self.hub.clients.values() if getattr(c.source, "replay", False)]
            self._replay = ReplayControls(clients)
        return self._replay
