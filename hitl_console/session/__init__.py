"""The session: the one object the console's UI talks to.

:class:`LiveSession` joins the parts that make a live floor:

* the **feed hub** (``hitl_console.feeds.hub``) that keeps every feed
  connected, decoded and resumed;
* the **journal** (``hitl_console.store.journal``) that every accepted
  event, command, outcome and alert is written to *before* anything else
  sees it, so that a restart rebuilds the floor and nothing acknowledged is
  lost;
* the **signal engine** (``hitl_console.engine.engine``) that turns events
  into conversation state and trigger firings;
* **alerts** (:mod:`hitl_console.alerts`): one per trigger firing, plus
  *conditions* (the escalation band, the trend rules, feed health) judged
  by the latch, which raises each once and re-arms it when it clears.
  Extra watchers plug in with :meth:`LiveSession.add_watcher`. Every new
  alert is also POSTed to ``alerts.webhook_url`` when one is configured
  (ids and figures only, never customer text: :mod:`hitl_console.alerts.webhook`);
* **after the fact**: :attr:`LiveSession.reviews` (the review queue, fed as
  conversations end; verdicts, corrections in the journal's file),
  :meth:`LiveSession.record_takeover_verdict`
  and :meth:`LiveSession.metrics`, so the metrics and review screens read the
  same definitions as ``hitl-console report``.

The UI never gets one callback per event: a busy floor sends hundreds a
second and a terminal redraw per event would fall behind. Instead the
session coalesces: listeners (:meth:`LiveSession.add_listener`) are called
at most every :data:`FLUSH_INTERVAL` seconds with a :class:`SessionChange`
that holds everything that changed since the previous call. The engine's
clock-driven checks (:meth:`SignalEngine.tick`), the alert rules and the
review queue's feeding run once a second on the same timer task.

Modules, one idea each:

* :mod:`~hitl_console.session.lifecycle`: :class:`LiveSession` itself, start
  and stop, ingest (journal first, then the engine, then alerts), the timer;
* :mod:`~hitl_console.session.journaling`: journal first; a failing disk never stops supervision;
* :mod:`~hitl_console.session.commands`: supervisor commands to the feeds;
* :mod:`~hitl_console.session.team`: shared claims and the team's history;
* :mod:`~hitl_console.session.verdicts`: the review store, verdicts, metrics;
* :mod:`~hitl_console.session.review_queue`: ended conversations into the review queue;
* :mod:`~hitl_console.session.figures`: the floor's figures (:class:`FloorFigures`);
* :mod:`~hitl_console.session.replay`: replay controls (:class:`ReplayControls`);
* :mod:`~hitl_console.session.restore`: rebuilding from the journal.

Nothing here imports Textual; the headless tests drive it directly.
"""

from hitl_console.session.figures import FloorFigures
from hitl_console.session.lifecycle import LiveSession, Mode, SessionChange
from hitl_console.session.replay import ReplayControls
from hitl_console.session.team import team_bus

__all__ = ["FloorFigures", "LiveSession", "Mode", "ReplayControls", "SessionChange", "team_bus"]
