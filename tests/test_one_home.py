"""Ideas that lived in two places and now live in one (issue 12): the words for a
high-stakes category, the "journal or recordings" choice of ``report`` and
``calibrate`` with its missing-input messages, and "false means off, true is
refused" for an optional number in the config. Real engine, real processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from feedserver import make_events
from hostile_support import run_cli

from hitl_console.config import ConfigError, parse_config
from hitl_console.engine.highstakes import CATEGORY_LABELS, HighStakesDetector
from hitl_console.engine.scorers import RuleHighStakes

TEXT = "someone stole my card and made an unauthorised charge, this is fraud"


def test_the_finding_and_the_scorer_word_a_category_alike() -> None:
    config = parse_config({})
    detector = HighStakesDetector(config.thresholds, config.topics)
    lower = TEXT.lower()
    words = lower.replace(",", " ").split()
    finding = detector.check_text(TEXT, lower, words, keywords=True)
    signal = RuleHighStakes(detector).score(TEXT, lower, words, True)
    assert finding is not None and signal is not None
    assert signal.label == CATEGORY_LABELS[finding.category] and finding.reason().startswith(signal.label + ": ")


@pytest.mark.parametrize("command", ["report", "calibrate"])
def test_report_and_calibrate_choose_and_word_a_missing_input_alike(tmp_path: Path, command: str) -> None:
    data = tmp_path / "data"
    missing_journal = run_cli([command, "--journal", str(tmp_path / "absent.sqlite3")], data)
    assert missing_journal.returncode == 1
    assert missing_journal.stderr == f"hitl-console: no journal at {tmp_path / 'absent.sqlite3'} (give recordings, or --journal FILE)\n"
    missing_file = run_cli([command, str(tmp_path / "gone.jsonl")], data)
    assert missing_file.returncode == 1 and missing_file.stderr == f"hitl-console: {tmp_path / 'gone.jsonl'}: no such file\n"
    recording = tmp_path / "r.jsonl"
    recording.write_text("".join(json.dumps(e) + "\n" for e in make_events(6)))
    done = run_cli([command, str(recording)], data)
    assert "Traceback" not in done.stderr and done.returncode in (0, 1), done.stderr  # calibrate: 1 = nothing to recommend
    assert done.stdout.strip(), done.stderr


@pytest.mark.parametrize(
    ("section", "key"), [("thresholds", "abandoned_after_seconds"), ("routing", "max_open_complaints"), ("routing", "min_lifetime_value")]
)
def test_false_means_off_and_true_is_refused_for_every_optional_number(section: str, key: str) -> None:
    assert getattr(getattr(parse_config({section: {key: False}}), section), key) is None
    with pytest.raises(ConfigError, match=rf"{section}\.{key}"):
        parse_config({section: {key: True}})
