"""Recording replay: formats, pace, fast mode, pause/step/progress, bad input, local control."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from pathlib import Path

import msgpack
import pytest

from feedserver import Collector, make_events, running
from hitl_console.feeds.base import ConnectionState
from hitl_console.feeds.client import FeedClient
from hitl_console.feeds.file import FileSource, RecordingWriter, iter_records, recording_format
from hitl_console.feeds.hub import FeedHub, FeedSpec, default_name, open_source
from hitl_console.protocol.decode import MAX_FRAME_BYTES
from hitl_console.protocol.events import Approve, End, Release, Send, Takeover


def write(path: Path, events: list, *, extra_lines: dict[int, str] | None = None) -> Path:
    """Write events in the format the name says; ``extra_lines`` inserts raw jsonl lines (1-based positions)."""
    kind, gz = recording_format(path)
    if kind == "jsonl":
        lines = [json.dumps(e) for e in events]
        for at, raw in sorted((extra_lines or {}).items()):
            lines.insert(at - 1, raw)
        data = ("\n".join(lines) + "\n").encode()
    else:
        data = b"".join(msgpack.packb(e) for e in events)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def file_client(path: Path, **kwargs) -> FeedClient:
    return FeedClient(FileSource(path, **kwargs), name=path.name)


@pytest.mark.parametrize("name", ["r.jsonl", "r.msgpack", "r.jsonl.gz", "r.msgpack.gz"])
async def test_every_format_replays_in_full(tmp_path, name):
    path = write(tmp_path / name, make_events(30, gap=3600.0))
    client, got = file_client(path, fast=True), Collector()
    status = await asyncio.wait_for(client.run(got.on_output, got.on_status), 10)
    assert status.state is ConnectionState.FINISHED
    assert got.seqs == list(range(1, 31))
    assert status.progress == 1.0 and status.lag_s is None
    assert ConnectionState.REPLAYING in [s.state for s in got.statuses]


async def test_bad_lines_are_rejected_with_their_line_numbers_and_the_rest_plays(tmp_path):
    events = make_events(6)
    events[4]["seq"] = 2  # a duplicate seq inside the file
    path = write(
        tmp_path / "bad.jsonl",
        events,
        extra_lines={2: "{not json", 4: json.dumps({"v": 1, "type": "message", "seq": 9, "ts": 1, "conversation_id": "c", "role": "customer", "text": 5}), 6: "[]", 7: "   "},
    )
    client, got = file_client(path, fast=True), Collector()
    status = await asyncio.wait_for(client.run(got.on_output), 10)
    assert status.state is ConnectionState.FINISHED
    assert got.seqs == [1, 2, 3, 4, 6]
    rejected = list(client.rejected)
    assert [r.line for r in rejected] == [2, 4]
    assert rejected[0].reason.startswith("malformed JSON")
    assert rejected[1].reason.startswith("text:") and rejected[1].seq == 9
    assert "line 4" in rejected[1].describe()
    assert status.duplicates == 1


async def test_oversized_line_is_refused_without_stopping(tmp_path):
    huge = json.dumps({"v": 1, "type": "message", "seq": 2, "ts": 1.0, "conversation_id": "c-1", "role": "ai", "text": "x" * (MAX_FRAME_BYTES + 10)})
    path = write(tmp_path / "huge.jsonl", make_events(3), extra_lines={2: huge})
    client, got = file_client(path, fast=True), Collector()
    await asyncio.wait_for(client.run(got.on_output), 10)
    assert got.seqs == [1, 2, 3]
    assert client.rejected[0].line == 2 and "too large" in client.rejected[0].reason


async def test_replay_follows_the_recorded_pace_times_speed(tmp_path):
    path = write(tmp_path / "paced.jsonl", make_events(5, gap=1.0))  # 4 s recorded
    client, got = file_client(path, speed=20.0), Collector()
    started = time.monotonic()
    await asyncio.wait_for(client.run(got.on_output), 10)
    elapsed = time.monotonic() - started
    assert got.seqs == [1, 2, 3, 4, 5]
    assert 0.12 <= elapsed < 3.5  # ~0.2 s: paced, far from the 4 s recorded and from instant


async def test_fast_mode_ignores_the_recorded_gaps(tmp_path):
    path = write(tmp_path / "slow.msgpack", make_events(50, gap=3600.0))  # 49 hours recorded
    client, got = file_client(path, speed=1.0, fast=True), Collector()
    await asyncio.wait_for(client.run(got.on_output), 5)
    assert len(got.events) == 50


async def test_pause_step_resume_and_progress(tmp_path):
    path = write(tmp_path / "steps.jsonl", make_events(10, gap=0.0), extra_lines={2: "{broken"})
    source = FileSource(path, fast=True)
    client, got = FeedClient(source, name="steps"), Collector()
    assert client.pause()
    async with running(client, got):
        await got.wait(lambda: client.state is ConnectionState.PAUSED)
        await asyncio.sleep(0.1)
        assert got.seqs == [] and source.progress == 0.0
        assert client.step()
        await got.wait(lambda: got.seqs == [1])
        client.step()
        await got.wait(lambda: got.seqs == [1, 2])
        await asyncio.sleep(0.1)
        assert got.seqs == [1, 2]  # exactly one event per step
        assert [r.line for r in got.rejected] == [2]  # the bad line went with the second step
        assert source.progress == pytest.approx(3 / 11)
        assert client.status.state is ConnectionState.PAUSED
        client.resume()
        await got.wait(lambda: len(got.events) == 10)
        await got.wait(lambda: client.state is ConnectionState.FINISHED)
    assert client.status.progress == 1.0


async def test_speed_can_change_while_waiting_a_long_gap(tmp_path):
    path = write(tmp_path / "gap.jsonl", make_events(2, gap=3600.0))
    source = FileSource(path, speed=1.0)
    client, got = FeedClient(source, name="gap"), Collector()
    async with running(client, got):
        await got.wait(lambda: got.seqs == [1])
        source.speed = 1e6  # the rest of the hour now takes milliseconds
        await got.wait(lambda: got.seqs == [1, 2], timeout=3)
    with pytest.raises(ValueError):
        source.speed = 0


async def test_missing_file_fails_at_once_with_a_clear_message(tmp_path):
    client, got = file_client(tmp_path / "nope.jsonl"), Collector()
    status = await asyncio.wait_for(client.run(got.on_output), 2)
    assert status.state is ConnectionState.FAILED
    assert "no such file" in status.detail and "nope.jsonl" in status.detail
    assert status.reconnects == 0


@pytest.mark.parametrize("name", ["cut.jsonl.gz", "cut.msgpack.gz"])
async def test_truncated_gzip_delivers_what_was_readable_then_fails(tmp_path, name):
    path = write(tmp_path / name, make_events(400))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    client, got = file_client(path, fast=True), Collector()
    status = await asyncio.wait_for(client.run(got.on_output), 5)
    assert status.state is ConnectionState.FAILED and "truncated" in status.detail
    assert 50 < len(got.events) < 400
    assert got.seqs == list(range(1, len(got.events) + 1))


async def test_truncated_msgpack_and_corrupt_msgpack(tmp_path):
    path = write(tmp_path / "t.msgpack", make_events(5))
    path.write_bytes(path.read_bytes()[:-7])
    client, got = file_client(path, fast=True), Collector()
    status = await asyncio.wait_for(client.run(got.on_output), 5)
    assert got.seqs == [1, 2, 3, 4] and status.state is ConnectionState.FAILED
    assert "record 5" in status.detail

    corrupt = tmp_path / "c.msgpack"
    corrupt.write_bytes(b"".join(msgpack.packb(e) for e in make_events(3)) + b"\xc1" + msgpack.packb(make_events(4)[3]))
    client, got = file_client(corrupt, fast=True), Collector()
    status = await asyncio.wait_for(client.run(got.on_output), 5)
    assert got.seqs == [1, 2, 3] and status.state is ConnectionState.FAILED
    assert client.rejected[0].line == 4 and "MessagePack" in client.rejected[0].reason


async def test_since_skips_what_was_already_seen(tmp_path):
    path = write(tmp_path / "s.jsonl", make_events(6))
    client, got = FeedClient(FileSource(path, fast=True), name="s", since=3), Collector()
    status = await asyncio.wait_for(client.run(got.on_output), 5)
    assert got.seqs == [4, 5, 6] and status.duplicates == 0


async def test_control_is_answered_locally_with_effect_events(tmp_path):
    events = make_events(3) + [
        {"v": 1, "type": "approval.requested", "seq": 10, "ts": 1_763_931_602.2, "conversation_id": "c-1", "approval_id": "a-1", "action": "refund", "amount": 80},
        {"v": 1, "type": "message", "seq": 50, "ts": 1_763_935_000.0, "conversation_id": "c-1", "role": "customer", "text": "still there?"},
    ]
    path = write(tmp_path / "ctl.jsonl", events)
    source = FileSource(path, speed=1.0)  # the last event is an hour away: the replay stays open
    client, got = FeedClient(source, name="ctl"), Collector()
    async with running(client, got):
        await got.wait(lambda: 10 in got.seqs)

        async def send(command):
            return await asyncio.wait_for(client.send(command, timeout=2), 3)

        assert (await send(Takeover(request_id="1", agent="ann", conversation_id="c-1"))).ok
        refused = await send(Takeover(request_id="2", agent="bob", conversation_id="c-1"))
        assert not refused.ok and "held by ann" in refused.error
        assert not (await send(Takeover(request_id="3", agent="ann", conversation_id="c-404"))).ok
        assert (await send(Send(request_id="4", agent="ann", conversation_id="c-1", text="I'm here"))).ok
        assert (await send(Approve(request_id="5", agent="ann", conversation_id="c-1", approval_id="a-1"))).ok
        again = await send(Approve(request_id="6", agent="ann", conversation_id="c-1", approval_id="a-1"))
        assert not again.ok and "a-1" in again.error
        assert (await send(Release(request_id="7", agent="ann", conversation_id="c-1"))).ok
        await got.wait(lambda: len(got.events) >= 8)
        local = got.events[4:]
        assert [e.type for e in local] == ["human.joined", "message", "approval.resolved", "human.left"]
        assert [e.seq for e in local] == [51, 52, 53, 54]  # above the file's highest seq (50)
        assert local[1].role == "human" and local[1].author == "ann"
        assert local[2].decision == "approved" and local[3].back_to_ai is True
        assert (await send(End(request_id="8", agent="ann", conversation_id="c-1", outcome="resolved"))).ok
        await got.wait(lambda: got.events[-1].type == "conversation.ended")
        assert got.events[-1].seq == 55 and got.events[-1].resolved_by == "human"
        assert not (await send(Send(request_id="9", agent="ann", conversation_id="c-1", text="x"))).ok
        source.fast = True  # the recording's own seq 50 still arrives: local seqs did not move the cursor
        await got.wait(lambda: client.state is ConnectionState.FINISHED)
        assert got.seqs[-1] == 50
        assert client.status.duplicates == 0 and client.status.out_of_order == 0
    finished = await client.send(Takeover(request_id="9", agent="ann", conversation_id="c-1"))
    assert not finished.sent


async def test_recording_writer_round_trip(tmp_path):
    for name in ("w.jsonl", "w.msgpack.gz"):
        with RecordingWriter(tmp_path / name) as writer:
            for event in make_events(4):
                writer.write(event)
        records = [r.obj for r in iter_records(tmp_path / name)]
        assert [r["seq"] for r in records] == [1, 2, 3, 4]


async def test_hub_merges_feeds_names_them_and_routes_commands(tmp_path):
    a = write(tmp_path / "a.jsonl", make_events(3, conversation="c-a"))
    b = write(tmp_path / "b.msgpack", make_events(4, conversation="c-b"))
    got = Collector()
    hub = FeedHub(
        [FeedSpec(str(a), fast=True), FeedSpec(str(b), fast=True), FeedSpec(str(a), name=None, fast=True), FeedSpec("gopher://x/")],
        on_output=got.on_output,
        on_status=got.on_status,
    )
    assert list(hub.clients) == ["a.jsonl", "b.msgpack", "a.jsonl#2", "x"]
    await asyncio.wait_for(hub.run(), 5)
    by_feed: dict[str, list[int]] = {}
    for output in got.outputs:
        by_feed.setdefault(output.feed, []).extend(e.seq for e in output.events)
    assert by_feed == {"a.jsonl": [1, 2, 3], "b.msgpack": [1, 2, 3, 4], "a.jsonl#2": [1, 2, 3]}
    states = {s.name: s.state for s in hub.statuses}
    assert states["x"] is ConnectionState.FAILED and "gopher" in hub.clients["x"].status.detail
    assert (await hub.send("nope", Takeover(request_id="1", agent="a", conversation_id="c"))).sent is False


def test_open_source_by_scheme_and_extension(tmp_path):
    assert type(open_source(FeedSpec("ws://h:1/x"))).__name__ == "WebSocketSource"
    assert type(open_source(FeedSpec("https://h/api"))).__name__ == "HttpSource"
    assert type(open_source(FeedSpec(str(tmp_path / "x.msgpack.gz")))).__name__ == "FileSource"
    assert type(open_source(FeedSpec("file://" + str(tmp_path / "x.jsonl")))).__name__ == "FileSource"
    with pytest.raises(ValueError, match="unsupported feed scheme"):
        open_source(FeedSpec("ftp://h/x"))
    with pytest.raises(ValueError, match="unsupported recording format"):
        open_source(FeedSpec(str(tmp_path / "x.csv")))
    assert default_name("wss://feed.example.com:8443/events") == "feed.example.com:8443"
    assert default_name("/data/rec/day1.jsonl.gz") == "day1.jsonl.gz"
    assert "secret" not in repr(FeedSpec("ws://h", token="secret"))


async def test_bad_urls_are_failed_feeds_with_a_clear_detail():
    hub = FeedHub([FeedSpec("http://"), FeedSpec("ws://h:99999/"), FeedSpec("http://[::1")], on_output=lambda o: None)
    await asyncio.wait_for(hub.run(), 5)
    details = [s.detail for s in hub.statuses]
    assert all(s.state is ConnectionState.FAILED for s in hub.statuses)
    assert "no host" in details[0] and "Port out of range" in details[1] and "not a valid URL" in details[2]


def _broken(path: Path, how: str) -> Path:
    if how == "json":  # a .json name holding JSON lines: read, not refused
        return write(path.with_name("r.json"), make_events(40))
    if how == "cut-gz":
        p = write(path.with_name("r.jsonl.gz"), make_events(400))
        p.write_bytes(p.read_bytes()[: p.stat().st_size * 2 // 3])
        return p
    if how == "cut-msgpack-gz":
        p = write(path.with_name("r.msgpack.gz"), make_events(400))
        p.write_bytes(p.read_bytes()[: p.stat().st_size * 2 // 3])
        return p
    if how == "corrupt-gz":  # a flipped byte in the middle of the deflate stream
        p = write(path.with_name("r.jsonl.gz"), make_events(400))
        data = bytearray(p.read_bytes())
        for i in range(len(data) // 2, len(data) // 2 + 64):
            data[i] ^= 0x5A
        p.write_bytes(bytes(data))
        return p
    p = write(path.with_name("r.msgpack"), make_events(5))  # cut-msgpack
    p.write_bytes(p.read_bytes()[:-7])
    return p


@pytest.mark.parametrize("how", ["json", "cut-gz", "cut-msgpack-gz", "corrupt-gz", "cut-msgpack"])
async def test_replay_and_headless_read_a_recording_alike(tmp_path, how):
    """One reader (feeds/recording.iter_records) for the file feed and the
    headless commands: the same events come out, and a break is reported in
    the same words (the replay's failed state, the headless rejected frame)."""
    from hitl_console.feeds.recording import RecordingStats, read_events

    path = _broken(tmp_path / "r", how)
    client, got = file_client(path, fast=True), Collector()
    status = await asyncio.wait_for(client.run(got.on_output), 10)
    stats = RecordingStats()
    headless = [e.seq for e in read_events([path], stats)]
    assert headless == got.seqs
    assert headless or how == "corrupt-gz"  # zlib gives nothing of a chunk it cannot inflate
    if how == "json":
        assert status.state is ConnectionState.FINISHED and stats.rejected_count == 0 and len(headless) == 40
        return
    assert status.state is ConnectionState.FAILED
    # what the reader rejected at the break (a cut last line, a corrupt record) is
    # rejected in both; else the headless commands get the failed state's words
    expected = [r.reason for r in client.rejected] or [f"unreadable file data: {status.detail}"]
    assert [r.reason for r in stats.rejected] == expected


def test_the_recording_reader_counts_rejected_elements_not_records(tmp_path: Path) -> None:
    """Found: a frame of 50 bad elements is kept as 20 records plus one standing for
    the other 30 (``RejectedFrame.count``), and the reader counted 21. Real file,
    read in process and by ``analyze`` and ``check-feed`` as real processes."""
    import subprocess
    import sys

    from hitl_console.feeds.recording import RecordingStats, describe_rejected, read_events, read_recording
    from hitl_console.protocol.decode import MAX_REJECTED_PER_FRAME

    bad = 50
    frame = json.dumps([{"v": 1, "type": "message", "seq": "x", "ts": 1.0, "conversation_id": f"c-{i}"} for i in range(bad)])
    path = write(tmp_path / "r.jsonl", make_events(6), extra_lines={3: frame})
    stats = RecordingStats()
    assert len(list(read_events([path], stats))) == 6
    assert len(stats.rejected) == MAX_REJECTED_PER_FRAME + 1 and stats.rejected_count == bad
    assert describe_rejected(read_recording(path)).startswith(f"{bad} rejected frame(s)")
    import os

    env = dict(os.environ, HITL_CONSOLE_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run([sys.executable, "-m", "hitl_console", "analyze", str(path)], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0 and f"warning: {bad} rejected frame(s)" in done.stderr, done.stderr
    check = subprocess.run([sys.executable, "-m", "hitl_console", "check-feed", str(path)], capture_output=True, text=True, timeout=60, env=env)
    assert "Traceback" not in check.stderr, check.stderr
    assert f"rejected {bad}," in check.stdout and f"{bad - MAX_REJECTED_PER_FRAME} elements" in check.stdout, check.stdout
    assert "... and" not in check.stdout, check.stdout
