"""Alerts, in one home: what the console raises for a person to look at.

* :mod:`~hitl_console.alerts.model`: :class:`Alert` (one per thing to look
  at), :class:`Condition` (a state of the floor that deserves one alert while
  it lasts), the levels, and :func:`trigger_alert` for an engine trigger;
* :mod:`~hitl_console.alerts.rules`: every aggregate rule (escalation band,
  containment drop, sentiment, trigger spikes) as a pure function of
  (conversations, now, config) returning a :class:`Judgement`;
* :mod:`~hitl_console.alerts.feed_health`: the feed rules, the one rule
  with memory (how long a feed has been down is seen only across checks);
* :mod:`~hitl_console.alerts.latch`: :class:`AlertLatch`, the one way an
  alert enters the console (raised once, re-armed on clear, journaled,
  given to listeners, posted);
* :mod:`~hitl_console.alerts.webhook`: the optional POST, without customer text.

Layering: above ``analysis`` (the rules read its metrics) and ``store``,
below the session. The engine knows nothing of alerts: it reports a
:class:`~hitl_console.engine.state.TriggerHit`; the journal keeps its own
``AlertRecord``.
"""

from hitl_console.alerts.latch import AlertLatch
from hitl_console.alerts.model import Alert, Condition, Level, trigger_alert
from hitl_console.alerts.rules import Judgement

__all__ = ["Alert", "AlertLatch", "Condition", "Judgement", "Level", "trigger_alert"]
