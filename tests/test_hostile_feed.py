"""A hostile feed cannot crash or blind the console (issue 9, item 2).

Bounded ``ts`` and ``seq`` (rejected frames with their reason, over a real
WebSocket into a real journal), time formatters that survive a journal
written before the bounds existed, seq restarts, oversized frames.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from pathlib import Path

import pytest
from feedserver import WsFeedServer, make_events
from live_support import wait_until

from hitl_console.analysis.report import load_journal
from hitl_console.analysis.timewin import TimeWindow, format_ts
from hitl_console.cli import main
from hitl_console.config import Config
from hitl_console.feeds.hub import FeedSpec
from hitl_console.session import LiveSession
from hitl_console.protocol.decode import decode_json
from hitl_console.protocol.events import SEQ_MAX, TS_MAX
from hitl_console.store.journal import Journal
from hitl_console.tui import formatting

T0 = 1_763_931_600.0


def _message(seq: object, ts: object, text: str = "hello") -> dict:
    return {"v": 1, "type": "message", "seq": seq, "ts": ts, "conversation_id": "c-1", "role": "customer", "text": text}


# ------------------------------------------------------------------ ts


@pytest.mark.parametrize("ts", ["1e300", "-1e15", "NaN", "Infinity", "-Infinity", str(TS_MAX), "-0.5"])
def test_a_ts_outside_the_range_is_a_rejected_frame_with_its_reason(ts: str) -> None:
    frame = json.dumps(_message(1, 0.0)).replace('"ts": 0.0', f'"ts": {ts}')
    decoded = decode_json(frame)
    assert decoded.events == [] and len(decoded.rejected) == 1
    assert decoded.rejected[0].reason.startswith("ts: "), decoded.rejected[0].reason
    assert decoded.rejected[0].seq == 1


def test_ts_at_the_edges_of_the_range_is_accepted() -> None:
    for ts in (0.0, TS_MAX - 0.001, T0):
        assert len(decode_json(json.dumps(_message(1, ts))).events) == 1
    assert decode_json(json.dumps({"v": 1, "type": "heartbeat", "ts": 1e300})).rejected  # heartbeats too
    started = {**_message(1, T0), "type": "approval.requested", "approval_id": "a", "action": "refund", "expires_ts": 1e300}
    assert decode_json(json.dumps(started)).rejected[0].reason.startswith("expires_ts: ")


@pytest.mark.parametrize("value", [1e300, -1e15, math.nan, math.inf, -math.inf, "x", 2**70])
def test_every_time_formatter_survives_any_value(value: object) -> None:
    assert formatting.clock_time(value) == "??:??:??"  # type: ignore[arg-type]
    assert format_ts(value) == "?"  # type: ignore[arg-type]
    assert "?" in TimeWindow(value, None).describe()  # type: ignore[arg-type]


def _journal_with_hostile_rows(path: Path) -> None:
    """A journal as a console without the bounds wrote it: one good
    conversation, then rows with ts 1e300 and -1e15 and a seq of 2**63-1."""
    good = decode_json(
        json.dumps(
            [
                {"v": 1, "type": "conversation.started", "seq": 1, "ts": T0, "conversation_id": "c-1", "channel": "chat",
                 "queue": "billing", "customer": {"id": "u-1"}},
                _message(2, T0 + 5),
            ]
        )
    ).events
    with Journal(path) as journal:
        journal.append_events("prod", good)
        conn = journal.connection
        rows = [
            (3, 1e300, "c-2", {"v": 1, "type": "conversation.started", "seq": 3, "ts": 1e300, "conversation_id": "c-2",
                               "channel": "chat", "queue": "q", "customer": {"id": "u"}}),
            (4, -1e15, "c-1", _message(4, -1e15)),
            (2**63 - 1, T0 + 9, "c-1", _message(2**63 - 1, T0 + 9)),
        ]
        for seq, ts, cid, body in rows:
            conn.execute(
                "INSERT INTO events (feed, seq, ts, received_at, conversation_id, type, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                ("prod", seq, ts, time.time(), cid, body["type"], json.dumps(body)),
            )
    with sqlite3.connect(path) as raw:  # it really is on disk, as a restart would find it
        assert raw.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 5


def test_a_journal_holding_impossible_times_does_not_crash_report_or_the_loader(tmp_path: Path, capsys) -> None:
    path = tmp_path / "journal.sqlite3"
    _journal_with_hostile_rows(path)
    for fmt in ("text", "md"):
        assert main(["report", "--journal", str(path), "--format", fmt]) == 0
        assert "hitl-console report" in capsys.readouterr().out
    assert main(["report", "--journal", str(path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["conversations"] == 1  # the bad rows are skipped
    assert main(["report", "--journal", str(path), "--since", "2020-01-01", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["conversations"] == 1
    conversations = load_journal(path, Config())
    assert list(conversations) == ["c-1"] and conversations["c-1"].last_ts == T0 + 5
    with Journal(path) as journal:
        assert journal.last_seq("prod") == 4  # 2**63-1 is no resume cursor


async def test_a_restart_over_impossible_rows_restores_the_good_ones_and_resumes(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    _journal_with_hostile_rows(path)
    async with WsFeedServer(make_events(3, start_seq=5, start_ts=T0 + 20, conversation="c-9")) as server:
        with Journal(path) as journal:
            session = LiveSession(Config(), [FeedSpec(server.url, name="prod")], agent="ana", journal=journal)
            assert session.specs[0].since == 4
            await session.start()
            try:
                assert [t.text for t in session.engine.conversations["c-1"].turns] == ["hello"]
                await wait_until(lambda: "c-9" in session.engine.conversations, 10, "events after the restart")
                assert server.connections[0].since == 4
                figures = session.figures()
                assert figures.active == 2
            finally:
                await session.stop()


# ------------------------------------------------------------------ seq


@pytest.mark.parametrize("seq", [0, -1, SEQ_MAX + 1, 2**63 - 1, 2**64, 10**30])
def test_a_seq_outside_the_range_is_rejected(seq: int) -> None:
    decoded = decode_json(json.dumps(_message(seq, T0)))
    assert decoded.events == [] and decoded.rejected[0].reason.startswith("seq: ")
    assert decoded.rejected[0].seq is None  # an out-of-range seq is not kept (it would overflow the journal)


async def test_a_frame_with_a_2_64_seq_and_a_valid_event_keeps_the_valid_one(tmp_path: Path) -> None:
    """One real WebSocket frame, an array: the event with seq 2**64 is rejected,
    the valid one beside it is accepted, journaled and applied, and neither the
    journal nor the cursor ever sees 2**64."""
    server = WsFeedServer([])
    start = make_events(1, start_ts=T0)[0]
    server.raw_frames.append(json.dumps([start, _message(2**64, T0 + 1, "hostile"), _message(2, T0 + 2, "valid")]))
    async with server:
        with Journal(tmp_path / "j.sqlite3") as journal:
            session = LiveSession(Config(), [FeedSpec(server.url, name="prod")], agent="ana", journal=journal, restore=False)
            await session.start()
            try:
                await wait_until(lambda: journal.counts()["events"] == 2, 10, "two events journaled")
                assert session.hub.clients["prod"].last_seq == 2
                texts = [t.text for t in session.engine.conversations["c-1"].turns]
                assert "valid" in texts and "hostile" not in texts
                rejected = journal.rejected()
                assert len(rejected) == 1 and rejected[0].reason.startswith("seq: ") and rejected[0].seq is None
                assert session.statuses()[0].rejected == 1
                assert not any(a.key == "journal_failed" for a in session.alerts)
            finally:
                await session.stop()


# ------------------------------------------------------------------ found by the hostile tester


async def test_an_array_frame_of_340000_numbers_neither_freezes_nor_floods(tmp_path: Path, caplog) -> None:
    """Found: one 680 kB frame (under the size limit) holding 340,000 numbers took
    6 s to decode and 24 s to hand on (the console froze) and wrote 26 MB of log.
    Now its rejections past the first 20 share one record that counts them, the
    log is bounded, and the valid events beside them are accepted and journaled."""
    import logging

    from hitl_console.protocol.decode import MAX_REJECTED_PER_FRAME

    start = make_events(1, start_ts=T0)[0]
    frame = json.dumps([start, *([0] * 340_000), _message(2, T0 + 1, "after the numbers")])
    assert len(frame) < 1 << 20
    server = WsFeedServer([])
    server.raw_frames = [frame, frame]
    caplog.set_level(logging.INFO, logger="hitl_console.feeds.client")
    async with server:
        with Journal(tmp_path / "j.sqlite3") as journal:
            session = LiveSession(Config(), [FeedSpec(server.url, name="prod")], agent="ana", journal=journal, restore=False)
            began = time.perf_counter()
            await session.start()
            try:
                await wait_until(lambda: session.statuses()[0].rejected == 680_000, 30, "both frames counted")
                print(f"\ntwo 680 kB frames of numbers handled in {time.perf_counter() - began:.2f} s")
                assert [t.text for t in session.engine.conversations["c-1"].turns] == ["after the numbers"]
                assert journal.counts()["events"] == 2
                kept = journal.rejected()
                assert len(kept) <= 2 * (MAX_REJECTED_PER_FRAME + 1)
                assert sum(r.count for r in session.hub.clients["prod"].rejected) == 680_000
            finally:
                await session.stop()
    logged = [r for r in caplog.records if "rejected" in r.getMessage()]
    assert len(logged) <= 25, len(logged)


async def test_a_text_frame_that_is_not_utf8_is_a_rejected_frame_and_nothing_after_it_is_lost() -> None:
    """Found: a text frame with invalid UTF-8 made the WebSocket library close the
    connection (1007) and the frame vanished as a mere drop; a feed that re-sent it
    on every resume was never read past it. It is now a rejected frame with its
    reason, the connection stays up and every event after it arrives."""
    from feedserver import Collector, TextBytes, running

    from hitl_console.feeds.client import FeedClient
    from hitl_console.feeds.websocket import WebSocketSource

    server = WsFeedServer(make_events(4, start_ts=T0))
    server.raw_frames = [TextBytes(b'{"v":1,"type":"message","text":"\xff\xfe"}')]  # on every connection
    async with server:
        client = FeedClient(WebSocketSource(server.url), name="prod", backoff_base=0.05, backoff_cap=0.1)
        collector = Collector()
        async with running(client, collector):
            await collector.wait(lambda: collector.seqs == [1, 2, 3, 4] and client.status.rejected == 1, 15)
            status = client.status
    assert "not valid UTF-8" in collector.rejected[0].reason
    assert status.reconnects == 0 and len(server.connections) == 1


async def test_absurd_amounts_are_high_stakes_and_stay_short(tmp_path: Path) -> None:
    """Found: an approval of -2,538.95 was not high-stakes (only amounts above the
    threshold were), and one of 1e308 printed 309 digits into the alert and the
    approval strip. A negative amount counts by its size; a huge one is 1.000e+308."""
    from hitl_console.text import amount

    now = time.time() - 30
    events = []
    for n, (value, currency) in enumerate([(-2538.95, "USD"), (1e308, "EUR"), (12.5, "USD")], start=1):
        events.append({**make_events(1, start_ts=now, conversation=f"c-{n}", start_seq=2 * n - 1)[0]})
        events.append({"v": 1, "type": "approval.requested", "seq": 2 * n, "ts": now + n, "conversation_id": f"c-{n}",
                       "approval_id": f"a{n}", "action": "refund", "amount": value, "currency": currency})
    async with WsFeedServer(events) as server:
        session = LiveSession(Config(), [FeedSpec(server.url, name="prod")], agent="ana", journal=Journal(":memory:"), restore=False)
        await session.start()
        try:
            await wait_until(lambda: session.hub.clients["prod"].last_seq == 6, 10, "every event")
            await wait_until(lambda: sum("large amount" in a.text for a in session.alerts) >= 2, 10, "alerts for both absurd amounts")
            texts = {a.conversation_id: a.text for a in session.alerts if "large amount" in a.text}
        finally:
            await session.stop()
    assert "-2,538.95 USD" in texts["c-1"], texts
    assert "1.000e+308 EUR" in texts["c-2"] and len(texts["c-2"]) < 200, texts
    assert "c-3" not in texts
    assert amount(1e308, "EUR") == "1.000e+308 EUR" and amount(-0.001, "USD") == "0.00 USD"
    assert amount(float("nan"), "\x1b[2JUSD\u202e") == "? USD<U+202E>"


@pytest.mark.parametrize("scheme", ["ws", "http"])
async def test_a_feed_that_accepts_and_never_answers_is_an_alert_with_a_reason(scheme: str) -> None:
    """Found: a server that accepts the TCP connection and then says nothing (a
    slow-loris handshake, HTTP headers that never end) alerted "unreachable for
    5s (no reason given)". The alert now says the feed has not answered."""
    import asyncio as aio

    held: list[aio.StreamWriter] = []

    async def mute(reader: aio.StreamReader, writer: aio.StreamWriter) -> None:
        held.append(writer)
        if scheme == "http":
            writer.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")  # headers that never end
        await reader.read()  # until the client gives up

    server = await aio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"ws://127.0.0.1:{port}/feed" if scheme == "ws" else f"http://127.0.0.1:{port}/events"
    session = LiveSession(Config(), [FeedSpec(url, name="prod")], agent="ana", journal=Journal(":memory:"), restore=False)
    await session.start()
    try:
        await wait_until(lambda: any(a.key == "feed_down:prod" for a in session.alerts), 10, "an alert within 10 s")
        (alert,) = [a for a in session.alerts if a.key == "feed_down:prod"]
        assert alert.level == "critical" and "no answer yet" in alert.text, alert.text
    finally:
        await session.stop()
        for writer in held:
            writer.transport.abort()
        server.close()
        await server.wait_closed()


async def test_a_control_endpoint_answering_without_end_does_not_fill_memory() -> None:
    """Found: ``POST /control`` read the whole response body before looking at it,
    so a hostile feed answering a command with an endless body grew the console's
    memory by a gigabyte a second until the ack timeout. The body is now read up to
    the frame limit and the command fails with the reason."""
    import asyncio as aio

    from hitl_console.feeds.client import FeedClient
    from hitl_console.feeds.http import HttpSource
    from hitl_console.protocol.events import Takeover

    written = [0]

    async def handle(reader: aio.StreamReader, writer: aio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if head.startswith(b"GET"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n")
                line = json.dumps(make_events(1, start_ts=T0)[0]).encode() + b"\n"
                writer.write(b"%x\r\n%s\r\n" % (len(line), line))
                await writer.drain()
                await reader.read()
                return
            length = int(next(h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")))
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b" " * (1 << 20)
            while written[0] < 8 << 30:  # 8 GiB of whitespace, or until the client hangs up
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
                written[0] += len(chunk)
        except (ConnectionError, aio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()

    server = await aio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = FeedClient(HttpSource(f"http://127.0.0.1:{port}"), name="prod", ack_timeout=20)
    from feedserver import Collector, running

    collector = Collector()
    try:
        async with running(client, collector):
            await collector.wait(lambda: collector.seqs == [1], 10)
            result = await client.send(Takeover(request_id="r1", agent="ana", conversation_id="c-1"))
    finally:
        server.close()
        await server.wait_closed()
    print(f"\nthe control endpoint got {written[0] >> 20} MiB out before the console hung up")
    assert not result.ok and "too large" in (result.error or ""), result
    assert written[0] < 64 << 20
