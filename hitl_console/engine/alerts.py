"""Alerts: what the console raises for a person to look at.

Two sources make them: a trigger firing on one conversation (the signal
engine) and an aggregate figure leaving its band or trending away from its
baseline (``hitl_console.analysis.trends``), plus feed trouble (a silent or
failed feed). One dataclass serves all, so the alert log, notifications,
the journal and the webhook handle them alike.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Level = Literal["info", "warning", "critical"]
Kind = Literal["trigger", "aggregate", "trend", "feed"]

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

    A watcher reports the conditions that are true *now*; the session raises
    an :class:`Alert` the first time a ``key`` appears and re-arms it once the
    watcher stops reporting it, so a condition that stays true is alerted once.
    """

    key: str
    level: Level
    kind: Kind
    text: str
    conversation_id: str | None = None
    figures: Mapping[str, float | int | str | bool] | None = None
    """Plain figures behind the condition (rate, counts, feed name): what the
    webhook may send instead of the text, which can quote customers."""
