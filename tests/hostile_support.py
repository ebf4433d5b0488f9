"""Real parts for the hostile-tester tests: a feed server on its own thread, the
console on a real pseudo-terminal, and the hostile payloads.

``FeedThread`` runs a ``tests/feedserver.py`` server (WebSocket or HTTP, on
127.0.0.1, port 0) on an event loop of its own, so a test can drive a real
``hitl-console`` process against it from ordinary blocking code. ``Terminal``
is that process on a pty: everything it writes is kept (``raw``), keys go in
with ``press``.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

T0 = time.time() - 120

MARK = "\x1b[2J\x1b]0;pwned\x07\u202e\u200b\x9b31m"
"""In every string a hostile feed controls: clear screen, an OSC title, a bidi
override, a zero-width space and an 8-bit CSI. None may reach a terminal raw."""

INJECTED = (b"\x1b[2J", b"\x1b]0;pwned", "\u202e".encode(), "\u200b".encode(), "\x9b".encode())
"""What of ``MARK`` would show on a terminal if it got through (U+009B is C2 9B in UTF-8)."""


def hostile_events(mark: str = MARK) -> list[dict[str, Any]]:
    """Every event type of the protocol with ``mark`` in every string field it has
    (names, queues, topics, currencies, labels, ids: not only messages)."""
    c = "c-" + mark
    ts = T0

    def e(seq: int, kind: str, **fields: Any) -> dict[str, Any]:
        return {"v": 1, "type": kind, "seq": seq, "ts": ts + seq, "conversation_id": fields.pop("cid", c), **fields}

    customer = {"id": "u" + mark, "name": "N" + mark, "tier": "gold" + mark, "locale": "en" + mark, "lifetime_value": 1e300, "open_complaints": 3}
    return [
        e(1, "conversation.started", channel="chat", queue="q" + mark, customer=customer, contact_reason="r" + mark),
        e(2, "message", role="customer", text="refund now" + mark, topics=["billing" + mark], intent="i" + mark, sentiment=-0.9),
        e(3, "message", role="ai", text="ai" + mark, confidence=0.1),
        e(4, "message", role="human", text="h" + mark, author="au" + mark),
        e(5, "message", role="system", text="s" + mark),
        e(6, "ai.action", name="n" + mark, status="failed", detail="d" + mark, amount=1e308, currency="cu" + mark),
        e(7, "ai.escalation_requested", reason="why" + mark),
        e(8, "approval.requested", approval_id="ap" + mark, action="refund" + mark, amount=2538.95, currency="USD" + mark,
          rationale="ra" + mark, expires_ts=ts + 9999),
        e(9, "approval.requested", approval_id="ap2" + mark, action="refund2" + mark, amount=1e308, currency="EUR" + mark, rationale="ra2" + mark),
        e(10, "approval.resolved", approval_id="ap2" + mark, decision="denied", by="by" + mark, note="no" + mark),
        e(11, "human.joined", agent="ag" + mark),
        e(12, "human.left", agent="ag" + mark, back_to_ai=True),
        e(13, "scorecard", overall=0.2, criteria={"crit" + mark: 0.1}, notes="no" + mark),
        e(14, "conversation.started", cid="c-end" + mark, channel="sms", queue="q2" + mark, customer={"id": "u2", "name": "E" + mark}),
        e(15, "message", cid="c-end" + mark, role="customer", text="bye" + mark),
        e(16, "conversation.ended", cid="c-end" + mark, outcome="unresolved", resolved_by="ai", csat=1),
    ]


class FeedThread:
    """A ``feedserver`` server running on its own event loop in a daemon thread."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> Any:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.__aenter__(), self.loop).result(15)
        return self.server

    def call(self, fn: Any, *args: Any) -> None:
        """Run ``fn(*args)`` on the server's loop (publish, restart...) and wait for it."""

        async def run() -> None:
            fn(*args)

        asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def __exit__(self, *exc: object) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.server.__aexit__(None, None, None), self.loop).result(15)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


class Terminal:
    """``hitl-console ARGS`` on a fresh pty of ``size`` (columns, rows)."""

    def __init__(self, args: list[str], data: Path, *, size: tuple[int, int] = (160, 45), env: dict[str, str] | None = None) -> None:
        self.master, slave = pty.openpty()
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        environ = dict(os.environ, TERM="xterm-256color", HITL_CONSOLE_DATA_DIR=str(data), COLUMNS=str(cols), LINES=str(rows))
        environ.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hitl_console", *args], stdin=slave, stdout=slave, stderr=slave, env=environ, start_new_session=True
        )
        os.close(slave)
        self.raw = b""

    def pump(self, seconds: float) -> None:
        """Read what the console draws for ``seconds`` (or until it exits)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                self.raw += chunk
            elif self.proc.poll() is not None:
                return

    def wait_for(self, needle: bytes, timeout: float) -> bool:
        """Pump until ``needle`` was drawn (True) or ``timeout`` passed (False)."""
        deadline = time.monotonic() + timeout
        while needle not in self.raw and time.monotonic() < deadline and self.proc.poll() is None:
            self.pump(0.1)
        return needle in self.raw

    def press(self, key: str | bytes, settle: float = 0.6) -> None:
        os.write(self.master, key.encode() if isinstance(key, str) else key)
        self.pump(settle)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.pump_until_exit(15)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
        os.close(self.master)
        return self.proc.returncode

    def pump_until_exit(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.pump(0.1)

    def __enter__(self) -> "Terminal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_cli(args: list[str], data: Path, *, timeout: float = 60, env: dict[str, str] | None = None, stdin: Any = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    """A headless ``hitl-console`` command as a real process; stdout and stderr kept apart."""
    environ = dict(os.environ, HITL_CONSOLE_DATA_DIR=str(data), COLUMNS="120")
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "hitl_console", *args], capture_output=True, text=True, timeout=timeout, env=environ, stdin=stdin,
        errors="replace",
    )
