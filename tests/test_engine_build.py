"""The engine's two builds: mypyc-compiled (an install with a C compiler) and
the Python source (``HITL_CONSOLE_PURE=1``, no compiler, or an edited source).
Whichever this test run has, the other one is run in a subprocess and must
give the same answers."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hitl_console import engine as engine_package
from hitl_console.engine import COMPILED_MODULES, _edited_since_build

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = [ROOT / "sample_feeds" / name for name in ("demo-floor.jsonl", "escalations.msgpack", "calibration.jsonl.gz")]


def _run(args: list[str], pure: bool, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HITL_CONSOLE_PURE"}
    env["PYTHONHASHSEED"] = "0"
    if pure:
        env["HITL_CONSOLE_PURE"] = "1"
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_setup_compiles_exactly_the_engine_modules() -> None:
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    listed = next(
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "ENGINE_MODULES" for t in node.targets)
    )
    paths = [elt.value for elt in listed.elts]  # type: ignore[attr-defined]
    assert sorted(Path(p).stem for p in paths) == sorted(COMPILED_MODULES)
    assert all(Path(p).parent == Path("hitl_console/engine") for p in paths)
    group = next(
        kw.value.value for node in ast.walk(tree) if isinstance(node, ast.Call)
        for kw in node.keywords if kw.arg == "group_name"  # type: ignore[attr-defined]
    )
    assert f"{group}__mypyc" == engine_package.RUNTIME_LIBRARY


def test_the_build_in_use_is_reported() -> None:
    which = _run(["-c", "import hitl_console.engine as p, hitl_console.engine.engine as e; print(p.BUILD, e.__file__)"], pure=True)
    build, path = which.stdout.split()
    assert build == "pure" and path.endswith("engine.py")
    assert engine_package.BUILD in ("compiled", "pure")
    if engine_package.BUILD == "compiled":
        from hitl_console.engine import engine as module

        assert not module.__file__.endswith(".py")
    assert f"engine: {engine_package.BUILD}" in _run(["-m", "hitl_console", "--version"], pure=False).stdout


@pytest.mark.skipif(os.environ.get("HITL_CONSOLE_PURE", "") not in ("", "0"), reason="HITL_CONSOLE_PURE asks for the Python source")
@pytest.mark.skipif(not (shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")), reason="no C compiler here")
def test_a_machine_with_a_c_compiler_runs_the_compiled_engine() -> None:
    """Where a compiler is at hand (CI), the install must have compiled the engine:
    a type error mypyc refuses or a broken build would otherwise only show as a
    slower benchmark."""
    assert engine_package.BUILD == "compiled", (
        "the engine runs from its Python source: install again ('pip install -e .[test]') to compile it, "
        "read the install's output for why it was not compiled, or set HITL_CONSOLE_PURE=1 to test the source on purpose"
    )


def test_an_engine_source_edited_after_the_build_is_noticed(tmp_path: Path) -> None:
    compiled = {}
    for name in ("engine", "state"):
        extension = tmp_path / f"{name}.so"
        extension.write_bytes(b"")
        (tmp_path / f"{name}.py").write_text("", encoding="utf-8")
        os.utime(extension, (1_000_000, 1_000_000))
        compiled[name] = extension
    os.utime(tmp_path / "engine.py", (1_000_000 + 3600, 1_000_000 + 3600))  # edited an hour later
    os.utime(tmp_path / "state.py", (1_000_000 - 5, 1_000_000 - 5))  # older than its build
    assert _edited_since_build(compiled, tmp_path) == ["engine.py"]


@pytest.mark.slow
def test_compiled_and_pure_engines_give_the_same_analysis() -> None:
    args = ["-m", "hitl_console", "analyze", *map(str, SAMPLES), "--json"]
    pure, default = _run(args, pure=True), _run(args, pure=False)
    assert pure.returncode == default.returncode == 0, pure.stderr + default.stderr
    assert pure.stdout.count("\n") > 200 and pure.stdout == default.stdout


@pytest.mark.slow
def test_the_engine_tests_pass_on_the_other_build() -> None:
    """The suite runs on the build installed (compiled where a compiler was at
    hand); the engine's own tests run once more on the Python source."""
    tests = ["tests/test_engine.py", "tests/test_triggers.py", "tests/test_sentiment.py"]
    run = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-x", *tests], pure=True, timeout=280)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
