"""Build hook: compile the signal engine with mypyc when it can.

Everything else about the package is declared in ``pyproject.toml``; this
file only adds the compiled engine. Why: the engine is plain, type-annotated
Python, and mypyc (part of the mypy project) turns exactly that source into
C extension modules, about 1.3 times faster on the ingest benchmark
(``benchmarks/ingest.py``), which is what takes the pipeline past 50,000
events a second. The Python source stays the reference and ships too:

* every compiled module is an *optional* extension, so a machine without a
  C compiler installs the pure-Python engine instead of failing (and so
  does a mypyc that refuses the code; the test suite insists on the compiled
  build wherever a C compiler is found, so CI notices);
* ``HITL_CONSOLE_PURE=1`` at install time skips compilation altogether;
* at run time ``hitl_console.engine`` uses the Python source when
  ``HITL_CONSOLE_PURE=1`` is set, or when a source file is newer than its
  compiled module (an edited editable install), so an edit never goes
  silently unused.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup

ENGINE_MODULES = [
    "hitl_console/engine/state.py",
    "hitl_console/engine/sentiment.py",
    "hitl_console/engine/triggers.py",
    "hitl_console/engine/risk.py",
    "hitl_console/engine/routing.py",
    "hitl_console/engine/highstakes.py",
    "hitl_console/engine/textmodel.py",
    "hitl_console/engine/engine.py",
]
"""Kept in step with ``hitl_console.engine.COMPILED_MODULES`` (a test checks)."""


def engine_extensions() -> list:
    if os.environ.get("HITL_CONSOLE_PURE", "") not in ("", "0"):
        return []
    try:
        from mypyc.build import mypycify

        # the build environment has mypy but not the runtime dependencies: their
        # types are taken as Any, which only means generic attribute access on them
        extensions = mypycify(
            ["--ignore-missing-imports", *ENGINE_MODULES],
            opt_level="3",
            group_name="hitl_console_engine",
        )
    except (Exception, SystemExit) as error:  # mypy not at hand, or a type error it refuses
        print(f"hitl-console: not compiling the engine ({type(error).__name__}: {error}); "
              "the Python source is used", file=sys.stderr)
        return []
    for extension in extensions:
        extension.optional = True  # no compiler: the pure-Python engine, not a failed install
    return extensions


setup(ext_modules=engine_extensions())
