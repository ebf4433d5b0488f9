"""The signal engine: feeds' events in, conversation state and triggers out.

Pure, type-annotated Python with no UI and no I/O. An install from source
also compiles the hot modules (``COMPILED_MODULES``) with mypyc (see
``setup.py``); the Python source is the reference and is used instead when

* ``HITL_CONSOLE_PURE=1`` is set (debuggers, profilers, comparing the two), or
* a source file is newer than its compiled module: an engine module edited in
  an editable install is used as edited, with a warning to rebuild, rather
  than silently ignored.

``BUILD`` says which one this process runs (``"compiled"`` or ``"pure"``).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import os
import sys
from pathlib import Path

__all__ = ["BUILD", "COMPILED_MODULES"]

COMPILED_MODULES = ("state", "sentiment", "triggers", "risk", "routing", "highstakes", "textmodel", "engine")
"""Modules ``setup.py`` compiles; all or none of them are used compiled, since
compiled modules share native classes."""

STALE_AFTER_S = 2.0
"""A source this much newer than its compiled module counts as edited since the build."""

log = logging.getLogger(__name__)
_HERE = Path(__file__).resolve().parent


def _compiled_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for name in COMPILED_MODULES:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            candidate = _HERE / f"{name}{suffix}"
            if candidate.exists():
                found[name] = candidate
                break
    return found


def _edited_since_build(compiled: dict[str, Path], here: Path = _HERE) -> list[str]:
    """Source files newer than their compiled modules (by more than ``STALE_AFTER_S``)."""
    edited = []
    for name, extension in compiled.items():
        source = here / f"{name}.py"
        if source.exists() and source.stat().st_mtime > extension.stat().st_mtime + STALE_AFTER_S:
            edited.append(f"{name}.py")
    return edited


class _SourceFinder:
    """Finds the engine modules as Python source, ahead of the compiled ones."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != __name__ or name not in COMPILED_MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, _HERE / f"{name}.py")


RUNTIME_LIBRARY = "hitl_console_engine__mypyc"
"""The shared library of the compiled modules (``group_name`` in ``setup.py``)."""


def _choose_build() -> str:
    compiled = _compiled_files()
    if not compiled:  # installed without compiling: plain imports find the source
        return "pure"
    reason = ""
    if len(compiled) < len(COMPILED_MODULES) or importlib.util.find_spec(RUNTIME_LIBRARY) is None:
        reason = "the compiled build is incomplete"
        log.warning("using the Python source of the engine: %s", reason)
    elif os.environ.get("HITL_CONSOLE_PURE", "") not in ("", "0"):
        reason = "HITL_CONSOLE_PURE is set"
    else:
        edited = _edited_since_build(compiled)
        if edited:
            reason = f"{', '.join(edited)} changed since the build"
            log.warning("using the Python source of the engine: %s; 'pip install -e .' compiles it again", reason)
    if reason:
        sys.meta_path.insert(0, _SourceFinder())
        return "pure"
    return "compiled"


BUILD = _choose_build()
