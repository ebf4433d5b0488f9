"""scripts/screenshots.py, which draws the README's pictures, still works:
one picture on the demo, into a temp dir, with the floor on it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "screenshots.py"


def test_the_floor_picture(tmp_path: Path, monkeypatch) -> None:
    spec = importlib.util.spec_from_file_location("screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setenv("TZ", "UTC")
    assert script.main(["--out", str(tmp_path), "--only", "floor-80x24", "--speed", "20"]) == 0
    svg = (tmp_path / "floor-80x24.svg").read_text()
    assert svg.startswith("<svg") and "Conv." in svg.replace("&#160;", " ")
    assert "WAITING" in svg and "DEMO" in svg
