"""``analyze --json`` and ``report --format json`` are read on terminals too: JSON
escapes only C0 controls, so an 8-bit CSI (U+009B) or a bidi override (U+202E)
in customer text went out raw (issue 9, hostile tester). Real processes on a
recording whose every string holds them; the JSON must still parse back to the
exact text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile_support import MARK, hostile_events, run_cli

pytestmark = pytest.mark.slow

UNSAFE = ("\x9b", "\u202e", "\u200b", "\x7f")


def _recording(path: Path) -> Path:
    events = hostile_events(MARK + "\x7f")
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    return path


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.mark.parametrize("args", [["analyze", "{r}", "--json"], ["report", "{r}", "--format", "json"]], ids=["analyze", "report"])
def test_json_output_escapes_c1_controls_and_bidi_overrides(tmp_path: Path, args: list[str]) -> None:
    recording = _recording(tmp_path / "hostile.jsonl")
    done = run_cli([a.replace("{r}", str(recording)) for a in args], tmp_path / "data")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-800:]
    for ch in UNSAFE:
        assert ch not in done.stdout, f"{ch!r} raw in {done.stdout[max(0, done.stdout.find(ch) - 80):done.stdout.find(ch) + 10]!r}"
    assert "\\u009b" in done.stdout and "\\u202e" in done.stdout
    documents = [json.loads(line) for line in done.stdout.splitlines() if line.strip()] if args[0] == "analyze" else [json.loads(done.stdout)]
    decoded = [s for d in documents for s in _strings(d)]
    assert any("\u202e" in s and "\x9b" in s for s in decoded), "the escaped text no longer decodes to what the customer sent"
