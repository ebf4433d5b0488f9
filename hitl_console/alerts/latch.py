"""The alert latch: the one way an alert enters the console.

Every alert, whether a trigger firing, a condition of the floor or a feed
in trouble, goes through :meth:`AlertLatch.add`: it is kept in memory (the
alert log, last :data:`MAX_ALERTS`), written to the journal, given to the
listeners (the session's coalesced changes, the team's history) and POSTed
to the webhook when its level is high enough.

Conditions are latched: :meth:`AlertLatch.judge` raises a true condition
once per key and re-arms the key when the rule that owns it judges it false
(:class:`~hitl_console.alerts.rules.Judgement`), so a condition that stays
true is alerted once, and again only after it has cleared.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from hitl_console.alerts.model import LEVEL_ORDER, Alert, Condition, Level
from hitl_console.alerts.rules import Judgement
from hitl_console.alerts.webhook import WebhookSender

log = logging.getLogger(__name__)

MAX_ALERTS = 500

AlertListener = Callable[[Alert, "Mapping[str, Any] | None"], None]
"""``listener(alert, figures)``, called once for every new alert."""


class AlertLatch:
    """Alerts in memory, latched conditions, and where every new alert goes.

    ``record(alert)`` writes one to the journal (the session's, which alerts
    a failing disk once); ``webhook`` posts them (ids and figures, never the
    text: :mod:`hitl_console.alerts.webhook`) at ``webhook_min_level`` and above.
    """

    def __init__(
        self,
        *,
        record: Callable[[Alert], None] | None = None,
        webhook: WebhookSender | None = None,
        webhook_min_level: Level = "warning",
        keep: int = MAX_ALERTS,
        now: Callable[[], float] | None = None,
    ) -> None:
        self.alerts: deque[Alert] = deque(maxlen=keep)
        self.webhook = webhook
        """Replaceable until the first alert is posted (tests hand in one on an ``httpx.MockTransport``)."""
        self.webhook_min_level: Level = webhook_min_level
        self._record = record
        self._listeners: list[AlertListener] = []
        self._latched: dict[str, Hashable] = {}
        """Key of each condition alerted and not yet cleared -> the rule that owns it."""
        self._now = now or time.time
        self._closed = False

    # ------------------------------------------------------------ alerts

    def add_listener(self, fn: AlertListener) -> None:
        self._listeners.append(fn)

    def add(self, alert: Alert, *, figures: Mapping[str, Any] | None = None, journal: bool = True) -> Alert:
        """Memory, journal, listeners, webhook: the one way an alert enters the console."""
        self.alerts.append(alert)
        if journal and self._record is not None:
            self._record(alert)
        for listener in list(self._listeners):
            try:
                listener(alert, figures)
            except Exception:
                log.exception("alert listener %r failed", listener)
        self._post(alert, figures)
        return alert

    def _post(self, alert: Alert, figures: Mapping[str, Any] | None) -> None:
        """Fire and forget: a slow or broken webhook must never delay or drop an
        alert on the supervisor's screen (the sender retries and logs on its own)."""
        if self.webhook is None or self._closed:
            return
        if LEVEL_ORDER[alert.level] < LEVEL_ORDER[self.webhook_min_level]:
            return
        try:
            self.webhook.spawn(alert, figures)
        except RuntimeError:  # no running event loop (a session driven without start())
            log.debug("alert %s not posted: no running event loop", alert.key)

    def acknowledge(self, alert_id: int) -> bool:
        """Mark an alert seen; False when no alert in memory has that id."""
        for alert in self.alerts:
            if alert.id == alert_id:
                alert.acknowledged = True
                return True
        return False

    @property
    def open_count(self) -> int:
        """Alerts not acknowledged."""
        return sum(1 for a in self.alerts if not a.acknowledged)

    # ------------------------------------------------------------ conditions

    def raise_condition(self, condition: Condition, *, owner: Hashable = None, journal: bool = True) -> bool:
        """Alert ``condition`` unless its key is latched; True when it alerted."""
        if condition.key in self._latched:
            return False
        self._latched[condition.key] = owner
        self.add(
            Alert(
                ts=self._now(),
                level=condition.level,
                kind=condition.kind,
                text=condition.text,
                conversation_id=condition.conversation_id,
                key=condition.key,
            ),
            journal=journal,
            figures=condition.figures,
        )
        return True

    def judge(self, owner: Hashable, judgement: Judgement) -> None:
        """One rule's check: raise what is true, re-arm what it judged false.

        Only keys this ``owner`` raised are re-armed: two rules never clear
        each other's conditions.
        """
        true = {c.key for c in judgement.true}
        for key in [k for k, o in self._latched.items() if o == owner and k not in true]:
            if judgement.judged is None or key in judgement.judged:
                del self._latched[key]
        for condition in judgement.true:
            self.raise_condition(condition, owner=owner)

    def clear(self, key: str) -> None:
        """Re-arm ``key`` (a condition raised outside the rules, e.g. a journal that works again)."""
        self._latched.pop(key, None)

    @property
    def latched(self) -> frozenset[str]:
        """Keys of the conditions alerted and not yet cleared."""
        return frozenset(self._latched)

    # ------------------------------------------------------------ shutdown

    @property
    def closed(self) -> bool:
        return self._closed

    async def aclose(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for webhook posts in flight; nothing is posted after."""
        if self._closed:
            return
        self._closed = True
        if self.webhook is not None:
            await self.webhook.aclose(timeout_s)
