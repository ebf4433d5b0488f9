"""Headless commands stream: files are read as the replay goes, and a conversation
leaves memory once it is over, its record built then, in start order."""

from __future__ import annotations

import gzip
import json
import os
import threading
import zlib

import pytest

from hitl_console.cli import main
from hitl_console.config import Config, Thresholds
from hitl_console.engine.engine import SignalEngine
from hitl_console.engine.replay import LINGER_S, replay_events
from hitl_console.feeds.recording import RecordingError, RecordingStats, read_events, read_recording


def conversation(cid: str, t0: float, seq0: int, *, end: bool = True, scorecard: bool = False) -> list[dict]:
    events = [
        {"v": 1, "type": "conversation.started", "seq": seq0, "ts": t0, "conversation_id": cid, "channel": "chat",
         "queue": "billing", "customer": {"id": cid}, "handled_by": "ai"},
        {"v": 1, "type": "message", "seq": seq0 + 1, "ts": t0 + 1, "conversation_id": cid, "role": "customer",
         "text": "my order never arrived"},
        {"v": 1, "type": "message", "seq": seq0 + 2, "ts": t0 + 2, "conversation_id": cid, "role": "ai",
         "text": "I am sorry, let me look.", "confidence": 0.9},
    ]
    if end:
        events.append({"v": 1, "type": "conversation.ended", "seq": seq0 + 3, "ts": t0 + 3, "conversation_id": cid,
                       "outcome": "resolved", "resolved_by": "ai"})
    if scorecard:
        events.append({"v": 1, "type": "scorecard", "seq": seq0 + 4, "ts": t0 + 60, "conversation_id": cid,
                       "overall": 0.9, "criteria": {"accuracy": 0.9}})
    return events


def floor(n: int, gap: float = 100.0) -> list[dict]:
    events: list[dict] = []
    for i in range(n):
        events += conversation(f"c-{i}", 1000.0 + i * gap, i * 10 + 1)
    events.sort(key=lambda e: e["ts"])
    return events


def test_a_gz_recording_is_read_as_it_is_written():
    """The first events come out while the rest of the file does not exist yet:
    the reader does not load the file first (a FIFO stands in for a huge file)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "live.jsonl.gz")
        os.mkfifo(path)
        first_seen = threading.Event()
        events = floor(200)

        def writer() -> None:
            packer = zlib.compressobj(wbits=31)
            with open(path, "wb") as fifo:
                head = "".join(json.dumps(e) + "\n" for e in events[:100]).encode()
                fifo.write(packer.compress(head) + packer.flush(zlib.Z_SYNC_FLUSH))
                fifo.flush()
                first_seen.wait(10)  # the rest is written only once the reader has yielded
                tail = "".join(json.dumps(e) + "\n" for e in events[100:]).encode()
                fifo.write(packer.compress(tail) + packer.flush())

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        stats = RecordingStats()
        stream = read_events([path], stats)
        first = next(stream)
        assert first.seq == 1 and not thread.join(0) and thread.is_alive()
        first_seen.set()
        rest = list(stream)
        thread.join(10)
        assert 1 + len(rest) == len(events) and stats.events == len(events) and stats.rejected_count == 0


def test_conversations_leave_the_engine_once_over_and_come_out_in_start_order():
    events = floor(300)  # one conversation every 100 s, each over in 3 s
    # c-1 starts second but never ends: it is closed as abandoned, and the ones
    # that start after it wait for it, so the order stays the start order
    events = [e for e in events if not (e["conversation_id"] == "c-1" and e["type"] == "conversation.ended")]
    recording = read_recording_from(events)
    engine = SignalEngine(Config(thresholds=Thresholds(abandoned_after_seconds=3600)))
    seen: list[str] = []
    still_in = []
    most = 0

    class Sink:
        def opened(self, key: str) -> None:
            nonlocal most
            most = max(most, len(engine.conversations))

        def closed(self, state) -> None:
            if state.conversation_id in engine.conversations:
                still_in.append(state.conversation_id)  # handed over at the end of the recording
            seen.append(state.conversation_id)

    replay_events(engine, recording, sink=Sink())
    # held in memory: the conversations of LINGER_S plus the abandoned one, not 300
    assert most <= LINGER_S / 100 + 3
    assert sorted(seen) == sorted(f"c-{i}" for i in range(300)) and len(seen) == 300
    assert seen[:3] == ["c-0", "c-2", "c-3"] and "c-1" in seen  # each handed over when final
    assert still_in == [f"c-{i}" for i in range(290, 300)]  # those that ended in the last LINGER_S
    assert engine.conversations["c-299"].ended and engine.tick(1e12) == []


def read_recording_from(events: list[dict]):
    from hitl_console.protocol.events import event_adapter

    return [event_adapter.validate_python(e) for e in events]


def test_analyze_json_keeps_start_order_and_late_scorecards(tmp_path, capsys):
    events: list[dict] = []
    events += conversation("c-a", 1000.0, 1, end=False)  # never ends: closed as abandoned after an hour
    events += conversation("c-b", 1010.0, 10, scorecard=True)  # ends first; its scorecard comes 60 s later
    events += conversation("c-c", 9000.0, 20)
    events.sort(key=lambda e: e["ts"])
    path = tmp_path / "r.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("".join(json.dumps(e) + "\n" for e in events))
    assert main(["analyze", str(path), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["conversation_id"] for r in records] == ["c-a", "c-b", "c-c"]
    a, b, c = records
    assert a["outcome"] == "abandoned" and a["timed_out"] is True and a["holder"] == "ended"
    assert "timed_out" not in b and b["outcome"] == "resolved"
    assert main(["analyze", str(path), "--json", "--no-handoff"]) == 0
    lean = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all("handoff" not in r for r in lean)
    assert [{k: v for k, v in r.items() if k != "handoff"} for r in records] == lean


def test_one_reader_for_replay_and_headless(tmp_path):
    """``.json`` recordings and a truncated ``.gz`` are treated alike by the file
    feed and the headless commands: everything readable, then the break reported."""
    from hitl_console.feeds.file import FileSource

    events = floor(3)
    plain = tmp_path / "x.json"
    plain.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    assert FileSource(plain).format == "jsonl"
    assert len(read_recording(plain).events) == len(events)
    data = gzip.compress("".join(json.dumps(e) + "\n" for e in events).encode())
    broken = tmp_path / "y.jsonl.gz"
    broken.write_bytes(data[: len(data) - 30])
    stats = RecordingStats()
    got = list(read_events([broken], stats))
    assert 0 < len(got) < len(events)
    assert stats.rejected_count == 1 and "truncated" in stats.rejected[0].reason
    with pytest.raises(RecordingError, match="no such file"):
        read_events([plain, tmp_path / "missing.jsonl"])


def test_an_out_of_order_event_is_counted_not_lost(tmp_path, capsys):
    events = floor(2)
    events[2], events[3] = events[3], events[2]
    path = tmp_path / "z.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    stats = RecordingStats()
    assert len(list(read_events([path], stats))) == len(events) and stats.out_of_order == 1
