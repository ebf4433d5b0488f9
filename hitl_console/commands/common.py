"""Small things every subcommand needs: the config, loaded with a clear error; the width
and console its text goes out at; trigger names as a person reads them."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING

from hitl_console.config import Config, ConfigError, load_config
from hitl_console.engine.state import TRIGGER_NAMES
from hitl_console.redaction import redact

if TYPE_CHECKING:
    from rich.console import Console


def config_or_exit(args: argparse.Namespace) -> Config:
    """The config named by ``--config`` (or the default one); a bad one ends the
    command with the message, which names the key, and exit status 2."""
    try:
        return load_config(getattr(args, "config", None))
    except ConfigError as error:
        print(f"hitl-console: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def fail(message: str, status: int = 1) -> int:
    """One line on stderr, secrets masked: messages often quote a feed's URL."""
    print(f"hitl-console: {redact(message)}", file=sys.stderr)
    return status


WIDE_DEFAULT = 120
"""Columns for text written to a pipe or a file without ``COLUMNS`` set: a pager or an
editor shows long lines, and Rich's own default (80) cut cells that a reader needs."""


def output_width(stream: IO[str] | None = None) -> int:
    """Columns to lay text out in: ``COLUMNS`` when set, else the terminal's when
    writing to one, else :data:`WIDE_DEFAULT`."""
    stream = stream or sys.stdout
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if stream.isatty():
            return os.get_terminal_size(stream.fileno()).columns or WIDE_DEFAULT
    except (AttributeError, OSError, ValueError):
        pass
    return WIDE_DEFAULT


def on_terminal(stream: IO[str] | None = None) -> bool:
    """Whether ``stream`` is a terminal (where a line longer than the width wraps badly)."""
    try:
        return bool((stream or sys.stdout).isatty())
    except (AttributeError, ValueError):
        return False


def output_console(stream: IO[str] | None = None) -> Console:
    """A Rich console for a command's tables: plain text (no highlighting, colour only on
    a terminal), at :func:`output_width`."""
    from rich.console import Console

    stream = stream or sys.stdout
    return Console(file=stream, highlight=False, soft_wrap=False, width=output_width(stream))


def trigger_cell(kinds: Iterable[str], room: int) -> str:
    """Trigger kinds in the words the console uses (``TRIGGER_NAMES``), on one line when
    they fit in ``room`` columns, else one a line: a name cut by wrapping ("AI asked
    for a / human") would read as two."""
    names = [TRIGGER_NAMES.get(kind, kind) for kind in kinds]
    if not names:
        return "-"
    joined = ", ".join(names)
    return joined if len(joined) <= room else "\n".join(names)
