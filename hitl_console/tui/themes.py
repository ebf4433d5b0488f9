"""Theme files: Textual themes kept as TOML (or JSON) files, not as code.

The shipped themes live in ``hitl_console/tui/themes/`` (package data, so a
wheel has them); a user can add or override themes in
``$XDG_CONFIG_HOME/hitl-console/themes/``. A file is a flat table of
:class:`textual.theme.Theme` fields plus an optional ``[variables]`` table::

    name = "hitl-dark"
    primary = "#4FA3E0"
    dark = true
    [variables]
    "block-cursor-text-style" = "bold"

A broken file never stops the console: it is reported (the app notifies and
logs each problem) and skipped, and a theme that cannot be found falls back
to :data:`DEFAULT_THEME`, then to Textual's own ``textual-dark``.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from textual.theme import Theme

from hitl_console.paths import config_path

DEFAULT_THEME = "hitl-dark"
"""The theme used when none is asked for, or the one asked for is unusable."""

LAST_RESORT_THEME = "textual-dark"
"""Textual's built-in default: always there, even if every file is broken."""

PACKAGE_THEMES = Path(__file__).with_name("themes")

_FIELDS = {f.name for f in dataclasses.fields(Theme)}
_SUFFIXES = (".toml", ".json")


@dataclass(slots=True)
class ThemeSet:
    """What loading found: usable themes by name, and one line per problem."""

    themes: dict[str, Theme] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    sources: dict[str, Path] = field(default_factory=dict)


def user_theme_dir() -> Path:
    """``themes/`` next to the config file (honours ``HITL_CONSOLE_CONFIG``)."""
    return config_path().parent / "themes"


def theme_dirs() -> list[Path]:
    """Where themes are looked for, later directories overriding earlier ones."""
    return [PACKAGE_THEMES, user_theme_dir()]


def parse_theme(data: object, source: str) -> Theme:
    """Build a :class:`Theme` from a decoded file; ``ValueError`` names the problem."""
    if not isinstance(data, dict):
        raise ValueError("expected a table of theme fields")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(map(repr, unknown))} (check the spelling)")
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        raise ValueError("'name' is required and must be a non-empty string")
    if not isinstance(data.get("primary"), str):
        raise ValueError("'primary' is required and must be a colour")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise ValueError("'variables' must be a table of strings")
    try:
        theme = Theme(**data)
        # Generating the colour system parses every colour, so a typo such as
        # "#12345G" is caught here rather than when the theme is switched on.
        theme.to_color_system().generate()
    except Exception as error:  # Textual raises several kinds for bad colours
        raise ValueError(f"not a usable theme: {error}") from None
    return theme


def load_theme_file(path: Path) -> Theme:
    """One theme file; ``ValueError`` with a readable reason if it is unusable."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read: {error.strerror or error}") from None
    try:
        data = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not valid {path.suffix[1:].upper()}: {error}") from None
    return parse_theme(data, str(path))


def load_themes(directories: Iterable[Path] | None = None) -> ThemeSet:
    """Every theme file in ``directories`` (default :func:`theme_dirs`).

    Missing directories are fine (most users have no theme directory).
    """
    found = ThemeSet()
    for directory in theme_dirs() if directories is None else directories:
        if not directory.is_dir():
            continue
        for path in sorted(p for p in directory.iterdir() if p.suffix in _SUFFIXES):
            try:
                theme = load_theme_file(path)
            except ValueError as error:
                found.problems.append(f"theme file {path.name}: {error}")
                continue
            found.themes[theme.name] = theme
            found.sources[theme.name] = path
    return found


def choose_theme(requested: str | None, available: Iterable[str]) -> tuple[str, str | None]:
    """The theme to start with, and a problem to report if the request failed."""
    names = set(available)
    if requested and requested in names:
        return requested, None
    fallback = DEFAULT_THEME if DEFAULT_THEME in names else LAST_RESORT_THEME
    if requested:
        return fallback, f"theme {requested!r} is not available; using {fallback}"
    return fallback, None
