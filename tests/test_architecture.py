"""The core never imports the UI.

Two independent checks, because each catches what the other misses:
import-linter reads the static import graph (including imports inside
functions that no test happens to run), and the subprocess check catches
dynamic imports and third-party packages that pull Textual in behind our
back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "hitl_console"

UI_ENTRY_POINTS = frozenset({"hitl_console.commands.console"})
"""Modules whose job is to start the Textual app; they may import it."""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _core_modules() -> list[str]:
    """Every module of the package outside ``hitl_console/tui`` (found on disk,
    so that a new module is covered without editing this test)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        parts = list(relative.parts)
        if parts[:2] == ["hitl_console", "tui"]:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if name not in UI_ENTRY_POINTS and name != "hitl_console.__main__":
            names.append(name)
    return names


def _lint_imports() -> Path:
    candidate = Path(sys.executable).parent / "lint-imports"
    return candidate if candidate.exists() else Path("lint-imports")


def _importlinter_config(tmp_path: Path) -> Path:
    """The contracts of ``pyproject.toml`` as an INI file for ``lint-imports --config``.

    Forbidding third-party modules (``textual``) needs
    ``include_external_packages``; it is forced on here so that the contract
    is checked whether or not pyproject.toml spells it out (without it,
    import-linter refuses to run at all).
    """
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    lines = ["[importlinter]", f"root_package = {settings['root_package']}", "include_external_packages = True", ""]
    for index, contract in enumerate(settings["contracts"], start=1):
        lines.append(f"[importlinter:contract:{index}]")
        for key, value in contract.items():
            if isinstance(value, list):
                lines.append(f"{key} =")
                lines.extend(f"    {item}" for item in value)
            else:
                lines.append(f"{key} = {value}")
        lines.append("")
    path = tmp_path / "importlinter.ini"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_import_linter_contracts_hold(tmp_path: Path) -> None:
    config = _importlinter_config(tmp_path)
    result = subprocess.run(
        [str(_lint_imports()), "--config", str(config), "--no-cache", "--no-logo"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "The engine never imports the UI KEPT" in report
    assert "Layers: each layer imports only the ones below it KEPT" in report
    assert "0 broken" in report


def test_importing_every_core_module_does_not_load_textual() -> None:
    modules = _core_modules()
    assert "hitl_console.store.journal" in modules and "hitl_console.session.lifecycle" in modules
    script = (
        "import importlib, json, sys\n"
        f"modules = {modules!r}\n"
        "failed = {}\n"
        "for name in modules:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as error:\n"
        "        failed[name] = f'{type(error).__name__}: {error}'\n"
        "ui = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'textual_plotext') or m.startswith('hitl_console.tui'))\n"
        "print(json.dumps({'failed': failed, 'ui': ui}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["failed"] == {}, outcome["failed"]
    assert outcome["ui"] == [], f"core modules pulled in the UI: {outcome['ui'][:10]}"


def test_schema_subcommand_does_not_load_textual() -> None:
    """``hitl-console schema`` runs on CI boxes and in feed teams' pipelines:
    it must not pay for (or depend on) the UI."""
    script = (
        "import sys\n"
        "from hitl_console.cli import main\n"
        "import io, contextlib\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['schema']) == 0\n"
        "print('textual' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
