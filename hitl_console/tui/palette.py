"""Rich styles taken from the current Textual theme.

Widgets that render Textual ``Content`` use ``$error`` and friends directly.
``DataTable`` cells, however, are Rich renderables, which know nothing of CSS
variables; they get their colours from a :class:`Palette` built from the
app's theme variables, so that the table follows the theme (including the
ANSI theme, whose colours become the terminal's own palette entries) and
Textual's ``NO_COLOR`` filter still strips them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rich.style import Style
from textual.color import Color, ColorParseError


def _colour(variables: Mapping[str, str], name: str) -> Style:
    value = variables.get(name, "")
    # Values may carry an alpha suffix ("ansi_default 50%"); the colour comes first.
    token = value.split()[0] if value.strip() else ""
    if not token:
        return Style()
    try:
        return Style(color=Color.parse(token).rich_color)
    except (ColorParseError, ValueError):
        return Style()


@dataclass(frozen=True, slots=True)
class Palette:
    """The handful of semantic styles the floor table needs."""

    error: Style
    warning: Style
    success: Style
    primary: Style
    secondary: Style
    accent: Style
    muted: Style
    strong: Style

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> Palette:
        return cls(
            error=_colour(variables, "text-error") or _colour(variables, "error"),
            warning=_colour(variables, "text-warning") or _colour(variables, "warning"),
            success=_colour(variables, "text-success") or _colour(variables, "success"),
            primary=_colour(variables, "text-primary") or _colour(variables, "primary"),
            secondary=_colour(variables, "text-secondary") or _colour(variables, "secondary"),
            accent=_colour(variables, "text-accent") or _colour(variables, "accent"),
            muted=Style(dim=True),
            strong=Style(bold=True),
        )

    @classmethod
    def plain(cls) -> Palette:
        """No colours at all (tests, and before the app has a theme)."""
        return cls(*(Style() for _ in range(6)), muted=Style(dim=True), strong=Style(bold=True))
