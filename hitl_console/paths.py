"""Where hitl-console keeps its files: XDG directories, overridable by environment.

``HITL_CONSOLE_DATA_DIR`` and ``HITL_CONSOLE_CONFIG`` override the defaults
(tests and CI use them so that nothing touches the real home directory).

The data directory holds customer text (the journal) and feed addresses
(the log), so it is private: created ``0700``, and the journal and log files
``0600``. :func:`private_dir` and :func:`private_file` are the one place that
sets these modes; they also tighten files and directories left with wider
modes by an older version (when this user owns them).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

APP = "hitl-console"
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

log = logging.getLogger(__name__)


def data_dir() -> Path:
    override = os.environ.get("HITL_CONSOLE_DATA_DIR")
    return Path(override) if override else Path(user_data_dir(APP, appauthor=False))


def config_path() -> Path:
    override = os.environ.get("HITL_CONSOLE_CONFIG")
    return Path(override) if override else Path(user_config_dir(APP, appauthor=False)) / "config.toml"


def journal_path() -> Path:
    """The production journal: what the console keeps of live feeds."""
    return data_dir() / "journal.sqlite3"


def sandbox_journal_path() -> Path:
    """The journal of ``demo`` and ``replay``: never the production one, so
    simulated or replayed conversations, their alerts and the verdicts given
    on them never reach ``report --journal`` or the review queues."""
    return data_dir() / "demo.sqlite3"


def log_path() -> Path:
    """The console draws on the terminal, so its own log goes to a file."""
    return data_dir() / "hitl-console.log"


def _tighten(path: Path, mode: int) -> None:
    """chmod ``path`` to ``mode`` if it is wider and ours; a file owned by
    someone else (a shared journal an admin set up) is left as it is."""
    try:
        info = path.stat()
    except OSError:
        return
    if stat.S_IMODE(info.st_mode) & ~mode == 0:
        return
    if info.st_uid != os.geteuid():
        log.warning("%s has mode %o and belongs to another user: left as it is", path, stat.S_IMODE(info.st_mode))
        return
    try:
        os.chmod(path, stat.S_IMODE(info.st_mode) & mode)
    except OSError as error:
        log.warning("cannot make %s private: %s", path, error.strerror or error)


def private_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700; missing parents get the usual mode) or
    tighten it to 0700. Raises OSError when it cannot be created."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    _tighten(path, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if missing, else tighten it to 0600.
    Raises OSError when it cannot be created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        _tighten(path, PRIVATE_FILE_MODE)
    else:
        os.close(fd)
    return path


def prepare_parent(path: Path) -> None:
    """Make the directory of a file hitl-console writes: the data directory
    (and any directory that does not exist yet) is created or kept 0700; an
    existing directory elsewhere (``journal.path = "/srv/..."``) is left alone."""
    parent = path.parent
    if not parent.exists() or parent.resolve() == data_dir().resolve():
        private_dir(parent)
