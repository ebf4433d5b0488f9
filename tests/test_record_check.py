"""``hitl-console record`` and ``check-feed`` end to end, through ``cli.main``."""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path

import msgpack
import pytest

from feedserver import HttpFeedServer, WsFeedServer, make_events
from hitl_console.cli import main
from hitl_console.feeds.file import iter_records

TOKEN = "rec-token-abcdef"


def cli(*argv: str) -> int:
    """``main`` in a worker thread: the commands run their own event loop."""
    return main(list(argv))


async def run_cli(*argv: str) -> int:
    return await asyncio.wait_for(asyncio.to_thread(cli, *argv), 20)


def seqs(path: Path) -> list[int]:
    return [r.obj["seq"] for r in iter_records(path) if r.obj is not None]


@pytest.mark.slow
async def test_record_ws_stops_after_max_events(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FEED_TOKEN", TOKEN)
    out = tmp_path / "rec.jsonl"
    async with WsFeedServer(make_events(20), token=TOKEN, drop_after=[6], resend=2) as server:
        server.raw_frames = ["{bad json"]
        status = await run_cli("record", "--feed", server.url, "-o", str(out), "--max-events", "12", "--token-env", "FEED_TOKEN")
    assert status == 0
    assert seqs(out) == list(range(1, 13))
    first = json.loads(out.read_text().splitlines()[0])
    assert first["type"] == "conversation.started" and first["customer"] == {"id": "u-77", "tier": "gold"}
    err = capsys.readouterr().err
    assert "12 events written" in err and "2 rejected" in err  # the bad frame, once per connection and "2 duplicates" in err
    assert TOKEN not in err


@pytest.mark.slow
async def test_record_http_sse_to_msgpack_gz_until_idle(tmp_path, capsys):
    out = tmp_path / "rec.msgpack.gz"
    async with HttpFeedServer(make_events(9), mode="sse") as server:
        status = await run_cli("record", "--feed", server.url, "-o", str(out), "--idle-exit", "0.4", "--since", "3")
        assert server.connections[0].since == 3
    assert status == 0
    assert seqs(out) == list(range(4, 10))
    records = list(msgpack.Unpacker(gzip.open(out), raw=False))
    assert records[0]["seq"] == 4 and records[0]["v"] == 1
    assert "6 events written" in capsys.readouterr().err


def test_record_from_a_file_cleans_it(tmp_path, capsys):
    source = tmp_path / "dirty.jsonl"
    lines = [json.dumps(e) for e in make_events(5)]
    lines.insert(2, "garbage")
    lines.append(lines[1])  # a duplicate
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "clean.jsonl.gz"
    assert cli("record", "--feed", str(source), "-o", str(out)) == 0
    assert seqs(out) == [1, 2, 3, 4, 5]
    err = capsys.readouterr().err
    assert "5 events written" in err and "1 rejected" in err and "1 duplicates" in err


def test_record_refuses_bad_arguments(tmp_path, capsys):
    good = tmp_path / "in.jsonl"
    good.write_text(json.dumps(make_events(1)[0]) + "\n")
    assert cli("record", "--feed", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o.jsonl")) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli("record", "--feed", str(good), "-o", str(tmp_path / "o.csv")) == 2
    assert "unsupported recording format" in capsys.readouterr().err
    assert cli("record", "--feed", "gopher://h/x", "-o", str(tmp_path / "o.jsonl")) == 2
    assert "unsupported feed scheme" in capsys.readouterr().err
    assert cli("record", "--feed", str(good), "-o", str(tmp_path / "o.jsonl"), "--token-env", "NOPE_NOT_SET") == 2
    assert "NOPE_NOT_SET" in capsys.readouterr().err


def test_check_feed_clean_file_exits_0(tmp_path, capsys):
    path = tmp_path / "ok.msgpack"
    path.write_bytes(b"".join(msgpack.packb(e) for e in make_events(7)))
    assert cli("check-feed", str(path)) == 0
    out = capsys.readouterr().out
    assert "accepted 7 events" in out and "OK" in out


def test_check_feed_lists_what_it_rejected(tmp_path, capsys):
    events = make_events(6)
    events[3], events[4] = events[4], events[3]  # seq 5 before seq 4: 4 arrives out of order
    lines = [json.dumps(e) for e in events]
    lines.insert(1, '{"v":1,"type":"message","seq":"two"}')
    lines.insert(3, json.dumps({"v": 1, "type": "csat.survey", "seq": 99}))
    lines.append("\x1b[2J{not json")
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert cli("check-feed", str(path)) == 1
    out = capsys.readouterr().out
    assert "[line 2, message]" in out and "seq:" in out
    assert "[line 9]" in out and "malformed JSON" in out
    assert "csat.survey: 1" in out
    assert "seq 4 after seq 5" in out
    assert "\x1b" not in out

    assert cli("check-feed", str(path), "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["events"] == 5 and report["rejected"] == 2
    assert report["out_of_order"] == 1 and report["unknown_types"] == {"csat.survey": 1}
    assert [r["line"] for r in report["rejected_frames"]] == [2, 9]
    assert report["dropped"] == [{"kind": "out_of_order", "seq": 4, "after": 5}]


def test_check_feed_truncated_gz_is_a_problem_after_reading(tmp_path, capsys):
    path = tmp_path / "cut.jsonl.gz"
    data = gzip.compress(("\n".join(json.dumps(e) for e in make_events(300)) + "\n").encode())
    path.write_bytes(data[: len(data) // 2])
    assert cli("check-feed", str(path), "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["state"] == "failed" and "truncated" in report["detail"] and report["events"] > 10


def test_check_feed_cannot_check_exits_2(tmp_path, capsys):
    assert cli("check-feed", str(tmp_path / "gone.jsonl")) == 2
    assert "gone.jsonl: no such file" in capsys.readouterr().err
    assert cli("check-feed", "mailto:someone") == 2
    assert cli("check-feed", "ftp://h/x") == 2
    assert "unsupported" in capsys.readouterr().err


@pytest.mark.slow
async def test_check_feed_live_ws_and_refused_token(capsys, monkeypatch):
    monkeypatch.setenv("FEED_TOKEN", TOKEN)
    async with WsFeedServer(make_events(5), token=TOKEN, binary=True, batch=2) as server:
        assert await run_cli("check-feed", server.url, "--timeout", "0.5", "--token-env", "FEED_TOKEN", "--json") == 0
        report = json.loads(capsys.readouterr().out)
        assert report["events"] == 5 and report["ok"] is True
        monkeypatch.setenv("FEED_TOKEN", "wrong-one")
        assert await run_cli("check-feed", server.url, "--timeout", "2", "--token-env", "FEED_TOKEN") == 2
        err = capsys.readouterr().err
        assert "401" in err and "wrong-one" not in err


@pytest.mark.slow
async def test_check_feed_unreachable_live_feed_exits_2(capsys):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert await run_cli("check-feed", f"http://127.0.0.1:{port}", "--timeout", "0.5") == 2
    assert "could not read" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
async def test_record_stopped_by_a_signal_finishes_the_file_and_prints_the_summary(tmp_path, signame):
    """``kill`` (a service manager) and a closed SSH session end a recording
    like Ctrl-C: a complete ``.gz`` and the summary, not a truncated file."""
    import os
    import signal
    import sys

    out = tmp_path / "rec.jsonl.gz"
    async with WsFeedServer(make_events(20)) as server:  # sends 20, then stays open
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hitl_console.cli", "record", "--feed", server.url, "-o", str(out),
            stderr=asyncio.subprocess.PIPE, env={**os.environ, "HITL_CONSOLE_DATA_DIR": str(tmp_path / "data")},
        )
        try:
            for _ in range(200):  # bounded: the recorder flushes every second
                if len(server.connections) and out.exists() and out.stat().st_size > 0:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.3)
            process.send_signal(getattr(signal, signame))
            _, err = await asyncio.wait_for(process.communicate(), 15)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0
    assert "20 events written" in err.decode()
    assert seqs(out) == list(range(1, 21))  # the gzip stream is complete: every record reads back


@pytest.mark.parametrize("text", [
    "\n".join(json.dumps(e) for e in make_events(40)) + "\n",  # JSON lines under the wrong name
    "hello, this is a text file\nnot MessagePack at all\n" * 20,
])
def test_check_feed_on_text_named_msgpack_says_so_once(tmp_path, capsys, text):
    path = tmp_path / "rec.msgpack"
    path.write_text(text, encoding="utf-8")
    assert cli("check-feed", str(path)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("holds text") == 1 and err.count("\n") == 1  # one line, not one per byte
    assert "rec.msgpack: named as MessagePack but holds text" in err
    if text.startswith("{"):
        assert "name it .jsonl" in err
    assert "not a JSON object" not in err


def test_check_feed_never_prints_last_seq_none(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"v":1,"type":"message","seq":"two"}\n{not json\n')
    assert cli("check-feed", str(path)) == 1
    out = capsys.readouterr().out
    assert "accepted 0 events, rejected 2" in out
    assert "None" not in out and "last seq" not in out
    path.write_text("\n".join(json.dumps(e) for e in make_events(3)) + "\n")
    assert cli("check-feed", str(path)) == 0
    assert "accepted 3 events (last seq 3)" in capsys.readouterr().out


def test_check_feed_shows_a_msgpack_frames_excerpt_as_json(tmp_path, capsys):
    bad = {"v": 1, "type": "message", "seq": "two", "ok": True, "note": None}
    path = tmp_path / "bad.msgpack"
    path.write_bytes(b"".join(msgpack.packb(e) for e in [*make_events(2), bad]))
    assert cli("check-feed", str(path)) == 1
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("[line 3"))
    assert json.loads(lines[at + 1].strip()) == bad  # JSON (true, null, double quotes), not a Python repr
    assert cli("check-feed", str(path), "--json") == 1
    assert json.loads(json.loads(capsys.readouterr().out)["rejected_frames"][0]["excerpt"]) == bad


@pytest.mark.slow
async def test_check_feed_reports_each_connection_drop_of_a_live_feed(capsys):
    async with WsFeedServer(make_events(10), drop_after=[3, 3]) as server:
        assert await run_cli("check-feed", server.url, "--timeout", "4") == 0
        out = capsys.readouterr().out
        assert len(server.connections) == 3
    assert "accepted 10 events (last seq 10)" in out
    assert "connection: dropped 2 time(s)" in out
    drops = [line for line in out.splitlines() if line.strip().startswith("after ")]
    assert len(drops) == 2 and all(" s: " in line for line in drops)
    async with WsFeedServer(make_events(10), drop_after=[4]) as server:
        assert await run_cli("check-feed", server.url, "--timeout", "3", "--json") == 0
        report = json.loads(capsys.readouterr().out)
    assert report["events"] == 10 and report["reconnects"] == 1
    assert len(report["drops"]) == 1 and report["drops"][0]["reason"] and report["drops"][0]["after_s"] >= 0
    async with WsFeedServer(make_events(3)) as server:
        assert await run_cli("check-feed", server.url, "--timeout", "0.5") == 0
        assert "connection: no drops" in capsys.readouterr().out
