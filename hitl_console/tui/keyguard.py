"""Telling a person at the keyboard from a flood of bytes that only look like keys.

A console under ``script`` with its stdin closed read its own output back as
keystrokes (issue 9). Nothing typed can approve or hand back any more (those
wait for ``ctrl+y``), but a flood still drives the screens at random. A
person types at most a few dozen keys a second, auto-repeat included
(pastes arrive as one ``Paste`` event, not as keys), so far more than that
is not a person: the guard drops those keys and, if it lasts, the app leaves
with a message instead of reading garbage all shift.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

FLOOD_KEYS_PER_S = 150
"""More key events than this within one second is no one typing (auto-repeat is ~30/s)."""
FLOOD_EXIT_S = 5.0
"""A flood that lasts this long ends the console: the input is not a person."""


@dataclass(slots=True)
class KeyFloodGuard:
    """Counts key events over a sliding second; :meth:`admit` says whether to act on one."""

    per_second: float = FLOOD_KEYS_PER_S
    exit_after_s: float = FLOOD_EXIT_S
    _times: deque[float] = field(default_factory=deque)
    flooding_since: float | None = None
    dropped: int = 0

    def admit(self, now: float) -> bool:
        """True to act on the key pressed at ``now`` (monotonic seconds), False to drop it."""
        times = self._times
        times.append(now)
        while times and times[0] <= now - 1.0:
            times.popleft()
        if len(times) > self.per_second:
            if self.flooding_since is None:
                self.flooding_since = now
            self.dropped += 1
            return False
        if self.flooding_since is not None and len(times) <= self.per_second / 4:
            self.flooding_since = None  # calm again: a person may be back
        if self.flooding_since is not None:
            self.dropped += 1
            return False
        return True

    def should_exit(self, now: float) -> bool:
        return self.flooding_since is not None and now - self.flooding_since >= self.exit_after_s
