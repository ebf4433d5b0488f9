"""``hitl-console analyze`` end to end through the CLI, and the recording reader."""

from __future__ import annotations

import gzip
import json

import msgpack
import pytest

from hitl_console.cli import main
from hitl_console.feeds.recording import RecordingError, read_recording, read_recordings

KINDS = {"low_confidence", "high_stakes", "sentiment", "loop", "human_request", "ai_request"}


def events_a() -> list[dict]:
    return [
        {"v": 1, "type": "conversation.started", "seq": 1, "ts": 100.0, "conversation_id": "c-1042", "channel": "chat",
         "queue": "billing", "customer": {"id": "u-77", "tier": "gold", "open_complaints": 1}, "handled_by": "ai"},
        {"v": 1, "type": "message", "seq": 2, "ts": 104.2, "conversation_id": "c-1042", "role": "customer",
         "text": "I was charged twice for order 5531", "topics": ["billing"]},
        {"v": 1, "type": "message", "seq": 3, "ts": 106.9, "conversation_id": "c-1042", "role": "ai",
         "text": "I can see one charge of $84.20 on order 5531.", "confidence": 0.41},
        {"v": 1, "type": "heartbeat", "ts": 107.0},
        {"v": 1, "type": "message", "seq": 5, "ts": 110.0, "conversation_id": "c-1042", "role": "customer",
         "text": "Useless. I want to talk to a real person now!", "sentiment": -0.6},
        {"v": 1, "type": "human.joined", "seq": 6, "ts": 130.0, "conversation_id": "c-1042", "agent": "dana"},
        {"v": 1, "type": "conversation.ended", "seq": 7, "ts": 200.0, "conversation_id": "c-1042", "outcome": "resolved",
         "resolved_by": "human", "csat": 4},
    ]


def events_b() -> list[dict]:
    return [
        {"v": 1, "type": "conversation.started", "seq": 1, "ts": 101.0, "conversation_id": "c-7", "channel": "voice",
         "queue": "tech", "customer": {"id": "u-1"}, "handled_by": "ai"},
        {"v": 1, "type": "message", "seq": 2, "ts": 102.0, "conversation_id": "c-7", "role": "customer",
         "text": "How do I reset my router?", "sentiment": 0.1},
        {"v": 1, "type": "message", "seq": 3, "ts": 103.0, "conversation_id": "c-7", "role": "ai",
         "text": "Hold the reset button for ten seconds.", "confidence": 0.93},
        {"v": 1, "type": "message", "seq": 4, "ts": 105.0, "conversation_id": "c-7", "role": "bogus", "text": "?"},
        {"v": 1, "type": "telemetry.future", "seq": 5, "ts": 105.5, "conversation_id": "c-7"},
        {"v": 1, "type": "conversation.ended", "seq": 6, "ts": 150.0, "conversation_id": "c-7", "outcome": "resolved",
         "resolved_by": "ai"},
    ]


def write_jsonl(path, events, bad_line: bool = False) -> None:
    lines = [json.dumps(e) for e in events]
    if bad_line:
        lines.insert(2, "{not json")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_msgpack_gz(path, events) -> None:
    with gzip.open(path, "wb") as f:
        for e in events:
            f.write(msgpack.packb(e))


def test_analyze_json_end_to_end(tmp_path, capsys):
    a = tmp_path / "a.jsonl"
    b = tmp_path / "b.msgpack.gz"
    write_jsonl(a, events_a(), bad_line=True)
    write_msgpack_gz(b, events_b())
    assert main(["analyze", str(a), str(b), "--json"]) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert [r["conversation_id"] for r in lines] == ["c-1042", "c-7"]  # merged by time
    first, second = lines
    # The learned sentiment reads "I was charged twice" as an upset customer (-0.56) at once.
    assert [t["kind"] for t in first["triggers"]] == ["sentiment", "low_confidence", "human_request"]
    assert [t["seq"] for t in first["triggers"]] == [2, 3, 5]
    assert all(t["kind"] in KINDS and t["reason"] for t in first["triggers"])
    assert set(first["triggers"][0]) == {"kind", "seq", "reason"}
    assert first["escalated_at_seq"] == 5 and first["escalation_turns"] == 3
    assert 0 < first["risk"] <= 1 and first["outcome"] == "resolved" and first["csat"] == 4
    assert first["handoff"]["need"] == "I was charged twice for order 5531"
    assert first["handoff"]["customer"]["tier"] == "gold"
    assert second["triggers"] == [] and second["escalated_at_seq"] is None and second["risk"] < 0.2
    assert "warning" in err and "2 rejected frame(s)" in err and "malformed JSON" in err


def test_analyze_table(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    a = tmp_path / "a.jsonl"
    write_jsonl(a, events_a())
    assert main(["analyze", str(a)]) == 0
    out, err = capsys.readouterr()
    assert "c-1042" in out and "sentiment, low confidence, customer asked for a human" in out
    assert "1 conversations, 1 escalated (100%)" in out
    assert "lowconf" not in out and "Triggers:" not in out  # no private abbreviations to decode
    assert err == ""


def test_analyze_table_at_80_columns_keeps_each_trigger_name_whole(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    a = tmp_path / "a.jsonl"
    write_jsonl(a, events_a())
    assert main(["analyze", str(a)]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    lines = out.splitlines()
    at = next(line for line in lines if "triggers" in line).index("triggers")
    cells = [line[at:].strip() for line in lines if line.strip().startswith("c-") or line[:at].strip() == ""]
    # one name a line when they do not fit on one: none is cut in two by wrapping
    for name in ("low confidence", "sentiment", "customer asked for a human"):
        assert name in cells


def test_analyze_table_puts_the_highest_risk_first_and_json_keeps_start_order(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    calm = [dict(e, ts=e["ts"] - 60) for e in events_b()]  # starts first, stays calm
    write_jsonl(tmp_path / "a.jsonl", events_a())
    write_jsonl(tmp_path / "b.jsonl", calm)
    files = [str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]
    assert main(["analyze", *files, "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["conversation_id"] for r in records] == ["c-7", "c-1042"]  # start order, as before
    risks = {r["conversation_id"]: r["risk"] for r in records}
    assert risks["c-1042"] > risks["c-7"]
    assert main(["analyze", *files]) == 0
    lines = capsys.readouterr().out.splitlines()
    ids = [line.split()[0] for line in lines if line.strip().startswith("c-")]
    assert ids == ["c-1042", "c-7"]
    shown = {line.split()[0]: float(line.split()[1]) for line in lines if line.strip().startswith("c-")}
    assert shown["c-1042"] == round(risks["c-1042"], 2) and shown["c-7"] == round(risks["c-7"], 2)


def test_analyze_missing_file(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "nope.jsonl"), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "nope.jsonl: no such file" in err


def test_analyze_bad_config(tmp_path, capsys):
    a = tmp_path / "a.jsonl"
    write_jsonl(a, events_a())
    cfg = tmp_path / "c.toml"
    cfg.write_text("[thresholds]\nlow_confidance = 0.3\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", str(a), "--config", str(cfg)])
    assert exit_info.value.code == 2
    assert "low_confidance" in capsys.readouterr().err


def test_analyze_uses_config_thresholds(tmp_path, capsys):
    a = tmp_path / "a.jsonl"
    write_jsonl(a, events_a())
    cfg = tmp_path / "c.toml"
    cfg.write_text("[thresholds]\nlow_confidence = 0.3\n", encoding="utf-8")
    assert main(["analyze", str(a), "--config", str(cfg), "--json"]) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[0])
    assert "low_confidence" not in [t["kind"] for t in record["triggers"]]


def test_read_recording_formats_and_errors(tmp_path):
    p = tmp_path / "x.msgpack"
    p.write_bytes(b"".join(msgpack.packb(e) for e in events_b()) + b"\xc1\xc1")  # corrupt tail
    rec = read_recording(p)
    assert [e.seq for e in rec.events] == [1, 2, 3, 6]
    assert rec.unknown == 1
    assert len(rec.rejected) == 2 and rec.rejected[-1].reason.startswith("malformed MessagePack")
    with pytest.raises(RecordingError, match="no such file"):
        read_recording(tmp_path / "missing.msgpack")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(RecordingError, match="unsupported recording format"):
        read_recording(tmp_path / "x.txt")
    gz = tmp_path / "y.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as f:
        f.write("\n".join(json.dumps(e) for e in events_a()))
    merged = read_recordings([gz, p])
    ts = [e.ts for e in merged.events]
    assert ts == sorted(ts) and merged.heartbeats == 1 and len(merged.paths) == 2


def test_several_recordings_merge_by_time_even_when_times_tie(tmp_path) -> None:
    """Two files with events at the same instants: merged by time, file order on ties,
    and never a comparison of the events themselves (which are not orderable)."""
    import json

    from hitl_console.feeds.recording import read_recordings

    def write(name: str, cid: str) -> str:
        path = tmp_path / name
        lines = [
            {"v": 1, "type": "conversation.started", "seq": 1, "ts": 10.0, "conversation_id": cid, "channel": "chat",
             "queue": "billing", "customer": {"id": cid}, "handled_by": "ai"},
            {"v": 1, "type": "message", "seq": 2, "ts": 11.0, "conversation_id": cid, "role": "customer", "text": "hello"},
        ]
        path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        return str(path)

    merged = read_recordings([write("a.jsonl", "c-a"), write("b.jsonl", "c-b")])
    assert [(e.ts, e.conversation_id) for e in merged.events] == [(10.0, "c-a"), (10.0, "c-b"), (11.0, "c-a"), (11.0, "c-b")]


PREVIOUS_KEYS = {"conversation_id", "triggers", "escalated_at_seq", "escalation_turns", "time_to_escalation", "risk",
                 "final_risk", "holder", "outcome", "csat", "routing_flags", "turns", "handoff"}
"""The ``--json`` keys before ``scorers`` was added: they stay, unchanged."""


def test_analyze_says_which_scorers_ran(tmp_path, capsys):
    a = tmp_path / "a.jsonl"
    write_jsonl(a, events_a())
    cfg = tmp_path / "c.toml"
    cfg.write_text('[signals]\nloop = "model"\nhigh_stakes = "rules"\n', encoding="utf-8")
    assert main(["analyze", str(a), "--json"]) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[0])
    assert set(record) - {"scorers"} == PREVIOUS_KEYS  # a field added, none changed
    assert record["scorers"] == {"human_request": "model", "high_stakes": "model", "sentiment": "model", "loop": "rules"}
    assert main(["analyze", str(a), "--json", "--config", str(cfg)]) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[0])
    assert record["scorers"]["loop"] == "model" and record["scorers"]["high_stakes"] == "rules"
    assert main(["analyze", str(a), "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "scorers: human_request=model, high_stakes=rules, sentiment=model, loop=model"


def test_version_says_which_scorers_run(tmp_path, monkeypatch, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("hitl-console ") and "(engine: " in out
    assert "scorers: human_request=model, high_stakes=model, sentiment=model, loop=rules" in out
    cfg = tmp_path / "c.toml"
    cfg.write_text('[signals]\nsentiment = "rules"\n', encoding="utf-8")
    monkeypatch.setenv("HITL_CONSOLE_CONFIG", str(cfg))
    with pytest.raises(SystemExit):
        main(["--version"])
    assert "sentiment=rules" in capsys.readouterr().out
    cfg.write_text("[signals\nbroken", encoding="utf-8")  # --version answers even so
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and "scorers: human_request=model" in capsys.readouterr().out
