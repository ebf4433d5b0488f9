"""Webhook delivery against a real tiny HTTP server on 127.0.0.1 that fails the first attempt."""

from __future__ import annotations

import asyncio
import json

import pytest

from hitl_console.alerts.webhook import WebhookSender, alert_payload, safe_host
from hitl_console.config import AlertConfig
from hitl_console.alerts.model import Alert

pytestmark = pytest.mark.slow


class TinyServer:
    """Answers each request with the next status of ``statuses`` (then 200), keeps the bodies."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        self.server: asyncio.base_events.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            lines = head.decode("latin-1").split("\r\n")
            self.paths.append(lines[0].split(" ")[1])
            length = next(int(l.split(":", 1)[1]) for l in lines if l.lower().startswith("content-length:"))
            body = await asyncio.wait_for(reader.readexactly(length), 5)
            self.bodies.append(json.loads(body))
            status = self.statuses.pop(0) if self.statuses else 200
            writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
            await writer.drain()
        finally:
            writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hooks/SECRET-TOKEN?k=v"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


def _alert() -> Alert:
    return Alert(ts=1.0, level="warning", kind="trigger", text="customer said: my card 4111 was stolen", conversation_id="c-1", key="high_stakes")


async def test_retries_after_a_failure_and_sends_no_text():
    server = TinyServer([503])
    async with server as url:
        sender = WebhookSender(url, retries=3, backoff_s=0.01)
        ok = await asyncio.wait_for(sender.send(_alert(), {"rate": 0.5, "nested": {"x": 1}}), 10)
        await sender.aclose()
    assert ok and sender.sent == 1
    assert len(server.bodies) == 2  # failed once, then delivered
    body = server.bodies[-1]
    assert body["key"] == "high_stakes" and body["conversation_id"] == "c-1" and body["level"] == "warning"
    assert body["figures"] == {"rate": 0.5}
    assert "text" not in body and "4111" not in json.dumps(body)


async def test_gives_up_after_retries_and_does_not_retry_4xx():
    server = TinyServer([500, 500, 500, 400])
    async with server as url:
        sender = WebhookSender(url, retries=2, backoff_s=0.01)
        assert not await asyncio.wait_for(sender.send(_alert()), 10)
        assert len(server.bodies) == 3  # 1 + 2 retries
        assert not await asyncio.wait_for(sender.send(_alert()), 10)  # 400: no retry
        assert len(server.bodies) == 4
        task = sender.spawn(_alert())
        await sender.aclose()
    assert task.done() and sender.failed == 2


async def test_connection_refused_is_retried_and_never_raises():
    server = TinyServer([])
    async with server as url:
        pass  # closed: nothing listens any more
    sender = WebhookSender(url, retries=1, backoff_s=0.01, timeout_s=1)
    assert not await asyncio.wait_for(sender.send(_alert()), 10)
    await sender.aclose()


def test_no_secret_in_repr_or_logs_and_config():
    url = "https://hooks.example.com:8443/services/T000/B000/XXXXSECRET"
    assert safe_host(url) == "https://hooks.example.com:8443"
    assert "SECRET" not in repr(WebhookSender(url))
    assert WebhookSender.from_config(AlertConfig()) is None
    assert WebhookSender.from_config(AlertConfig(webhook_url=url, webhook_retries=5)).retries == 5
    with pytest.raises(ValueError):
        WebhookSender("ftp://x/y")
    payload = alert_payload(_alert(), {"topic": "billing" * 30})
    assert len(payload["figures"]["topic"]) == 80
