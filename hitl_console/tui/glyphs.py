"""Small pictures made of characters: sparklines, gauges, trigger badges.

Each exists as a plain-string function (testable, usable anywhere) and as a
``rich.text.Text`` renderer coloured from a :class:`Palette` for the floor
table. Shapes and letters carry the meaning; colour only reinforces it, so
``NO_COLOR`` and monochrome terminals lose nothing essential.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.style import Style
from rich.text import Text

from hitl_console.engine.state import TRIGGER_KINDS
from hitl_console.tui.palette import Palette

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
GAUGE_FULL = "▰"
GAUGE_EMPTY = "▱"

BADGES: dict[str, str] = {
    "low_confidence": "LC",
    "high_stakes": "HS",
    "sentiment": "SE",
    "loop": "LP",
    "human_request": "HR",
    "ai_request": "AI",
}
"""Two letters per trigger kind, in :data:`TRIGGER_KINDS` order."""

# What a person reads for each kind is ``engine.state.TRIGGER_NAMES`` (beside TRIGGER_KINDS, so headless
# commands use the same words without importing the UI); import it from there, not through this module.


def spark_char(value: float) -> str:
    """One block for a value in -1..1 (sentiment): ▁ is -1, █ is +1."""
    clamped = max(-1.0, min(1.0, value))
    index = round((clamped + 1.0) / 2.0 * (len(SPARK_BLOCKS) - 1))
    return SPARK_BLOCKS[index]


def sparkline(values: Sequence[float], width: int = 8) -> str:
    """The last ``width`` values as blocks, right-aligned (newest on the right)."""
    tail = list(values)[-width:]
    return " " * (width - len(tail)) + "".join(spark_char(v) for v in tail)


def gauge(value: float | None, cells: int = 4) -> str:
    """``▰▰▱▱ 0.41`` for a value in 0..1; blank-ish when unknown."""
    if value is None:
        return GAUGE_EMPTY * cells + "  " + "\N{EN DASH}"
    filled = max(0, min(cells, round(value * cells)))
    return GAUGE_FULL * filled + GAUGE_EMPTY * (cells - filled) + f" {value:.2f}"


def badge_codes(active: Iterable[str]) -> list[str]:
    """Badges of the active trigger kinds, always in the same order."""
    present = set(active)
    return [BADGES[kind] for kind in TRIGGER_KINDS if kind in present]


# ------------------------------------------------------------------ Rich text


def sentiment_style(value: float | None, palette: Palette) -> Style:
    if value is None:
        return palette.muted
    if value <= -0.5:
        return palette.error
    if value < -0.1:
        return palette.warning
    if value >= 0.3:
        return palette.success
    return Style()


def confidence_style(value: float | None, low: float, palette: Palette) -> Style:
    if value is None:
        return palette.muted
    if value < low:
        return palette.error
    if value < min(1.0, low + 0.2):
        return palette.warning
    return palette.success


def risk_style(value: float, palette: Palette) -> Style:
    if value >= 0.6:
        return palette.error + palette.strong
    if value >= 0.3:
        return palette.warning
    return palette.muted


BADGE_LEVEL: dict[str, str] = {
    "low_confidence": "warning",
    "high_stakes": "error",
    "sentiment": "warning",
    "loop": "warning",
    "human_request": "error",
    "ai_request": "accent",
}


def sparkline_text(values: Sequence[float], palette: Palette, width: int = 8) -> Text:
    tail = list(values)[-width:]
    text = Text(" " * (width - len(tail)), no_wrap=True, end="")
    for value in tail:
        text.append(spark_char(value), sentiment_style(value, palette))
    return text


def gauge_text(value: float | None, low: float, palette: Palette) -> Text:
    return Text(gauge(value), style=confidence_style(value, low, palette), no_wrap=True, end="")


def badges_text(active: Iterable[str], palette: Palette) -> Text:
    present = set(active)
    text = Text(no_wrap=True, end="")
    for kind in TRIGGER_KINDS:
        if kind in present:
            if text:
                text.append(" ")
            text.append(BADGES[kind], getattr(palette, BADGE_LEVEL[kind]) + palette.strong)
    return text
