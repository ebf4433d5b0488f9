"""Where hitl-console keeps its files: XDG directories, overridable by environment.

``HITL_CONSOLE_DATA_DIR`` and ``HITL_CONSOLE_CONFIG`` override the defaults
(tests and CI use them so that nothing touches the real home directory).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

APP = "hitl-console"


def data_dir() -> Path:
    override = os.environ.get("HITL_CONSOLE_DATA_DIR")
    return Path(override) if override else Path(user_data_dir(APP, appauthor=False))


def config_path() -> Path:
    override = os.environ.get("HITL_CONSOLE_CONFIG")
    return Path(override) if override else Path(user_config_dir(APP, appauthor=False)) / "config.toml"


def journal_path() -> Path:
    return data_dir() / "journal.sqlite3"


def log_path() -> Path:
    """The console draws on the terminal, so its own log goes to a file."""
    return data_dir() / "hitl-console.log"
