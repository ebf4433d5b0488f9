from __future__ import annotations

import json
from pathlib import Path

import pytest

from hitl_console.analysis import charts
from hitl_console.analysis.report import build_report, load_journal, load_recordings, render
from hitl_console.feeds.recording import read_recording
from hitl_console.cli import main
from hitl_console.store.journal import Journal
from hitl_console.store.reviews import ReviewStore

from .helpers import DATA

REC = DATA / "metrics.jsonl"


@pytest.fixture(scope="module")
def report():
    return build_report(load_recordings([REC]).values(), source="metrics.jsonl")


def test_text_has_figures_charts_and_worst(report):
    text = render(report, "text", color=False, width=100)
    assert "Escalated" in text and "20.0% of 10 ended conversations: too few to judge" in text
    assert "Escalation rate %" in text  # the chart
    assert "Containment by topic" in text and "billing" in text
    assert "Worst conversations" in text
    worst = report.worst[0]
    assert worst.conversation_id in ("c07", "c02", "c06", "c09")
    assert report.worst[0].score.overall <= report.worst[-1].score.overall
    assert "\x1b[" not in text
    assert "\x1b[" in render(report, "text", color=True)


def test_markdown_and_json(report):
    md = render(report, "md")
    assert md.startswith("# hitl-console report") and "| billing | 4 | 1 | 25.0% |" in md
    data = json.loads(render(report, "json"))
    assert data["metrics"]["escalation_rate"] == 0.2
    assert {t["kind"] for t in data["triggers"]} == {"high_stakes", "ai_request"}
    assert "┌" not in render(report, "json")  # no charts in JSON


def test_cli_over_files(capsys):
    assert main(["report", str(REC), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["conversations"] == 10
    # relative --since counts back from the newest event: only c05 started in the last 30 min
    assert main(["report", str(REC), "--since", "30m", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["conversations"] == 1
    assert main(["report", str(REC), "--since", "whenever"]) == 2
    assert main(["report", "missing.jsonl"]) == 1


def test_cli_over_journal_with_verdicts(tmp_path, capsys):
    path = tmp_path / "j.sqlite3"
    with Journal(path) as journal:
        journal.append_events("prod", read_recording(REC).events)
        store = ReviewStore(journal)
        store.record_takeover_verdict("c03", "maria", True, feed="prod")
        store.record_takeover_verdict("c07", "maria", False, feed="prod")
        store.record_takeover_verdict("c04", "zed", True, feed="demo-101010")  # another feed's c04: not counted
    assert main(["report", "--journal", str(path), "--format", "json"]) == 0
    m = json.loads(capsys.readouterr().out)["metrics"]
    assert m["conversations"] == 10 and m["escalation_accuracy"] == 0.5
    assert main(["report", "--journal", str(tmp_path / "none.sqlite3")]) == 1


def test_charts_are_strings():
    from hitl_console.analysis.metrics import TimeBucket

    text = charts.escalation_rate_chart([TimeBucket(0, 60, 0.1, 3), TimeBucket(60, 120, None, 0)], color=False)
    assert isinstance(text, str) and "Escalation rate" in text and "\x1b" not in text
    assert charts.strip_ansi("\x1b[31mx\x1b[0m  ") == "x"


def test_trend_lines_break_at_empty_buckets():
    """An empty bucket is no data: the line stops there rather than bridging it."""
    from hitl_console.analysis.metrics import TimeBucket

    trend = [TimeBucket(0, 60, 0.1, 3), TimeBucket(60, 120, 0.2, 2), TimeBucket(120, 180, None, 0),
             TimeBucket(180, 240, 0.4, 1), TimeBucket(240, 300, None, 0)]
    assert charts._runs(charts.TrendData.of(trend, 100.0).values) == [([1, 2], [10.0, 20.0]), ([4], [40.0])]
    assert charts._runs(charts.TrendData.of([TimeBucket(0, 60, None, 0)]).values) == []
    for draw in (charts.escalation_rate_chart, charts.sentiment_chart):
        assert "\x1b" not in draw(trend, color=False)


def test_report_over_the_journal_keeps_rows_within_the_configured_retention(tmp_path: Path) -> None:
    """Reading the journal must not prune with a default shorter than the config's."""
    import sqlite3
    import time

    from hitl_console.config import Config, JournalConfig
    from hitl_console.store.journal import Journal

    path = tmp_path / "j.sqlite3"
    with Journal(path, retention_days=90) as journal:
        journal.append_events("prod", read_recording(REC).events)
    old = time.time() - 45 * 86400
    with sqlite3.connect(path) as db:
        db.execute("UPDATE events SET received_at = ?", (old,))
    config = Config(journal=JournalConfig(path=path, retention_days=90))
    states = load_journal(path, config)
    assert len(states) == 10
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] > 0


def test_journal_replay_keys_a_shared_id_as_the_live_console_did() -> None:
    from hitl_console.analysis.report import replay, replay_journal
    from hitl_console.protocol.events import event_adapter

    def event(seq: int, text: str):
        return event_adapter.validate_python(
            {"type": "message", "seq": seq, "ts": 1000.0 + seq, "conversation_id": "c-1", "role": "customer", "text": text}
        )

    pairs = [("a", event(1, "from a")), ("b", event(1, "from b")), ("a", event(2, "again a"))]
    conversations = replay_journal(pairs)
    assert sorted(conversations) == ["c-1", "c-1@b"]
    assert [t.text for t in conversations["c-1@b"].turns] == ["from b"]
    assert len(replay(e for _f, e in pairs)["c-1"].turns) == 3  # no feed names: one recording, one conversation


SAMPLE = Path(__file__).resolve().parents[2] / "sample_feeds" / "demo-floor.jsonl"


def _report_through_a_pipe(*args: str, columns: str | None = None) -> str:
    """``hitl-console report`` as a person runs it into ``less`` or a file: a real pipe."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns:
        env["COLUMNS"] = columns
    proc = subprocess.run([sys.executable, "-m", "hitl_console", "report", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    return proc.stdout


@pytest.mark.parametrize("columns", [None, "80"])
def test_report_piped_keeps_every_worst_why_whole(columns) -> None:
    data = json.loads(_report_through_a_pipe(str(SAMPLE), "--format", "json"))
    text = _report_through_a_pipe(str(SAMPLE), columns=columns)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= (int(columns) if columns else 120)
    assert "…" not in text[text.index("Worst conversations"):]  # nothing cut with an ellipsis
    block = " ".join(line.strip() for line in lines[lines.index("Worst conversations (lowest score first)"):])
    for w in data["worst"]:
        why = "; ".join(w["score"]["notes"][:3])
        assert why and why in block, why
    assert any(len("; ".join(w["score"]["notes"][:3])) > 40 for w in data["worst"])  # longer than the old cut


@pytest.mark.parametrize("since", [None, 1800.0])
def test_digests_give_the_report_the_full_states_give(since):
    """The streamed report (a Digest per conversation, no turns kept) computes
    every figure as the report over whole conversation states does."""
    from hitl_console.analysis.report import digest_recordings, newest_ts
    from hitl_console.analysis.timewin import TimeWindow

    states = list(load_recordings([REC]).values())
    digests = digest_recordings([REC])
    assert [d.conversation_id for d in digests] == [s.conversation_id for s in states]
    assert newest_ts(digests) == newest_ts(states)
    start = None if since is None else newest_ts(states) - since
    full = build_report(states, window=TimeWindow(start, None), source="x").to_dict()
    slim = build_report(digests, window=TimeWindow(start, None), source="x").to_dict()
    full.pop("generated_ts"), slim.pop("generated_ts")
    assert slim == full
    assert full["metrics"]["conversations"] > 0 and full["worst"]
