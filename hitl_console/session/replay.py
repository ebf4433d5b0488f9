"""Replay controls: pause, step and speed of the recordings a replay session plays."""

from __future__ import annotations

import statistics
from typing import Any


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
