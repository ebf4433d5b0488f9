"""Durations as people write them (``45s``, ``3m05s``, ``1h05m``), for the
console and the engine's own sentences alike (the engine may not import the UI)."""

from __future__ import annotations

DASH = "\N{EN DASH}"


def duration(seconds: float | None) -> str:
    """A compact, human duration: ``45s``, ``3m05s``, ``1h05m``, ``2d03h``."""
    if seconds is None:
        return DASH
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"
