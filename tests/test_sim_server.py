"""The simulator over real sockets on 127.0.0.1: WebSocket, HTTP NDJSON/SSE, control, auth."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgpack
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from hitl_console.commands import simulate
from hitl_console.protocol.decode import decode_frame, decode_json
from hitl_console.sim.server import SimulatorServer

pytestmark = pytest.mark.slow

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    server = SimulatorServer(rate=4.0, seed=3, pace=0.05, initial_conversations=6)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def frames(ws: ClientConnection, count: int, timeout: float = 5.0) -> list[str | bytes]:
    out: list[str | bytes] = []
    while len(out) < count:
        out.append(await asyncio.wait_for(ws.recv(), timeout))
    return out


async def events_until(ws: ClientConnection, predicate: Any, timeout: float = 8.0) -> list[Any]:
    """Decoded events, acks and heartbeats until one satisfies ``predicate``."""
    seen: list[Any] = []

    async def loop() -> None:
        while True:
            decoded = decode_frame(await ws.recv())
            assert not decoded.rejected, decoded.rejected
            for item in [*decoded.events, *decoded.acks, *decoded.heartbeats]:
                seen.append(item)
                if predicate(item):
                    return

    await asyncio.wait_for(loop(), timeout)
    return seen


async def test_urls_are_loopback_with_bound_ports(sim: SimulatorServer) -> None:
    assert sim.ws_url.startswith("ws://127.0.0.1:") and sim.ws_url.endswith("/")
    assert sim.http_url.startswith("http://127.0.0.1:") and not sim.http_url.endswith("/")
    assert sim.ws_url != sim.http_url.replace("http", "ws") + "/"


async def test_websocket_json_frames_validate_and_include_arrays(sim: SimulatorServer) -> None:
    async with connect(sim.ws_url + "?since=0") as ws:
        got = await frames(ws, 40)
    assert all(isinstance(f, str) for f in got)
    assert isinstance(json.loads(got[0]), list)  # the backlog comes as array frames
    decoded = [decode_json(f) for f in got]
    assert not any(d.rejected for d in decoded)
    seqs = [e.seq for d in decoded for e in d.events]
    assert seqs[:5] == [1, 2, 3, 4, 5]
    assert seqs == sorted(set(seqs))


async def test_since_resumes_without_gaps_or_duplicates(sim: SimulatorServer) -> None:
    await asyncio.wait_for(_until(lambda: sim.platform.last_seq >= 30), 10)
    target = sim.platform.last_seq + 5  # retained ones first, then live ones
    async with connect(sim.ws_url + "?since=20") as ws:
        seen = await events_until(ws, lambda e: getattr(e, "type", "") not in ("heartbeat", "ack") and e.seq >= target)
    seqs = [e.seq for e in seen if getattr(e, "type", "") not in ("heartbeat", "ack")]
    assert seqs[0] == 21
    assert seqs == list(range(21, 21 + len(seqs)))


async def test_a_fresh_client_sees_the_open_floor_from_its_start(sim: SimulatorServer) -> None:
    open_ids = {c.conversation_id for c in sim.platform.open_conversations()}
    assert len(open_ids) >= 6  # initial_conversations
    async with connect(sim.ws_url) as ws:
        seen = await events_until(ws, lambda e: getattr(e, "type", "") == "heartbeat")
    started = {e.conversation_id for e in seen if e.type == "conversation.started"}
    assert open_ids - {c.conversation_id for c in sim.platform.conversations.values() if c.ended} <= started
    seqs = [e.seq for e in seen if e.type not in ("heartbeat", "ack")]
    assert seqs == sorted(set(seqs))


async def test_msgpack_format_sends_binary_frames(sim: SimulatorServer) -> None:
    async with connect(sim.ws_url + "?format=msgpack&since=0") as ws:
        got = await frames(ws, 10)
    assert all(isinstance(f, bytes) for f in got)
    first = msgpack.unpackb(got[0], raw=False)
    assert isinstance(first, list) and first[0]["seq"] == 1
    assert not any(decode_frame(f).rejected for f in got)


async def test_websocket_commands_ack_first_then_effects(sim: SimulatorServer) -> None:
    cid = sim.platform.open_conversations()[0].conversation_id
    async with connect(sim.ws_url) as ws:
        await ws.send(json.dumps({"v": 1, "op": "takeover", "request_id": "r1", "agent": "alice", "conversation_id": cid}))
        seen = await events_until(ws, lambda e: getattr(e, "type", "") == "human.joined" and e.conversation_id == cid)
        kinds = [e.type for e in seen if e.type in ("ack", "human.joined")]
        assert kinds == ["ack", "human.joined"]
        ack = next(e for e in seen if e.type == "ack")
        assert ack.request_id == "r1" and ack.ok
        # Garbage must not kill the connection or the server.
        await ws.send("{not json")
        await ws.send(b"\xc1\xff\x00")
        await ws.send("[1, 2, 3]")
        await ws.send(json.dumps({"v": 1, "op": "takeover", "request_id": "r2", "agent": "bob", "conversation_id": cid}))
        seen = await events_until(ws, lambda e: getattr(e, "type", "") == "ack")
        ack = seen[-1]
        assert ack.request_id == "r2" and ack.ok is False and ack.error == "held by alice"
        # A command in MessagePack on a binary frame works too.
        await ws.send(msgpack.packb({"v": 1, "op": "send", "request_id": "r3", "agent": "alice", "conversation_id": cid, "text": "Hello, I'm Alice."}))
        seen = await events_until(ws, lambda e: getattr(e, "type", "") == "message" and e.conversation_id == cid and e.role == "customer")
        assert any(e.type == "ack" and e.request_id == "r3" and e.ok for e in seen)
        assert any(e.type == "message" and e.role == "human" and e.author == "alice" for e in seen)
    assert sim.platform.conversations[cid].holder == "alice"


async def test_http_control_and_ndjson_stream(sim: SimulatorServer) -> None:
    cid = sim.platform.open_conversations()[0].conversation_id
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.post(sim.http_url + "/control", json={"v": 1, "op": "takeover", "request_id": "h1", "agent": "carol", "conversation_id": cid})
        assert response.status_code == 200
        assert response.json() == {"v": 1, "type": "ack", "request_id": "h1", "ok": True}
        response = await client.post(sim.http_url + "/control", json={"v": 1, "op": "end", "request_id": "h2", "agent": "dave", "conversation_id": cid, "outcome": "resolved"})
        assert response.json()["ok"] is False and response.json()["error"] == "held by carol"
        response = await client.post(sim.http_url + "/control", content=b"{oops")
        assert response.status_code == 400
        assert (await client.get(sim.http_url + "/nope")).status_code == 404
        lines: list[dict[str, Any]] = []
        async with client.stream("GET", sim.http_url + "/events?since=0") as stream:
            assert stream.headers["content-type"] == "application/x-ndjson"

            async def read() -> None:
                async for line in stream.aiter_lines():
                    if line:
                        lines.append(json.loads(line))
                        if any(e["type"] == "heartbeat" for e in lines) and len(lines) > 20:
                            return

            await asyncio.wait_for(read(), 8.0)
    assert lines[0]["seq"] == 1
    assert any(e["type"] == "human.joined" and e["agent"] == "carol" for e in lines)
    seqs = [e["seq"] for e in lines if e["type"] != "heartbeat"]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_sse_stream_resumes_from_last_event_id(sim: SimulatorServer) -> None:
    await asyncio.wait_for(_until(lambda: sim.platform.last_seq >= 15), 10)
    ids: list[int] = []
    data: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=5.0) as client:
        headers = {"Accept": "text/event-stream", "Last-Event-ID": "10"}
        async with client.stream("GET", sim.http_url + "/events", headers=headers) as stream:
            assert stream.headers["content-type"] == "text/event-stream"

            async def read() -> None:
                async for line in stream.aiter_lines():
                    if line.startswith("id: "):
                        ids.append(int(line[4:]))
                    elif line.startswith("data: "):
                        item = json.loads(line[6:])
                        if item["type"] != "heartbeat":
                            data.append(item)
                    if len(data) >= 5:
                        return

            await asyncio.wait_for(read(), 8.0)
    assert ids[:5] == [11, 12, 13, 14, 15]
    assert [d["seq"] for d in data[:5]] == ids[:5]


async def test_token_is_required_everywhere() -> None:
    async with SimulatorServer(rate=1.0, pace=0.1, token=TOKEN, initial_conversations=1) as server:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(server.ws_url):
                pass
        assert refused.value.response.status_code == 401
        with pytest.raises(InvalidStatus):
            async with connect(server.ws_url, additional_headers={"Authorization": "Bearer wrong"}):
                pass
        async with connect(server.ws_url + "?since=0", additional_headers=AUTH) as ws:
            assert decode_frame(await asyncio.wait_for(ws.recv(), 5)).events
        async with httpx.AsyncClient(timeout=5.0) as client:
            assert (await client.post(server.http_url + "/control", json={})).status_code == 401
            assert (await client.get(server.http_url + "/healthz")).status_code == 401
            async with client.stream("GET", server.http_url + "/events") as stream:
                assert stream.status_code == 401
            ok = await client.get(server.http_url + "/healthz", headers=AUTH)
            assert ok.status_code == 200 and ok.json()["ok"] is True
            cid = server.platform.open_conversations()[0].conversation_id
            ack = await client.post(server.http_url + "/control", headers=AUTH, json={"v": 1, "op": "takeover", "request_id": "t1", "agent": "a", "conversation_id": cid})
            assert ack.json()["ok"] is True


async def test_token_never_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    async with SimulatorServer(rate=1.0, pace=0.1, token=TOKEN) as server:
        async with connect(server.ws_url, additional_headers=AUTH) as ws:
            await ws.send("garbage")
        with pytest.raises(InvalidStatus):
            async with connect(server.ws_url, additional_headers={"Authorization": "Bearer nope-" + TOKEN}):
                pass
    server_records = [r for r in caplog.records if r.name.startswith("hitl_console")]
    assert server_records  # the server did log (the refusal, the garbage)
    assert not [r for r in server_records if TOKEN in r.getMessage()]


async def test_stop_leaves_no_tasks_and_frees_the_ports() -> None:
    before = asyncio.all_tasks()
    server = SimulatorServer(rate=5.0, pace=0.1, initial_conversations=3)
    await server.start()
    ws = await connect(server.ws_url)
    client = httpx.AsyncClient(timeout=5.0)
    stream_cm = client.stream("GET", server.http_url + "/events")
    stream = await stream_cm.__aenter__()
    await asyncio.sleep(0.3)
    await asyncio.wait_for(server.stop(), 10)
    await server.stop()  # idempotent
    with pytest.raises(Exception):
        await asyncio.wait_for(stream.aread(), 5)  # the stream ended with the server
    await stream_cm.__aexit__(None, None, None)
    await client.aclose()
    await ws.close()
    leftover = {t for t in asyncio.all_tasks() - before if not t.done() and t is not asyncio.current_task()}
    assert not leftover, leftover
    with pytest.raises(OSError):
        async with connect(server.ws_url, open_timeout=2):
            pass


async def test_simulate_command_prints_urls_and_stops(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(host="127.0.0.1", port=0, rate=1.0, seed=7, pace=0.1, token=None, max_conversations=3)
    server = simulate._server(args)
    stop = asyncio.Event()
    task = asyncio.create_task(simulate.serve(server, stop))
    printed: list[str] = []

    def has_urls() -> bool:
        printed.append(capsys.readouterr().out)
        return "WebSocket:" in "".join(printed)

    await asyncio.wait_for(_until(has_urls), 5)
    async with connect(server.ws_url + "?since=0") as ws:  # it really serves what it printed
        assert not decode_frame(await asyncio.wait_for(ws.recv(), 5)).rejected
    stop.set()
    await asyncio.wait_for(task, 10)
    line = "".join(printed).splitlines()[0]
    assert line == f"WebSocket: {server.ws_url}  HTTP: {server.http_url}/events"
    assert server.platform.max_conversations == 3


def test_simulate_run_output(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HITL_SIM_TOKEN", TOKEN)

    async def quick(server: SimulatorServer, stop: asyncio.Event | None = None) -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.3, stop.set)
        await original(server, stop)

    original = simulate.serve
    monkeypatch.setattr(simulate, "serve", quick)
    args = argparse.Namespace(host="127.0.0.1", port=0, rate=1.0, seed=7, pace=1.0, token=None, max_conversations=None)
    assert simulate.run(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("WebSocket: ws://127.0.0.1:") and "HTTP: http://127.0.0.1:" in out and "/events" in out
    assert "bearer token required" in out and TOKEN not in out
    bad = argparse.Namespace(host="127.0.0.1", port=0, rate=1.0, seed=7, pace=0.0, token=None, max_conversations=None)
    assert simulate.run(bad) == 2


async def _until(predicate: Any) -> None:
    while not predicate():
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("agent", ["", "   "])
async def test_a_blank_agent_is_refused_and_nobody_holds_the_chat(sim: SimulatorServer, agent: str) -> None:
    """The agent name is the console's claim of who acts (docs/deployment.md,
    trust model): a blank one would leave a chat "held by " nobody."""
    cid = sim.platform.open_conversations()[0].conversation_id
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.post(sim.http_url + "/control", json={"v": 1, "op": "takeover", "request_id": "b1", "agent": agent, "conversation_id": cid})
    ack = response.json()
    assert ack["ok"] is False and ack["request_id"] == "b1" and "agent" in ack["error"]
    assert sim.platform.conversations[cid].holder is None
