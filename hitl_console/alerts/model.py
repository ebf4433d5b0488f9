"""The alert model: what the console raises for a person to look at, and its levels.

Two things make one: a trigger firing on one conversation (the signal
engine's :class:`~hitl_console.engine.state.TriggerHit`, turned into an
alert by :func:`trigger_alert`) and a *condition* of the floor that deserves
one alert while it lasts (an aggregate out of band, a trend, a feed in
trouble: :mod:`hitl_console.alerts.rules`,
:mod:`hitl_console.alerts.feed_health`). One dataclass serves every alert,
so the alert log, notifications, the journal and the webhook handle them alike.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from hitl_console.engine.attention import trigger_words
from hitl_console.engine.state import TriggerHit

Level = Literal["info", "warning", "critical"]
Kind = Literal["trigger", "aggregate", "trend", "feed"]

LEVEL_ORDER: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
"""Levels from least to most urgent (``alerts.webhook_min_level`` compares with it)."""

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

Figures = Mapping[str, float | int | str | bool]
"""Plain figures behind an alert (rate, counts, feed name): what the webhook
may send instead of the text, which can quote customers."""

_ids = itertools.count(1)


@dataclass(slots=True)
class Alert:
    ts: float
    level: Level
    kind: Kind
    text: str
    """One line a person reads; built from plain values, may quote customer text."""
    conversation_id: str | None = None
    key: str = ""
    """Identifies the condition (e.g. 'escalation_rate_high'), so that a condition
    that stays true is alerted once, not on every check."""
    acknowledged: bool = False
    id: int = field(default_factory=lambda: next(_ids))

    def text_without_id(self) -> str:
        """The text without its leading conversation id, for a table that shows the
        id in its own column ("c-1020  c-1020 [billing] ..." said it twice)."""
        cid = self.conversation_id
        if cid and self.text.startswith(cid + " "):
            return self.text[len(cid) + 1 :]
        return self.text

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "ts": self.ts,
            "level": self.level,
            "kind": self.kind,
            "text": self.text,
            "conversation_id": self.conversation_id,
            "key": self.key,
        }


@dataclass(frozen=True, slots=True)
class Condition:
    """A state of the floor that deserves one alert while it lasts.

    A rule reports the conditions that are true *now*; the latch
    (:class:`~hitl_console.alerts.latch.AlertLatch`) raises an :class:`Alert`
    the first time a ``key`` appears and re-arms it once the rule judges it
    false, so a condition that stays true is alerted once.
    """

    key: str
    level: Level
    kind: Kind
    text: str
    conversation_id: str | None = None
    figures: Figures | None = None
    """Plain figures behind the condition (see :data:`Figures`)."""


def trigger_alert(conversation_id: str, hit: TriggerHit, queue: str | None = None) -> Alert:
    """The alert for one trigger firing (level by :data:`TRIGGER_LEVELS`; one per firing)."""
    where = f" [{queue}]" if queue else ""
    return Alert(
        ts=hit.ts,
        level=TRIGGER_LEVELS.get(hit.kind, "warning"),
        kind="trigger",
        text=f"{conversation_id}{where} {trigger_words(hit.kind, hit.reason)}",
        conversation_id=conversation_id,
        key=f"trigger:{conversation_id}:{hit.kind}:{hit.seq}",
    )
